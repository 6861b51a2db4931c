//! `ldr`: run with no arguments, it migrates the database and serves; `ldr import-organisations
//! FILE.csv...` loads NHS ODS files into the directory (`ldr::cli`).

use std::process::ExitCode;

fn main() -> ExitCode {
    ldr::logging::init();

    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(arg) = args.first() {
        match arg.as_str() {
            "--version" | "-V" => {
                println!("ldr {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "import-organisations" => return ldr::cli::import_organisations(&args[1..]),
            _ => {}
        }
        eprintln!("ldr: unexpected argument {arg:?}; run with no arguments (configuration is by LDR_* environment variables, see README.md), or: ldr import-organisations FILE.csv");
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
