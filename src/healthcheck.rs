//! `ldr healthcheck`: asks the running service `GET /readyz` and says whether it is ready, for a
//! container's health check (the runtime image has no shell tools to do it with).
//!
//! It reads `LDR_BIND` and nothing else: the health check runs beside a service that is already
//! configured, and must not fail because a variable the service needed at start (a secret, say)
//! is absent from the check's environment. An unspecified listening address is asked on
//! loopback (`0.0.0.0` → `127.0.0.1`, `[::]` → `[::1]`). Plain HTTP/1.1 over a `TcpStream`:
//! no TLS on loopback, no async runtime for one request.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long the service has to answer, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The most of an answer that is read; `/readyz` answers a few hundred bytes.
const MAX_RESPONSE: usize = 64 * 1024;

/// The address to ask for a service listening on `bind`: an unspecified address (every
/// interface) is asked on the loopback address of its family.
pub fn target(bind: SocketAddr) -> SocketAddr {
    match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), bind.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), bind.port())
        }
        _ => bind,
    }
}

/// Asks `GET /readyz` at `addr`. `Ok` (a line saying so) when it answers 200 within `timeout`;
/// otherwise `Err` saying why: connection refused, no answer in time, or the status and the
/// problem's `detail`.
pub fn check(addr: SocketAddr, timeout: Duration) -> Result<String, String> {
    let url = format!("http://{addr}/readyz");
    let deadline = Instant::now() + timeout;
    let too_slow = || format!("{url} did not answer within {} s", timeout.as_secs_f32());
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| match e.kind() {
        ErrorKind::ConnectionRefused => format!(
            "cannot connect to {addr}: connection refused (is ldr running, and listening on the \
             address LDR_BIND gives?)"
        ),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => too_slow(),
        _ => format!("cannot connect to {addr}: {e}"),
    })?;
    let io_error = |e: std::io::Error| match e.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => too_slow(),
        _ => format!("{url}: {e}"),
    };
    let remaining = || {
        let left = deadline.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    };
    let host = match addr {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    };
    let request = format!(
        "GET /readyz HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ldr-healthcheck\r\n\
         Accept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream
        .set_write_timeout(Some(remaining().ok_or_else(too_slow)?))
        .map_err(io_error)?;
    stream.write_all(request.as_bytes()).map_err(io_error)?;

    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if matches!(parse(&buf), Parsed::Complete(..) | Parsed::NotHttp)
            || buf.len() >= MAX_RESPONSE
        {
            break;
        }
        stream
            .set_read_timeout(Some(remaining().ok_or_else(too_slow)?))
            .map_err(io_error)?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    match parse(&buf) {
        Parsed::Complete(status, reason, body) | Parsed::Truncated(status, reason, body) => {
            if status == 200 {
                Ok(format!("{url} answered 200 {reason}"))
            } else {
                Err(format!(
                    "{url} answered {status} {reason}: {}",
                    detail(&body)
                ))
            }
        }
        Parsed::Incomplete if buf.is_empty() => {
            Err(format!("{url} closed the connection without answering"))
        }
        Parsed::Incomplete | Parsed::NotHttp => Err(format!(
            "{url} did not answer with HTTP: {:?}",
            printable(&String::from_utf8_lossy(&buf[..buf.len().min(80)]))
        )),
    }
}

/// `LDR_BIND`'s value (`None`: unset) checked: the line to print and whether it is ready.
pub fn run(bind: Option<&str>) -> Result<String, String> {
    let bind = crate::config::parse_bind(bind)?;
    let addr = target(bind);
    check(addr, TIMEOUT).map(|ok| format!("ready: {ok}"))
}

#[derive(Debug, PartialEq)]
enum Parsed {
    /// Status, reason phrase and the whole body.
    Complete(u16, String, Vec<u8>),
    /// The connection closed, or the size cap was reached, before the body was whole.
    Truncated(u16, String, Vec<u8>),
    /// Not yet a whole head.
    Incomplete,
    NotHttp,
}

/// An HTTP/1.x response read so far: its status line, and its body once whole (by
/// `Content-Length`, chunked transfer coding, or else whatever came before the close).
fn parse(buf: &[u8]) -> Parsed {
    if !buf.is_empty() && !b"HTTP/1.".starts_with(&buf[..buf.len().min(7)]) {
        return Parsed::NotHttp;
    }
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Parsed::Incomplete;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let _version = parts.next();
    let Some(status) = parts.next().and_then(|s| s.parse::<u16>().ok()) else {
        return Parsed::NotHttp;
    };
    let reason = parts.next().unwrap_or_default().trim().to_string();
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let body = &buf[head_end + 4..];
    if chunked {
        return match dechunk(body) {
            Some(b) => Parsed::Complete(status, reason, b),
            None => Parsed::Truncated(status, reason, body.to_vec()),
        };
    }
    match length {
        Some(n) if body.len() >= n => Parsed::Complete(status, reason, body[..n].to_vec()),
        _ => Parsed::Truncated(status, reason, body.to_vec()),
    }
}

/// A chunked body decoded, or `None` while its last chunk has not arrived.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_field = std::str::from_utf8(&body[..line_end]).ok()?;
        let size_hex = size_field.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if body.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// What a non-200 answer says: the problem document's `detail` (or `title`), else the start of
/// the body.
fn detail(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["detail", "title"] {
            if let Some(s) = v.get(key).and_then(|s| s.as_str()) {
                return printable(s);
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = printable(text.trim());
    if text.is_empty() {
        "(no body)".into()
    } else if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text
    }
}

/// Control characters replaced, so that an answer cannot forge lines in the health log.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_asked_on_loopback() {
        let t = |s: &str| target(s.parse().unwrap()).to_string();
        assert_eq!(t("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(t("[::]:9000"), "[::1]:9000");
        assert_eq!(t("10.1.2.3:8080"), "10.1.2.3:8080");
        assert_eq!(t("[::1]:8080"), "[::1]:8080");
    }

    #[test]
    fn responses_are_read_to_their_end() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 18\r\n\r\n{\"status\":\"ready\"}";
        assert_eq!(
            parse(ok),
            Parsed::Complete(200, "OK".into(), b"{\"status\":\"ready\"}".to_vec())
        );
        assert_eq!(parse(&ok[..30]), Parsed::Incomplete);
        assert!(matches!(parse(&ok[..45]), Parsed::Truncated(200, ..)));
        let chunked = b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n\
                        5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        assert_eq!(
            parse(chunked),
            Parsed::Complete(503, "Service Unavailable".into(), b"hello world".to_vec())
        );
        assert!(matches!(
            parse(&chunked[..chunked.len() - 5]),
            Parsed::Truncated(503, ..)
        ));
        assert_eq!(parse(b"SSH-2.0-OpenSSH"), Parsed::NotHttp);
        assert_eq!(parse(b"HTTP/1.1 abc\r\n\r\n"), Parsed::NotHttp);
        assert_eq!(parse(b"HTT"), Parsed::Incomplete);
    }

    #[test]
    fn the_detail_of_a_refusal_is_one_printable_line() {
        assert_eq!(
            detail(br#"{"title":"Service unavailable","detail":"the database\ndoes not answer"}"#),
            "the database does not answer"
        );
        assert_eq!(detail(br#"{"title":"Busy"}"#), "Busy");
        assert_eq!(detail(b""), "(no body)");
        assert_eq!(detail(b"plain\r\ntext"), "plain  text");
        assert_eq!(detail(&[b'x'; 300]).chars().count(), 201);
    }
}
