//! Notices over a real SMTP conversation (an SMTP server in the test process, see
//! tests/common/smtp.rs): delivery with a stable Message-ID; SMTP down then up; permanent and
//! temporary refusals; two replicas on one database; a crashed worker's lease taken over;
//! reminders and breach alerts sent once across restarts; the hearing invitation's `.ics`
//! parsed back. Every test runs on SQLite and on PostgreSQL.

mod common;

use common::smtp::{Mode, Received, SmtpServer};
use common::world::{World, PRACTICE, SECRETARY};
use common::{Db, TestApp};
use diesel::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// A Monday with no bank holiday in the four weeks after (see `World::case_at`).
const TODAY: &str = "2026-03-02";
const WAIT: Duration = Duration::from_secs(60);

both_dbs!(
    delivered_over_smtp_with_a_stable_message_id,
    smtp_down_then_up_delivers_every_notice_once,
    permanent_refusal_fails_at_once,
    a_refused_mailbox_keeps_the_notice_from_no_one_else,
    temporary_refusal_retries_up_to_the_limit_then_fails,
    two_replicas_never_send_a_notice_twice,
    a_crashed_workers_lease_is_taken_over_after_it_expires,
    a_claim_leases_and_only_the_lease_holder_records_a_send,
    only_the_lease_holder_gives_back_unsent_notices,
    a_slow_smtp_server_never_makes_two_replicas_send_a_notice_twice,
    reminders_and_breach_alerts_are_sent_once_across_restarts,
    hearing_invitation_update_and_cancellation_parse_back,
);

fn spawn(db: Db, smtp: &SmtpServer, extra: &[(&str, &str)]) -> Option<TestApp> {
    let url = smtp.url();
    let mut env = vec![("LDR_TODAY", TODAY), ("LDR_SMTP_URL", url.as_str())];
    env.extend_from_slice(extra);
    TestApp::spawn_with(db, &env)
}

/// A notice row as stored (the worker's bookkeeping included).
#[derive(Debug, Clone)]
struct Row {
    id: String,
    template: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    locked_by: Option<String>,
    recipients: Vec<String>,
    subject: String,
}

fn rows(app: &TestApp) -> Vec<Row> {
    use ldr::db::schema::notices::dsl as n;
    let mut c = app.state.pool.get().expect("a database connection");
    type T = (
        String,
        String,
        String,
        i32,
        Option<String>,
        Option<String>,
        String,
        String,
    );
    let all: Vec<T> = n::notices
        .select((
            n::id,
            n::template,
            n::status,
            n::attempts,
            n::last_error,
            n::locked_by,
            n::recipients,
            n::subject,
        ))
        .order(n::id)
        .load(&mut **c)
        .expect("read notices");
    all.into_iter()
        .map(
            |(id, template, status, attempts, last_error, locked_by, r, subject)| Row {
                id,
                template,
                status,
                attempts,
                last_error,
                locked_by,
                recipients: serde_json::from_str(&r).expect("recipients are a JSON list"),
                subject,
            },
        )
        .collect()
}

/// Waits until `cond` holds of every notice row; returns them.
#[track_caller]
fn wait_rows(app: &TestApp, what: &str, cond: impl Fn(&[Row]) -> bool) -> Vec<Row> {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = rows(app);
        if cond(&r) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {WAIT:?}; notices: {r:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn all_sent(r: &[Row]) -> bool {
    !r.is_empty() && r.iter().all(|n| n.status == "sent")
}

/// The Message-ID the service gives this notice.
fn message_id(app: &TestApp, notice_id: &str) -> String {
    ldr::notify::message::message_id_for(
        uuid::Uuid::parse_str(notice_id).expect("notice ids are UUIDs"),
        &app.state.cfg.mail_from,
    )
}

/// Every notice row was accepted exactly once by the SMTP server, and nothing else was.
#[track_caller]
fn each_delivered_once(app: &TestApp, smtp: &SmtpServer, rows: &[Row]) {
    let got = smtp.by_message_id();
    for r in rows {
        assert_eq!(
            got.get(&message_id(app, &r.id)).copied().unwrap_or(0),
            1,
            "notice {} ({}) accepted once; the server holds {got:?}",
            r.id,
            r.template
        );
    }
    assert_eq!(
        smtp.accepted().len(),
        rows.len(),
        "the server accepted exactly one message per notice"
    );
}

/// The case's notices as an admin sees them (every address and delivery error; a party sees
/// people by name and no errors, tests/abuse_and_leaks.rs).
fn notices_api(app: &TestApp, w: &World, id: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/disputes/{id}/notices"), Some(&w.admin))
        .expect(200)
        .as_array()
        .unwrap()
        .clone()
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_ascii_lowercase()).collect();
    v.sort();
    v
}

fn bare(addr: &str) -> String {
    addr.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

// ------------------------------------------------------------------------------ delivery

fn delivered_over_smtp_with_a_stable_message_id(db: Db) {
    let smtp = SmtpServer::start();
    let Some(app) = spawn(db, &smtp, &[]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file(&app, true);
    let case_ref = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200)["case_ref"]
        .as_str()
        .unwrap()
        .to_string();
    let rows = wait_rows(&app, "the filing notices sent", all_sent);
    each_delivered_once(&app, &smtp, &rows);
    let sender = app
        .state
        .cfg
        .mail_from
        .parse::<lettre::message::Mailbox>()
        .unwrap()
        .email
        .to_string();
    for r in &rows {
        let m = smtp.one(&message_id(&app, &r.id));
        // The envelope and the headers say what the notice row says.
        assert_eq!(
            sorted(&m.rcpt_to.iter().map(|a| bare(a)).collect::<Vec<_>>()),
            sorted(&r.recipients)
        );
        assert_eq!(bare(&m.mail_from), sender);
        let p = m.parsed();
        assert_eq!(p.subject(), Some(r.subject.as_str()));
        assert!(r.subject.contains(&case_ref), "{}", r.subject);
        // The To header names the one recipient, or none of several (each is in the envelope).
        let to: Vec<String> = p
            .to()
            .expect("a To header")
            .iter()
            .filter_map(|a| a.address().map(str::to_string))
            .collect();
        if r.recipients.len() == 1 {
            assert_eq!(to, r.recipients);
        } else {
            assert!(to.is_empty(), "{to:?}");
            let raw = String::from_utf8_lossy(&m.raw);
            assert!(
                raw.contains("\r\nTo: undisclosed-recipients:;\r\n"),
                "{raw}"
            );
        }
        assert_eq!(
            p.from().and_then(|f| f.first()).and_then(|a| a.address()),
            Some(sender.as_str())
        );
        // A plain-text and an HTML part, both naming the case.
        let text = p.body_text(0).expect("a text part");
        let html = p.body_html(0).expect("an HTML part");
        assert!(text.contains(&case_ref) && html.contains(&case_ref));
        assert_eq!((r.attempts, r.last_error.as_deref()), (1, None));
    }
    // The API shows the same: sent, one attempt, a sent time.
    for n in notices_api(&app, &w, &id) {
        assert_eq!(n["status"], "sent", "{n}");
        assert_eq!(n["attempts"], 1, "{n}");
        assert!(n["sent_at"].is_string(), "{n}");
    }
}

fn smtp_down_then_up_delivers_every_notice_once(db: Db) {
    let mut smtp = SmtpServer::down();
    let Some(app) = spawn(db, &smtp, &[("LDR_MAIL_RETRY_BASE_SECONDS", "1")]) else {
        return;
    };
    let w = World::new(&app);
    for _ in 0..3 {
        w.file(&app, true);
    }
    // Every notice has been tried and failed while nothing listens; none is lost or failed.
    let before = wait_rows(&app, "a failed attempt at every notice", |r| {
        !r.is_empty()
            && r.iter()
                .all(|n| n.status == "queued" && n.attempts >= 1 && n.last_error.is_some())
    });
    assert!(smtp.accepted().is_empty());
    for n in &before {
        assert!(
            n.last_error.as_deref().unwrap().starts_with("SMTP"),
            "{n:?}"
        );
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(rows(&app).iter().all(|n| n.status == "queued"));
    smtp.up();
    let after = wait_rows(&app, "every notice sent once SMTP is back", all_sent);
    assert_eq!(after.len(), before.len());
    each_delivered_once(&app, &smtp, &after);
    for n in &after {
        assert!(n.attempts >= 2, "{n:?}");
        assert_eq!(n.last_error, None, "a sent notice keeps no error");
    }
}

/// The server refuses one recipient's mailbox (550 at RCPT TO), which refuses the whole
/// message: the notice then goes to each of its other recipients on its own, and fails for
/// the refused address only, saying whom it was sent to.
fn a_refused_mailbox_keeps_the_notice_from_no_one_else(db: Db) {
    let smtp = SmtpServer::start();
    let refused = "@lmc.nhs.test";
    smtp.refuse_mailboxes_at(refused);
    let Some(app) = spawn(db, &smtp, &[("LDR_MAIL_RETRY_BASE_SECONDS", "1")]) else {
        return;
    };
    let w = World::new(&app);
    w.file(&app, true);
    let rows = wait_rows(&app, "every notice settled", |r| {
        !r.is_empty() && r.iter().all(|n| n.status != "queued")
    });
    // Give a wrong retry the time to happen: there must be none.
    std::thread::sleep(Duration::from_secs(3));
    let is_refused = |a: &String| a.to_ascii_lowercase().ends_with(refused);
    let mut mixed = 0;
    for n in &rows {
        let (no, yes): (Vec<String>, Vec<String>) =
            n.recipients.iter().cloned().partition(is_refused);
        let got: Vec<Received> = smtp
            .accepted()
            .into_iter()
            .filter(|r| r.message_id() == message_id(&app, &n.id))
            .collect();
        // Each recipient not refused got it once, in a message of its own when another was
        // refused.
        let mut to: Vec<String> = got
            .iter()
            .flat_map(|r| r.rcpt_to.iter().map(|a| bare(a)))
            .collect();
        to.sort();
        assert_eq!(to, sorted(&yes), "{n:?}");
        if no.is_empty() {
            assert_eq!((n.status.as_str(), n.attempts), ("sent", 1), "{n:?}");
            continue;
        }
        assert_eq!((n.status.as_str(), n.attempts), ("failed", 1), "{n:?}");
        let e = n.last_error.clone().unwrap();
        assert!(e.contains("550") && e.contains(&no[0]), "{e}");
        if !yes.is_empty() {
            mixed += 1;
            assert!(got.iter().all(|r| r.rcpt_to.len() == 1), "{got:?}");
            assert!(e.contains("Sent to") && e.contains(&yes[0]), "{e}");
        }
    }
    assert!(
        mixed > 0,
        "no notice had a refused and another recipient: {rows:#?}"
    );
}

fn permanent_refusal_fails_at_once(db: Db) {
    let smtp = SmtpServer::start();
    smtp.set_mode(Mode::RefusePermanently);
    let Some(app) = spawn(db, &smtp, &[("LDR_MAIL_RETRY_BASE_SECONDS", "1")]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file(&app, true);
    let r = wait_rows(&app, "every notice failed", |r| {
        !r.is_empty() && r.iter().all(|n| n.status == "failed")
    });
    // Give a wrong retry the time to happen: there must be none.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(smtp.refused(), r.len(), "one attempt per notice");
    for n in rows(&app) {
        assert_eq!((n.status.as_str(), n.attempts), ("failed", 1), "{n:?}");
        let e = n.last_error.unwrap();
        assert!(e.contains("554") && e.contains("permanent"), "{e}");
    }
    assert!(smtp.accepted().is_empty());
    for n in notices_api(&app, &w, &id) {
        assert_eq!(n["status"], "failed");
        assert!(n["last_error"].as_str().unwrap().contains("554"), "{n}");
        assert!(n["sent_at"].is_null());
    }
}

fn temporary_refusal_retries_up_to_the_limit_then_fails(db: Db) {
    let smtp = SmtpServer::start();
    smtp.set_mode(Mode::RefuseTemporarily);
    let Some(app) = spawn(
        db,
        &smtp,
        &[
            ("LDR_MAIL_RETRY_BASE_SECONDS", "1"),
            ("LDR_MAIL_MAX_ATTEMPTS", "3"),
        ],
    ) else {
        return;
    };
    let w = World::new(&app);
    w.file(&app, true);
    let r = wait_rows(&app, "every notice failed after 3 attempts", |r| {
        !r.is_empty() && r.iter().all(|n| n.status == "failed")
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(smtp.refused(), 3 * r.len(), "exactly 3 attempts per notice");
    for n in rows(&app) {
        assert_eq!((n.status.as_str(), n.attempts), ("failed", 3), "{n:?}");
        assert!(n.last_error.unwrap().contains("451"));
    }
}

// ------------------------------------------------------------------------------ replicas

fn two_replicas_never_send_a_notice_twice(db: Db) {
    let smtp = SmtpServer::start();
    // Slow enough that one worker's batch is still going when the other one looks.
    smtp.set_delay(Duration::from_millis(100));
    let Some(a) = spawn(db, &smtp, &[]) else {
        return;
    };
    let url = smtp.url();
    let b = a.replica(&[("LDR_TODAY", TODAY), ("LDR_SMTP_URL", url.as_str())]);
    let w = World::new(&a);
    // File through both, so that both workers are woken by their own commits. More notices
    // than two claims hold: a worker claims at most BATCH at a time and then spends 100 ms on
    // each, so it cannot take them all before the other claims. (With 16, fewer than one
    // claim, a fast machine filed them all before either worker looked, and whichever claimed
    // first took every one.)
    for i in 0..(2 * ldr::notify::worker::BATCH as usize + 8) {
        let app = if i % 2 == 0 { &a } else { &b };
        w.file(app, i % 3 == 0);
    }
    let r = wait_rows(&a, "every notice sent", all_sent);
    // Both replicas delivered some; the server saw every Message-ID exactly once.
    let workers: BTreeSet<String> = r.iter().filter_map(|n| n.locked_by.clone()).collect();
    assert_eq!(
        workers.len(),
        2,
        "both replicas delivered notices: {workers:?}"
    );
    each_delivered_once(&a, &smtp, &r);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(smtp.accepted().len(), r.len(), "nothing was sent again");
    drop(b);
}

fn a_crashed_workers_lease_is_taken_over_after_it_expires(db: Db) {
    let mut smtp = SmtpServer::down();
    let Some(mut app) = spawn(db, &smtp, &[("LDR_MAIL_RETRY_BASE_SECONDS", "1")]) else {
        return;
    };
    let w = World::new(&app);
    w.file(&app, true);
    wait_rows(&app, "a first attempt", |r| {
        !r.is_empty() && r.iter().all(|n| n.attempts >= 1)
    });
    app.stop();
    // What a worker that died while sending leaves behind: its claim, with a lease that
    // runs for a few more seconds.
    {
        use ldr::db::schema::notices::dsl as n;
        let mut c = app.state.pool.get().unwrap();
        let now = ldr::db::now();
        diesel::update(n::notices)
            .set((
                n::locked_by.eq("worker-that-crashed"),
                n::locked_until.eq(now + chrono::Duration::seconds(8)),
                n::next_attempt_at.eq(now - chrono::Duration::seconds(1)),
            ))
            .execute(&mut **c)
            .unwrap();
    }
    smtp.up();
    let claimed_at = Instant::now();
    let url = smtp.url();
    let app = app.restart_with(&[("LDR_TODAY", TODAY), ("LDR_SMTP_URL", url.as_str())]);
    // The lease is respected while it runs...
    while claimed_at.elapsed() < Duration::from_secs(5) {
        assert!(
            smtp.accepted().is_empty(),
            "a live lease was taken over after {:?}",
            claimed_at.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // ...and taken over once it has expired: every notice sent once, by the new worker.
    let r = wait_rows(&app, "every notice sent after the lease expired", all_sent);
    assert!(claimed_at.elapsed() >= Duration::from_secs(8));
    each_delivered_once(&app, &smtp, &r);
    for n in &r {
        assert_ne!(n.locked_by.as_deref(), Some("worker-that-crashed"));
    }
}

/// Two filings' notices, each tried once against an SMTP server that is down and due again
/// only in an hour, with the service stopped: for running the worker's statements by hand.
fn two_notices_tried_once(db: Db) -> Option<(TestApp, Vec<Row>)> {
    let smtp = SmtpServer::down();
    let mut app = spawn(db, &smtp, &[("LDR_MAIL_RETRY_BASE_SECONDS", "3600")])?;
    let w = World::new(&app);
    w.file(&app, true);
    w.file(&app, true);
    let before = wait_rows(&app, "a first attempt at every notice", |r| {
        r.len() >= 2 && r.iter().all(|n| n.attempts == 1)
    });
    app.stop();
    Some((app, before))
}

/// The worker's own statements on the real database: a claim leases each due row until
/// `LEASE_SECONDS` after its `now`, a second claim within the lease gets nothing, one after it
/// takes the row over, and a batch's "sent" is recorded only for the rows still leased to the
/// worker that records it (one more attempt each, lease and error cleared).
fn a_claim_leases_and_only_the_lease_holder_records_a_send(db: Db) {
    use ldr::notify::worker::{claim, record_sent, LEASE_SECONDS};
    let lease = Duration::from_secs(LEASE_SECONDS as u64);
    let Some((app, before)) = two_notices_tried_once(db) else {
        return;
    };
    let mut c = app.state.pool.get().unwrap();
    let now = ldr::db::now();
    assert!(
        claim(&mut c, "w1", now, 20, lease).unwrap().is_empty(),
        "nothing is due yet"
    );
    let t = now + chrono::Duration::hours(2);
    let mut got = claim(&mut c, "w1", t, 20, lease).unwrap();
    got.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(got.len(), before.len());
    assert!(got
        .iter()
        .all(|n| n.attempts == 1 && !n.body_html.is_empty()));
    let lease_end = t + chrono::Duration::seconds(LEASE_SECONDS);
    assert!(
        claim(&mut c, "w2", lease_end, 20, lease)
            .unwrap()
            .is_empty(),
        "the lease holds to its end"
    );
    let taken = claim(
        &mut c,
        "w2",
        lease_end + chrono::Duration::seconds(1),
        1,
        lease,
    )
    .unwrap();
    assert_eq!(taken.len(), 1, "one row taken over once the lease ran out");
    let ids: Vec<String> = got.iter().map(|n| n.id.clone()).collect();
    assert_eq!(record_sent(&mut c, "w1", &ids, t).unwrap(), ids.len() - 1);
    drop(c);
    let r = rows(&app);
    for n in &r {
        if n.id == taken[0].id {
            assert_eq!(
                (n.status.as_str(), n.locked_by.as_deref()),
                ("queued", Some("w2")),
                "{n:?}"
            );
        } else {
            assert_eq!(
                (n.status.as_str(), n.attempts, n.last_error.as_deref()),
                ("sent", 2, None),
                "{n:?}"
            );
        }
    }
    let mut c = app.state.pool.get().unwrap();
    assert_eq!(
        record_sent(&mut c, "w2", &[taken[0].id.clone()], t).unwrap(),
        1
    );
    drop(c);
    assert!(rows(&app).iter().all(|n| n.status == "sent"));
}

/// `release`: the lease holder gives back notices it did not attempt (no attempt counted, due
/// to the next claim at once, whoever makes it); anyone else's release, or a release of a notice
/// already sent, changes nothing.
fn only_the_lease_holder_gives_back_unsent_notices(db: Db) {
    use ldr::notify::worker::{claim, record_sent, release, LEASE_SECONDS};
    let lease = Duration::from_secs(LEASE_SECONDS as u64);
    let Some((app, before)) = two_notices_tried_once(db) else {
        return;
    };
    let mut c = app.state.pool.get().unwrap();
    let t = ldr::db::now() + chrono::Duration::hours(2);
    let got = claim(&mut c, "w1", t, 20, lease).unwrap();
    assert_eq!(got.len(), before.len());
    let ids: Vec<String> = got.iter().map(|n| n.id.clone()).collect();
    assert_eq!(
        release(&mut c, "w2", &ids).unwrap(),
        0,
        "not w2's to give back"
    );
    assert!(claim(&mut c, "w2", t, 20, lease).unwrap().is_empty());
    // w1 sends the first and gives the rest back.
    assert_eq!(record_sent(&mut c, "w1", &ids[..1], t).unwrap(), 1);
    assert_eq!(release(&mut c, "w1", &ids).unwrap(), ids.len() - 1);
    let again = claim(&mut c, "w2", t, 20, lease).unwrap();
    let mut again_ids: Vec<String> = again.iter().map(|n| n.id.clone()).collect();
    again_ids.sort();
    let mut rest = ids[1..].to_vec();
    rest.sort();
    assert_eq!(
        again_ids, rest,
        "the given-back notices, and only they, are claimed at once"
    );
    assert!(
        again.iter().all(|n| n.attempts == 1),
        "giving back counts no attempt"
    );
    assert_eq!(release(&mut c, "w1", &ids).unwrap(), 0, "now w2's, or sent");
    drop(c);
    let r = rows(&app);
    for n in &r {
        let want = if n.id == ids[0] {
            ("sent", "w1")
        } else {
            ("queued", "w2")
        };
        assert_eq!(
            (n.status.as_str(), n.locked_by.as_deref().unwrap_or("")),
            want,
            "{n:?}"
        );
    }
}

/// An SMTP server that takes a second over each message, and a lease (12 s) far shorter than a
/// claim of 20 takes to send at that pace: each worker sends only while its lease leaves time
/// for the send (2 s at most here) and its record, then gives the rest back. Without that, the
/// second replica would claim what the first had not yet reached once its lease ran out, and
/// both would send it. Every notice is accepted exactly once, with one attempt each.
fn a_slow_smtp_server_never_makes_two_replicas_send_a_notice_twice(db: Db) {
    let smtp = SmtpServer::start();
    smtp.set_delay(Duration::from_secs(1));
    let timing = [
        ("LDR_MAIL_SEND_TIMEOUT_SECONDS", "2"),
        ("LDR_MAIL_LEASE_SECONDS", "12"),
    ];
    let Some(a) = spawn(db, &smtp, &timing) else {
        return;
    };
    let url = smtp.url();
    let mut env = vec![("LDR_TODAY", TODAY), ("LDR_SMTP_URL", url.as_str())];
    env.extend_from_slice(&timing);
    let b = a.replica(&env);
    let w = World::new(&a);
    for i in 0..ldr::notify::worker::BATCH as usize {
        w.file(&a, i % 3 == 0);
    }
    let r = wait_rows(&a, "every notice sent", all_sent);
    each_delivered_once(&a, &smtp, &r);
    assert!(
        r.iter().all(|n| n.attempts == 1),
        "one attempt each: {r:#?}"
    );
    // Nothing is sent again later by a worker that held on to an expired lease.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(smtp.accepted().len(), r.len(), "nothing was sent again");
    drop(b);
}

// ------------------------------------------------------------------------------ sweep

fn long_date(d: chrono::NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

fn reminders_and_breach_alerts_are_sent_once_across_restarts(db: Db) {
    let smtp = SmtpServer::start();
    let url = smtp.url();
    let sweep = [("LDR_SWEEP_INTERVAL_SECONDS", "1")];
    let Some(app) = spawn(db, &smtp, &sweep) else {
        return;
    };
    let w = World::new(&app);
    let id = w.case_at(&app, "panel_appointed");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    let hearing_by: chrono::NaiveDate =
        serde_json::from_value(d["deadlines"]["hearing_by"].clone()).unwrap();
    let case_ref = d["case_ref"].as_str().unwrap().to_string();
    wait_rows(&app, "the procedure's notices sent", all_sent);
    let of = |r: &[Row], t: &str| -> Vec<Row> {
        r.iter().filter(|n| n.template == t).cloned().collect()
    };
    assert!(of(&rows(&app), "deadline_reminder").is_empty());

    // 10 working days before the hearing deadline, with no hearing scheduled: a reminder.
    let day10 = app
        .state
        .calendar
        .add_working_days(hearing_by, -10)
        .unwrap();
    app.state.clock.set_today(Some(day10));
    let r = wait_rows(&app, "a reminder sent", |r| {
        !of(r, "deadline_reminder").is_empty() && all_sent(r)
    });
    std::thread::sleep(Duration::from_secs(3)); // several more sweeps
    let reminders = of(&rows(&app), "deadline_reminder");
    assert_eq!(
        reminders.len(),
        of(&r, "deadline_reminder").len(),
        "no repeat"
    );
    // A transition after the day's sweep writes the dispute's `next_sweep_on` anew, from its
    // whole schedule (today's reminder included), as it also does when it was read before that
    // sweep and written after it (the sweep does not move the version): the next sweeps visit
    // the dispute again and send nothing twice.
    let next_sweep_on = || -> Option<chrono::NaiveDate> {
        use ldr::db::schema::disputes::dsl as d;
        let mut c = app.state.pool.get().expect("a database connection");
        d::disputes
            .find(&id)
            .select(d::next_sweep_on)
            .first(&mut **c)
            .expect("the dispute")
    };
    assert!(next_sweep_on().is_some_and(|n| n > day10), "swept today");
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "add_note", "text": "Hearing room still to be found."}),
    );
    assert!(
        next_sweep_on().is_some_and(|n| n <= day10),
        "due again today"
    );
    std::thread::sleep(Duration::from_secs(3)); // several more sweeps
    assert!(next_sweep_on().is_some_and(|n| n > day10), "swept again");
    let reminders = of(&wait_rows(&app, "all sent", all_sent), "deadline_reminder");
    assert_eq!(
        reminders.len(),
        of(&r, "deadline_reminder").len(),
        "no repeat after a transition"
    );
    let hearing = reminders
        .iter()
        .find(|n| {
            smtp.one(&message_id(&app, &n.id))
                .parsed()
                .body_text(0)
                .unwrap()
                .contains("Reminder: the hearing is due by")
        })
        .expect("a reminder about the hearing date");
    let m = smtp.one(&message_id(&app, &hearing.id));
    let text = m.parsed().body_text(0).unwrap().to_string();
    assert!(m.subject().contains(&case_ref), "{}", m.subject());
    assert!(text.contains(&long_date(hearing_by)), "{text}");
    // Its link is the case page's full address (LDR_PUBLIC_URL), as every notice's is.
    let case_url = format!(
        "{}/disputes/{id}",
        app.state.cfg.public_url.trim_end_matches('/')
    );
    assert!(case_url.starts_with("http"), "{case_url}");
    assert!(text.contains(&case_url), "{case_url} not in {text}");
    // The secretary convenes the appointed panel: the reminder is theirs.
    assert_eq!(
        hearing.recipients,
        vec!["sam.secretary@ldr.test".to_string()]
    );

    // Restarted on the same day: the sweep at start and every second after queue nothing.
    let day = day10.to_string();
    let app = app.restart_with(&[
        ("LDR_TODAY", day.as_str()),
        ("LDR_SMTP_URL", url.as_str()),
        sweep[0],
    ]);
    std::thread::sleep(Duration::from_secs(4));
    let again = of(&rows(&app), "deadline_reminder");
    assert_eq!(
        again.iter().map(|n| &n.id).collect::<Vec<_>>(),
        reminders.iter().map(|n| &n.id).collect::<Vec<_>>(),
        "no reminder twice across a restart"
    );

    // The deadline passes unmet: one breach alert to the secretary, the LMC and the
    // accountable officer, and the breach on the dispute.
    let after = hearing_by.succ_opt().unwrap();
    app.state.clock.set_today(Some(after));
    let r = wait_rows(&app, "a breach alert sent", |r| {
        !of(r, "deadline_breached").is_empty() && all_sent(r)
    });
    std::thread::sleep(Duration::from_secs(3));
    let alerts = of(&rows(&app), "deadline_breached");
    assert_eq!(alerts.len(), of(&r, "deadline_breached").len());
    let lmc_email = "north.essex.lmc@lmc.nhs.test";
    let officer = "alan.officer@ldr.test";
    for a in &alerts {
        for who in ["sam.secretary@ldr.test", lmc_email, officer] {
            assert!(a.recipients.contains(&who.to_string()), "{who} in {a:?}");
        }
    }
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    let breaches = d["breaches"].as_array().unwrap().clone();
    assert!(
        breaches
            .iter()
            .any(|b| b["kind"] == "hearing_after_deadline" && b["due_on"] == json!(hearing_by)),
        "{breaches:?}"
    );
    // Restarted after the breach: nothing new, nothing twice.
    let day = after.to_string();
    let app = app.restart_with(&[
        ("LDR_TODAY", day.as_str()),
        ("LDR_SMTP_URL", url.as_str()),
        sweep[0],
    ]);
    std::thread::sleep(Duration::from_secs(4));
    let r = wait_rows(&app, "all sent", all_sent);
    assert_eq!(of(&r, "deadline_breached").len(), alerts.len());
    assert_eq!(of(&r, "deadline_reminder").len(), reminders.len());
    let d2 = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    assert_eq!(d2["breaches"].as_array().unwrap().len(), breaches.len());
    each_delivered_once(&app, &smtp, &r);
}

// ------------------------------------------------------------------------------ .ics

struct Invite {
    mime_method: String,
    calendar: icalendar::Calendar,
    attachment: String,
    text: String,
}

/// The calendar part of a received message, checked against its `invite.ics` attachment.
fn invite(m: &Received) -> Invite {
    use mail_parser::MimeHeaders;
    let p = m.parsed();
    let mut cal = None;
    let mut att = None;
    for part in &p.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        match (ct.ctype(), ct.subtype()) {
            ("text", Some("calendar")) => {
                cal = Some((
                    ct.attribute("method").unwrap_or_default().to_string(),
                    part.text_contents().unwrap().to_string(),
                ))
            }
            ("application", Some("ics")) => {
                assert_eq!(part.attachment_name(), Some("invite.ics"));
                att = Some(String::from_utf8(part.contents().to_vec()).unwrap());
            }
            _ => {}
        }
    }
    let (mime_method, text) = cal.expect("a text/calendar part");
    let attachment = att.expect("an invite.ics attachment");
    assert_eq!(attachment, text, "the attachment is the same calendar");
    let calendar: icalendar::Calendar = text.parse().expect("the calendar parses");
    Invite {
        mime_method,
        calendar,
        attachment,
        text,
    }
}

fn event(c: &icalendar::Calendar) -> &icalendar::Event {
    let events: Vec<&icalendar::Event> = c.components.iter().filter_map(|x| x.as_event()).collect();
    assert_eq!(events.len(), 1, "one VEVENT");
    events[0]
}

fn attendees(e: &icalendar::Event) -> Vec<String> {
    use icalendar::Component;
    e.multi_properties()
        .get("ATTENDEE")
        .map(|v| {
            v.iter()
                .map(|p| p.value().trim_start_matches("mailto:").to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

fn hearing_invitation_update_and_cancellation_parse_back(db: Db) {
    use icalendar::{Component, EventLike};
    let smtp = SmtpServer::start();
    let Some(app) = spawn(db, &smtp, &[]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.case_at(&app, "hearing_scheduled");
    let first_date = app
        .state
        .calendar
        .add_working_days(TODAY.parse().unwrap(), 8)
        .unwrap();
    let sent = |template: &str, n: usize| -> Vec<Row> {
        let r = wait_rows(&app, &format!("{n} {template} sent"), |r| {
            r.iter()
                .filter(|x| x.template == template && x.status == "sent")
                .count()
                >= n
        });
        r.into_iter().filter(|x| x.template == template).collect()
    };
    let check = |row: &Row,
                 method: &str,
                 seq: u32,
                 date: chrono::NaiveDate,
                 time: &str,
                 venue: &str|
     -> String {
        let m = smtp.one(&message_id(&app, &row.id));
        let inv = invite(&m);
        assert_eq!(inv.mime_method, method);
        assert_eq!(
            inv.calendar.property_value("METHOD"),
            Some(method),
            "{}",
            inv.text
        );
        let e = event(&inv.calendar);
        assert_eq!(e.get_sequence(), Some(seq), "{}", inv.text);
        let start = e.properties().get("DTSTART").expect("DTSTART");
        assert_eq!(
            start.value(),
            format!("{}T{}00", date.format("%Y%m%d"), time.replace(':', ""))
        );
        assert_eq!(
            start.params().get("TZID").map(|p| p.value()),
            Some("Europe/London"),
            "{}",
            inv.text
        );
        assert_eq!(
            e.get_location().map(|l| l.replace("\\,", ",")),
            Some(venue.to_string())
        );
        // The organisations are its attendees; the people who receive it (the panel) are not
        // listed, and no personal address is in it.
        let people = [
            "sam.secretary@ldr.test",
            "dr.clinical@ldr.test",
            "dr.conciliator@ldr.test",
            "lee.representative@ldr.test",
        ];
        let organisations: Vec<String> = row
            .recipients
            .iter()
            .filter(|r| !people.contains(&r.as_str()))
            .cloned()
            .collect();
        assert_eq!(sorted(&attendees(e)), sorted(&organisations));
        for who in &people[1..] {
            assert!(!inv.attachment.contains(who), "{who} in {}", inv.attachment);
        }
        // Nor in the message's headers: several recipients are undisclosed.
        let raw = String::from_utf8_lossy(&m.raw);
        assert!(
            raw.contains("\r\nTo: undisclosed-recipients:;\r\n"),
            "{raw}"
        );
        assert_eq!(sorted(&m.rcpt_to), sorted(&row.recipients), "the envelope");
        assert_eq!(
            e.get_status(),
            Some(if method == "CANCEL" {
                icalendar::EventStatus::Cancelled
            } else {
                icalendar::EventStatus::Confirmed
            })
        );
        assert!(
            inv.attachment.contains("BEGIN:VTIMEZONE")
                && inv.attachment.contains("TZID:Europe/London")
        );
        e.get_uid().expect("a UID").to_string()
    };

    let first = sent("hearing_scheduled", 1);
    let uid = check(
        &first[0],
        "REQUEST",
        0,
        first_date,
        "10:00",
        "Room 1, County Hall",
    );
    // Everyone: both parties, the LMC and the panel.
    for who in [
        "elm.practice@practice.nhs.test",
        "north.ccg@commissioner.nhs.test",
        "sam.secretary@ldr.test",
        "dr.clinical@ldr.test",
        "dr.conciliator@ldr.test",
        "lee.representative@ldr.test",
    ] {
        assert!(
            first[0].recipients.contains(&who.to_string()),
            "{who} in {:?}",
            first[0].recipients
        );
    }

    // Moved: an update with the same UID and a higher SEQUENCE.
    let moved = app.state.calendar.add_working_days(first_date, 1).unwrap();
    w.ok(&app, SECRETARY, &id, json!({"type": "schedule_hearing", "date": moved.to_string(), "time": "14:30", "venue": "Room 2, County Hall"}));
    let both = sent("hearing_scheduled", 2);
    let second = both.iter().find(|r| r.id != first[0].id).unwrap();
    assert_eq!(
        check(second, "REQUEST", 1, moved, "14:30", "Room 2, County Hall"),
        uid
    );

    // Withdrawn: a cancellation of the same event.
    w.ok(
        &app,
        PRACTICE,
        &id,
        json!({"type": "withdraw", "reason": "Settled between the parties"}),
    );
    let cancel = sent("hearing_cancelled", 1);
    assert_eq!(
        check(
            &cancel[0],
            "CANCEL",
            2,
            moved,
            "14:30",
            "Room 2, County Hall"
        ),
        uid
    );
    let by_id: HashMap<String, usize> = smtp.by_message_id();
    assert!(by_id.values().all(|n| *n == 1), "{by_id:?}");
}
