//! What the benches share: starting the release binary (`process`, the test harness's own
//! helper), talking HTTP to it, reading the machine's counters, PostgreSQL databases for a run,
//! and disputes built by the domain's own filing code for bulk seeding. Each bench includes it
//! with `#[path = "../support/mod.rs"] mod support;` and uses what it needs.
#![allow(dead_code)]

#[path = "../../tests/common/process.rs"]
pub mod process;

pub mod http;
pub mod machine;
pub mod pg;
pub mod rows;
pub mod server;
