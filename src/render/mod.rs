//! Rendering, pure and below the service: the handlebars templates of every e-mail notice and
//! page helper (`templates`, with `long_date` and `clock_time`), and the iCalendar invitations
//! (`ics`). The service renders a notice with them in the transaction of the event that causes
//! it; the pages use the same engine. Nothing here reads the database or sends anything.

pub mod ics;
pub mod templates;
