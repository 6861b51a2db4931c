//! HTTP to the service: a minimal keep-alive client for the timed phases, and ureq helpers
//! for seeding.

use serde_json::{json, Value};
use std::time::Duration;

/// The load phases' client: one keep-alive HTTP/1.1 connection with nothing but `std`. The
/// request goes out in one write and the answer is read by its `Content-Length`. The client
/// shares the machine's two cores with the service and PostgreSQL, so it must cost little, as
/// pgbench's own C client does (ureq's request building and parsing took 0.2–0.4 of a core).
pub struct RawConn {
    addr: std::net::SocketAddr,
    stream: Option<std::net::TcpStream>,
    req: Vec<u8>,
    buf: Vec<u8>,
}

impl RawConn {
    pub fn new(base: &str) -> RawConn {
        let hostport = base.strip_prefix("http://").expect("http:// base");
        RawConn {
            addr: hostport.parse().expect("host:port"),
            stream: None,
            req: Vec::with_capacity(1024),
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// Status and body; status 0 with the cause as the body when the exchange failed.
    pub fn call(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&[u8]>,
    ) -> (u16, &[u8]) {
        use std::io::Write;
        self.req.clear();
        let _ = write!(
            self.req,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n",
            self.addr
        );
        if let Some(b) = body {
            let _ = write!(
                self.req,
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            );
        }
        self.req.extend_from_slice(b"\r\n");
        if let Some(b) = body {
            self.req.extend_from_slice(b);
        }
        match self.exchange() {
            Ok((status, start, close)) => {
                if close {
                    self.stream = None;
                }
                (status, &self.buf[start..])
            }
            Err(e) => {
                self.stream = None;
                self.buf.clear();
                self.buf.extend_from_slice(e.to_string().as_bytes());
                (0, &self.buf)
            }
        }
    }

    /// Sends `self.req`, reads one answer into `self.buf`: (status, body offset, server closes).
    fn exchange(&mut self) -> std::io::Result<(u16, usize, bool)> {
        use std::io::{Error, Read, Write};
        if self.stream.is_none() {
            let s = std::net::TcpStream::connect(self.addr)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(60)))?;
            self.stream = Some(s);
        }
        let s = self.stream.as_mut().expect("connected");
        s.write_all(&self.req)?;
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        let mut head: Option<(u16, usize, usize, bool)> = None;
        loop {
            if let Some((status, start, len, close)) = head {
                if self.buf.len() >= start + len {
                    self.buf.truncate(start + len);
                    return Ok((status, start, close));
                }
            }
            let n = s.read(&mut chunk)?;
            if n == 0 {
                return Err(Error::other("connection closed by the server"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if head.is_none() {
                if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let text = std::str::from_utf8(&self.buf[..end])
                        .map_err(|_| Error::other("answer head is not UTF-8"))?;
                    let status = text
                        .get(9..12)
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| Error::other(format!("bad status line: {text:.80}")))?;
                    let mut len = None;
                    let mut close = false;
                    for line in text.lines().skip(1) {
                        let (k, v) = line.split_once(':').unwrap_or((line, ""));
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse::<usize>().ok();
                        } else if k.eq_ignore_ascii_case("connection") {
                            close = v.trim().eq_ignore_ascii_case("close");
                        }
                    }
                    let len = len.ok_or_else(|| {
                        Error::other(format!("answer without Content-Length: {text:.200}"))
                    })?;
                    head = Some((status, end + 4, len, close));
                }
            }
        }
    }
}

/// One request through `a`: status and body; status 0 with the cause when it failed.
pub fn call(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> (u16, Vec<u8>) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Content-Type", "application/json");
    let req = match token {
        Some(t) => req.header("Authorization", format!("Bearer {t}")),
        None => req,
    };
    let req = req.body(body.unwrap_or_default().to_vec()).unwrap();
    match a.run(req) {
        Ok(mut r) => {
            let s = r.status().as_u16();
            let b = r
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_vec()
                .unwrap_or_default();
            (s, b)
        }
        Err(e) => (0, e.to_string().into_bytes()),
    }
}

/// A request that must answer `want`; its JSON body.
#[track_caller]
pub fn ok_json(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: &Value,
    want: u16,
) -> Value {
    let (s, b) = call(a, method, url, token, Some(body.to_string().as_bytes()));
    assert_eq!(s, want, "{method} {url}: {}", String::from_utf8_lossy(&b));
    serde_json::from_slice(&b).unwrap_or(Value::Null)
}

/// An API token for `email`.
pub fn login(a: &ureq::Agent, base: &str, email: &str, pw: &str) -> String {
    ok_json(
        a,
        "POST",
        &format!("{base}/api/v1/auth/login"),
        None,
        &json!({"email": email, "password": pw}),
        200,
    )["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}
