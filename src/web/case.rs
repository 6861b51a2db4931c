//! `/disputes/{id}`: the case page, and `/documents/{id}`: a document's download, for everyone
//! who may see the case (the API's visibility rules: anyone else gets the 404 page).

use super::session::SignedIn;
use super::{page, words, PageError, PageResult};
use crate::api::disputes::document_answer;
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::db::disputes as store;
use crate::domain::workflow;
use crate::service::visibility;
use crate::service::visibility::{document_for, notices_seen};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A path id that is no UUID names nothing: 404 without asking the database.
fn uuid(id: &str) -> PageResult<String> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| PageError::NotFound)
}

pub fn timestamp(t: &chrono::NaiveDateTime) -> String {
    let local = t.and_utc().with_timezone(&chrono_tz::Europe::London);
    format!(
        "{} at {}",
        crate::render::templates::long_date(local.date_naive()),
        crate::render::templates::clock_time(local.time())
    )
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// `GET /disputes/{id}`.
/// `?done=` names what was just done (an event, `upload`, `file`): the page opens with a
/// banner saying so; `&document=` names the document just added, whose checksum it shows.
pub async fn page_handler(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: actix_web::HttpRequest,
) -> PageResult<HttpResponse> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    // The id as stored, however the address spelled it (upper case, without hyphens): the
    // access log is searched by it.
    let id = uuid(&id)?;
    let page = case_page(&state, &who, &id, &query).await?;
    state.record_read(&req, &who.caller.user_id, &id, "case_page", None);
    Ok(page)
}

/// The page of the case `id`, as stored ([`page_handler`] has read it from the address).
async fn case_page(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    query: &HashMap<String, String>,
) -> PageResult<HttpResponse> {
    let id = id.to_string();
    let caller = who.caller.clone();
    let read = state
        .db(move |c| {
            let d = crate::service::visible(c, &caller, &id)?;
            let parties = crate::service::notices::Parties::of(c, &d)?;
            let events = store::events_of(c, &id)?;
            let mut documents: Vec<store::DocumentMeta> = Vec::new();
            for m in store::documents_of(c, &id)? {
                if visibility::can_see_document(&caller, &d, crate::service::document_kind(&m.kind)?) {
                    documents.push(m);
                }
            }
            let notices = notices_seen(c, &caller, &d)?;
            // Everyone the page names: who acted, who uploaded, the mediator and the panel.
            let mut ids: Vec<String> = events.iter().map(|e| e.actor_id.clone()).collect();
            ids.extend(documents.iter().map(|m| m.uploaded_by.clone()));
            ids.extend(d.mediator_id().map(str::to_string));
            if let Some(p) = &d.panel {
                ids.extend(p.everyone().iter().map(|i| i.to_string()));
            }
            let people: HashMap<String, String> = store::user_names(c, ids.iter())?;
            let timeline: Vec<Value> = events
                .iter()
                .rev()
                .map(|e| {
                    let actor = people
                        .get(&e.actor_id)
                        .cloned()
                        .unwrap_or_else(|| "The service".into());
                    Ok(json!({
                        "when": timestamp(&e.at),
                        "sentence": words::event(&e.event_type, &actor, &visibility::event_data(&caller, &d, e)?),
                    }))
                })
                .collect::<Result<_, ApiError>>()?;
            let mut actions: Vec<Value> =
                workflow::allowed(d.state, &visibility::relations(&caller, &d))
                    .into_iter()
                    .map(|e| json!({"text": words::action(e),
                        "href": super::actions::action_href(&d.id, e)}))
                    .collect();
            if !d.state.is_terminal() {
                actions.push(json!({"text": "Add a document", "href": format!("/disputes/{}/documents/new", d.id)}));
            }
            if visibility::may_download_pack(&caller, &d) {
                actions.push(json!({"text": "Download the referral pack",
                    "href": format!("/disputes/{}/referral-pack", d.id), "download": true}));
            }
            let documents: Vec<Value> = documents
                .iter()
                .map(|m| {
                    json!({"id": m.id, "name": m.name, "kind": words::document_kind(&m.kind),
                           "size": size(m.size), "sha256": m.sha256,
                           "by": people.get(&m.uploaded_by).cloned().unwrap_or_default(),
                           "when": timestamp(&m.created_at)})
                })
                .collect();
            Ok((d, parties, people, timeline, actions, documents, notices))
        })
        .await?;
    let (d, parties, people, timeline, actions, documents, notices) = read;
    let today = state.clock.today();
    let name = |id: Option<&str>| id.and_then(|i| people.get(i)).cloned();
    let (state_text, colour) = words::state(d.state);
    let deadlines: Vec<Value> = d
        .deadline_facts()
        .steps()
        .iter()
        .map(|dl| {
            json!({"label": words::deadline_label(dl.kind), "date": dl.date.to_string(),
                   "left": words::standing(&state.calendar, today, dl)})
        })
        .collect();
    let mut rows = vec![
        json!({"key": "Reference", "value": d.case_ref()}),
        json!({"key": "Appellant", "value": parties.appellant.name}),
        json!({"key": "Respondent", "value": parties.respondent.name}),
        json!({"key": "Stage", "value": words::stage(d.state)}),
        json!({"key": "Category", "value": words::category(d.category.as_str())}),
        json!({"key": "The matter arose on", "value": crate::render::templates::long_date(d.matter_arose_on)}),
        json!({"key": "Contract-related", "value": if d.contract_related { "Yes" } else { "No" }}),
        json!({"key": "Filed", "value": timestamp(&d.created_at)}),
    ];
    if let Some(m) = &d.mediator {
        let who = name(Some(&m.id)).unwrap_or_default();
        rows.push(json!({"key": "LMC mediator", "value": format!("{who} ({})",
            words::mediator_mode(Some(m.mode.as_str())).to_lowercase())}));
    }
    let panel: Vec<String> = match &d.panel {
        None => vec![],
        Some(p) => [
            ("Clinical member", p.clinical_member_id.as_str()),
            ("GP conciliator", p.gp_conciliator_id.as_str()),
            ("LMC representative", p.lmc_representative_id.as_str()),
            ("Secretary", p.secretary_id.as_str()),
        ]
        .into_iter()
        .filter_map(|(role, id)| name(Some(id)).map(|n| format!("{role}: {n}")))
        .collect(),
    };
    if !panel.is_empty() {
        rows.push(json!({"key": "Panel", "value": panel.join("; ")}));
    }
    if let Some(h) = &d.hearing {
        rows.push(json!({"key": "Hearing", "value": format!("{} at {}, {}",
            crate::render::templates::long_date(h.date),
            crate::render::templates::clock_time(h.time), h.venue)}));
    }
    let notices: Vec<Value> = notices
        .iter()
        .map(|n| {
            let queued = timestamp(&n.queued_at);
            let status = match n.status.as_str() {
                "sent" => "Sent",
                "failed" => "Could not be sent",
                _ => "Waiting to be sent",
            };
            json!({"subject": n.subject, "to": n.to.join(", "), "status": status, "when": queued})
        })
        .collect();
    // Admins only: the last 50 reads of the case (the access log; the newest second may not be
    // written yet).
    let looked = if who.caller.has(crate::domain::roles::Role::Admin) {
        let case_id = d.id.clone();
        let (entries, names) = state
            .db(move |c| {
                let f = crate::db::access_log::Filter {
                    dispute_id: Some(case_id),
                    ..Default::default()
                };
                let entries = crate::db::access_log::find(c, &f, 0, 50)?;
                let names = store::user_names(c, entries.iter().map(|e| &e.user_id))?;
                Ok((entries, names))
            })
            .await?;
        let entries: Vec<Value> = entries
            .iter()
            .map(|e| {
                json!({"when": timestamp(&e.at),
                       "who": names.get(&e.user_id).cloned().unwrap_or_else(|| e.user_id.clone()),
                       "what": words::read_kind(&e.kind),
                       "from": e.client_address.clone().unwrap_or_default()})
            })
            .collect();
        json!({"entries": entries})
    } else {
        Value::Null
    };
    let banner = query
        .get("done")
        .and_then(|done| super::actions::done_banner(done))
        .map(|heading| {
            let text = query
                .get("document")
                .and_then(|doc| documents.iter().find(|m| m["id"] == doc.as_str()))
                .map(|m| {
                    format!(
                        "{} was added. Its SHA-256 checksum is {}.",
                        m["name"].as_str().unwrap_or(""),
                        m["sha256"].as_str().unwrap_or("")
                    )
                });
            json!({"heading": heading, "text": text})
        });
    let data = json!({
        "banner": banner,
        "title": d.title,
        "user": who.layout(),
        "csrf": who.csrf,
        "breadcrumbs": [{"href": "/", "text": "Your cases"}],
        "case_ref": d.case_ref(),
        "heading": d.title,
        "state": {"text": state_text, "colour": colour},
        "summary": d.summary,
        "rows": rows,
        "deadlines": deadlines,
        "actions": actions,
        "timeline": timeline,
        "documents": documents,
        "notices": notices,
        "looked": looked,
    });
    Ok(page(StatusCode::OK, "case", &data))
}

/// `GET /documents/{id}`: the file, as the API's `GET /api/v1/documents/{id}` streams it.
pub async fn download(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: actix_web::HttpRequest,
) -> PageResult<HttpResponse> {
    let caller = who.caller.clone();
    let id = uuid(&id)?;
    let user_id = caller.user_id.clone();
    let meta = state
        .db(move |c| Ok(document_for(c, &caller, &id)?))
        .await?;
    state.record_read(&req, &user_id, &meta.dispute_id, "document", Some(&meta.id));
    Ok(document_answer(state, meta))
}
