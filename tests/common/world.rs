//! A directory fit for the procedure, and a helper that walks a case up to any state, so
//! tests read as the procedure does.
#![allow(dead_code)]

use super::{Resp, TestApp};
use serde_json::{json, Value};

/// Everyone a dispute needs. Names double as logins (`app.login_as(name)`).
pub struct World {
    pub admin: String,
    pub north_ccg: String,
    pub south_ccg: String,
    pub elm: String,   // appellant practice (North Essex, North CCG)
    pub oak: String,   // another practice of North CCG (inter-practice disputes)
    pub birch: String, // a practice elsewhere (the GP conciliator's)
    pub lmc_north: String,
    pub lmc_kent: String,
    pub fhsu: String,
    pub users: std::collections::HashMap<&'static str, String>,
    pub tokens: std::collections::HashMap<&'static str, String>,
}

pub const PRACTICE: &str = "Pat Practice";
pub const OTHER_PRACTICE: &str = "Olly Oak";
pub const COMMISSIONER: &str = "Cara Commissioner";
pub const OFFICER: &str = "Alan Officer";
pub const MEDIATOR: &str = "Mia Mediator";
pub const SECRETARY: &str = "Sam Secretary";
pub const CLINICAL: &str = "Dr Clinical";
pub const GP: &str = "Dr Conciliator";
pub const LMC_REP: &str = "Lee Representative";
pub const OUTSIDER: &str = "Otto Outsider";
pub const PANELIST_ELSEWHERE: &str = "Pia Panelist";
pub const KENT_MEDIATOR: &str = "Kim Kent";
/// A GP conciliator with an interest in Elm Practice, made by [`World::conflicted_gp`].
pub const GREY: &str = "Dr Grey";

/// Every user of the world, for matrices.
pub const EVERYONE: [&str; 12] = [
    PRACTICE,
    OTHER_PRACTICE,
    COMMISSIONER,
    OFFICER,
    MEDIATOR,
    SECRETARY,
    CLINICAL,
    GP,
    LMC_REP,
    OUTSIDER,
    PANELIST_ELSEWHERE,
    KENT_MEDIATOR,
];

impl World {
    pub fn new(app: &TestApp) -> World {
        let admin = app.admin();
        let north_ccg = app.org(
            &admin,
            "North CCG",
            "commissioner",
            "North Essex",
            "East",
            None,
        );
        let south_ccg = app.org(
            &admin,
            "South CCG",
            "commissioner",
            "South Essex",
            "East",
            None,
        );
        let lmc_north = app.org(
            &admin,
            "North Essex LMC",
            "lmc",
            "North Essex",
            "East",
            None,
        );
        let lmc_kent = app.org(&admin, "Kent LMC", "lmc", "Kent", "South East", None);
        // Every practice's area has its LMC (a practice elsewhere is refused).
        app.org(
            &admin,
            "South Essex LMC",
            "lmc",
            "South Essex",
            "East",
            None,
        );
        let elm = app.org(
            &admin,
            "Elm Practice",
            "practice",
            "North Essex",
            "East",
            Some(&north_ccg),
        );
        let oak = app.org(
            &admin,
            "Oak Practice",
            "practice",
            "North Essex",
            "East",
            Some(&north_ccg),
        );
        let birch = app.org(
            &admin,
            "Birch Practice",
            "practice",
            "South Essex",
            "East",
            Some(&south_ccg),
        );
        let fhsu = app.org(&admin, "FHSU", "fhsu", "National", "National", None);
        let mut users = std::collections::HashMap::new();
        for (name, org, roles, panel) in [
            (PRACTICE, &elm, vec!["practice_user"], vec![]),
            (OTHER_PRACTICE, &oak, vec!["practice_user"], vec![]),
            (COMMISSIONER, &north_ccg, vec!["commissioner"], vec![]),
            (OFFICER, &north_ccg, vec!["accountable_officer"], vec![]),
            (MEDIATOR, &lmc_north, vec!["lmc_mediator"], vec![]),
            (SECRETARY, &south_ccg, vec!["panel_secretary"], vec![]),
            (
                CLINICAL,
                &south_ccg,
                vec!["panelist"],
                vec!["clinical_board_member"],
            ),
            (GP, &birch, vec!["panelist"], vec!["gp_conciliator"]),
            (
                LMC_REP,
                &lmc_kent,
                vec!["panelist"],
                vec!["lmc_representative"],
            ),
            (OUTSIDER, &birch, vec!["practice_user"], vec![]),
            (
                PANELIST_ELSEWHERE,
                &south_ccg,
                vec!["panelist"],
                vec!["clinical_board_member"],
            ),
            (KENT_MEDIATOR, &lmc_kent, vec!["lmc_mediator"], vec![]),
        ] {
            users.insert(name, app.user(&admin, name, org, &roles, &panel));
        }
        let mut tokens = std::collections::HashMap::new();
        for name in users.keys() {
            tokens.insert(*name, app.login_as(name));
        }
        tokens.insert("admin", admin.clone());
        World {
            admin,
            north_ccg,
            south_ccg,
            elm,
            oak,
            birch,
            lmc_north,
            lmc_kent,
            fhsu,
            users,
            tokens,
        }
    }

    pub fn id(&self, name: &str) -> String {
        self.users[name].clone()
    }

    pub fn t(&self, name: &str) -> &str {
        &self.tokens[name]
    }

    /// Files Elm Practice v North CCG as the practice user.
    pub fn file(&self, app: &TestApp, contract_related: bool) -> String {
        self.file_as(
            app,
            self.t(PRACTICE),
            "Prescribing budget 2025/26",
            contract_related,
        )
    }

    /// Files Elm Practice v North CCG titled `title` with `token` (a practice user's, or the
    /// practice's API key); returns its id.
    pub fn file_as(
        &self,
        app: &TestApp,
        token: &str,
        title: &str,
        contract_related: bool,
    ) -> String {
        let r = app.post(
            "/api/v1/disputes",
            Some(token),
            &json!({"title": title, "category": "prescribing",
                    "appellant_id": self.elm, "respondent_id": self.north_ccg,
                    "summary": "The CCG reduced our prescribing budget without consultation.",
                    "matter_arose_on": "2025-06-01", "contract_related": contract_related}),
        );
        r.expect(201)["id"].as_str().unwrap().to_string()
    }

    /// Dr Grey ([`GREY`]), a second GP conciliator (of Birch Practice), who declared an
    /// interest in Elm Practice: a panel with him is refused for a conflict. Returns his id.
    pub fn conflicted_gp(&self, app: &TestApp) -> String {
        let grey = app.user(
            &self.admin,
            GREY,
            &self.birch,
            &["panelist"],
            &["gp_conciliator"],
        );
        app.post(
            &format!("/api/v1/users/{grey}/interests"),
            Some(&self.admin),
            &json!({"organisation_id": self.elm, "nature": "Locum sessions", "declared_on": "2025-01-06"}),
        )
        .expect(201);
        grey
    }

    pub fn event(&self, app: &TestApp, who: &str, id: &str, body: Value) -> Resp {
        app.post(
            &format!("/api/v1/disputes/{id}/events"),
            Some(self.t(who)),
            &body,
        )
    }

    #[track_caller]
    pub fn ok(&self, app: &TestApp, who: &str, id: &str, body: Value) -> Value {
        self.event(app, who, id, body).expect(200)
    }

    pub fn panel_body(&self) -> Value {
        json!({"type": "appoint_panel", "clinical_member_id": self.id(CLINICAL), "gp_conciliator_id": self.id(GP),
               "lmc_representative_id": self.id(LMC_REP), "secretary_id": self.id(SECRETARY),
               "chair_id": self.id(GP)})
    }

    pub fn upload(
        &self,
        app: &TestApp,
        who: &str,
        id: &str,
        kind: &str,
        name: &str,
        bytes: &[u8],
    ) -> Resp {
        let boundary = "XyZbOuNdArY";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        app.send_raw(
            "POST",
            &format!("/api/v1/disputes/{id}/documents"),
            Some(self.t(who)),
            &format!("multipart/form-data; boundary={boundary}"),
            &body,
            &[],
        )
    }

    /// Walks a new contract-related case (filed today) up to `target`. Today must be pinned
    /// (LDR_TODAY) to a Monday without holidays in the next four weeks, e.g. 2026-03-02.
    /// Scheduling puts the hearing 8 working days ahead and moves the clock to the hearing day
    /// for `hearing_held` and beyond.
    pub fn case_at(&self, app: &TestApp, target: &str) -> String {
        let id = self.file(app, true);
        self.walk(app, id, target)
    }

    /// Files an inter-practice dispute (Elm Practice v Oak Practice); returns its id.
    pub fn file_inter_practice(&self, app: &TestApp, contract_related: bool) -> String {
        self.filed_inter_practice(app, contract_related)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// [`Self::file_inter_practice`], returning the filing's answer.
    pub fn filed_inter_practice(&self, app: &TestApp, contract_related: bool) -> Value {
        let r = app.post("/api/v1/disputes", Some(self.t(PRACTICE)), &json!({"title": "Patient list boundary",
            "category": "other", "appellant_id": self.elm, "respondent_id": self.oak, "summary": "s",
            "matter_arose_on": "2026-01-05", "contract_related": contract_related}));
        r.expect(201)
    }

    /// Walks an existing informal case up to `target` (see `case_at`).
    pub fn walk(&self, app: &TestApp, id: String, target: &str) -> String {
        let today = app.state.clock.today();
        let steps: Vec<(&str, &str, Value)> = vec![
            (
                "informal_mediation",
                MEDIATOR,
                json!({"type": "assign_mediator", "mediator_id": self.id(MEDIATOR), "mode": "mediation"}),
            ),
            (
                "informal_exhausted",
                MEDIATOR,
                json!({"type": "exhaust_informal", "reason": "No agreement after two meetings"}),
            ),
            (
                "formal_requested",
                PRACTICE,
                json!({"type": "request_formal", "grounds": "The reduction breaches the agreed budget.", "lodged_on": today.to_string()}),
            ),
            (
                "formal_requested+lmc",
                OFFICER,
                json!({"type": "record_lmc_consultation", "consulted_on": today.to_string(), "summary": "LMC consulted by phone"}),
            ),
            (
                "panel_forming",
                OFFICER,
                json!({"type": "screen", "outcome": "proceed", "reason": "Substantive dispute"}),
            ),
            ("panel_appointed", SECRETARY, self.panel_body()),
        ];
        if target == "informal" {
            return id;
        }
        for (state, who, body) in steps {
            self.ok(app, who, &id, body);
            if state == target {
                return id;
            }
        }
        let hearing = app.state.calendar.add_working_days(today, 8).unwrap();
        self.ok(app, SECRETARY, &id, json!({"type": "schedule_hearing", "date": hearing.to_string(), "time": "10:00", "venue": "Room 1, County Hall"}));
        if target == "hearing_scheduled" {
            return id;
        }
        app.state.clock.set_today(Some(hearing));
        self.ok(app, SECRETARY, &id, json!({"type": "record_hearing", "held_on": hearing.to_string(),
            "appellant_presented": true, "respondent_presented": true, "record": "Both parties presented."}));
        if target == "hearing_held" {
            return id;
        }
        self.ok(app, SECRETARY, &id, json!({"type": "record_decision", "outcome": "appellant", "recommendations": "Restore the budget.",
            "votes": [{"member_id": self.id(CLINICAL), "vote": "appellant"}, {"member_id": self.id(GP), "vote": "appellant"},
                      {"member_id": self.id(LMC_REP), "vote": "respondent"}]}));
        if target == "decided" {
            return id;
        }
        self.ok(app, SECRETARY, &id, json!({"type": "notify_decision"}));
        if target == "decision_notified" {
            return id;
        }
        let doc = self
            .upload(
                app,
                PRACTICE,
                &id,
                "contract",
                "gms-contract.pdf",
                b"%PDF-1.4 contract",
            )
            .expect(201);
        self.ok(app, PRACTICE, &id, json!({"type": "refer_to_fhsu", "statement": "We ask the FHSU to determine the dispute.",
            "contract_document_id": doc["id"], "referred_on": hearing.to_string()}));
        if target == "referred_to_fhsu" {
            return id;
        }
        panic!("case_at: unknown target {target}");
    }
}
