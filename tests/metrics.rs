//! `GET /metrics` on `LDR_METRICS_BIND` (both databases): requests counted by route pattern and
//! status with latency histograms, the deadline sweep's runs, notices by status and the age of
//! the oldest queued one read from the database (and the same of webhook deliveries), the pools; never on the public port, and
//! nothing but `/metrics` on the metrics port.

mod common;

use common::{process::free_port, world::World, Db, TestApp};
use diesel::prelude::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

both_dbs!(metrics_are_served_off_the_public_port);

/// One sample line: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect(l);
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').expect(p);
                    (k.to_string(), v.trim_matches('"').to_string())
                })
                .collect();
            (name.to_string(), labels, value.parse().expect(value))
        })
        .collect()
}

/// The value of the sample `name` whose labels include `labels`; 0 when there is none.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.2)
        .sum()
}

fn scrape(agent: &ureq::Agent, port: u16) -> (String, Vec<Sample>) {
    let mut r = agent
        .get(&format!("http://127.0.0.1:{port}/metrics"))
        .call()
        .expect("scrape");
    assert_eq!(r.status().as_u16(), 200);
    let ct = r.headers().get("content-type").unwrap().to_str().unwrap();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = r.body_mut().read_to_string().unwrap();
    let samples = parse(&text);
    (text, samples)
}

fn metrics_are_served_off_the_public_port(db: Db) {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let Some(app) = TestApp::spawn_with(db, &[("LDR_METRICS_BIND", &bind)]) else {
        return;
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let (_, before) = scrape(&agent, port);
    let orgs = [
        ("method", "GET"),
        ("route", "/api/v1/organisations"),
        ("status", "200"),
    ];
    let one = [
        ("method", "GET"),
        ("route", "/api/v1/organisations/{id}"),
        ("status", "404"),
    ];
    let counted = |s: &[Sample], l: &[(&str, &str)]| value(s, "ldr_http_requests_total", l);

    // Not on the public port; nothing but /metrics on the metrics port.
    app.get("/metrics", None).expect_problem(404, "not_found");
    let r = agent
        .get(&format!("http://127.0.0.1:{port}/api/v1/organisations"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = agent
        .post(&format!("http://127.0.0.1:{port}/metrics"))
        .send_empty()
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);

    let w = World::new(&app);
    let admin = w.admin.clone();
    for _ in 0..3 {
        app.get("/api/v1/organisations", Some(&admin)).expect(200);
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    app.get(&format!("/api/v1/organisations/{unknown}"), Some(&admin))
        .expect(404);
    w.file(&app, false);

    let start = Instant::now();
    let (text, after) = loop {
        let (text, s) = scrape(&agent, port);
        let done = value(&s, "ldr_notices", &[("status", "sent")]) >= 1.0
            && value(&s, "ldr_notices", &[("status", "queued")]) == 0.0;
        if done || start.elapsed() > Duration::from_secs(20) {
            break (text, s);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Requests by route pattern and status (other tests of this process count too: at least).
    assert!(
        counted(&after, &orgs) >= counted(&before, &orgs) + 3.0,
        "{text}"
    );
    assert!(
        counted(&after, &one) >= counted(&before, &one) + 1.0,
        "{text}"
    );
    assert!(!text.contains(&unknown), "ids never become labels:\n{text}");
    assert!(
        value(
            &after,
            "ldr_http_request_duration_seconds_count",
            &[("route", "/api/v1/organisations")]
        ) >= 3.0,
        "{text}"
    );
    assert!(
        after
            .iter()
            .any(|(n, l, _)| n == "ldr_http_request_duration_seconds_bucket"
                && l.get("le").map(String::as_str) == Some("0.005")),
        "latency is a histogram:\n{text}"
    );
    assert!(
        counted(&after, &[("route", "/api/v1/disputes"), ("status", "201")]) >= 1.0,
        "{text}"
    );
    // The sweep ran at start.
    assert!(
        value(&after, "ldr_sweep_runs_total", &[("outcome", "ok")]) >= 1.0,
        "{text}"
    );
    assert!(
        value(&after, "ldr_sweep_duration_seconds_count", &[]) >= 1.0,
        "{text}"
    );
    // Notices, as the database has them.
    let in_db: i64 = {
        use ldr::db::schema::notices;
        let mut c = app.state.pool.get().unwrap();
        notices::table.count().get_result(&mut **c).unwrap()
    };
    assert!(in_db >= 1);
    assert_eq!(
        value(&after, "ldr_notices", &[("status", "sent")]) as i64,
        in_db,
        "{text}"
    );
    assert_eq!(value(&after, "ldr_notices", &[("status", "failed")]), 0.0);
    assert_eq!(
        value(&after, "ldr_notice_oldest_queued_age_seconds", &[]),
        0.0
    );
    // Pools: the requests' (LDR_DB_POOL_SIZE=4 in the tests), and on PostgreSQL the
    // background work's own.
    assert_eq!(
        value(
            &after,
            "ldr_db_pool_max_connections",
            &[("pool", "requests")]
        ),
        4.0
    );
    let background = value(
        &after,
        "ldr_db_pool_max_connections",
        &[("pool", "background")],
    );
    // On PostgreSQL: the mail worker, the webhook worker and the deadline sweep.
    assert_eq!(background, if db == Db::Postgres { 3.0 } else { 0.0 });
    let open = value(&after, "ldr_db_pool_connections", &[("pool", "requests")]);
    assert!((1.0..=4.0).contains(&open), "{text}");

    // A notice queued an hour ago and not due before tomorrow: its age shows.
    {
        use ldr::db::schema::notices;
        let hour_ago = ldr::db::now() - chrono::Duration::hours(1);
        let mut c = app.state.pool.get().unwrap();
        diesel::insert_into(notices::table)
            .values((
                notices::id.eq(uuid::Uuid::new_v4().to_string()),
                notices::template.eq("dispute_filed"),
                notices::recipients.eq("[\"x@example.nhs.uk\"]"),
                notices::subject.eq("s"),
                notices::body_text.eq("t"),
                notices::body_html.eq("h"),
                notices::status.eq("queued"),
                notices::attempts.eq(0),
                notices::queued_at.eq(hour_ago),
                notices::next_attempt_at.eq(ldr::db::now() + chrono::Duration::days(1)),
            ))
            .execute(&mut **c)
            .unwrap();
    }
    let (text, s) = scrape(&agent, port);
    assert_eq!(
        value(&s, "ldr_notices", &[("status", "queued")]),
        1.0,
        "{text}"
    );
    let age = value(&s, "ldr_notice_oldest_queued_age_seconds", &[]);
    assert!((3600.0..3700.0).contains(&age), "{text}");

    // Webhook deliveries, as the database has them: none, then one pending for an hour (its
    // endpoint disabled, so no worker takes it meanwhile).
    assert_eq!(
        value(&s, "ldr_webhook_deliveries", &[("status", "pending")]),
        0.0,
        "{text}"
    );
    assert!(
        text.contains("ldr_webhook_deliveries{status=\"delivered\"} 0"),
        "{text}"
    );
    {
        use ldr::db::schema::{webhook_deliveries as d, webhooks as h};
        let hour_ago = ldr::db::now() - chrono::Duration::hours(1);
        let mut c = app.state.pool.get().unwrap();
        diesel::insert_into(h::table)
            .values((
                h::id.eq("w1"),
                h::organisation_id.eq(&w.elm),
                h::url.eq("https://example.nhs.uk/hook"),
                h::description.eq(""),
                h::secret.eq("sealed"),
                h::active.eq(false),
                h::created_by.eq("u"),
                h::created_at.eq(hour_ago),
            ))
            .execute(&mut **c)
            .unwrap();
        diesel::insert_into(d::table)
            .values((
                d::id.eq(uuid::Uuid::new_v4().to_string()),
                d::webhook_id.eq("w1"),
                d::dispute_id.eq("d"),
                d::event_seq.eq(1i64),
                d::event_type.eq("file"),
                d::payload.eq("{}"),
                d::status.eq("pending"),
                d::attempts.eq(0),
                d::next_attempt_at.eq(ldr::db::now() + chrono::Duration::days(1)),
                d::created_at.eq(hour_ago),
            ))
            .execute(&mut **c)
            .unwrap();
    }
    let (text, s) = scrape(&agent, port);
    assert_eq!(
        value(&s, "ldr_webhook_deliveries", &[("status", "pending")]),
        1.0,
        "{text}"
    );
    let age = value(&s, "ldr_webhook_oldest_pending_age_seconds", &[]);
    assert!((3600.0..3700.0).contains(&age), "{text}");
}
