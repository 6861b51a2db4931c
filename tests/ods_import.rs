//! `ldr import-organisations`: the real binary loads ODS files written here into the database
//! of a running app (SQLite file and PostgreSQL), checked through the HTTP API; a second run
//! changes nothing; a malformed line is skipped with its line number; a file not of the layout
//! is refused before anything is written; an imported organisation without an e-mail address
//! does not hold up the notices of its disputes.

mod common;

use common::{process::ldr_command, Db, TestApp};
use ldr::domain::ods::{commissioner_line, practice_line};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

both_dbs!(
    imports_practices_and_commissioners_idempotently,
    refuses_a_file_not_of_the_layout_before_writing,
    notices_skip_an_organisation_without_an_address
);

/// The database failing during an import (here its writes wait on a lock until PostgreSQL's
/// `lock_timeout` cancels them) stops it with exit 1 and the line it reached: it is not
/// reported as lines "skipped" with exit 0. Once the database is back, running it again
/// completes it.
#[test]
fn a_database_failure_stops_the_import_with_exit_1() {
    use diesel::{Connection, RunQueryDsl};
    let Some(app) = TestApp::spawn(Db::Postgres) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ccgs = write(dir.path(), "eccg.csv", &commissioners_file());
    let gps = write(dir.path(), "epraccur.csv", &practices_file());
    assert_eq!(import(&app, &[&ccgs]).0, 0);
    // Another session lets the import read the directory but not write to it.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let url = app.db_url.clone();
    let holder = std::thread::spawn(move || {
        let mut c = diesel::PgConnection::establish(&url).unwrap();
        c.transaction(|c| {
            diesel::sql_query("LOCK TABLE organisations IN EXCLUSIVE MODE").execute(c)?;
            locked_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(Duration::from_secs(120));
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    });
    locked_rx.recv().unwrap();
    let started = Instant::now();
    let (code, out, err) = import(&app, &[&gps]);
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("the database failed at line"), "{err}");
    assert!(!out.contains("skipped: the database refused it"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "it stopped at the first failure, not after a timeout per line"
    );
    // Once the database is back, the same command completes the import.
    let (code, out, err) = import(&app, &[&gps]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains(&format!("created {CREATED},")), "{out}");
}

const PRACTICES: usize = 300;
const COMMISSIONERS: usize = 12;

fn ccg(i: usize) -> String {
    format!("{:02}Q", i % COMMISSIONERS)
}

fn icb(i: usize) -> String {
    format!("QH{}", (i % COMMISSIONERS) / 4)
}

fn code(i: usize) -> String {
    format!("E8{i:04}")
}

/// Commissioner 11Q closed in 2022.
fn commissioners_file() -> String {
    (0..COMMISSIONERS)
        .map(|i| {
            let closed = if i == 11 { "20220630" } else { "" };
            commissioner_line(&ccg(i), &format!("NHS TEST {i} ICB"), &icb(i), closed) + "\r\n"
        })
        .collect()
}

/// 300 practice lines: every 25th closed, some dormant, six not GP practices (prescribing
/// setting 2), and line 100 with a malformed open date.
fn practice(i: usize) -> String {
    let status = if i % 25 == 0 {
        "C"
    } else if i % 40 == 7 {
        "D"
    } else {
        "A"
    };
    let mut l = practice_line(
        &code(i),
        &format!("TEST SURGERY {i}"),
        &ccg(i),
        &icb(i),
        status,
    );
    if i % 50 == 13 {
        l = l.replace(",\"4\",", ",\"2\",");
    }
    if i == 99 {
        l = l.replace("19740401", "1974-04-01");
    }
    l
}

fn practices_file() -> String {
    (0..PRACTICES).map(|i| practice(i) + "\r\n").collect()
}

const NOT_GP: usize = 6;
const CREATED: usize = PRACTICES - NOT_GP - 1;
const CLOSED: usize = 12;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `ldr import-organisations ARGS` on the app's database: (exit code, stdout, stderr).
fn import(app: &TestApp, args: &[&Path]) -> (i32, String, String) {
    let out = ldr_command()
        .arg("import-organisations")
        .args(args)
        .env("LDR_DATABASE_URL", &app.db_url)
        .env("LDR_DATA_DIR", app.dir.path())
        .current_dir(app.dir.path())
        .output()
        .expect("run ldr");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn organisations(app: &TestApp, admin: &str, kind: &str) -> Vec<Value> {
    app.get(
        &format!("/api/v1/organisations?kind={kind}&limit=1000"),
        Some(admin),
    )
    .expect(200)
    .as_array()
    .unwrap()
    .clone()
}

fn by_code<'a>(orgs: &'a [Value], code: &str) -> Option<&'a Value> {
    orgs.iter().find(|o| o["ods_code"] == code)
}

fn imports_practices_and_commissioners_idempotently(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let dir = tempfile::tempdir().unwrap();
    let ccgs = write(dir.path(), "eccg.csv", &commissioners_file());
    let gps = write(dir.path(), "epraccur.csv", &practices_file());

    // Practices named first: the commissioners are still imported first.
    let (rc, out, err) = import(&app, &[&gps, &ccgs]);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(
        out.contains("eccg.csv: commissioners (eccg layout), detected from the columns"),
        "{out}"
    );
    assert!(
        out.contains("epraccur.csv: GP practices (epraccur layout)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "created {COMMISSIONERS}, updated 0, unchanged 0, skipped 0\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "created {CREATED}, updated 0, unchanged 0, skipped 1, not GP practices \
             (prescribing setting other than 4) {NOT_GP}"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "line 100 skipped: column 11 (open date) \"1974-04-01\" is not a date YYYYMMDD"
        ),
        "{out}"
    );

    let commissioners = organisations(&app, &admin, "commissioner");
    let practices = organisations(&app, &admin, "practice");
    assert_eq!(commissioners.len(), COMMISSIONERS);
    assert_eq!(practices.len(), CREATED);
    let c1 = by_code(&commissioners, "01Q").unwrap();
    assert_eq!(c1["name"], "NHS TEST 1 ICB");
    assert_eq!(c1["area"], "QH0");
    assert_eq!(c1["region"], "Y61");
    assert_eq!(c1["active"], true);
    assert_eq!(by_code(&commissioners, "11Q").unwrap()["active"], false);
    let p1 = by_code(&practices, "E80001").unwrap();
    assert_eq!(p1["name"], "TEST SURGERY 1");
    assert_eq!(p1["area"], "QH0");
    assert_eq!(p1["region"], "Y61");
    assert_eq!(p1["address"], "1 HIGH STREET, CHELMSFORD, ESSEX, CM1 1AA");
    assert_eq!(p1["email"], "", "ODS gives no e-mail address");
    assert_eq!(p1["active"], true);
    assert_eq!(p1["commissioner_id"], c1["id"]);
    // Closed practices are kept, inactive; dormant ones stay active.
    assert_eq!(by_code(&practices, "E80025").unwrap()["active"], false);
    assert_eq!(by_code(&practices, "E80007").unwrap()["active"], true);
    let inactive = practices.iter().filter(|p| p["active"] == false).count();
    assert_eq!(inactive, CLOSED);
    // The malformed line and the other prescribing settings are not there.
    assert!(by_code(&practices, "E80099").is_none());
    assert!(by_code(&practices, "E80013").is_none());
    // Every practice's commissioner is the one its line names.
    for i in (0..PRACTICES).filter(|i| i % 50 != 13 && *i != 99) {
        let p = by_code(&practices, &code(i)).unwrap();
        let c = by_code(&commissioners, &ccg(i)).unwrap();
        assert_eq!(p["commissioner_id"], c["id"], "{}", code(i));
    }

    // The same files again: nothing changes.
    let (rc, out, err) = import(&app, &[&ccgs, &gps]);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "created 0, updated 0, unchanged {COMMISSIONERS}, skipped 0\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "created 0, updated 0, unchanged {CREATED}, skipped 1,"
        )),
        "{out}"
    );
    let again = organisations(&app, &admin, "practice");
    assert_eq!(again, practices, "a second run changes nothing");

    // An admin gives a practice its address; ODS renames it and closes another; a practice of
    // an unknown commissioner is skipped.
    let mut changed: Vec<String> = (0..PRACTICES).map(practice).collect();
    changed[1] = changed[1].replace("TEST SURGERY 1\"", "TEST SURGERY ONE\"");
    changed[2] = changed[2].replace("\"\",\"A\",\"B\"", "\"20260101\",\"C\",\"B\"");
    changed.push(practice_line("E89999", "ELSEWHERE", "99Z", "QZZ", "A"));
    let gps2 = write(dir.path(), "epraccur2.csv", &(changed.join("\n") + "\n"));
    let (rc, out, err) = import(&app, &[&gps2]);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "created 0, updated 2, unchanged {}, skipped 2,",
            CREATED - 2
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "line {} skipped: its commissioner 99Z (column 15) is not in the directory",
            PRACTICES + 1
        )),
        "{out}"
    );
    let after = organisations(&app, &admin, "practice");
    let p1 = by_code(&after, "E80001").unwrap();
    assert_eq!(p1["name"], "TEST SURGERY ONE");
    assert_eq!(
        p1["id"],
        by_code(&practices, "E80001").unwrap()["id"],
        "updated in place"
    );
    assert_eq!(by_code(&after, "E80002").unwrap()["active"], false);
    assert!(by_code(&after, "E89999").is_none());
    assert_eq!(after.len(), CREATED, "nothing created, nothing deleted");
}

fn refuses_a_file_not_of_the_layout_before_writing(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let dir = tempfile::tempdir().unwrap();
    let ccgs = write(dir.path(), "eccg.csv", &commissioners_file());
    // A list of practices in some other layout: 5 columns.
    let other: String = (0..PRACTICES)
        .map(|i| format!("{},TEST SURGERY {i},{},x,y\n", code(i), ccg(i)))
        .collect();
    let other = write(dir.path(), "other.csv", &other);
    // The right layout with a header row.
    let header = "Organisation Code,Name,National Grouping,High Level Health Geography,\
                  Address 1,Address 2,Address 3,Address 4,Address 5,Postcode,Open Date,\
                  Close Date,Status Code,Sub Type,Commissioner,Join Date,Left Date,\
                  Telephone,N,N,N,Amended,N,Provider Purchaser,N,Prescribing Setting,N\n";
    let with_header = write(
        dir.path(),
        "header.csv",
        &(header.to_string() + &practices_file()),
    );
    let before = organisations(&app, &admin, "commissioner").len()
        + organisations(&app, &admin, "practice").len();
    assert_eq!(before, 0);

    // Named with a good file: that one is not imported either.
    let (rc, out, err) = import(&app, &[&ccgs, &other]);
    assert_ne!(rc, 0, "{out}{err}");
    assert!(
        err.contains("other.csv refused, nothing imported") && err.contains("27 columns"),
        "{err}"
    );
    let (rc, out, err) = import(&app, &[&ccgs, &with_header]);
    assert_ne!(rc, 0, "{out}{err}");
    assert!(err.contains("header row"), "{err}");
    let (rc, _, err) = import(&app, &[&dir.path().join("missing.csv")]);
    assert_ne!(rc, 0);
    assert!(err.contains("cannot read"), "{err}");
    let (rc, _, err) = import(&app, &[]);
    assert_eq!(rc, 2);
    assert!(err.contains("usage"), "{err}");

    assert!(organisations(&app, &admin, "commissioner").is_empty());
    assert!(organisations(&app, &admin, "practice").is_empty());
}

/// An imported commissioner has no e-mail address: a dispute filed against it is still
/// notified to its LMC, and the mail worker sends that notice.
fn notices_skip_an_organisation_without_an_address(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let dir = tempfile::tempdir().unwrap();
    let ccgs = write(dir.path(), "eccg.csv", &commissioners_file());
    let gps = write(dir.path(), "epraccur.csv", &practices_file());
    let (rc, out, err) = import(&app, &[&ccgs, &gps]);
    assert_eq!(rc, 0, "{out}{err}");
    let practices = organisations(&app, &admin, "practice");
    let practice = by_code(&practices, "E80001").unwrap();
    let commissioner = practice["commissioner_id"].as_str().unwrap();
    // The LMC of the practice's area (the ICB code), with an address.
    app.org(&admin, "Test LMC", "lmc", "QH0", "Y61", None);
    let user = app.user(
        &admin,
        "Pam Imported",
        practice["id"].as_str().unwrap(),
        &["practice_user"],
        &[],
    );
    assert!(!user.is_empty());
    let token = app.login_as("Pam Imported");
    let d = app
        .post(
            "/api/v1/disputes",
            Some(&token),
            &json!({"title": "Referral criteria", "category": "referral_management",
                    "appellant_id": practice["id"], "respondent_id": commissioner,
                    "summary": "s", "matter_arose_on": "2026-01-05", "contract_related": false}),
        )
        .expect(201);
    let id = d["id"].as_str().unwrap();
    let start = Instant::now();
    let notices = loop {
        let n = app
            .get(&format!("/api/v1/disputes/{id}/notices"), Some(&token))
            .expect(200);
        let all_sent = n
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x["status"] == "sent"));
        if all_sent || start.elapsed() > Duration::from_secs(20) {
            break n;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let filed: Vec<&Value> = notices
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["template"] == "dispute_filed")
        .collect();
    assert_eq!(filed.len(), 1, "{notices}");
    assert_eq!(
        filed[0]["to"],
        json!(["test.lmc@lmc.nhs.test"]),
        "{notices}"
    );
    assert_eq!(filed[0]["status"], "sent", "{notices}");
}
