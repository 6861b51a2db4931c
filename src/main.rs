//! `ldr`: run with no arguments, it migrates the database and serves; `ldr healthcheck` asks a
//! running service whether it is ready (the container's health check); `ldr
//! import-organisations FILE.csv...` loads NHS ODS files into the directory (`ldr::cli`).

use std::process::ExitCode;

const USAGE: &str = "\
usage: ldr                migrate the database and serve (configured by LDR_* environment variables, see README.md)
       ldr healthcheck    exit 0 if the service at LDR_BIND answers GET /readyz with 200 within 2 s, 1 otherwise
       ldr import-organisations FILE.csv...
                          load practices (epraccur.csv layout) and commissioners (eccg.csv) from NHS ODS files
       ldr --version      print the version
       ldr --help         print this";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(arg) = args.next() else {
        return serve();
    };
    match arg.to_str() {
        Some("--version" | "-V") => {
            println!("ldr {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("healthcheck") => healthcheck(args.next()),
        Some("import-organisations") => {
            ldr::logging::init();
            let files: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
            ldr::cli::import_organisations(&files)
        }
        _ => {
            eprintln!("ldr: unexpected argument {arg:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Exits 0 (ready) or 1 (anything else, a stray argument included): 1 is what a container
/// engine reads as unhealthy, and other codes are reserved there.
fn healthcheck(extra: Option<std::ffi::OsString>) -> ExitCode {
    if let Some(extra) = extra {
        eprintln!(
            "ldr healthcheck: unexpected argument {extra:?}; it takes none (it reads LDR_BIND)"
        );
        return ExitCode::FAILURE;
    }
    let bind = match std::env::var("LDR_BIND") {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(v)) => {
            eprintln!(
                "ldr healthcheck: LDR_BIND {v:?} is not an address:port such as 127.0.0.1:8080"
            );
            return ExitCode::FAILURE;
        }
    };
    match ldr::healthcheck::run(bind.as_deref()) {
        Ok(line) => {
            println!("ldr healthcheck: {line}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("ldr healthcheck: not ready: {why}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> ExitCode {
    ldr::logging::init();

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
