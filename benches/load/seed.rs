//! The world a run works in: organisations, users and the mediator's 500 real cases through
//! the API, then the bulk disputes straight into the database.

use crate::support::http::{login, ok_json};
use crate::support::pg::open;
use crate::support::rows::{filed_row, Parties};
use crate::support::server::{agent, ADMIN, ADMIN_PW};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use ldr::db::disputes::EventRow;
use ldr::db::schema::{disputes, events};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub const PW: &str = "load-user-password-1";
/// The mediator's own cases (filed and assigned through the API).
pub const MEDIATOR_CASES: usize = 500;

pub struct World {
    pub ccg: String,
    pub elm: String,
    pub lmc: String,
    pub practice_user: String,
    pub practice_token: String,
    pub mediator_token: String,
    /// A second mediator of the same LMC, who takes on bulk disputes in the `assign` phases
    /// (so the first one keeps exactly its 500 cases for `mine`).
    pub assigner_id: String,
    pub assigner_token: String,
    /// Every dispute: the mediator's 500 first, then the bulk ones.
    pub ids: Vec<String>,
}

pub fn file_body(w_elm: &str, w_ccg: &str) -> Value {
    json!({"title": "Prescribing budget 2025/26", "category": "prescribing",
           "appellant_id": w_elm, "respondent_id": w_ccg,
           "summary": "The CCG reduced our prescribing budget without consultation.",
           "matter_arose_on": "2025-06-01", "contract_related": true})
}

/// Organisations and users through the API, and the mediator's 500 real, assigned cases.
pub fn seed_api(base: &str) -> World {
    let a = agent();
    let admin = login(&a, base, ADMIN, ADMIN_PW);
    let org = |name: &str, kind: &str, area: &str, ccg: Option<&str>| {
        let mut b = json!({"name": name, "kind": kind, "area": area, "region": "East",
            "email": format!("{}@{kind}.nhs.test", name.to_lowercase().replace(' ', ".")),
            "address": format!("1 {name} Street, {area}")});
        if let Some(c) = ccg {
            b["commissioner_id"] = json!(c);
        }
        ok_json(
            &a,
            "POST",
            &format!("{base}/api/v1/organisations"),
            Some(&admin),
            &b,
            201,
        )["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let ccg = org("North CCG", "commissioner", "North Essex", None);
    let lmc = org("North Essex LMC", "lmc", "North Essex", None);
    let elm = org("Elm Practice", "practice", "North Essex", Some(&ccg));
    let user = |name: &str, email: &str, org: &str, role: &str| {
        ok_json(&a, "POST", &format!("{base}/api/v1/users"), Some(&admin),
            &json!({"name": name, "email": email, "password": PW, "organisation_id": org, "roles": [role]}), 201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let practice_user = user("Pat Practice", "practice@load.test", &elm, "practice_user");
    let mediator = user("Mia Mediator", "mediator@load.test", &lmc, "lmc_mediator");
    let assigner_id = user("Max Mediator", "assigner@load.test", &lmc, "lmc_mediator");
    let practice_token = login(&a, base, "practice@load.test", PW);
    let mediator_token = login(&a, base, "mediator@load.test", PW);
    let assigner_token = login(&a, base, "assigner@load.test", PW);
    // 500 real cases, filed and assigned through the API, 8 at a time.
    let ids = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicU64::new(0));
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (ids, next) = (ids.clone(), next.clone());
            let (pt, mt, elm, ccg, mediator) =
                (&practice_token, &mediator_token, &elm, &ccg, &mediator);
            s.spawn(move || {
                let a = agent();
                while next.fetch_add(1, Ordering::Relaxed) < MEDIATOR_CASES as u64 {
                    let d = ok_json(&a, "POST", &format!("{base}/api/v1/disputes"), Some(pt), &file_body(elm, ccg), 201);
                    let id = d["id"].as_str().unwrap().to_string();
                    ok_json(&a, "POST", &format!("{base}/api/v1/disputes/{id}/events"), Some(mt),
                        &json!({"type": "assign_mediator", "mediator_id": mediator, "mode": "mediation"}), 200);
                    ids.lock().unwrap().push(id);
                }
            });
        }
    });
    let ids = std::mem::take(&mut *ids.lock().unwrap());
    assert_eq!(ids.len(), MEDIATOR_CASES);
    World {
        ccg,
        elm,
        lmc,
        practice_user,
        practice_token,
        mediator_token,
        assigner_id,
        assigner_token,
        ids,
    }
}

/// `n` more disputes straight into the database (the API would take too long), each with its
/// `file` event: informal, unassigned, Elm Practice v North CCG.
pub fn seed_bulk(db_url: &str, w: &mut World, n: usize) {
    let mut pooled = open(db_url);
    let conn: &mut ldr::db::DbConn = &mut pooled;
    let base_t = chrono::NaiveDate::from_ymd_opt(2026, 1, 5)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let mut new_ids = Vec::with_capacity(n);
    let chunk = match conn {
        ldr::db::DbConn::Pg(_) => 1000,
        ldr::db::DbConn::Sqlite(_) => 400,
    };
    let mut rows = Vec::with_capacity(chunk);
    let mut evs = Vec::with_capacity(chunk);
    let cal = ldr::domain::calendar::Calendar::computed();
    let parties = Parties {
        appellant: &w.elm,
        respondent: &w.ccg,
        lmc: Some(&w.lmc),
        filed_by: &w.practice_user,
    };
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        for i in 0..n {
            let id = uuid::Uuid::new_v4().to_string();
            let t = base_t + chrono::Duration::seconds(i as i64 * 60);
            rows.push(filed_row(
                id.clone(),
                format!("Bulk dispute {i}"),
                &parties,
                t,
                &cal,
            ));
            evs.push(EventRow {
                dispute_id: id.clone(),
                seq: 1,
                event_type: "file".into(),
                actor_id: w.practice_user.clone(),
                at: t,
                data: "{}".into(),
            });
            new_ids.push(id);
            if rows.len() == chunk || i + 1 == n {
                match conn {
                    ldr::db::DbConn::Pg(c) => {
                        diesel::insert_into(disputes::table)
                            .values(&rows)
                            .execute(c)?;
                        diesel::insert_into(events::table).values(&evs).execute(c)?;
                    }
                    ldr::db::DbConn::Sqlite(c) => {
                        diesel::insert_into(disputes::table)
                            .values(&rows)
                            .execute(c)?;
                        diesel::insert_into(events::table).values(&evs).execute(c)?;
                    }
                }
                rows.clear();
                evs.clear();
            }
        }
        Ok(())
    })
    .expect("bulk insert");
    if let ldr::db::DbConn::Pg(_) = conn {
        // What autovacuum would do shortly after a bulk load anyway.
        conn.batch_execute("ANALYZE").unwrap();
    }
    w.ids.extend(new_ids);
}
