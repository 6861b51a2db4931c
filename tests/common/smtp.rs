//! A real SMTP server inside the test process (`mailin-embedded`): it speaks SMTP on a loopback
//! port, keeps every message it accepts with its envelope, and can be told to refuse (a
//! permanent 5xx or a temporary 4xx), to be slow, or not to be listening yet.
#![allow(dead_code)]

use mailin_embedded::{response, Handler, Response, Server};
use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server answers to MAIL FROM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// `554 Transaction failed`: the client must not retry.
    RefusePermanently,
    /// `451 Aborted: local error in processing`: the client should retry later.
    RefuseTemporarily,
}

/// One accepted message: the envelope and the bytes after DATA.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("the received message parses as MIME")
    }

    /// The Message-ID header, with its angle brackets.
    pub fn message_id(&self) -> String {
        format!(
            "<{}>",
            self.parsed()
                .message_id()
                .expect("message has a Message-ID")
        )
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }
}

struct Inner {
    mode: Mode,
    /// Recipients at this domain are refused at RCPT TO with `550 Mailbox unavailable`.
    refused_domain: Option<String>,
    delay: Duration,
    accepted: Vec<Received>,
    refused: usize,
}

#[derive(Clone)]
struct Session {
    inner: Arc<Mutex<Inner>>,
    mail_from: String,
    rcpt_to: Vec<String>,
    buf: Vec<u8>,
}

impl Handler for Session {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.mail_from = from.to_string();
        self.rcpt_to = to.to_vec();
        self.buf.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    // Refusals are answered to MAIL FROM: after an error at the end of DATA, mailin stays in
    // its DATA state and never answers the client's QUIT.
    fn mail(&mut self, _ip: std::net::IpAddr, _domain: &str, _from: &str) -> Response {
        let mut g = self.inner.lock().unwrap();
        if g.mode == Mode::Accept {
            return response::OK;
        }
        g.refused += 1;
        match g.mode {
            Mode::RefusePermanently => response::TRANSACTION_FAILED,
            _ => response::INTERNAL_ERROR,
        }
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let g = self.inner.lock().unwrap();
        match &g.refused_domain {
            Some(d) if to.trim_end_matches('>').to_ascii_lowercase().ends_with(d) => {
                response::NO_MAILBOX
            }
            _ => response::OK,
        }
    }

    fn data_end(&mut self) -> Response {
        let delay = self.inner.lock().unwrap().delay;
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let mut g = self.inner.lock().unwrap();
        g.accepted.push(Received {
            mail_from: std::mem::take(&mut self.mail_from),
            rcpt_to: std::mem::take(&mut self.rcpt_to),
            raw: std::mem::take(&mut self.buf),
        });
        response::OK
    }
}

/// The server's handle. The serving thread runs until the test process ends.
pub struct SmtpServer {
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
    listening: bool,
}

impl SmtpServer {
    /// A server listening now, in `Accept` mode.
    pub fn start() -> SmtpServer {
        let mut s = Self::down();
        s.up();
        s
    }

    /// A port where nothing listens yet (connections are refused until [`SmtpServer::up`]).
    pub fn down() -> SmtpServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        SmtpServer {
            port,
            inner: Arc::new(Mutex::new(Inner {
                mode: Mode::Accept,
                refused_domain: None,
                delay: Duration::ZERO,
                accepted: Vec::new(),
                refused: 0,
            })),
            listening: false,
        }
    }

    /// Starts listening on the server's port.
    pub fn up(&mut self) {
        assert!(!self.listening, "already up");
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("bind the SMTP port");
        let handler = Session {
            inner: self.inner.clone(),
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            buf: Vec::new(),
        };
        std::thread::spawn(move || {
            let mut server = Server::new(handler);
            server
                .with_name("smtp.ldr.test")
                .with_num_threads(8)
                .with_tcp_listener(listener);
            // Its error type is not Send: keep it on this thread.
            if let Err(e) = server.serve() {
                eprintln!("test SMTP server stopped: {e}");
            }
        });
        self.listening = true;
    }

    /// The URL the service is given (plain SMTP: a local test server has no certificate).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = mode;
    }

    /// Refuses every recipient at `domain` (`@lmc.nhs.test`) with 550, accepting the others.
    pub fn refuse_mailboxes_at(&self, domain: &str) {
        self.inner.lock().unwrap().refused_domain = Some(domain.to_ascii_lowercase());
    }

    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.inner.lock().unwrap().accepted.clone()
    }

    pub fn refused(&self) -> usize {
        self.inner.lock().unwrap().refused
    }

    /// How many times each Message-ID was accepted.
    pub fn by_message_id(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for r in self.accepted() {
            *m.entry(r.message_id()).or_insert(0) += 1;
        }
        m
    }

    /// The accepted message with this Message-ID (exactly one, or the test fails).
    #[track_caller]
    pub fn one(&self, message_id: &str) -> Received {
        let all: Vec<Received> = self
            .accepted()
            .into_iter()
            .filter(|r| r.message_id() == message_id)
            .collect();
        assert_eq!(all.len(), 1, "messages with Message-ID {message_id}");
        all.into_iter().next().unwrap()
    }

    /// Waits until `cond` holds of the accepted messages, or fails after `timeout`.
    #[track_caller]
    pub fn wait_until(&self, timeout: Duration, what: &str, cond: impl Fn(&[Received]) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(&self.accepted()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "SMTP server: {what} not within {timeout:?} ({} accepted, {} refused)",
                self.accepted().len(),
                self.refused()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
