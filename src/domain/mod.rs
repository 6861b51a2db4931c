//! The procedure itself: pure code, no I/O, no async, no diesel.

pub mod calendar;
pub mod deadlines;
pub mod ods;
pub mod panel;
pub mod roles;
pub mod workflow;
