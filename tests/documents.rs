//! Documents over HTTP on both databases (issue #29): who sees the panel's hearing record and
//! decision, bounded uploads (one file, 20 MiB as it arrives, a deadline for the body, a cap on
//! concurrent uploads, the dispute re-checked when the body has arrived), chunked storage and
//! streamed downloads, and safe types and names.

mod common;

use common::world::*;
use common::{Db, TestApp};
use diesel::prelude::*;
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

both_dbs!(
    records_and_decisions_reach_only_the_panel,
    a_bundle_takes_no_panel_only_document,
    a_second_file_part_is_refused,
    an_oversized_upload_is_refused_and_leaves_nothing,
    a_stalled_body_times_out,
    an_upload_overtaken_by_a_withdrawal_is_refused,
    uploads_beyond_the_cap_wait_then_get_429,
    a_multi_chunk_file_round_trips,
    unsafe_types_are_served_as_octet_stream,
    bidi_controls_are_stripped_from_names,
);

const MONDAY: &str = "2026-03-02";
const BOUNDARY: &str = "dOcUmEnTbOuNdArY";

fn app(db: Db, extra: &[(&str, &str)]) -> Option<(TestApp, World)> {
    let mut env = vec![("LDR_TODAY", MONDAY)];
    env.extend_from_slice(extra);
    let app = TestApp::spawn_with(db, &env)?;
    let w = World::new(&app);
    Some((app, w))
}

/// One part of a multipart body: field name, file name (for a file part), type, bytes.
struct Part<'a>(&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for Part(name, filename, ct, bytes) in parts {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if let Some(f) = filename {
            body.extend_from_slice(format!("; {f}").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = ct {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn post_multipart(app: &TestApp, token: &str, dispute: &str, body: &[u8]) -> common::Resp {
    app.send_raw(
        "POST",
        &format!("/api/v1/disputes/{dispute}/documents"),
        Some(token),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        body,
        &[],
    )
}

fn list(app: &TestApp, token: &str, dispute: &str) -> Vec<Value> {
    app.get(
        &format!("/api/v1/disputes/{dispute}/documents"),
        Some(token),
    )
    .expect(200)
    .as_array()
    .unwrap()
    .clone()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Rows in `documents` and `document_chunks`, read from the database itself.
fn stored(app: &TestApp) -> (i64, i64) {
    let mut pooled = ldr::db::checkout(&app.state.pool).unwrap();
    let c: &mut ldr::db::DbConn = &mut pooled;
    let count = |c: &mut ldr::db::DbConn, table: &str| {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(c)
            .unwrap()
            .n
    };
    (count(c, "documents"), count(c, "document_chunks"))
}

/// Starts an upload by hand: the request head (declaring `content_length`) and `prefix` of
/// the body; the rest is the caller's to send, or not.
fn start_upload(
    app: &TestApp,
    token: &str,
    dispute: &str,
    content_length: usize,
    prefix: &[u8],
) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /api/v1/disputes/{dispute}/documents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {content_length}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(prefix).unwrap();
    s.flush().unwrap();
    s
}

/// Reads one HTTP response off a hand-made connection: status, headers (lower-case), body.
fn read_response(s: &mut TcpStream) -> (u16, HashMap<String, String>, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut byte).expect("a response");
        assert!(
            n > 0,
            "the connection closed without a response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&byte[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let want: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while body.len() < want {
        let n = s.read(&mut byte).unwrap();
        if n == 0 {
            break;
        }
        body.extend_from_slice(&byte[..n]);
    }
    (status, headers, body)
}

fn assert_problem(r: &(u16, HashMap<String, String>, Vec<u8>), status: u16, code: &str) -> Value {
    assert_eq!(r.0, status, "{}", String::from_utf8_lossy(&r.2));
    assert_eq!(
        r.1.get("content-type").map(String::as_str),
        Some("application/problem+json")
    );
    let j: Value = serde_json::from_slice(&r.2).unwrap();
    assert_eq!(j["code"], code, "{j}");
    j
}

// ------------------------------------------------------------------ point 2

fn records_and_decisions_reach_only_the_panel(db: Db) {
    let Some((app, w)) = app(db, &[]) else { return };
    let id = w.case_at(&app, "decided");
    let record = w
        .upload(&app, SECRETARY, &id, "record", "minutes.pdf", b"minutes")
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let decision = w
        .upload(&app, GP, &id, "decision", "decision.pdf", b"decision")
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let evidence = w
        .upload(&app, PRACTICE, &id, "evidence", "e.pdf", b"e")
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let panel = [SECRETARY, CLINICAL, GP, LMC_REP];
    // Admins see every case, but not the panel's own documents (SPEC: "only the panel and its
    // secretary").
    let others = [PRACTICE, COMMISSIONER, OFFICER, MEDIATOR, "admin"];
    let sees = |who: &str, doc: &str| -> bool {
        let listed = list(&app, w.t(who), &id).iter().any(|d| d["id"] == doc);
        let got = app.get(&format!("/api/v1/documents/{doc}"), Some(w.t(who)));
        match got.status {
            200 => assert!(listed, "{who} downloads {doc} but does not see it listed"),
            _ => {
                got.expect_problem(404, "not_found");
                assert!(!listed, "{who} sees {doc} listed but cannot download it");
            }
        }
        got.status == 200
    };
    for who in panel {
        assert!(
            sees(who, &record) && sees(who, &decision) && sees(who, &evidence),
            "{who}"
        );
    }
    for who in others {
        assert!(!sees(who, &record), "{who} sees the hearing record");
        assert!(
            !sees(who, &decision),
            "{who} sees the decision before it is notified"
        );
        assert!(sees(who, &evidence), "{who}");
    }
    // Nobody adds a document they could not then see.
    for kind in ["record", "decision"] {
        let r = w
            .upload(&app, PRACTICE, &id, kind, "x.pdf", b"x")
            .expect_problem(422, "validation_failed");
        assert_eq!(r["errors"][0]["field"], "kind", "{r}");
    }
    w.ok(&app, SECRETARY, &id, json!({"type": "notify_decision"}));
    for who in others {
        assert!(
            !sees(who, &record),
            "{who} sees the hearing record after notification"
        );
        assert!(
            sees(who, &decision),
            "{who} does not see the notified decision"
        );
    }
    for who in panel {
        assert!(sees(who, &record) && sees(who, &decision), "{who}");
    }
    // Once notified, a decision document is for everyone; a record still is not.
    w.upload(&app, PRACTICE, &id, "decision", "our copy.pdf", b"d")
        .expect(201);
    w.upload(&app, PRACTICE, &id, "record", "x.pdf", b"x")
        .expect_problem(422, "validation_failed");
}

fn a_bundle_takes_no_panel_only_document(db: Db) {
    let Some((app, w)) = app(db, &[]) else { return };
    let id = w.case_at(&app, "hearing_scheduled");
    let minutes = w
        .upload(&app, SECRETARY, &id, "record", "earlier minutes.pdf", b"m")
        .expect(201);
    let evidence = w
        .upload(&app, PRACTICE, &id, "evidence", "e.pdf", b"e")
        .expect(201);
    let r = w
        .event(
            &app,
            SECRETARY,
            &id,
            json!({"type": "distribute_bundle", "document_ids": [evidence["id"], minutes["id"]]}),
        )
        .expect_problem(422, "validation_failed");
    assert_eq!(r["errors"][0]["field"], "document_ids", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(minutes["id"].as_str().unwrap()),
        "{r}"
    );
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "distribute_bundle", "document_ids": [evidence["id"]]}),
    );
}

// ------------------------------------------------------------------ point 4

fn a_second_file_part_is_refused(db: Db) {
    let Some((app, w)) = app(db, &[]) else { return };
    let id = w.file(&app, false);
    let big = vec![b'z'; 600 * 1024];
    let body = multipart(&[
        Part("kind", None, None, b"evidence"),
        Part(
            "file",
            Some("filename=\"one.pdf\""),
            Some("application/pdf"),
            &big,
        ),
        Part(
            "file",
            Some("filename=\"two.pdf\""),
            Some("application/pdf"),
            b"second",
        ),
    ]);
    let r =
        post_multipart(&app, w.t(PRACTICE), &id, &body).expect_problem(400, "malformed_request");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("One file per upload"),
        "{r}"
    );
    assert!(list(&app, w.t(PRACTICE), &id).is_empty());
    assert_eq!(stored(&app), (0, 0));
}

fn an_oversized_upload_is_refused_and_leaves_nothing(db: Db) {
    let Some((app, w)) = app(db, &[]) else { return };
    let id = w.file(&app, false);
    // Refused as the bytes arrive, past 20 MiB.
    let big = vec![b'a'; 20 * 1024 * 1024 + 1];
    w.upload(&app, PRACTICE, &id, "evidence", "big.pdf", &big)
        .expect_problem(413, "payload_too_large");
    // Refused before a byte is read when the declared length is too large.
    let mut s = start_upload(&app, w.t(PRACTICE), &id, 200 * 1024 * 1024, b"");
    assert_problem(&read_response(&mut s), 413, "payload_too_large");
    assert!(list(&app, w.t(PRACTICE), &id).is_empty());
    assert_eq!(stored(&app), (0, 0));
    // Exactly 20 MiB is accepted.
    let max = vec![b'b'; 20 * 1024 * 1024];
    let r = w
        .upload(&app, PRACTICE, &id, "evidence", "max.pdf", &max)
        .expect(201);
    assert_eq!(r["size"], max.len());
    assert_eq!(stored(&app), (1, 80));
}

fn a_stalled_body_times_out(db: Db) {
    let Some((app, w)) = app(db, &[("LDR_UPLOAD_TIMEOUT_SECONDS", "2")]) else {
        return;
    };
    let id = w.file(&app, false);
    let body = multipart(&[
        Part("kind", None, None, b"evidence"),
        Part(
            "file",
            Some("filename=\"slow.pdf\""),
            Some("application/pdf"),
            &[b's'; 4096],
        ),
    ]);
    let started = Instant::now();
    // Half the body, then nothing more.
    let mut s = start_upload(
        &app,
        w.t(PRACTICE),
        &id,
        body.len(),
        &body[..body.len() / 2],
    );
    let r = read_response(&mut s);
    let took = started.elapsed();
    let j = assert_problem(&r, 408, "request_timeout");
    assert!(j["detail"].as_str().unwrap().contains("2 s"), "{j}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert_eq!(stored(&app), (0, 0));
    // A body that arrives in time is stored.
    w.upload(&app, PRACTICE, &id, "evidence", "quick.pdf", b"quick")
        .expect(201);
}

fn an_upload_overtaken_by_a_withdrawal_is_refused(db: Db) {
    let Some((app, w)) = app(db, &[]) else { return };
    let id = w.file(&app, false);
    let body = multipart(&[
        Part("kind", None, None, b"evidence"),
        Part(
            "file",
            Some("filename=\"late.pdf\""),
            Some("application/pdf"),
            &[b'l'; 300_000],
        ),
    ]);
    let half = body.len() / 2;
    let mut s = start_upload(&app, w.t(PRACTICE), &id, body.len(), &body[..half]);
    // The upload has been let in (the dispute was open); now the dispute is withdrawn.
    std::thread::sleep(Duration::from_millis(500));
    w.ok(
        &app,
        PRACTICE,
        &id,
        json!({"type": "withdraw", "reason": "Settled between us"}),
    );
    s.write_all(&body[half..]).unwrap();
    let j = assert_problem(&read_response(&mut s), 409, "invalid_transition");
    assert!(j["detail"].as_str().unwrap().contains("withdrawn"), "{j}");
    assert!(list(&app, w.t(PRACTICE), &id).is_empty());
    assert_eq!(stored(&app), (0, 0));
}

fn uploads_beyond_the_cap_wait_then_get_429(db: Db) {
    let Some((app, w)) = app(
        db,
        &[
            ("LDR_UPLOAD_CONCURRENCY", "1"),
            ("LDR_UPLOAD_TIMEOUT_SECONDS", "60"),
        ],
    ) else {
        return;
    };
    let id = w.file(&app, false);
    let body = multipart(&[
        Part("kind", None, None, b"evidence"),
        Part(
            "file",
            Some("filename=\"held.pdf\""),
            Some("application/pdf"),
            &[b'h'; 4096],
        ),
    ]);
    // The one permit is held by an upload whose body stalls.
    let held = start_upload(&app, w.t(PRACTICE), &id, body.len(), &body[..100]);
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let r = w.upload(&app, COMMISSIONER, &id, "evidence", "c.pdf", b"c");
    r.expect(429);
    assert!(r
        .header("retry-after")
        .is_some_and(|v| v.parse::<u64>().unwrap() > 0));
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stored(&app), (0, 0));
    // The stalled client goes away: its permit is free again.
    drop(held);
    std::thread::sleep(Duration::from_millis(500));
    w.upload(&app, COMMISSIONER, &id, "evidence", "c.pdf", b"c")
        .expect(201);
}

fn a_multi_chunk_file_round_trips(db: Db) {
    let Some((app, w)) = app(db, &[]) else { return };
    let id = w.file(&app, false);
    let content: Vec<u8> = (0..(4 * 256 * 1024 + 12_345u32))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let sha = hex::encode(sha2::Sha256::digest(&content));
    let r = w
        .upload(&app, PRACTICE, &id, "evidence", "scan.pdf", &content)
        .expect(201);
    assert_eq!(
        (r["size"].as_u64(), r["sha256"].as_str()),
        (Some(content.len() as u64), Some(sha.as_str()))
    );
    assert_eq!(stored(&app), (1, 5));
    let got = app.get(
        &format!("/api/v1/documents/{}", r["id"].as_str().unwrap()),
        Some(w.t(COMMISSIONER)),
    );
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("content-length"),
        Some(content.len().to_string().as_str())
    );
    assert_eq!(got.header("x-checksum-sha256"), Some(sha.as_str()));
    assert!(got.bytes == content, "the download differs from the upload");
    assert_eq!(hex::encode(sha2::Sha256::digest(&got.bytes)), sha);
    // An empty file has no chunks and downloads as nothing.
    let empty = w
        .upload(&app, PRACTICE, &id, "other", "empty.txt", b"")
        .expect(201);
    assert_eq!(stored(&app), (2, 5));
    let got = app.get(
        &format!("/api/v1/documents/{}", empty["id"].as_str().unwrap()),
        Some(w.t(PRACTICE)),
    );
    assert_eq!((got.status, got.bytes.len()), (200, 0));
}

// ------------------------------------------------------------------ point 9

fn unsafe_types_are_served_as_octet_stream(db: Db) {
    let Some((app, w)) = app(db, &[]) else { return };
    let id = w.file(&app, false);
    for (ct, served) in [
        ("text/ecmascript", "application/octet-stream"),
        ("application/x-ecmascript", "application/octet-stream"),
        ("text/jscript", "application/octet-stream"),
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/x-unknown", "application/octet-stream"),
        ("application/pdf", "application/pdf"),
        ("text/csv", "text/csv"),
    ] {
        let body = multipart(&[
            Part("kind", None, None, b"evidence"),
            Part(
                "file",
                Some("filename=\"x\""),
                Some(ct),
                b"alert(document.domain)",
            ),
        ]);
        let doc = post_multipart(&app, w.t(PRACTICE), &id, &body).expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let got = app.get(&format!("/api/v1/documents/{doc}"), Some(w.t(COMMISSIONER)));
        assert_eq!(got.status, 200);
        assert_eq!(got.header("content-type"), Some(served), "{ct}");
        assert!(
            got.header("content-disposition")
                .unwrap()
                .starts_with("attachment;"),
            "{ct}"
        );
        assert_eq!(
            got.header("x-content-type-options"),
            Some("nosniff"),
            "{ct}"
        );
        let listed = list(&app, w.t(PRACTICE), &id);
        let meta = listed.iter().find(|d| d["id"] == doc.as_str()).unwrap();
        assert_eq!(meta["content_type"], served, "{ct}");
    }
}

fn bidi_controls_are_stripped_from_names(db: Db) {
    let Some((app, w)) = app(db, &[]) else { return };
    let id = w.file(&app, false);
    for filename in [
        "filename=\"a\u{202E}gpj.exe\"".to_string(),
        "filename*=UTF-8''a%E2%80%AEgpj.exe".to_string(),
        "filename=\"\u{2066}a\u{200F}gpj\u{061C}.exe\u{2069}\"".to_string(),
    ] {
        let body = multipart(&[
            Part("kind", None, None, b"evidence"),
            Part("file", Some(&filename), Some("application/pdf"), b"%PDF"),
        ]);
        let r = post_multipart(&app, w.t(PRACTICE), &id, &body).expect(201);
        assert_eq!(r["name"], "agpj.exe", "{filename}");
        let doc = r["id"].as_str().unwrap();
        let listed = list(&app, w.t(PRACTICE), &id);
        assert_eq!(
            listed.iter().find(|d| d["id"] == doc).unwrap()["name"],
            "agpj.exe"
        );
        let got = app.get(&format!("/api/v1/documents/{doc}"), Some(w.t(PRACTICE)));
        assert_eq!(
            got.header("content-disposition"),
            Some("attachment; filename=\"agpj.exe\"")
        );
    }
    // Nothing left: "document".
    let body = multipart(&[
        Part("kind", None, None, b"evidence"),
        Part(
            "file",
            Some("filename=\"\u{202E}\u{200E}\""),
            Some("application/pdf"),
            b"%PDF",
        ),
    ]);
    assert_eq!(
        post_multipart(&app, w.t(PRACTICE), &id, &body).expect(201)["name"],
        "document"
    );
}
