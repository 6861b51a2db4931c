//! Starting the real `ldr` binary, for the tests and benches that run it as a process. Only
//! `std`, so that a bench can include it with `#[path = "../tests/common/process.rs"]`.
#![allow(dead_code)]

use std::process::Command;

/// The `ldr` binary with no `LDR_*` variable inherited from the caller's environment: each
/// caller sets exactly the configuration it means.
pub fn ldr_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ldr"));
    for (k, _) in std::env::vars() {
        if k.starts_with("LDR_") {
            c.env_remove(k);
        }
    }
    c
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
