//! The procedure itself: pure code, no I/O, no async, no diesel.

pub mod calendar;
pub mod deadlines;
pub mod dispute;
pub mod event;
pub mod fields;
pub mod filing;
pub mod hearing_days;
pub mod notices;
pub mod ods;
pub mod panel;
pub mod procedure;
pub mod roles;
pub mod workflow;
