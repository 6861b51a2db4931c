//! `ldr`: run with no arguments, it migrates the database and serves.

use std::process::ExitCode;

fn main() -> ExitCode {
    let filter = ldr::config::log_filter(std::env::var("LDR_LOG").ok().as_deref());
    tracing_subscriber::fmt().with_env_filter(filter).init();

    if let Some(arg) = std::env::args().nth(1) {
        if arg == "--version" || arg == "-V" {
            println!("ldr {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        eprintln!("ldr: unexpected argument {arg:?}; run with no arguments (configuration is by LDR_* environment variables, see README.md)");
        return ExitCode::from(2);
    }
    let cfg = match ldr::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("configuration error: {e}");
            eprintln!("ldr: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    tracing::info!(config = %cfg.summary(), "starting ldr {}", env!("CARGO_PKG_VERSION"));
    let bind = cfg.bind;
    let state = match ldr::server::prepare(cfg) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("start-up failed: {e}");
            eprintln!("ldr: start-up failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match std::net::TcpListener::bind(bind) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ldr: cannot listen on {bind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{bind}");
    let res = actix_web::rt::System::new().block_on(ldr::server::serve(state, listener, true));
    match res {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ldr: server error: {e}");
            ExitCode::FAILURE
        }
    }
}
