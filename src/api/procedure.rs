//! Applying one event to one dispute: permission and state (from the workflow table), field
//! validation, the rules of the procedure (every violation listed), then one transaction that
//! rewrites the dispute with `version + 1`, appends the event and queues its notices.

use super::auth::Caller;
use super::error::{ApiError, ApiResult, FieldError, RuleViolation};
use super::visibility;
use crate::db::disputes::{self as store, BreachRow, Decision, DisputeRow, EventRow, Vote};
use crate::db::schema::{documents, interests, organisations, unavailability, users};
use crate::db::{now, DbConn};
use crate::domain::calendar::Calendar;
use crate::domain::deadlines;
use crate::domain::panel::{self, Candidate, OrgInfo, OrgKind, PanelRequest};
use crate::domain::roles::Role;
use crate::domain::workflow::{self, EventType, Refusal, State};
use crate::notify::ics::{self, HearingInvite, IcsMethod};
use crate::notify::outbox::{self, Addresses, IcsSpec, NoticeSpec};
use crate::notify::templates::Templates;
use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// What a transition needs besides the database.
#[derive(Clone)]
pub struct Ctx {
    pub today: NaiveDate,
    pub calendar: Calendar,
    pub templates: Arc<Templates>,
    pub mail_from: String,
}

// ------------------------------------------------------------------ field parsing

/// Reads the event's fields, collecting every problem before failing.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    pub errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Fields {
            map,
            errors: Vec::new(),
        }
    }

    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn opt_text(&mut self, field: &str, max: usize) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.chars().count() > max => {
                self.err(field, format!("must be at most {max} characters"));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(_) => {
                self.err(field, "must be a string");
                None
            }
        }
    }

    pub fn text(&mut self, field: &str, max: usize) -> String {
        let v = self.opt_text(field, max);
        if v.is_none() && !self.errors.iter().any(|e| e.field == field) {
            self.err(field, "is required");
        }
        v.unwrap_or_default()
    }

    /// Optional free text that may be empty.
    pub fn text_or_empty(&mut self, field: &str, max: usize) -> String {
        self.opt_text(field, max).unwrap_or_default()
    }

    pub fn one_of(&mut self, field: &str, allowed: &[&str]) -> String {
        let v = self.text(field, 64);
        if !v.is_empty() && !allowed.contains(&v.as_str()) {
            self.err(field, format!("must be one of: {}", allowed.join(", ")));
        }
        v
    }

    pub fn date(&mut self, field: &str) -> Option<NaiveDate> {
        let s = self.text(field, 10);
        if s.is_empty() {
            return None;
        }
        match super::directory::parse_date(field, &s) {
            Ok(d) => Some(d),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    pub fn boolean(&mut self, field: &str) -> bool {
        match self.map.get(field) {
            Some(Value::Bool(b)) => *b,
            None | Some(Value::Null) => {
                self.err(field, "is required (true or false)");
                false
            }
            Some(_) => {
                self.err(field, "must be true or false");
                false
            }
        }
    }

    pub fn id(&mut self, field: &str) -> String {
        self.text(field, 64)
    }

    pub fn ids(&mut self, field: &str) -> Vec<String> {
        match self.map.get(field) {
            Some(Value::Array(a)) if !a.is_empty() && a.len() <= 200 => {
                let mut out = Vec::new();
                for v in a {
                    match v.as_str() {
                        Some(s) if s.len() <= 64 => out.push(s.to_string()),
                        _ => {
                            self.err(field, "must be a list of document ids");
                            return vec![];
                        }
                    }
                }
                out
            }
            Some(Value::Array(a)) if a.is_empty() => {
                self.err(field, "must name at least one document");
                vec![]
            }
            None | Some(Value::Null) => {
                self.err(field, "is required");
                vec![]
            }
            Some(_) => {
                self.err(field, "must be a list of at most 200 document ids");
                vec![]
            }
        }
    }

    pub fn finish(self) -> ApiResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

// ------------------------------------------------------------------ rules and overrides

/// Date rules (3–6) that may be overridden by the panel secretary with a reason.
struct DateRules {
    violations: Vec<(&'static str, String, NaiveDate)>,
}

impl DateRules {
    fn new() -> Self {
        DateRules {
            violations: Vec::new(),
        }
    }
    fn fail(&mut self, code: &'static str, msg: String, due: NaiveDate) {
        self.violations.push((code, msg, due));
    }
    /// Refuses (422, first code, every violation listed) unless overridden; returns the breaches
    /// to record when overridden.
    fn resolve(
        self,
        override_reason: Option<&str>,
        caller_is_secretary: bool,
        d: &DisputeRow,
        today: NaiveDate,
    ) -> ApiResult<Vec<BreachRow>> {
        if self.violations.is_empty() {
            return Ok(vec![]);
        }
        match override_reason {
            Some(reason) if caller_is_secretary => Ok(self
                .violations
                .into_iter()
                .map(|(code, msg, due)| BreachRow {
                    dispute_id: d.id.clone(),
                    kind: code.to_string(),
                    due_on: due,
                    detected_on: today,
                    overridden: true,
                    detail: format!("{msg} Overridden by the panel secretary: {reason}"),
                })
                .collect()),
            _ => {
                let (code, first, _) = &self.violations[0];
                let mut detail = first.clone();
                if override_reason.is_some() {
                    detail.push_str(" Only the panel secretary may override this.");
                }
                Err(ApiError::Rule {
                    code,
                    detail,
                    violations: self
                        .violations
                        .iter()
                        .map(|(c, m, _)| RuleViolation {
                            rule: c.to_string(),
                            message: m.clone(),
                        })
                        .collect(),
                })
            }
        }
    }
}

fn long(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

fn ymd(d: Option<NaiveDate>) -> Value {
    d.map(|d| Value::String(d.to_string()))
        .unwrap_or(Value::Null)
}

// ------------------------------------------------------------------ the transition

/// A transition decided but not yet written (see [`store::write`]).
pub struct Applied {
    /// The dispute's new row, the event, the breaches (overridden date rules) and the notices.
    pub writes: store::Writes,
    /// (user id, name) of someone the event named whose name it read (the new mediator).
    pub named: Vec<(String, String)>,
}

/// The 400 for an event body that is not a JSON object.
pub fn not_an_object() -> ApiError {
    ApiError::BadRequest("The body must be a JSON object.".into())
}

/// Applies `body` (the parsed JSON of `POST /disputes/{id}/events`) as `caller` to the dispute
/// `d`, read together with its organisations (their names and addresses are not asked again)
/// and with the user the event names, if it was asked for (`named_user`):
/// checks it, and returns what to write, having written nothing. The caller writes it with
/// [`store::write`], which writes nothing if the dispute's version has moved since `d` was read.
pub fn apply(
    c: &mut DbConn,
    ctx: &Ctx,
    caller: &Caller,
    mut d: DisputeRow,
    parties: &store::Parties,
    named_user: Option<&store::Named>,
    body: &Value,
) -> ApiResult<Applied> {
    let obj = body.as_object().ok_or_else(not_an_object)?;
    if !visibility::can_see(caller, &d) {
        return Err(ApiError::NotFound);
    }
    let type_s = match obj.get("type") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(ApiError::field(
                "type",
                format!("is required: one of {}", event_names()),
            ))
        }
    };
    let event = EventType::parse(&type_s).ok_or_else(|| {
        ApiError::field(
            "type",
            format!("unknown event type; one of {}", event_names()),
        )
    })?;
    let expected_version = match obj.get("expected_version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| ApiError::field("expected_version", "must be an integer"))?,
        ),
    };
    let state = d.state();
    let rel = visibility::relations(caller, &d);
    let t = workflow::check(event, state, &rel).map_err(|r| match r {
        Refusal::Role(m) | Refusal::Relation(m) => ApiError::Forbidden(m),
        Refusal::State(m) => ApiError::InvalidTransition(m),
    })?;
    if let Some(v) = expected_version {
        if v != d.version {
            return Err(ApiError::VersionConflict(format!(
                "The dispute is at version {}, not {v}; reload it and try again.",
                d.version
            )));
        }
    }
    let previous_version = d.version;
    let today = ctx.today;
    let mut f = Fields::new(obj);
    let override_reason = f.opt_text("override_reason", 2000);
    let mut detail = d.detail();
    let mut breaches: Vec<BreachRow> = Vec::new();
    let mut data = Map::new();
    let mut notices: Vec<NoticeSpec> = Vec::new();
    // The template context every notice shares; a note notifies nobody, so it needs none.
    let base = if event == EventType::AddNote {
        Value::Null
    } else {
        outbox::base_context_named(&d, &parties.appellant.name, &parties.respondent.name, today)
    };
    let known = parties.emails(&d);
    let mut named = Vec::new();
    let mut screen_proceeds = false;
    let mut referral: Option<super::referral_pack::ReferralNotices> = None;
    let is_secretary = rel.panel_secretary && caller.has(Role::PanelSecretary);

    match event {
        EventType::AssignMediator => {
            let mediator_id = f.id("mediator_id");
            let mode = f.one_of("mode", &["advisory", "mediation"]);
            f.finish()?;
            // Read with the dispute when the request named the mediator (see `store::view`).
            let ok: Option<(String, bool, String, String)> = match named_user {
                Some(n) if n.id == mediator_id => n.row.clone(),
                _ => users::table
                    .find(&mediator_id)
                    .select((users::roles, users::active, users::name, users::email))
                    .first(c)
                    .optional()?,
            };
            let (name, email) = match ok {
                Some((roles, true, name, email))
                    if roles.split(',').any(|r| r == "lmc_mediator") =>
                {
                    (name, email)
                }
                _ => {
                    return Err(ApiError::field(
                        "mediator_id",
                        "must name an active LMC mediator",
                    ))
                }
            };
            // The mediator must belong to the dispute's own LMC (who then sees the case).
            let mediator_org: Option<String> = users::table
                .find(&mediator_id)
                .select(users::organisation_id)
                .first(c)
                .optional()?;
            if d.lmc_id.is_none() || mediator_org != d.lmc_id {
                return Err(ApiError::field(
                    "mediator_id",
                    "must name an LMC mediator of this dispute's LMC",
                ));
            }
            named.push((mediator_id.clone(), name.clone()));
            d.mediator_id = Some(mediator_id.clone());
            d.mediator_mode = Some(mode.clone());
            data.insert("mediator_id".into(), json!(mediator_id));
            data.insert("mode".into(), json!(mode));
            let mut a = Addresses::knowing(c, known.clone());
            let mut to = a.parties(&d);
            to.push(email);
            to.extend(a.lmc(&d));
            notices.push(NoticeSpec {
                template: "mediator_assigned",
                recipients: to,
                ctx: outbox::with(&base, json!({"mediator_name": name, "mode": mode})),
                ics: None,
            });
        }
        EventType::AddNote => {
            let text = f.text("text", 10_000);
            f.finish()?;
            data.insert("text".into(), json!(text));
        }
        EventType::ResolveInformally => {
            let summary = f.text("summary", 10_000);
            f.finish()?;
            detail.resolution = Some(summary.clone());
            data.insert("summary".into(), json!(summary));
            let mut a = Addresses::knowing(c, known.clone());
            let mut to = a.parties(&d);
            to.extend(a.user(d.mediator_id.as_deref()));
            to.extend(a.lmc(&d));
            notices.push(NoticeSpec {
                template: "informal_resolved",
                recipients: to,
                ctx: outbox::with(&base, json!({"summary": summary})),
                ics: None,
            });
        }
        EventType::ExhaustInformal => {
            let reason = f.text("reason", 10_000);
            f.finish()?;
            detail.exhaustion_reason = Some(reason.clone());
            detail.exhausted_on = Some(today);
            data.insert("reason".into(), json!(reason));
            let mut a = Addresses::knowing(c, known.clone());
            let mut to = a.parties(&d);
            to.extend(a.lmc(&d));
            notices.push(NoticeSpec {
                template: "informal_exhausted",
                recipients: to,
                ctx: outbox::with(&base, json!({"reason": reason})),
                ics: None,
            });
        }
        EventType::RequestFormal => {
            let grounds = f.text("grounds", 50_000);
            let lodged_on = f.date("lodged_on");
            if let Some(l) = lodged_on {
                if l > today {
                    f.err("lodged_on", "must not be in the future");
                } else if detail.exhausted_on.is_some_and(|e| l < e) {
                    f.err(
                        "lodged_on",
                        "must not be before the informal stage was exhausted",
                    );
                }
            }
            f.finish()?;
            let lodged_on = lodged_on.unwrap_or(today);
            let hearing_by = deadlines::hearing_by(&ctx.calendar, lodged_on)
                .ok_or_else(|| ApiError::field("lodged_on", "outside the supported calendar"))?;
            d.lodged_on = Some(lodged_on);
            d.hearing_by = Some(hearing_by);
            d.notice_by = deadlines::latest_notice_day(&ctx.calendar, hearing_by);
            d.bundle_by = deadlines::latest_bundle_day(&ctx.calendar, hearing_by);
            detail.grounds = Some(grounds.clone());
            detail.requested_by_org = Some(caller.org_id.clone());
            data.insert("grounds".into(), json!(grounds));
            data.insert("lodged_on".into(), json!(lodged_on));
            data.insert("hearing_by".into(), json!(hearing_by));
            let mut a = Addresses::knowing(c, known.clone());
            let requester = a.org_name(&caller.org_id);
            let mut to = a.accountable_officers(&d.screening_org_id);
            to.extend(a.lmc(&d));
            to.extend(a.parties(&d));
            notices.push(NoticeSpec {
                template: "formal_requested",
                recipients: to,
                ctx: outbox::with(
                    &base,
                    json!({"lodged_on": lodged_on, "hearing_by": hearing_by,
                    "grounds": grounds, "requested_by_name": requester}),
                ),
                ics: None,
            });
        }
        EventType::RecordLmcConsultation => {
            let consulted_on = f.date("consulted_on");
            let summary = f.text("summary", 10_000);
            if consulted_on.is_some_and(|x| x > today) {
                f.err("consulted_on", "must not be in the future");
            }
            f.finish()?;
            d.lmc_consulted_on = consulted_on;
            detail.lmc_consultation =
                Some(json!({"consulted_on": consulted_on, "summary": summary}));
            data.insert("consulted_on".into(), json!(consulted_on));
            data.insert("summary".into(), json!(summary));
        }
        EventType::Screen => {
            let outcome = f.one_of("outcome", &["proceed", "frivolous", "vexatious"]);
            let reason = f.text("reason", 10_000);
            f.finish()?;
            if outcome != "proceed" && d.lmc_consulted_on.is_none() {
                return Err(ApiError::rule(
                    "lmc_not_consulted",
                    format!("A request may be screened out as {outcome} only after the LMC has been consulted: record the consultation first."),
                ));
            }
            screen_proceeds = outcome == "proceed";
            detail.screening =
                Some(json!({"outcome": outcome, "reason": reason, "screened_on": today}));
            data.insert("outcome".into(), json!(outcome));
            data.insert("reason".into(), json!(reason));
            let mut a = Addresses::knowing(c, known.clone());
            let mut to = a.parties(&d);
            to.extend(a.lmc(&d));
            to.extend(a.accountable_officers(&d.screening_org_id));
            notices.push(NoticeSpec {
                template: "screening_outcome",
                recipients: to,
                ctx: outbox::with(
                    &base,
                    json!({"outcome": outcome, "reason": reason,
                    "hearing_by": if screen_proceeds { ymd(d.hearing_by) } else { Value::Null }}),
                ),
                ics: None,
            });
        }
        EventType::AppointPanel => {
            let ids = [
                f.id("clinical_member_id"),
                f.id("gp_conciliator_id"),
                f.id("lmc_representative_id"),
                f.id("secretary_id"),
                f.id("chair_id"),
            ];
            f.finish()?;
            let violations = check_panel(c, &d, &ids)?;
            if !violations.is_empty() {
                return Err(ApiError::Rule {
                    code: "panel_composition_invalid",
                    detail: format!("The panel breaks {} composition rule(s).", violations.len()),
                    violations,
                });
            }
            let [cm, gp, lr, sec, chair] = ids;
            d.clinical_member_id = Some(cm.clone());
            d.gp_conciliator_id = Some(gp.clone());
            d.lmc_representative_id = Some(lr.clone());
            d.secretary_id = Some(sec.clone());
            d.chair_id = Some(chair.clone());
            for (k, v) in [
                ("clinical_member_id", &cm),
                ("gp_conciliator_id", &gp),
                ("lmc_representative_id", &lr),
                ("secretary_id", &sec),
                ("chair_id", &chair),
            ] {
                data.insert(k.into(), json!(v));
            }
            let mut a = Addresses::knowing(c, known.clone());
            let members = json!([
                {"name": a.user_name(&cm), "role_label": "Clinical member"},
                {"name": a.user_name(&gp), "role_label": "GP conciliator"},
                {"name": a.user_name(&lr), "role_label": "LMC representative"},
            ]);
            let chair_name = a.user_name(&chair);
            let secretary_name = a.user_name(&sec);
            let mut to = a.parties(&d);
            to.extend(a.panel(&d));
            to.extend(a.lmc(&d));
            notices.push(NoticeSpec {
                template: "panel_appointed",
                recipients: to,
                ctx: outbox::with(
                    &base,
                    json!({"members": members, "chair_name": chair_name,
                    "secretary_name": secretary_name, "hearing_by": ymd(d.hearing_by)}),
                ),
                ics: None,
            });
        }
        EventType::ScheduleHearing => {
            let date = f.date("date");
            let time_s = f.text("time", 5);
            let venue = f.text("venue", 500);
            let time = if time_s.is_empty() {
                None
            } else {
                match NaiveTime::parse_from_str(&time_s, "%H:%M") {
                    Ok(t) => Some(t),
                    Err(_) => {
                        f.err("time", "must be a time HH:MM (24-hour, Europe/London)");
                        None
                    }
                }
            };
            if let Some(dt) = date {
                if dt <= today {
                    f.err("date", "must be after today");
                } else if !ctx.calendar.is_working_day(dt) {
                    f.err(
                        "date",
                        "must be a working day (not a weekend or bank holiday)",
                    );
                }
            }
            f.finish()?;
            let (date, time) = (date.unwrap_or(today), time.unwrap_or_default());
            let hearing_by = d.hearing_by.unwrap_or(date);
            let mut rules = DateRules::new();
            if date > hearing_by {
                rules.fail("hearing_after_deadline",
                    format!("The hearing must be on or before {} (20 working days after the formal request).", long(hearing_by)),
                    hearing_by);
            }
            if !deadlines::notice_sufficient(&ctx.calendar, today, date) {
                let earliest =
                    deadlines::earliest_hearing_after_notice(&ctx.calendar, today).unwrap_or(date);
                rules.fail("insufficient_notice",
                    format!("At least 7 working days' notice is needed: with notice sent today the earliest hearing date is {}.", long(earliest)),
                    deadlines::latest_notice_day(&ctx.calendar, date).unwrap_or(today));
            }
            let unavailable = unavailable_members(c, &d, date)?;
            if !unavailable.is_empty() {
                rules.fail(
                    "panel_member_unavailable",
                    format!(
                        "{} of the panel recorded that they cannot sit on {}: {}.",
                        unavailable.len(),
                        long(date),
                        unavailable.join(", ")
                    ),
                    date,
                );
            }
            breaches = rules.resolve(override_reason.as_deref(), is_secretary, &d, today)?;
            let rescheduled = state == State::HearingScheduled;
            let old = (
                d.hearing_date,
                d.hearing_time.clone(),
                d.hearing_venue.clone(),
            );
            d.hearing_sequence = if rescheduled {
                d.hearing_sequence + 1
            } else {
                0
            };
            d.hearing_date = Some(date);
            d.hearing_time = Some(time.format("%H:%M").to_string());
            d.hearing_venue = Some(venue.clone());
            d.notice_sent_on = Some(today);
            d.notice_by = deadlines::latest_notice_day(&ctx.calendar, date);
            d.bundle_by = deadlines::latest_bundle_day(&ctx.calendar, date);
            d.decision_by = Some(deadlines::decision_by(date));
            data.insert("date".into(), json!(date));
            data.insert("time".into(), json!(time.format("%H:%M").to_string()));
            data.insert("venue".into(), json!(venue));
            data.insert("sequence".into(), json!(d.hearing_sequence));
            if rescheduled {
                data.insert(
                    "previous".into(),
                    json!({"date": old.0, "time": old.1, "venue": old.2}),
                );
            }
            let (to, ics_body) = hearing_invite(c, ctx, &d, IcsMethod::Request)?;
            notices.push(NoticeSpec {
                template: "hearing_scheduled",
                recipients: to,
                ctx: outbox::with(
                    &base,
                    json!({"hearing_date": date, "hearing_time": time.format("%H:%M").to_string(),
                    "venue": venue, "is_update": rescheduled, "bundle_by": ymd(d.bundle_by)}),
                ),
                ics: Some(IcsSpec {
                    method: IcsMethod::Request,
                    body: ics_body,
                }),
            });
        }
        EventType::DistributeBundle => {
            let ids = f.ids("document_ids");
            f.finish()?;
            let docs: Vec<(String, String, String)> = documents::table
                .filter(documents::dispute_id.eq(&d.id))
                .filter(documents::id.eq_any(&ids))
                .select((documents::id, documents::name, documents::kind))
                .load(c)?;
            let missing: Vec<&String> = ids
                .iter()
                .filter(|i| !docs.iter().any(|x| &x.0 == *i))
                .collect();
            if !missing.is_empty() {
                return Err(ApiError::field(
                    "document_ids",
                    format!(
                        "{} id(s) do not name a document of this dispute",
                        missing.len()
                    ),
                ));
            }
            let hearing = d.hearing_date.unwrap_or(today);
            let mut rules = DateRules::new();
            if !deadlines::bundle_in_time(&ctx.calendar, today, hearing) {
                rules.fail("bundle_too_late",
                    format!("The bundle must reach everyone at least 5 working days before the hearing on {}: the last day was {}.",
                        long(hearing),
                        deadlines::latest_bundle_day(&ctx.calendar, hearing).map(long).unwrap_or_default()),
                    deadlines::latest_bundle_day(&ctx.calendar, hearing).unwrap_or(hearing));
            }
            breaches = rules.resolve(override_reason.as_deref(), is_secretary, &d, today)?;
            d.bundle_distributed_on = Some(today);
            detail.bundle_document_ids = Some(ids.clone());
            data.insert("document_ids".into(), json!(ids));
            let mut a = Addresses::knowing(c, known.clone());
            let mut to = a.parties(&d);
            to.extend(a.panel(&d));
            notices.push(NoticeSpec {
                template: "bundle_distributed",
                recipients: to,
                ctx: outbox::with(&base, json!({"hearing_date": d.hearing_date,
                    "documents": docs.iter().map(|(_, n, k)| json!({"name": n, "kind": k})).collect::<Vec<_>>()})),
                ics: None,
            });
        }
        EventType::RecordHearing => {
            let held_on = f.date("held_on");
            let ap = f.boolean("appellant_presented");
            let rp = f.boolean("respondent_presented");
            let record = f.text("record", 100_000);
            if held_on.is_some_and(|h| h > today) {
                f.err("held_on", "must not be in the future");
            }
            if let (Some(h), Some(l)) = (held_on, d.lodged_on) {
                if h < l {
                    f.err(
                        "held_on",
                        "must not be before the formal request was lodged",
                    );
                }
            }
            f.finish()?;
            let held_on = held_on.unwrap_or(today);
            let mut rules = DateRules::new();
            if let Some(by) = d.hearing_by {
                if held_on > by {
                    rules.fail(
                        "hearing_after_deadline",
                        format!("The hearing had to be held on or before {}.", long(by)),
                        by,
                    );
                }
            }
            breaches = rules.resolve(override_reason.as_deref(), is_secretary, &d, today)?;
            d.held_on = Some(held_on);
            d.decision_by = Some(deadlines::decision_by(held_on));
            detail.hearing_record = Some(json!({"held_on": held_on, "appellant_presented": ap,
                "respondent_presented": rp, "record": record}));
            data.insert("held_on".into(), json!(held_on));
            data.insert("appellant_presented".into(), json!(ap));
            data.insert("respondent_presented".into(), json!(rp));
            data.insert("record".into(), json!(record));
        }
        EventType::RecordDecision => {
            let recommendations = f.text_or_empty("recommendations", 50_000);
            let outcome = f.opt_text("outcome", 20);
            let votes = parse_votes(&mut f, obj);
            f.finish()?;
            let members = d.voting_members();
            let mut errs = Vec::new();
            for v in &votes {
                if !members.contains(&v.member_id) {
                    errs.push(FieldError {
                        field: "votes".into(),
                        message: format!("{} is not a voting member of this panel", v.member_id),
                    });
                }
            }
            for m in &members {
                match votes.iter().filter(|v| &v.member_id == m).count() {
                    1 => {}
                    0 => errs.push(FieldError {
                        field: "votes".into(),
                        message: "every voting member must vote once".into(),
                    }),
                    _ => errs.push(FieldError {
                        field: "votes".into(),
                        message: "a member voted more than once".into(),
                    }),
                }
            }
            if let Some(o) = &outcome {
                if o != "appellant" && o != "respondent" {
                    errs.push(FieldError {
                        field: "outcome".into(),
                        message: "must be appellant or respondent".into(),
                    });
                }
            }
            if !errs.is_empty() {
                errs.dedup_by(|a, b| a.message == b.message);
                return Err(ApiError::Validation(errs));
            }
            let count = |side: &str| votes.iter().filter(|v| v.vote == side).count();
            let majority = if count("appellant") >= 2 {
                "appellant"
            } else if count("respondent") >= 2 {
                "respondent"
            } else {
                return Err(ApiError::rule(
                    "no_majority",
                    "No outcome has the votes of a majority (2 of 3) of the voting members.",
                ));
            };
            if let Some(o) = &outcome {
                if o != majority {
                    return Err(ApiError::field(
                        "outcome",
                        format!("does not match the votes: the majority found for the {majority}"),
                    ));
                }
            }
            detail.decision = Some(Decision {
                votes: votes.clone(),
                outcome: majority.to_string(),
                recommendations: recommendations.clone(),
                recorded_on: today,
            });
            d.decided_on = Some(today);
            data.insert("votes".into(), json!(votes));
            data.insert("outcome".into(), json!(majority));
            data.insert("recommendations".into(), json!(recommendations));
        }
        EventType::NotifyDecision => {
            f.finish()?;
            let mut rules = DateRules::new();
            if let Some(by) = d.decision_by {
                if today > by {
                    rules.fail(
                        "decision_late",
                        format!(
                            "The written decision had to be sent by {} (7 days after the hearing).",
                            long(by)
                        ),
                        by,
                    );
                }
            }
            breaches = rules.resolve(override_reason.as_deref(), is_secretary, &d, today)?;
            d.decision_notified_on = Some(today);
            let dec = detail.decision.clone();
            let referable = d.contract_related && !d.inter_practice;
            let mut a = Addresses::knowing(c, known.clone());
            let mut to = a.parties(&d);
            to.extend(a.panel(&d));
            to.extend(a.lmc(&d));
            notices.push(NoticeSpec {
                template: "decision_notified",
                recipients: to,
                ctx: outbox::with(&base, json!({
                    "outcome": dec.as_ref().map(|x| x.outcome.clone()).unwrap_or_default(),
                    "recommendations": dec.as_ref().map(|x| x.recommendations.clone()).unwrap_or_default(),
                    "hearing_date": ymd(d.held_on.or(d.hearing_date)),
                    "fhsu_by": if referable { ymd(d.fhsu_by) } else { Value::Null },
                })),
                ics: None,
            });
        }
        EventType::ReferToFhsu => {
            let statement = f.opt_text("statement", 50_000);
            let contract_document_id = f.opt_text("contract_document_id", 64);
            let referred_on = f.date("referred_on");
            if referred_on.is_some_and(|r| r > today) {
                f.err("referred_on", "must not be in the future");
            }
            f.finish()?;
            let referred_on = referred_on.unwrap_or(today);
            let mut v: Vec<RuleViolation> = Vec::new();
            let mut push = |rule: &str, m: String| {
                v.push(RuleViolation {
                    rule: rule.into(),
                    message: m,
                })
            };
            if !d.contract_related {
                push("not_contract_matter", "Only a dispute relating to the provisions of a GMS/PMS/APMS contract may be referred to the FHSU.".into());
            }
            if d.inter_practice {
                push(
                    "inter_practice_not_referable",
                    "A dispute between two practices cannot be referred to the FHSU.".into(),
                );
            }
            let limit = deadlines::fhsu_by(d.matter_arose_on);
            if referred_on > limit {
                push(
                    "referral_out_of_time",
                    format!(
                        "A referral had to be made by {} (three years beginning on {}).",
                        long(limit),
                        long(d.matter_arose_on)
                    ),
                );
            }
            let mut missing = Vec::new();
            if statement.is_none() {
                missing.push("a statement".to_string());
            }
            let contract_ok = match &contract_document_id {
                Some(id) => {
                    documents::table
                        .filter(documents::id.eq(id))
                        .filter(documents::dispute_id.eq(&d.id))
                        .filter(documents::kind.eq("contract"))
                        .count()
                        .get_result::<i64>(c)?
                        > 0
                }
                None => false,
            };
            if !contract_ok {
                missing.push("a document of kind contract uploaded to this dispute".to_string());
            }
            for (label, id) in [
                ("appellant", &d.appellant_id),
                ("respondent", &d.respondent_id),
            ] {
                let (name, address): (String, String) = organisations::table
                    .find(id)
                    .select((organisations::name, organisations::address))
                    .first(c)?;
                if name.trim().is_empty() {
                    missing.push(format!("the {label}'s name"));
                }
                if address.trim().len() < 3 {
                    missing.push(format!("the {label}'s postal address"));
                }
            }
            if !missing.is_empty() {
                push(
                    "referral_incomplete",
                    format!("The referral is missing: {}.", missing.join("; ")),
                );
            }
            if !v.is_empty() {
                let code: &'static str = match v[0].rule.as_str() {
                    "not_contract_matter" => "not_contract_matter",
                    "inter_practice_not_referable" => "inter_practice_not_referable",
                    "referral_out_of_time" => "referral_out_of_time",
                    _ => "referral_incomplete",
                };
                return Err(ApiError::Rule {
                    code,
                    detail: v[0].message.clone(),
                    violations: v,
                });
            }
            d.referred_on = Some(referred_on);
            let statement = statement.unwrap_or_default();
            detail.fhsu_referral = Some(
                json!({"statement": statement, "contract_document_id": contract_document_id,
                "referred_on": referred_on, "referred_by_org": caller.org_id}),
            );
            data.insert("statement".into(), json!(statement));
            data.insert("contract_document_id".into(), json!(contract_document_id));
            data.insert("referred_on".into(), json!(referred_on));
            let mut a = Addresses::knowing(c, known.clone());
            let by = a.org_name(&caller.org_id);
            let mut to = a.parties(&d);
            to.extend(a.lmc(&d));
            to.extend(a.accountable_officers(&d.screening_org_id));
            // The FHSU's notice carries the referral pack, the others' lists what it holds:
            // both are rendered once the event is (see below), as the pack's history holds it.
            referral = Some(super::referral_pack::ReferralNotices {
                ctx: outbox::with(
                    &base,
                    json!({"referred_on": referred_on, "statement": statement, "referred_by_name": by}),
                ),
                parties: to,
                fhsu: a.fhsu(),
            });
        }
        EventType::RecordFhsuDetermination => {
            let determined_on = f.date("determined_on");
            let outcome = f.text("outcome", 10_000);
            if determined_on.is_some_and(|x| x > today) {
                f.err("determined_on", "must not be in the future");
            }
            f.finish()?;
            detail.fhsu_determination =
                Some(json!({"determined_on": determined_on, "outcome": outcome}));
            data.insert("determined_on".into(), json!(determined_on));
            data.insert("outcome".into(), json!(outcome));
            let mut a = Addresses::knowing(c, known.clone());
            let mut to = a.parties(&d);
            to.extend(a.lmc(&d));
            notices.push(NoticeSpec {
                template: "fhsu_determination",
                recipients: to,
                ctx: outbox::with(
                    &base,
                    json!({"determined_on": determined_on, "outcome": outcome}),
                ),
                ics: None,
            });
        }
        EventType::Close => {
            let reason = f.text("reason", 10_000);
            f.finish()?;
            detail.closure = Some(json!({"reason": reason, "closed_on": today}));
            data.insert("reason".into(), json!(reason));
            let mut a = Addresses::knowing(c, known.clone());
            let mut to = a.parties(&d);
            to.extend(a.lmc(&d));
            notices.push(NoticeSpec {
                template: "dispute_closed",
                recipients: to,
                ctx: outbox::with(&base, json!({"reason": reason})),
                ics: None,
            });
        }
        EventType::Withdraw => {
            let reason = f.text("reason", 10_000);
            f.finish()?;
            detail.withdrawal = Some(json!({"reason": reason, "withdrawn_on": today}));
            data.insert("reason".into(), json!(reason));
            let mut a = Addresses::knowing(c, known.clone());
            let by = a.org_name(&caller.org_id);
            let mut to = a.parties(&d);
            to.extend(a.lmc(&d));
            to.extend(a.user(d.mediator_id.as_deref()));
            to.extend(a.panel(&d));
            notices.push(NoticeSpec {
                template: "dispute_withdrawn",
                recipients: to,
                ctx: outbox::with(&base, json!({"reason": reason, "withdrawn_by_name": by})),
                ics: None,
            });
            if state == State::HearingScheduled {
                d.hearing_sequence += 1;
                let (to, body) = hearing_invite(c, ctx, &d, IcsMethod::Cancel)?;
                notices.push(NoticeSpec {
                    template: "hearing_cancelled",
                    recipients: to,
                    ctx: outbox::with(
                        &base,
                        json!({"hearing_date": d.hearing_date, "hearing_time": d.hearing_time,
                        "venue": d.hearing_venue, "reason": reason}),
                    ),
                    ics: Some(IcsSpec {
                        method: IcsMethod::Cancel,
                        body,
                    }),
                });
            }
        }
    }

    if let Some(r) = &override_reason {
        if !breaches.is_empty() {
            data.insert(
                "override".into(),
                json!({"reason": r,
                "rules": breaches.iter().map(|b| b.kind.clone()).collect::<Vec<_>>()}),
            );
        }
    }
    let new_state = workflow::next_state(t, state, screen_proceeds);
    d.state = new_state.as_str().to_string();
    d.version += 1;
    d.set_detail(&detail);
    d.next_sweep_on = crate::notify::sweep::next_sweep_on(&ctx.calendar, &d);
    d.updated_at = now();
    let mut notices =
        outbox::render(&ctx.templates, Some(&d.id), notices).map_err(ApiError::Internal)?;
    let event = EventRow {
        dispute_id: d.id.clone(),
        seq: d.version,
        event_type: event.as_str().to_string(),
        actor_id: caller.user_id.clone(),
        at: now(),
        data: Value::Object(data).to_string(),
    };
    if let Some(r) = referral {
        notices.extend(r.render(c, &ctx.templates, &d, &event)?);
    }
    Ok(Applied {
        writes: store::Writes {
            dispute: d,
            previous_version,
            event,
            breaches,
            notices,
        },
        named,
    })
}

/// Whether an event of this type sends e-mail notices (and so counts against the
/// per-user and per-organisation limit on them).
pub fn notifies(e: EventType) -> bool {
    !matches!(
        e,
        EventType::AddNote
            | EventType::RecordLmcConsultation
            | EventType::RecordHearing
            | EventType::RecordDecision
    )
}

fn event_names() -> String {
    EventType::ALL
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_votes(f: &mut Fields, obj: &Map<String, Value>) -> Vec<Vote> {
    match obj.get("votes") {
        Some(Value::Array(a)) if a.len() <= 10 => {
            let mut out = Vec::new();
            for v in a {
                let m = v.get("member_id").and_then(Value::as_str);
                let vote = v.get("vote").and_then(Value::as_str);
                match (m, vote) {
                    (Some(m), Some(vote))
                        if ["appellant", "respondent", "abstain"].contains(&vote) =>
                    {
                        out.push(Vote {
                            member_id: m.to_string(),
                            vote: vote.to_string(),
                        })
                    }
                    _ => {
                        f.err("votes", "each vote is {\"member_id\", \"vote\": \"appellant\"|\"respondent\"|\"abstain\"}");
                        return vec![];
                    }
                }
            }
            out
        }
        None | Some(Value::Null) => {
            f.err("votes", "is required: one vote per voting member");
            vec![]
        }
        Some(_) => {
            f.err("votes", "must be a list of at most 10 votes");
            vec![]
        }
    }
}

fn org_info(c: &mut DbConn, id: &str) -> ApiResult<Option<OrgInfo>> {
    let row: Option<(String, String, String, String, Option<String>)> = organisations::table
        .find(id)
        .select((
            organisations::id,
            organisations::kind,
            organisations::area,
            organisations::region,
            organisations::commissioner_id,
        ))
        .first(c)
        .optional()?;
    Ok(row.and_then(|(id, kind, area, region, cid)| {
        Some(OrgInfo {
            id: uuid::Uuid::parse_str(&id).ok()?,
            kind: match kind.as_str() {
                "practice" => OrgKind::Practice,
                "commissioner" => OrgKind::Commissioner,
                "lmc" => OrgKind::Lmc,
                _ => OrgKind::Fhsu,
            },
            area,
            region,
            commissioner_id: cid.and_then(|c| uuid::Uuid::parse_str(&c).ok()),
        })
    }))
}

fn candidate(c: &mut DbConn, id: &str) -> ApiResult<Option<Candidate>> {
    let Ok(uid) = uuid::Uuid::parse_str(id) else {
        return Ok(None);
    };
    let row: Option<(String, String, bool, String)> = users::table
        .find(id)
        .select((
            users::roles,
            users::panel_roles,
            users::active,
            users::organisation_id,
        ))
        .first(c)
        .optional()?;
    let Some((roles, panel_roles, active, org)) = row else {
        return Ok(None);
    };
    let Some(org) = org_info(c, &org)? else {
        return Ok(None);
    };
    let interests: Vec<String> = interests::table
        .filter(interests::user_id.eq(id))
        .select(interests::organisation_id)
        .load(c)?;
    Ok(Some(Candidate {
        id: uid,
        active,
        roles: crate::domain::roles::split(&roles),
        panel_roles: crate::domain::roles::split(&panel_roles),
        org,
        interests: interests
            .iter()
            .filter_map(|i| uuid::Uuid::parse_str(i).ok())
            .collect(),
    }))
}

fn check_panel(c: &mut DbConn, d: &DisputeRow, ids: &[String; 5]) -> ApiResult<Vec<RuleViolation>> {
    let cm = candidate(c, &ids[0])?;
    let gp = candidate(c, &ids[1])?;
    let lr = candidate(c, &ids[2])?;
    let sec = candidate(c, &ids[3])?;
    let appellant =
        org_info(c, &d.appellant_id)?.ok_or_else(|| ApiError::internal("appellant missing"))?;
    let respondent =
        org_info(c, &d.respondent_id)?.ok_or_else(|| ApiError::internal("respondent missing"))?;
    let req = PanelRequest {
        clinical_member: cm.as_ref(),
        gp_conciliator: gp.as_ref(),
        lmc_representative: lr.as_ref(),
        secretary: sec.as_ref(),
        chair_id: uuid::Uuid::parse_str(&ids[4]).unwrap_or_else(|_| uuid::Uuid::nil()),
        appellant: &appellant,
        respondent: &respondent,
        inter_practice: d.inter_practice,
        mediator_id: d
            .mediator_id
            .as_deref()
            .and_then(|m| uuid::Uuid::parse_str(m).ok()),
    };
    Ok(panel::check_composition(&req)
        .into_iter()
        .map(|v| RuleViolation {
            rule: v.rule.to_string(),
            message: v.message,
        })
        .collect())
}

/// Names of the panel (voting members and secretary) unavailable on `date`.
pub fn unavailable_members(
    c: &mut DbConn,
    d: &DisputeRow,
    date: NaiveDate,
) -> ApiResult<Vec<String>> {
    let mut ids = d.voting_members();
    ids.extend(d.secretary_id.clone());
    let rows: Vec<String> = unavailability::table
        .inner_join(users::table.on(users::id.eq(unavailability::user_id)))
        .filter(unavailability::user_id.eq_any(&ids))
        .filter(unavailability::from_date.le(date))
        .filter(unavailability::to_date.ge(date))
        .select(users::name)
        .distinct()
        .load(c)?;
    Ok(rows)
}

/// Everyone concerned by a hearing, and its calendar invitation (or cancellation).
fn hearing_invite(
    c: &mut DbConn,
    ctx: &Ctx,
    d: &DisputeRow,
    method: IcsMethod,
) -> ApiResult<(Vec<String>, String)> {
    let mut a = Addresses::new(c);
    let mut to = a.parties(d);
    to.extend(a.panel(d));
    to.extend(a.lmc(d));
    let mut attendees = Vec::new();
    for id in [&d.appellant_id, &d.respondent_id] {
        attendees.push((a.org_name(id), a.org(Some(id)).pop().unwrap_or_default()));
    }
    let mut ids = d.voting_members();
    ids.extend(d.secretary_id.clone());
    for id in &ids {
        attendees.push((a.user_name(id), a.user(Some(id)).pop().unwrap_or_default()));
    }
    if let Some(l) = &d.lmc_id {
        attendees.push((a.org_name(l), a.org(Some(l)).pop().unwrap_or_default()));
    }
    attendees.retain(|(_, e)| !e.is_empty());
    let organizer = ctx
        .mail_from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| "ldr@localhost".into());
    let time = d
        .hearing_time
        .as_deref()
        .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
        .unwrap_or_default();
    let inv = HearingInvite {
        uid: format!("hearing-{}@ldr", d.id),
        sequence: d.hearing_sequence.max(0) as u32,
        method,
        date: d.hearing_date.unwrap_or(ctx.today),
        time,
        duration_minutes: 180,
        venue: d.hearing_venue.clone().unwrap_or_default(),
        summary: format!(
            "[{}] Local Dispute Resolution Panel hearing: {}",
            d.case_ref(),
            d.title
        ),
        description: format!(
            "Hearing of the Local Dispute Resolution Panel, case {}: {}.",
            d.case_ref(),
            d.title
        ),
        organizer_email: organizer,
        attendees,
        stamp: chrono::Utc::now(),
    };
    Ok((to, ics::hearing_ics(&inv)))
}
