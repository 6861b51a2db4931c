//! The process's log output (`LDR_LOG` filter, `LDR_LOG_FORMAT`), set up before the rest of the
//! configuration is read so that a configuration error is logged in the chosen format.

use crate::config::LogFormat;
use std::io::IsTerminal;

/// Logs to standard output: one JSON object per line with `LDR_LOG_FORMAT=json` (`timestamp`,
/// `level`, `target`, the event's fields with `message` among them, and `span` with the
/// request's fields for what a request logs), otherwise text, with colours only when standard
/// output is a terminal. A bad `LDR_LOG_FORMAT` is reported by `Config::from_env`; meanwhile
/// it logs text.
pub fn init() {
    let filter = crate::config::log_filter(std::env::var("LDR_LOG").ok().as_deref());
    let format = std::env::var("LDR_LOG_FORMAT")
        .ok()
        .and_then(|v| LogFormat::parse(&v).ok())
        .unwrap_or_default();
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init(),
    };
}
