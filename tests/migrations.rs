//! Both migration folders produce the same tables and columns (name and nullability), and
//! the PostgreSQL trigger keeps the event history append-only.

mod common;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use diesel_migrations::MigrationHarness;
use std::collections::BTreeMap;

#[derive(QueryableByName)]
struct PgCol {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteCol {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

type Shape = BTreeMap<String, BTreeMap<String, bool>>;

fn sqlite_shape() -> Shape {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    c.run_pending_migrations(ldr::db::SQLITE_MIGRATIONS)
        .unwrap();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'",
    )
    .load(&mut c)
    .unwrap();
    let mut shape = Shape::new();
    for t in tables {
        let cols: Vec<SqliteCol> = diesel::sql_query(format!("PRAGMA table_info({})", t.name))
            .load(&mut c)
            .unwrap();
        // A primary-key column is NOT NULL in PostgreSQL whatever it says.
        shape.insert(
            t.name,
            cols.into_iter()
                .map(|c| (c.name, c.notnull == 0 && c.pk == 0))
                .collect(),
        );
    }
    shape
}

fn pg_shape(url: &str) -> Shape {
    let mut c = PgConnection::establish(url).unwrap();
    c.run_pending_migrations(ldr::db::PG_MIGRATIONS).unwrap();
    let cols: Vec<PgCol> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, is_nullable::text AS is_nullable \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut c)
    .unwrap();
    let mut shape = Shape::new();
    for col in cols {
        shape
            .entry(col.table_name)
            .or_default()
            .insert(col.column_name, col.is_nullable == "YES");
    }
    shape
}

/// A new PostgreSQL database (dropped with the first value) with every migration run, and a
/// connection to it; `None` when no PostgreSQL is configured.
fn migrated_pg() -> Option<(common::PgDatabase, PgConnection)> {
    let pg = common::PgDatabase::create()?;
    let mut c = PgConnection::establish(&pg.url).unwrap();
    c.run_pending_migrations(ldr::db::PG_MIGRATIONS).unwrap();
    Some((pg, c))
}

#[test]
fn migration_folders_have_the_same_versions() {
    let list = |b: &str| {
        let mut v: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{b}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        v.sort();
        v
    };
    assert_eq!(list("postgres"), list("sqlite"));
}

#[test]
fn both_backends_produce_the_same_tables_and_columns() {
    let Some(pg) = common::PgDatabase::create() else {
        return;
    };
    let a = sqlite_shape();
    let b = pg_shape(&pg.url);
    assert!(a.len() >= 11, "{a:?}");
    assert_eq!(a, b);
}

#[test]
fn postgres_refuses_changes_to_the_event_history() {
    let Some((_pg, mut c)) = migrated_pg() else {
        return;
    };
    c.batch_execute(
        "INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at) VALUES ('o','O','practice','a','r','e@x','addr',NULL,NULL,now());
         INSERT INTO users VALUES ('u','U','u@x','h','o','admin','',true,now(),now());
         INSERT INTO disputes (id,title,category,appellant_id,respondent_id,summary,matter_arose_on,contract_related,
            inter_practice,screening_org_id,state,version,hearing_sequence,detail,created_by,created_at,updated_at)
            VALUES ('d','t','other','o','o','s','2026-01-01',false,false,'o','informal',1,0,'{}','u',now(),now());
         INSERT INTO events VALUES ('d',1,'filed','u',now(),'{}');",
    )
    .unwrap();
    assert!(c
        .batch_execute("UPDATE events SET data = '{\"x\":1}'")
        .is_err());
    assert!(c.batch_execute("DELETE FROM events").is_err());
}

#[test]
fn sqlite_refuses_changes_to_the_event_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    c.run_pending_migrations(ldr::db::SQLITE_MIGRATIONS)
        .unwrap();
    c.batch_execute(
        "INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at) VALUES ('o','O','practice','a','r','e@x','addr',NULL,NULL,'2026-01-01 00:00:00');
         INSERT INTO users VALUES ('u','U','u@x','h','o','admin','',1,'2026-01-01 00:00:00','2026-01-01 00:00:00');
         INSERT INTO disputes (id,title,category,appellant_id,respondent_id,summary,matter_arose_on,contract_related,
            inter_practice,screening_org_id,state,version,hearing_sequence,detail,created_by,created_at,updated_at)
            VALUES ('d','t','other','o','o','s','2026-01-01',0,0,'o','informal',1,0,'{}','u','2026-01-01 00:00:00','2026-01-01 00:00:00');
         INSERT INTO events VALUES ('d',1,'filed','u','2026-01-01 00:00:00','{}');",
    )
    .unwrap();
    assert!(c.batch_execute("UPDATE events SET data = '{}'").is_err());
    assert!(c.batch_execute("DELETE FROM events").is_err());
}

/// The queries that use the indexes on mostly-empty columns, each with the index it must be
/// able to use now that those indexes are partial (`WHERE … IS NOT NULL`).
const PARTIAL_INDEX_QUERIES: [(&str, &str); 7] = [
    (
        "mediator_id = 'u' ORDER BY created_at DESC",
        "disputes_mediator",
    ),
    ("secretary_id = 'u'", "disputes_secretary"),
    ("clinical_member_id = 'u'", "disputes_clinical"),
    ("gp_conciliator_id = 'u'", "disputes_gp"),
    ("lmc_representative_id = 'u'", "disputes_lmcrep"),
    (
        "lodged_on >= '2026-01-01' AND lodged_on <= '2026-12-31'",
        "disputes_lodged",
    ),
    ("next_sweep_on <= '2026-03-02'", "disputes_next_sweep"),
];

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

#[test]
fn sqlite_still_uses_the_partial_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    c.run_pending_migrations(ldr::db::SQLITE_MIGRATIONS)
        .unwrap();
    for (cond, index) in PARTIAL_INDEX_QUERIES {
        let plan: Vec<SqlitePlan> = diesel::sql_query(format!(
            "EXPLAIN QUERY PLAN SELECT id FROM disputes WHERE {cond}"
        ))
        .load(&mut c)
        .unwrap();
        let text: Vec<String> = plan.into_iter().map(|p| p.detail).collect();
        assert!(
            text.iter().any(|l| l.contains(&format!("INDEX {index} "))),
            "{cond}: {text:?}"
        );
    }
}

#[test]
fn postgres_still_uses_the_partial_indexes() {
    let Some((_pg, mut c)) = migrated_pg() else {
        return;
    };
    // On an empty table a sequential scan is always cheapest: forbid it, so that the plan shows
    // whether the index can serve the query at all.
    c.batch_execute("SET enable_seqscan = off").unwrap();
    for (cond, index) in PARTIAL_INDEX_QUERIES {
        let plan: Vec<PgPlan> =
            diesel::sql_query(format!("EXPLAIN SELECT id FROM disputes WHERE {cond}"))
                .load(&mut c)
                .unwrap();
        let text: Vec<String> = plan.into_iter().map(|p| p.line).collect();
        assert!(
            text.iter()
                .any(|l| l.contains(&format!(" {index} ")) || l.ends_with(&format!(" {index}"))),
            "{cond}: {text:?}"
        );
    }
}

#[derive(QueryableByName)]
struct Compression {
    #[diesel(sql_type = Text)]
    attname: String,
    #[diesel(sql_type = Text)]
    method: String,
}

#[test]
fn postgres_compresses_notice_bodies_with_lz4_when_it_can() {
    let Some((_pg, mut c)) = migrated_pg() else {
        return;
    };
    let lz4: Vec<Name> = diesel::sql_query(
        "SELECT name::text AS name FROM pg_settings \
         WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)",
    )
    .load(&mut c)
    .unwrap();
    let cols: Vec<Compression> = diesel::sql_query(
        "SELECT attname::text AS attname, attcompression::text AS method FROM pg_attribute \
         WHERE attrelid = 'notices'::regclass AND attname IN ('body_text', 'body_html', 'ics') \
         ORDER BY attname",
    )
    .load(&mut c)
    .unwrap();
    let got: Vec<(String, String)> = cols.into_iter().map(|c| (c.attname, c.method)).collect();
    // `l` is lz4; an empty method is the server's default (pglz), kept where lz4 is missing.
    let want = if lz4.is_empty() { "" } else { "l" };
    assert_eq!(
        got,
        ["body_html", "body_text", "ics"].map(|n| (n.to_string(), want.to_string()))
    );
    // A notice stored after the migration reads back whole.
    let html = "<p>Notice</p>\n".repeat(400);
    c.batch_execute(&format!(
        "INSERT INTO notices (id, template, recipients, subject, body_text, body_html, status, \
         attempts, queued_at, next_attempt_at) VALUES ('n', 't', '[]', 's', 'text', '{html}', \
         'queued', 0, now(), now())"
    ))
    .unwrap();
    let back: Vec<Name> = diesel::sql_query("SELECT body_html AS name FROM notices")
        .load(&mut c)
        .unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].name, html);
}

/// The version that moved documents' bytes into `document_chunks` (digits only).
const CHUNKS_VERSION: &str = "20261216000001";

#[derive(QueryableByName)]
struct Chunk {
    #[diesel(sql_type = Text)]
    document_id: String,
    #[diesel(sql_type = Integer)]
    seq: i32,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    bytes: Vec<u8>,
}

#[derive(QueryableByName)]
struct Content {
    #[diesel(sql_type = diesel::sql_types::Binary)]
    content: Vec<u8>,
}

fn stored_document() -> Vec<u8> {
    (0..600_000u32)
        .map(|i| (i.wrapping_mul(31) >> 3) as u8)
        .collect()
}

/// Reverts to just before the chunks version, stores a 600,000-byte document and an empty one
/// the old way, migrates again and checks the chunks (256 KiB each, in order, the whole file);
/// then reverts once more and checks the down migration puts the bytes back.
macro_rules! chunks_migration {
    ($c:expr, $migrations:expr, $seed:expr, $blob:expr, $now:expr) => {{
        let c = $c;
        let applied = |c: &mut _| -> bool {
            MigrationHarness::applied_migrations(c)
                .unwrap()
                .iter()
                .any(|v| *v.to_string().replace('-', "") >= *CHUNKS_VERSION)
        };
        while applied(c) {
            c.revert_last_migration($migrations).unwrap();
        }
        let content = stored_document();
        c.batch_execute($seed).unwrap();
        c.batch_execute(&format!(
            "INSERT INTO documents (id, dispute_id, name, kind, content_type, size, sha256, content, uploaded_by, created_at) \
             VALUES ('big', 'd', 'big.pdf', 'evidence', 'application/pdf', {}, 'x', {}, 'u', {now}), \
                    ('empty', 'd', 'empty.txt', 'other', 'text/plain', 0, 'x', {}, 'u', {now})",
            content.len(),
            $blob(&content),
            $blob(&[]),
            now = $now
        ))
        .unwrap();
        c.run_pending_migrations($migrations).unwrap();
        let chunks: Vec<Chunk> = diesel::sql_query(
            "SELECT document_id, seq, bytes FROM document_chunks ORDER BY document_id, seq",
        )
        .load(c)
        .unwrap();
        assert!(chunks.iter().all(|k| k.document_id == "big"));
        assert_eq!(chunks.iter().map(|k| k.seq).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(
            chunks.iter().map(|k| k.bytes.len()).collect::<Vec<_>>(),
            vec![262_144, 262_144, 600_000 - 2 * 262_144]
        );
        assert!(chunks.iter().flat_map(|k| k.bytes.iter().copied()).eq(content.iter().copied()));
        // Down: the bytes go back into the column.
        while applied(c) {
            c.revert_last_migration($migrations).unwrap();
        }
        let back: Vec<Content> =
            diesel::sql_query("SELECT content FROM documents ORDER BY id").load(c).unwrap();
        assert_eq!(back.len(), 2);
        assert!(back[0].content == content, "the down migration lost the bytes");
        assert!(back[1].content.is_empty());
        c.run_pending_migrations($migrations).unwrap();
    }};
}

const SEED_ROWS: &str = "INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at)
        VALUES ('o','O','practice','a','r','e@x','addr',NULL,NULL,'2026-01-01 00:00:00');
     INSERT INTO users (id,name,email,password_hash,organisation_id,roles,panel_roles,active,created_at,updated_at)
        VALUES ('u','U','u@x','h','o','admin','',true,'2026-01-01 00:00:00','2026-01-01 00:00:00');
     INSERT INTO disputes (id,title,category,appellant_id,respondent_id,summary,matter_arose_on,contract_related,
        inter_practice,screening_org_id,state,version,hearing_sequence,detail,created_by,created_at,updated_at)
        VALUES ('d','t','other','o','o','s','2026-01-01',false,false,'o','informal',1,0,'{}','u','2026-01-01 00:00:00','2026-01-01 00:00:00');";

#[test]
fn sqlite_moves_document_bytes_into_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    c.run_pending_migrations(ldr::db::SQLITE_MIGRATIONS)
        .unwrap();
    chunks_migration!(
        &mut c,
        ldr::db::SQLITE_MIGRATIONS,
        &SEED_ROWS.replace("true", "1").replace("false", "0"),
        |b: &[u8]| format!("x'{}'", hex::encode(b)),
        "'2026-01-01 00:00:00'"
    );
}

#[test]
fn postgres_moves_document_bytes_into_chunks() {
    let Some((_pg, mut c)) = migrated_pg() else {
        return;
    };
    chunks_migration!(
        &mut c,
        ldr::db::PG_MIGRATIONS,
        SEED_ROWS,
        |b: &[u8]| format!("decode('{}', 'hex')", hex::encode(b)),
        "now()"
    );
}

const FHSU_OUTCOME_VERSION: &str = "20261221310001";

#[derive(QueryableByName)]
struct DetailRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// Reverts to just before the typed FHSU outcome, stores a determination the old way (free
/// text as its outcome), migrates again and checks that the text became the summary, with no
/// outcome, in a detail the service reads; the down migration puts the text back.
macro_rules! fhsu_outcome_migration {
    ($c:expr, $migrations:expr, $seed:expr) => {{
        let c = $c;
        let applied = |c: &mut _| -> bool {
            MigrationHarness::applied_migrations(c)
                .unwrap()
                .iter()
                .any(|v| *v.to_string().replace('-', "") >= *FHSU_OUTCOME_VERSION)
        };
        while applied(c) {
            c.revert_last_migration($migrations).unwrap();
        }
        let old = r#"{"grounds":"g","fhsu_determination":{"determined_on":"2026-03-17","outcome":"Upheld"}}"#;
        c.batch_execute(&$seed.replace("'{}'", &format!("'{old}'")))
            .unwrap();
        c.run_pending_migrations($migrations).unwrap();
        let read = |c: &mut _| -> String {
            diesel::sql_query("SELECT detail FROM disputes WHERE id = 'd'")
                .get_result::<DetailRow>(c)
                .unwrap()
                .detail
        };
        let d = ldr::domain::dispute::Detail::decode(&read(c)).expect("the service reads it");
        let f = d.fhsu_determination.unwrap();
        assert_eq!((f.outcome, f.summary.as_str()), (None, "Upheld"));
        assert_eq!(d.grounds.as_deref(), Some("g"));
        while applied(c) {
            c.revert_last_migration($migrations).unwrap();
        }
        let back: serde_json::Value = serde_json::from_str(&read(c)).unwrap();
        assert_eq!(back["fhsu_determination"]["outcome"], "Upheld");
        c.run_pending_migrations($migrations).unwrap();
    }};
}

#[test]
fn sqlite_keeps_an_old_fhsu_outcome_as_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    c.run_pending_migrations(ldr::db::SQLITE_MIGRATIONS)
        .unwrap();
    fhsu_outcome_migration!(
        &mut c,
        ldr::db::SQLITE_MIGRATIONS,
        SEED_ROWS.replace("true", "1").replace("false", "0")
    );
}

#[test]
fn postgres_keeps_an_old_fhsu_outcome_as_its_summary() {
    let Some((_pg, mut c)) = migrated_pg() else {
        return;
    };
    fhsu_outcome_migration!(&mut c, ldr::db::PG_MIGRATIONS, SEED_ROWS.to_string());
}

/// Three endpoints with 1,000 pending deliveries each and one with none, on either database.
const WEBHOOK_BACKLOG: &str = "INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at)
        VALUES ('o','O','practice','a','r','e@x','addr',NULL,NULL,'2026-01-01 00:00:00');
     INSERT INTO webhooks (id, organisation_id, url, secret, created_by, created_at)
        VALUES ('w1','o','https://a.example','s','u','2026-01-01 00:00:00'),
               ('w2','o','https://b.example','s','u','2026-01-01 00:00:00'),
               ('w3','o','https://c.example','s','u','2026-01-01 00:00:00'),
               ('w4','o','https://d.example','s','u','2026-01-01 00:00:00');
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
     INSERT INTO webhook_deliveries (id, webhook_id, dispute_id, event_seq, event_type, payload,
        status, next_attempt_at, created_at)
        SELECT 'd' || i, 'w' || (i % 3 + 1), 'x', i, 'e', '{}', 'pending',
               '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM n;";

/// The delivery worker's claim takes each endpoint's earliest pending delivery, on both
/// databases, and on PostgreSQL without a lookup per pending delivery or a join of each with
/// the others: with 3,000 waiting, no step of its plan runs a hundred times and together they
/// handle fewer than ten rows a delivery waiting.
#[test]
fn the_webhook_claim_takes_each_endpoints_first_delivery_without_reading_the_backlog() {
    use ldr::db::outbox::{claim_leased, claimable};
    use ldr::db::webhooks::DELIVERIES;
    use ldr::db::DbConn;
    let now = chrono::NaiveDate::from_ymd_opt(2026, 2, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let until = now + chrono::Duration::minutes(1);
    let first_of_each = |c: &mut DbConn| {
        let mut got: Vec<(String, i64)> = claim_leased(c, &DELIVERIES, "wk", now, until, 16)
            .unwrap()
            .into_iter()
            .map(|d| (d.webhook_id, d.seq))
            .collect();
        got.sort();
        got
    };
    let want = vec![("w1".to_string(), 3), ("w2".into(), 1), ("w3".into(), 2)];

    let dir = tempfile::tempdir().unwrap();
    let mut sq = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    sq.run_pending_migrations(ldr::db::SQLITE_MIGRATIONS)
        .unwrap();
    sq.batch_execute(WEBHOOK_BACKLOG).unwrap();
    let mut sq = DbConn::Sqlite(sq);
    assert_eq!(first_of_each(&mut sq), want);
    // Leased: nothing more for anyone until the lease runs out.
    assert_eq!(first_of_each(&mut sq), vec![]);

    let Some((_pg, mut c)) = migrated_pg() else {
        return;
    };
    c.batch_execute(WEBHOOK_BACKLOG).unwrap();
    c.batch_execute("ANALYZE").unwrap();
    let plan: Vec<PgPlan> = diesel::sql_query(format!(
        "EXPLAIN ANALYZE {}",
        claimable(&DELIVERIES, "now()", "16")
    ))
    .load(&mut c)
    .unwrap();
    let lines: Vec<String> = plan.into_iter().map(|p| p.line).collect();
    // Each step's line ends "(actual time=0.01..0.02 rows=3 loops=1)": the rows it gave, on
    // average, and how many times it ran; a "Rows Removed by …: N" line under it, the rows it
    // read and dropped, on average.
    let after = |l: &str, key: &str| -> u64 {
        l.rsplit(key)
            .next()
            .and_then(|r| r.split([' ', ')']).next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    let (mut handled, mut most_loops, mut loops) = (0, 0, 1);
    for l in &lines {
        if l.contains("(actual time=") {
            loops = after(l, " loops=");
            most_loops = most_loops.max(loops);
            handled += after(l, " rows=") * loops;
        } else if l.contains("Rows Removed by") {
            handled += after(l, ": ") * loops;
        }
    }
    assert!(
        most_loops < 100 && handled < 10 * 3000,
        "the claim ran a step {most_loops} times and handled {handled} rows:\n{}",
        lines.join("\n")
    );
    let mut c = DbConn::Pg(c);
    assert_eq!(first_of_each(&mut c), want);
    assert_eq!(first_of_each(&mut c), vec![]);
}

const DEADLINE_RULES_VERSION: &str = "20261229390001";

#[derive(QueryableByName)]
struct NextDeadline {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    next_deadline_on: Option<chrono::NaiveDate>,
}

#[derive(QueryableByName)]
struct DueOn {
    #[diesel(sql_type = diesel::sql_types::Date)]
    due_on: chrono::NaiveDate,
}

/// Reverts to just before the two deadline migrations of 2026-12-29 and stores a dispute whose
/// decision is recorded but not sent, its next deadline as the old rule gave it (the FHSU's),
/// and a breach; migrates again: the start's backfill gives it the decision's deadline, and a
/// second breach of the same rule on a new date is a row of its own. Down, the first breach of
/// each rule is the one kept.
macro_rules! deadline_rules_migration {
    ($c:expr, $wrap:path, $migrations:expr, $seed:expr) => {{
        let mut c = $c;
        let applied = |c: &mut _| -> bool {
            MigrationHarness::applied_migrations(c)
                .unwrap()
                .iter()
                .any(|v| *v.to_string().replace('-', "") >= *DEADLINE_RULES_VERSION)
        };
        while applied(&mut c) {
            c.revert_last_migration($migrations).unwrap();
        }
        c.batch_execute(&*$seed).unwrap();
        c.batch_execute(
            "DELETE FROM backfills;
             UPDATE disputes SET state = 'decided', held_on = '2026-03-16',
                decided_on = '2026-03-17', decision_by = '2026-03-23', fhsu_by = '2028-05-31',
                next_deadline_on = '2028-05-31' WHERE id = 'd';
             INSERT INTO breaches (dispute_id, kind, due_on, detected_on, overridden, detail)
                VALUES ('d', 'hearing_not_recorded', '2026-03-12', '2026-03-13', '0', 'first');",
        )
        .unwrap();
        c.run_pending_migrations($migrations).unwrap();
        c.batch_execute(
            "INSERT INTO breaches (dispute_id, kind, due_on, detected_on, overridden, detail)
                VALUES ('d', 'hearing_not_recorded', '2026-03-26', '2026-03-27', '0', 'again');",
        )
        .unwrap();
        let mut db = $wrap(c);
        assert_eq!(
            ldr::db::disputes::backfill_next_deadlines(&mut db).unwrap(),
            1
        );
        assert_eq!(
            ldr::db::disputes::backfill_next_deadlines(&mut db).unwrap(),
            0,
            "once"
        );
        let $wrap(mut c) = db else { unreachable!() };
        let next: NextDeadline =
            diesel::sql_query("SELECT next_deadline_on FROM disputes WHERE id = 'd'")
                .get_result(&mut c)
                .unwrap();
        assert_eq!(next.next_deadline_on, "2026-03-23".parse().ok());
        while applied(&mut c) {
            c.revert_last_migration($migrations).unwrap();
        }
        let kept: Vec<DueOn> = diesel::sql_query("SELECT due_on FROM breaches")
            .load(&mut c)
            .unwrap();
        assert_eq!(
            kept.iter()
                .map(|b| b.due_on.to_string())
                .collect::<Vec<_>>(),
            ["2026-03-12"]
        );
        c.run_pending_migrations($migrations).unwrap();
    }};
}

#[test]
fn sqlite_gives_a_recorded_decision_its_deadline_and_keeps_each_breach() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    c.run_pending_migrations(ldr::db::SQLITE_MIGRATIONS)
        .unwrap();
    deadline_rules_migration!(
        c,
        ldr::db::DbConn::Sqlite,
        ldr::db::SQLITE_MIGRATIONS,
        SEED_ROWS.replace("true", "1").replace("false", "0")
    );
}

#[test]
fn postgres_gives_a_recorded_decision_its_deadline_and_keeps_each_breach() {
    let Some((_pg, c)) = migrated_pg() else {
        return;
    };
    deadline_rules_migration!(c, ldr::db::DbConn::Pg, ldr::db::PG_MIGRATIONS, SEED_ROWS);
}

/// The organisations `(id, ods_code)` inserted one by one into `c` (a migrated database of
/// either kind), each insert's outcome.
fn insert_organisations(c: &mut impl SimpleConnection, rows: &[(&str, Option<&str>)]) -> Vec<bool> {
    rows.iter()
        .map(|(id, ods)| {
            let ods = ods.map_or_else(|| "NULL".to_string(), |o| format!("'{o}'"));
            c.batch_execute(&format!(
                "INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at) \
                 VALUES ('{id}','O','practice','a','r','e@x','addr',{ods},NULL,CURRENT_TIMESTAMP)"
            ))
            .is_ok()
        })
        .collect()
}

/// An ODS code names one organisation, on both databases, however many requests write at
/// once; organisations without one (no code, or an empty one) are many.
#[test]
fn an_ods_code_names_one_organisation_on_both_databases() {
    let rows = [
        ("a", Some("B82001")),
        ("b", Some("B82001")),
        ("c", None),
        ("d", None),
        ("e", Some("")),
        ("f", Some("")),
        ("g", Some("B82002")),
    ];
    let expected = vec![true, false, true, true, true, true, true];
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    c.run_pending_migrations(ldr::db::SQLITE_MIGRATIONS)
        .unwrap();
    assert_eq!(insert_organisations(&mut c, &rows), expected, "SQLite");
    let Some((_pg, mut c)) = migrated_pg() else {
        return;
    };
    assert_eq!(insert_organisations(&mut c, &rows), expected, "PostgreSQL");
}
