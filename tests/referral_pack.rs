//! The FHSU referral pack (issue #34, SPEC "Stage 3: the FHSU referral pack"), end to end over
//! HTTP on SQLite and PostgreSQL: the ZIP, its manifest and cover, who gets which pack, the
//! same bytes every time, the refusals, hostile text, safe file names, and the FHSU's notice
//! carrying the pack over a real SMTP conversation (or saying where it is, over 10 MiB).
//!
//! The cover is also rendered with `pdftoppm` (poppler-utils) when it is installed; without it
//! that test says so loudly and passes, unless `LDR_REQUIRE_POPPLER=1`, when it fails.

mod common;

use common::smtp::SmtpServer;
use common::world::{
    World, CLINICAL, COMMISSIONER, GP, LMC_REP, MEDIATOR, OTHER_PRACTICE, OUTSIDER, PRACTICE,
    SECRETARY,
};
use common::{Db, Resp, TestApp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

/// A Monday with no bank holiday in the four weeks after (see `World::case_at`).
const TODAY: &str = "2026-03-02";
const STATEMENT: &str = "The ICB considers that the panel did not take account of the \
     budget variation clause. We ask the FHSU to determine the dispute.";

both_dbs!(
    an_event_that_does_not_read_is_an_error_not_a_blank,
    the_pack_holds_the_cover_the_documents_and_a_true_manifest,
    each_reader_gets_their_pack_and_others_are_refused,
    the_fhsu_notice_carries_the_pack_and_the_parties_copy_lists_it,
    a_pack_over_ten_mib_is_not_attached_and_the_notices_say_where_it_is,
    hostile_text_still_gives_a_valid_wrapped_cover,
    the_cover_renders_with_pdftoppm,
);

/// A stored event whose fields do not read is an error (500, the cause in the log), never a
/// blank line on the pack's cover or an override left out of the timeliness report; put right,
/// both come back. (Here the decision's event, cut short after its `"override":` key, which
/// is what the report looks for.)
fn an_event_that_does_not_read_is_an_error_not_a_blank(db: Db) {
    use diesel::prelude::*;
    use ldr::db::schema::events::dsl as e;
    let Some((app, w)) = spawn(db, &[]) else {
        return;
    };
    let case = referred(&app, &w, STATEMENT, &[]);
    let id = &case.id;
    let report = |app: &TestApp| {
        app.get(
            "/api/v1/reports/timeliness?from=2026-01-01&to=2026-12-31",
            Some(&w.admin),
        )
    };
    pack(&app, &w, PRACTICE, id).expect(200);
    report(&app).expect(200);
    let decision = e::events
        .filter(e::dispute_id.eq(id))
        .filter(e::event_type.eq("record_decision"));
    let data: String = {
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        decision.select(e::data).first(&mut **c).unwrap()
    };
    // The history is append-only in the database itself: its trigger is set aside to do what
    // only a damaged disk or a bad restore could.
    let set = |to: &str| {
        use diesel::connection::SimpleConnection;
        let (off, on) = match db {
            Db::Postgres => (
                "ALTER TABLE events DISABLE TRIGGER events_no_update_delete",
                "ALTER TABLE events ENABLE TRIGGER events_no_update_delete".to_string(),
            ),
            Db::Sqlite => (
                "DROP TRIGGER events_no_update",
                "CREATE TRIGGER events_no_update BEFORE UPDATE ON events \
                 BEGIN SELECT RAISE(ABORT, 'the event history is append-only'); END"
                    .to_string(),
            ),
        };
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        c.batch_execute(off).unwrap();
        diesel::update(decision)
            .set(e::data.eq(to))
            .execute(&mut **c)
            .unwrap();
        c.batch_execute(&on).unwrap();
    };
    set(r#"{"outcome": "appellant", "override":"#);
    pack(&app, &w, PRACTICE, id).expect_problem(500, "internal_error");
    pack(&app, &w, SECRETARY, id).expect_problem(500, "internal_error");
    report(&app).expect_problem(500, "internal_error");
    set(&data);
    let all = entries(&pack(&app, &w, PRACTICE, id).bytes);
    assert!(cover_text(entry(&all, "cover.pdf")).contains("decision"));
    report(&app).expect(200);
}

fn spawn(db: Db, extra: &[(&str, &str)]) -> Option<(TestApp, World)> {
    let mut env = vec![("LDR_TODAY", TODAY)];
    env.extend_from_slice(extra);
    let app = TestApp::spawn_with(db, &env)?;
    let w = World::new(&app);
    Some((app, w))
}

/// What a referred case was given along the way.
struct Referred {
    id: String,
    /// Document id → (name, kind).
    docs: BTreeMap<String, (String, String)>,
}

/// Walks a contract case (Elm Practice v North CCG) to `referred_to_fhsu`, with documents of
/// every kind: evidence and a file named `../../x` from the practice, the hearing record and
/// the written decision from the secretary, the contract. `statement` is the referral's; the
/// extra `(who, kind, name, bytes)` documents are uploaded before the referral.
fn referred(
    app: &TestApp,
    w: &World,
    statement: &str,
    extra: &[(&str, &str, &str, Vec<u8>)],
) -> Referred {
    let id = w.case_at(app, "hearing_held");
    let mut docs = BTreeMap::new();
    let mut up = |who: &str, kind: &str, name: &str, bytes: &[u8]| {
        let d = w.upload(app, who, &id, kind, name, bytes).expect(201);
        docs.insert(
            d["id"].as_str().unwrap().to_string(),
            (d["name"].as_str().unwrap().to_string(), kind.to_string()),
        );
        d
    };
    up(
        PRACTICE,
        "evidence",
        "Budget letter 2025.pdf",
        b"%PDF-1.4 the budget letter",
    );
    up(
        PRACTICE,
        "evidence",
        "../../x",
        b"a file with a hostile name",
    );
    up(
        SECRETARY,
        "record",
        "Hearing record.pdf",
        b"%PDF-1.4 minutes: both parties presented",
    );
    for (who, kind, name, bytes) in extra {
        up(who, kind, name, bytes);
    }
    w.ok(app, SECRETARY, &id, json!({"type": "record_decision", "outcome": "appellant",
        "recommendations": "Restore the prescribing budget within 28 days.",
        "votes": [{"member_id": w.id(CLINICAL), "vote": "appellant"}, {"member_id": w.id(GP), "vote": "appellant"},
                  {"member_id": w.id(LMC_REP), "vote": "respondent"}]}));
    w.ok(app, SECRETARY, &id, json!({"type": "notify_decision"}));
    up(
        SECRETARY,
        "decision",
        "Written decision.pdf",
        b"%PDF-1.4 the decision",
    );
    let contract = up(
        PRACTICE,
        "contract",
        "GMS contract 2024.pdf",
        b"%PDF-1.4 contract",
    );
    let today = app.state.clock.today().to_string();
    w.ok(
        app,
        PRACTICE,
        &id,
        json!({"type": "refer_to_fhsu", "statement": statement,
        "contract_document_id": contract["id"], "referred_on": today}),
    );
    Referred { id, docs }
}

fn pack(app: &TestApp, w: &World, who: &str, id: &str) -> Resp {
    app.get(
        &format!("/api/v1/disputes/{id}/referral-pack"),
        Some(w.t(who)),
    )
}

/// The ZIP's entries, by name, in order.
fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("the pack opens as a ZIP");
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            (f.name().expect("an entry name").to_string(), b)
        })
        .collect()
}

fn entry<'a>(all: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &all.iter()
        .find(|e| e.0 == name)
        .unwrap_or_else(|| panic!("{name} not in the pack"))
        .1
}

fn cover_text(pdf: &[u8]) -> String {
    pdf_extract::extract_text_from_mem(pdf).expect("the cover is a PDF whose text extracts")
}

/// "2 March 2026", as the cover writes dates.
fn day(d: chrono::NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn the_pack_holds_the_cover_the_documents_and_a_true_manifest(db: Db) {
    let Some((app, w)) = spawn(db, &[]) else {
        return;
    };
    let case = referred(&app, &w, STATEMENT, &[]);
    let id = &case.id;
    let r = pack(&app, &w, PRACTICE, id);
    assert_eq!(r.status, 200, "{}", r.text());
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    let case_ref = d["case_ref"].as_str().unwrap();
    assert_eq!(r.header("content-type"), Some("application/zip"));
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"referral-pack-{case_ref}.zip\"").as_str())
    );
    let all = entries(&r.bytes);
    let names: Vec<&str> = all.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names.first(), Some(&"cover.pdf"), "{names:?}");
    assert_eq!(names.last(), Some(&"manifest.json"), "{names:?}");

    // The manifest: every other file, with its true size and sha256, and the dispute.
    let m: Value = serde_json::from_slice(entry(&all, "manifest.json")).unwrap();
    assert_eq!(m["dispute_id"], d["id"]);
    assert_eq!(m["version"], d["version"]);
    let listed: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, names[..names.len() - 1].to_vec());
    for f in m["files"].as_array().unwrap() {
        let bytes = entry(&all, f["name"].as_str().unwrap());
        assert_eq!(f["size"], bytes.len(), "{f}");
        assert_eq!(f["sha256"], hex::encode(Sha256::digest(bytes)), "{f}");
        assert!(f["kind"].is_string(), "{f}");
    }
    // Each document is the uploaded file, under a safe name.
    for f in m["files"].as_array().unwrap().iter().skip(1) {
        let doc_id = f["document_id"].as_str().unwrap();
        let (name, kind) = &case.docs[doc_id];
        assert_eq!(f["kind"], kind.as_str());
        assert_eq!(f["original_name"], name.as_str());
        let download = app
            .get(&format!("/api/v1/documents/{doc_id}"), Some(w.t(PRACTICE)))
            .bytes;
        assert_eq!(
            entry(&all, f["name"].as_str().unwrap()),
            download.as_slice()
        );
    }
    for n in &names {
        assert!(
            !n.contains("..") && !n.starts_with('/') && !n.contains('\\'),
            "unsafe name {n}"
        );
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("documents/") && n.ends_with("-evidence-x")),
        "the document named ../../x is not under a safe name: {names:?}"
    );

    // The cover: both parties' names and addresses, the statement, the decision, every date
    // of the history, the contract document.
    let text = cover_text(entry(&all, "cover.pdf"));
    for party in ["appellant", "respondent"] {
        for k in ["name", "address"] {
            let v = d[party][k].as_str().unwrap();
            assert!(
                text.contains(v),
                "{party} {k} {v:?} missing from the cover:\n{text}"
            );
        }
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for s in [
        STATEMENT,
        "In favour of the appellant, Elm Practice",
        "Restore the prescribing budget within 28 days.",
        "GMS contract 2024.pdf",
        case_ref,
    ] {
        assert!(flat.contains(s), "{s:?} missing from the cover:\n{text}");
    }
    let events = app
        .get(
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    let mut dates = std::collections::BTreeSet::new();
    for e in events.as_array().unwrap() {
        let at = chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap();
        dates.insert(day(at
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive()));
        for k in [
            "lodged_on",
            "consulted_on",
            "held_on",
            "referred_on",
            "date",
        ] {
            if let Some(v) = e["data"][k].as_str() {
                dates.insert(day(v.parse().unwrap()));
            }
        }
    }
    dates.insert(day(d["matter_arose_on"].as_str().unwrap().parse().unwrap()));
    assert!(dates.len() >= 4, "{dates:?}");
    for date in &dates {
        assert!(
            flat.contains(date.as_str()),
            "date {date} missing from the cover:\n{text}"
        );
    }
    // The parties' cover does not quote the hearing record or the votes.
    assert!(!flat.contains("Both parties presented"), "{text}");
    assert!(!flat.contains("Votes:"), "{text}");

    // The same case, the same bytes.
    let again = pack(&app, &w, PRACTICE, id);
    assert_eq!(again.status, 200);
    assert!(again.bytes == r.bytes, "two downloads differ");
    // The other party gets the same pack.
    let other = pack(&app, &w, COMMISSIONER, id);
    assert!(other.bytes == r.bytes, "the parties' packs differ");
}

fn each_reader_gets_their_pack_and_others_are_refused(db: Db) {
    let Some((app, w)) = spawn(db, &[]) else {
        return;
    };
    // Before the referral: 409, saying when it exists.
    let early = w.case_at(&app, "decision_notified");
    let j = pack(&app, &w, PRACTICE, &early).expect_problem(409, "referral_pack_not_available");
    assert!(
        j["detail"].as_str().unwrap().contains("refer_to_fhsu"),
        "{j}"
    );

    let case = referred(&app, &w, STATEMENT, &[]);
    let id = &case.id;
    let kinds = |who: &str| -> Vec<String> {
        let all = entries(&pack(&app, &w, who, id).bytes);
        let m: Value = serde_json::from_slice(entry(&all, "manifest.json")).unwrap();
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_string())
            .collect()
    };
    // The parties: every document but the hearing record; the decision, since it is notified.
    let party = kinds(PRACTICE);
    assert!(!party.contains(&"record".to_string()), "{party:?}");
    assert!(party.contains(&"decision".to_string()), "{party:?}");
    // The panel's secretary: the hearing record too, and the record and votes on the cover.
    // An admin gets the parties' pack: the deliberation is the panel's alone.
    let admin = kinds("admin");
    assert!(!admin.contains(&"record".to_string()), "{admin:?}");
    let who = SECRETARY;
    let k = kinds(who);
    assert!(k.contains(&"record".to_string()), "{who}: {k:?}");
    let all = entries(&pack(&app, &w, who, id).bytes);
    let text = cover_text(entry(&all, "cover.pdf"));
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Both parties presented") && flat.contains("Votes:"),
        "{text}"
    );
    // Another practice, a practice of the same group: as if the case did not exist.
    for who in [OUTSIDER, OTHER_PRACTICE] {
        pack(&app, &w, who, id).expect_problem(404, "not_found");
    }
    pack(&app, &w, PRACTICE, "00000000-0000-0000-0000-000000000000")
        .expect_problem(404, "not_found");
    // Who may see the case but is not given the pack: 403, saying who is.
    for who in [MEDIATOR, GP] {
        let j = pack(&app, &w, who, id).expect_problem(403, "forbidden");
        assert!(j["detail"].as_str().unwrap().contains("secretary"), "{j}");
    }
    // No token.
    let r = app.get(&format!("/api/v1/disputes/{id}/referral-pack"), None);
    r.expect(401);
}

/// The FHSU's notice, received over SMTP, carries the pack a party downloads, byte for byte;
/// the parties' copy lists its files.
fn the_fhsu_notice_carries_the_pack_and_the_parties_copy_lists_it(db: Db) {
    let smtp = SmtpServer::start();
    let url = smtp.url();
    let Some((app, w)) = spawn(db, &[("LDR_SMTP_URL", url.as_str())]) else {
        return;
    };
    let case = referred(&app, &w, STATEMENT, &[]);
    let id = &case.id;
    let fhsu_email = "fhsu@fhsu.nhs.test";
    smtp.wait_until(
        Duration::from_secs(60),
        "both fhsu_referral notices",
        |all| all.iter().filter(|m| m.subject().contains("FHSU")).count() >= 2,
    );
    let download = pack(&app, &w, COMMISSIONER, id).bytes;
    let all = smtp.accepted();
    let to_fhsu: Vec<_> = all
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r.contains(fhsu_email)))
        .collect();
    assert_eq!(to_fhsu.len(), 1, "one notice to the FHSU");
    let m = to_fhsu[0].parsed();
    assert!(m
        .subject()
        .unwrap()
        .contains("Referral to the FHSU from Elm Practice"));
    // Only the FHSU: the parties' copy is a notice of its own.
    assert_eq!(to_fhsu[0].rcpt_to.len(), 1, "{:?}", to_fhsu[0].rcpt_to);
    let attached: Vec<_> = m
        .attachments()
        .filter(|a| {
            use mail_parser::MimeHeaders;
            a.attachment_name()
                .is_some_and(|n| n.starts_with("referral-pack-"))
        })
        .collect();
    assert_eq!(attached.len(), 1, "the pack is attached once");
    assert!(
        attached[0].contents() == download.as_slice(),
        "the attached pack is not the one a party downloads"
    );
    let body = m.body_text(0).unwrap().to_string();
    assert!(body.contains("The referral pack is attached"), "{body}");

    let copy = all
        .iter()
        .find(|m| {
            m.rcpt_to
                .iter()
                .any(|r| r.contains("elm.practice@practice.nhs.test"))
                && m.subject().contains("referred to the FHSU")
        })
        .expect("the parties' copy");
    let p = copy.parsed();
    assert_eq!(
        p.attachments().count(),
        0,
        "the parties' copy carries no pack"
    );
    let text = p.body_text(0).unwrap().to_string();
    let manifest: Value =
        serde_json::from_slice(entry(&entries(&download), "manifest.json")).unwrap();
    for f in manifest["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        assert!(
            text.contains(name),
            "{name} missing from the parties' copy:\n{text}"
        );
    }
    assert!(text.contains("manifest.json") && text.contains("What was sent to the FHSU"));
    assert!(
        text.contains(&format!("/api/v1/disputes/{id}/referral-pack")),
        "{text}"
    );
    // The notice list names the attachment for those who read it.
    let notices = app
        .get(
            &format!("/api/v1/disputes/{id}/notices"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    let referral: Vec<&Value> = notices
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["template"] == "fhsu_referral")
        .collect();
    assert_eq!(referral.len(), 2, "{notices}");
    let name = format!(
        "referral-pack-{}.zip",
        manifest["case_ref"].as_str().unwrap()
    );
    assert_eq!(
        referral
            .iter()
            .filter(|n| n["attachment"] == name.as_str())
            .count(),
        1,
        "{notices}"
    );
}

/// Documents over 10 MiB: the pack is not attached; both notices say where to get it.
fn a_pack_over_ten_mib_is_not_attached_and_the_notices_say_where_it_is(db: Db) {
    let smtp = SmtpServer::start();
    let url = smtp.url();
    let Some((app, w)) = spawn(db, &[("LDR_SMTP_URL", url.as_str())]) else {
        return;
    };
    // Bytes that do not compress (xorshift), so the pack is as large as its documents.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let big: Vec<u8> = (0..10 * 1024 * 1024 + 4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let case = referred(
        &app,
        &w,
        STATEMENT,
        &[(PRACTICE, "evidence", "Scanned correspondence.pdf", big)],
    );
    let id = &case.id;
    smtp.wait_until(
        Duration::from_secs(60),
        "both fhsu_referral notices",
        |all| all.iter().filter(|m| m.subject().contains("FHSU")).count() >= 2,
    );
    let link = format!("/api/v1/disputes/{id}/referral-pack");
    for m in smtp
        .accepted()
        .iter()
        .filter(|m| m.subject().contains("FHSU"))
    {
        let p = m.parsed();
        assert_eq!(p.attachments().count(), 0, "{}", m.subject());
        let text = p.body_text(0).unwrap().to_string();
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("is larger than the 10.0 MB"), "{text}");
        assert!(flat.contains(&link), "{text}");
        assert!(
            m.raw.len() < 1024 * 1024,
            "a notice without the pack is small"
        );
    }
    // The pack itself is still there to download, whole.
    let r = pack(&app, &w, PRACTICE, id);
    assert_eq!(r.status, 200);
    assert!(r.bytes.len() > 10 * 1024 * 1024);
    let all = entries(&r.bytes);
    assert!(all.iter().any(
        |e| e.0.ends_with("Scanned-correspondence.pdf") && e.1.len() == 10 * 1024 * 1024 + 4096
    ));
}

fn hostile_text_still_gives_a_valid_wrapped_cover(db: Db) {
    let Some((app, w)) = spawn(db, &[]) else {
        return;
    };
    let word = "Z".repeat(2500);
    let mut statement = String::new();
    while statement.chars().count() < 10_000 {
        statement.push_str("مرحبا بالعالم שלום עולם 😀👍🏽 \u{202e}desrever\u{202c} 漢字 ");
        statement.push_str("plain words to wrap across the page ");
    }
    statement.push_str(&word);
    statement.push_str(" THE-END");
    let name = "Ünïcødé 😀 ملف.pdf";
    let case = referred(
        &app,
        &w,
        &statement,
        &[(PRACTICE, "other", name, b"x".to_vec())],
    );
    let r = pack(&app, &w, PRACTICE, &case.id);
    assert_eq!(r.status, 200, "{}", r.text());
    let all = entries(&r.bytes);
    let pdf = entry(&all, "cover.pdf");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let text = cover_text(pdf);
    // Page footers (artifacts, which this extractor keeps) come between the pages' text.
    let compact: String = text
        .lines()
        .filter(|l| !l.contains("FHSU referral pack cover"))
        .flat_map(str::split_whitespace)
        .collect();
    assert!(compact.contains(&word), "the 2,500-character word was cut");
    assert!(
        compact.contains("THE-END"),
        "the statement's end is missing"
    );
    assert!(compact.contains("plainwordstowrapacrossthepage"));
    assert!(
        text.contains('?'),
        "characters the font lacks are not shown as ?"
    );
    // The hostile document name is in the ZIP under a safe one, and named on the cover.
    let m: Value = serde_json::from_slice(entry(&all, "manifest.json")).unwrap();
    let f = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["original_name"] == name)
        .expect("the hostile document is in the pack");
    let safe = f["name"].as_str().unwrap();
    assert!(
        safe.starts_with("documents/") && safe.ends_with(".pdf"),
        "{safe}"
    );
    assert!(!safe.contains(' ') && !safe.contains('😀'), "{safe}");
}

/// `pdftoppm` (poppler) renders every page of the cover. Skipped loudly when it is not
/// installed; `LDR_REQUIRE_POPPLER=1` makes that a failure.
fn the_cover_renders_with_pdftoppm(db: Db) {
    let has = std::process::Command::new("pdftoppm")
        .arg("-v")
        .output()
        .is_ok();
    if !has {
        let msg = "pdftoppm (Debian poppler-utils) is not installed: the cover is NOT RENDERED";
        if std::env::var("LDR_REQUIRE_POPPLER").as_deref() == Ok("1") {
            panic!("{msg} (LDR_REQUIRE_POPPLER=1)");
        }
        eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
        return;
    }
    let Some((app, w)) = spawn(db, &[]) else {
        return;
    };
    let case = referred(&app, &w, STATEMENT, &[]);
    let all = entries(&pack(&app, &w, PRACTICE, &case.id).bytes);
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("cover.pdf");
    std::fs::write(&pdf, entry(&all, "cover.pdf")).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "110", "-png"])
        .arg(&pdf)
        .arg(dir.path().join("page"))
        .output()
        .expect("pdftoppm runs");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "pdftoppm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pngs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pngs.sort();
    assert!(pngs.len() >= 2, "{pngs:?}");
    for p in &pngs {
        let b = std::fs::read(p).unwrap();
        assert!(b.starts_with(b"\x89PNG") && b.len() > 10_000, "{p:?}");
    }
}
