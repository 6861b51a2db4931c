//! The admin's pages: organisations (`/admin/organisations`: list, search by name or ODS code,
//! create, edit), users (`/admin/users`: list and search, create with roles that fit the
//! organisation's kind, deactivate and reactivate, each user's register of interests) and the
//! whole register of interests (`/admin/interests`). Every change goes through the API's own
//! function (`api::directory::new_organisation`, `change_organisation`, `new_user`,
//! `change_user`, `record_entry`, `remove_entry`), so a page refuses what the API refuses,
//! in its words, and changes nothing.

use super::choose;
use super::forms::{self, Field, Input, Problem, Sent};
use super::panelist::{interest_fields, interest_form, interest_names, interest_rows};
use super::register::{self, cell, link, row, two_lines, AddForm, Button, Register, Warning};
use super::session::SignedIn;
use super::{PageError, PageResult};
use crate::api::directory::{self as dir, Entry, NewInterest, Organisation, PatchUser};
use crate::api::people::{self, PeopleQuery};
use crate::app::AppState;
use crate::db::directory::{lower, untold, Choosable};
use crate::db::schema::organisations;
use crate::domain::roles::{self, kind_words, role_words, Role, ORG_KINDS, PANEL_ROLES};
use crate::render::templates::long_date;
use crate::service::directory;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde_json::{json, Value};

/// The most rows a list shows; a search finds the others.
const MAX_ROWS: i64 = 200;

fn admin(who: &SignedIn) -> PageResult<()> {
    if who.caller.has(Role::Admin) {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

fn crumbs(extra: &[(&str, &str)]) -> Value {
    let mut all = vec![json!({"href": "/", "text": "Your cases"})];
    all.extend(extra.iter().map(|(h, t)| json!({"href": h, "text": t})));
    Value::Array(all)
}

fn words_of(list: &[String]) -> String {
    if list.is_empty() {
        return "None".into();
    }
    list.iter()
        .map(|r| role_words(r))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `?q=` of a search, trimmed (at most 200 characters, as the API takes it).
fn search_text(req: &HttpRequest) -> String {
    register::query(req)
        .remove("q")
        .map(|q| q.trim().chars().take(200).collect())
        .unwrap_or_default()
}

// ------------------------------------------------------------------ organisations

/// `GET /admin/organisations?q=&without_email=`: by name, those whose name holds `q` (any
/// case) or whose ODS code is `q`; with `without_email=true`, only the open ones that have no
/// e-mail address ([`untold`]), which the page warns of while there are any.
pub async fn organisations(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    admin(&who)?;
    let q = search_text(&req);
    let text = q.clone();
    let only_untold = match register::query(&req)
        .get("without_email")
        .map(String::as_str)
    {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(PageError::BadRequest(
                "The address's without_email must be true or false. Go back to the list of \
                 organisations and choose again."
                    .into(),
            ))
        }
    };
    let (orgs, total, untold_count): (Vec<Organisation>, i64, i64) = state
        .db(move |c| {
            let filter = |text: &str| {
                let pattern = format!("%{}%", people::like_literal(&text.to_lowercase()));
                lower(organisations::name)
                    .like(pattern)
                    .escape('\\')
                    .or(organisations::ods_code
                        .eq(text.to_uppercase())
                        .assume_not_null())
            };
            let mut query = organisations::table
                .select(Organisation::as_select())
                .order((organisations::name.asc(), organisations::id.asc()))
                .limit(MAX_ROWS)
                .into_boxed();
            let mut count = organisations::table.count().into_boxed();
            if !text.is_empty() {
                query = query.filter(filter(&text));
                count = count.filter(filter(&text));
            }
            if only_untold {
                query = query.filter(untold());
                count = count.filter(untold());
            }
            let untold_count = organisations::table
                .filter(untold())
                .count()
                .get_result(c)?;
            Ok((query.load(c)?, count.get_result(c)?, untold_count))
        })
        .await?;
    let rows = orgs
        .iter()
        .map(|o| {
            let name = match &o.ods_code {
                Some(code) => two_lines(o.name.clone(), format!("ODS code {code}")),
                None => cell(o.name.clone()),
            };
            let mut cells = vec![
                name,
                cell(kind_words(&o.kind)),
                two_lines(o.area.clone(), o.region.clone()),
                match (o.active, o.email.trim().is_empty()) {
                    (false, _) => cell("Closed"),
                    (true, true) if o.kind != dir::SERVICE_KIND => {
                        two_lines("Open", "No email address: not told of its disputes")
                    }
                    (true, _) => cell("Open"),
                },
            ];
            if o.kind != dir::SERVICE_KIND {
                cells.push(link(
                    format!("Change {}", o.name),
                    format!("/admin/organisations/{}", o.id),
                ));
            } else {
                cells.push(cell(""));
            }
            row(cells, None)
        })
        .collect::<Vec<_>>();
    let banner = match register::done(&req).as_deref() {
        Some("created") => Some("Organisation added"),
        Some("changed") => Some("Organisation changed"),
        _ => None,
    };
    let one = untold_count == 1;
    let them = if one { "it" } else { "them" };
    let warning = (untold_count > 0).then(|| Warning {
        label: "Organisations without an email address",
        text: format!(
            "{untold_count} open {} no email address, so no notice reaches {them} when a \
             dispute names {them}. Add an address to {}.",
            if one {
                "organisation has"
            } else {
                "organisations have"
            },
            if one { "it" } else { "each" },
        ),
        link: Some(if only_untold {
            (
                "/admin/organisations".into(),
                "Show every organisation".into(),
            )
        } else {
            (
                "/admin/organisations?without_email=true".into(),
                format!("Show {them}"),
            )
        }),
    });
    Ok(Register {
        intro: vec![
            "Every practice, commissioning group, LMC and the FHSU the service knows. A \
             practice's area must be the area of its LMC, so create an area's LMC before \
             its practices."
                .into(),
        ],
        warning,
        banner,
        search: Some((
            "/admin/organisations",
            "Search organisations",
            "Part of the name, or the ODS code",
            q,
        )),
        add_link: Some(("/admin/organisations/new", "Add an organisation")),
        caption: if only_untold {
            "Open organisations without an email address"
        } else {
            "Organisations"
        },
        head: vec!["Name", "Kind", "Area and region", "Status", "Change"],
        more: (total > rows.len() as i64).then(|| {
            format!(
                "Showing {} of {total}: search to find the others.",
                rows.len()
            )
        }),
        rows,
        empty: "No organisation matches.",
        ..Register::new(&who, "Organisations", crumbs(&[]))
    }
    .render(StatusCode::OK))
}

/// The fields of an organisation; `kind` only when it is created, `commissioner_id` only for
/// a practice (or when created).
fn organisation_fields(
    commissioners: Vec<(String, String)>,
    new: bool,
    practice: bool,
) -> Vec<Field> {
    let text = |name, label, hint| Field::new(name, label, hint, Input::Text);
    let mut fields = vec![text("name", "Name", "")];
    if new {
        fields.push(
            Field::new(
                "kind",
                "What kind of organisation is it?",
                "",
                Input::Radios(
                    ORG_KINDS
                        .iter()
                        .map(|k| (k.to_string(), kind_words(k).to_string(), String::new()))
                        .collect(),
                ),
            )
            .called("Kind"),
        );
    }
    fields.extend([
        text(
            "area",
            "Area",
            "The LMC's area, for example North Essex. A practice's area must be its LMC's, exactly.",
        ),
        text("region", "Region", "For example, East of England"),
        text("email", "Email address", "Notices to the organisation go here."),
        Field::new("address", "Postal address", "", Input::Textarea),
        text(
            "ods_code",
            "ODS code (optional)",
            "The NHS Organisation Data Service code, for example F81001",
        )
        .called("ODS code"),
    ]);
    if new || practice {
        fields.push(
            Field::new(
                "commissioner_id",
                "Commissioning group (practices only)",
                "The commissioning group (ICB) the practice belongs to.",
                Input::Select(commissioners),
            )
            .called("Commissioning group"),
        );
    }
    fields
}

fn commissioners(c: &mut crate::db::DbConn) -> QueryResult<Vec<(String, String)>> {
    organisations::table
        .filter(organisations::kind.eq("commissioner"))
        .order(organisations::name.asc())
        .select((organisations::id, organisations::name))
        .load(c)
}

/// The organisation form (new, or the organisation `current`).
fn organisation_form(
    who: &SignedIn,
    current: Option<&Organisation>,
    fields: &[Field],
    sent: &Sent,
    problems: &[Problem],
    status: StatusCode,
) -> HttpResponse {
    let (heading, action, button) = match current {
        None => (
            "Add an organisation",
            "/admin/organisations/new".to_string(),
            "Add the organisation",
        ),
        Some(o) => (
            "Change an organisation",
            format!("/admin/organisations/{}", o.id),
            "Save the changes",
        ),
    };
    let intro = match current {
        None => "Admins add organisations; practices can also be loaded from NHS ODS files \
                 (ldr import-organisations)."
            .to_string(),
        Some(o) => format!(
            "{} is a {}. Its kind cannot be changed. An ODS code cannot be removed once set.",
            o.name,
            kind_words(&o.kind).to_lowercase()
        ),
    };
    forms::render_form(
        forms::FormPage {
            caption: current.map(|o| o.name.clone()),
            breadcrumbs: crumbs(&[("/admin/organisations", "Organisations")]),
            back: (
                "/admin/organisations".into(),
                "Back to the organisations".into(),
            ),
            intro: vec![intro],
            ..forms::FormPage::new(who, heading, action, button)
        },
        fields,
        sent,
        problems,
        status,
    )
}

/// `GET /admin/organisations/new`.
pub async fn new_organisation(
    state: web::Data<AppState>,
    who: SignedIn,
) -> PageResult<HttpResponse> {
    admin(&who)?;
    let ccgs = state.db(|c| Ok(commissioners(c)?)).await?;
    let fields = organisation_fields(ccgs, true, false);
    Ok(organisation_form(
        &who,
        None,
        &fields,
        &Sent::new(),
        &[],
        StatusCode::OK,
    ))
}

/// `POST /admin/organisations/new`: `api::directory::new_organisation`.
pub async fn create_organisation(
    state: web::Data<AppState>,
    who: SignedIn,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    let sent = register::checked(&who, form.into_inner())?;
    admin(&who)?;
    let ccgs = state.db(|c| Ok(commissioners(c)?)).await?;
    let fields = organisation_fields(ccgs, true, false);
    let outcome = register::through_api(&fields, &sent, None, &[], |b| {
        dir::new_organisation(&state, &who.caller, b)
    })
    .await?;
    match outcome {
        Ok(_) => Ok(super::signin::see_other(
            "/admin/organisations?done=created",
        )),
        Err((status, problems)) => Ok(organisation_form(
            &who, None, &fields, &sent, &problems, status,
        )),
    }
}

/// The organisation `id` (not the service's own) and the commissioning groups.
async fn organisation_and_ccgs(
    state: &AppState,
    id: &str,
) -> PageResult<(Organisation, Vec<(String, String)>)> {
    let id = super::actions::uuid(id)?;
    let (org, ccgs) = state
        .db(move |c| Ok((dir::find_organisation(c, &id)?, commissioners(c)?)))
        .await?;
    let org = org
        .filter(|o| o.kind != dir::SERVICE_KIND)
        .ok_or(PageError::NotFound)?;
    Ok((org, ccgs))
}

/// `GET /admin/organisations/{id}`: the form, filled in with the organisation as it is.
pub async fn edit_organisation(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
) -> PageResult<HttpResponse> {
    admin(&who)?;
    let (org, ccgs) = organisation_and_ccgs(&state, &id).await?;
    let fields = organisation_fields(ccgs, false, org.kind == "practice");
    let mut sent = Sent::new();
    for (k, v) in [
        ("name", Some(&org.name)),
        ("area", Some(&org.area)),
        ("region", Some(&org.region)),
        ("email", Some(&org.email)),
        ("address", Some(&org.address)),
        ("ods_code", org.ods_code.as_ref()),
        ("commissioner_id", org.commissioner_id.as_ref()),
    ] {
        if let Some(v) = v {
            sent.insert(k.to_string(), v.clone());
        }
    }
    Ok(organisation_form(
        &who,
        Some(&org),
        &fields,
        &sent,
        &[],
        StatusCode::OK,
    ))
}

/// `POST /admin/organisations/{id}`: `api::directory::change_organisation` (a field left
/// empty stays as it was, as a field not sent to the API).
pub async fn change_organisation(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    let sent = register::checked(&who, form.into_inner())?;
    admin(&who)?;
    let (org, ccgs) = organisation_and_ccgs(&state, &id).await?;
    let fields = organisation_fields(ccgs, false, org.kind == "practice");
    let outcome = register::through_api(&fields, &sent, None, &[], |b| {
        dir::change_organisation(&state, &who.caller, org.id.clone(), b)
    })
    .await?;
    match outcome {
        Ok(_) => Ok(super::signin::see_other(
            "/admin/organisations?done=changed",
        )),
        Err((status, problems)) => Ok(organisation_form(
            &who,
            Some(&org),
            &fields,
            &sent,
            &problems,
            status,
        )),
    }
}

// ------------------------------------------------------------------ users

/// `GET /admin/users?q=`: by name, those whose name or e-mail address holds `q`, through the
/// API's `GET /users` code.
pub async fn users(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    admin(&who)?;
    let q = search_text(&req);
    let found = people::find_people(
        &state,
        &who.caller,
        PeopleQuery {
            q: Some(q.clone()),
            role: None,
            panel_role: None,
            organisation_id: None,
            limit: Some(MAX_ROWS),
            cursor: None,
        },
    )
    .await?;
    let rows: Vec<Value> = found
        .items
        .iter()
        .map(|p| {
            row(
                vec![
                    two_lines(p.name.clone(), p.email.clone().unwrap_or_default()),
                    cell(p.organisation.name.clone()),
                    cell(words_of(&p.roles)),
                    cell(if p.active { "Active" } else { "Deactivated" }),
                    link(format!("View {}", p.name), format!("/admin/users/{}", p.id)),
                ],
                None,
            )
        })
        .collect();
    let banner = match register::done(&req).as_deref() {
        Some("created") => Some("User added"),
        _ => None,
    };
    Ok(Register {
        intro: vec![
            "Everyone who can sign in. A user's roles must fit their organisation's kind: \
             practice users belong to practices, commissioner staff and accountable \
             officers to commissioning groups, LMC mediators to LMCs."
                .into(),
        ],
        banner,
        search: Some((
            "/admin/users",
            "Search users",
            "Part of the name or e-mail address",
            q,
        )),
        add_link: Some(("/admin/users/new", "Add a user")),
        caption: "Users",
        head: vec!["Name", "Organisation", "Roles", "Status", "Details"],
        more: found
            .next_cursor
            .is_some()
            .then(|| format!("Showing the first {MAX_ROWS}: search to find the others.")),
        rows,
        empty: "No user matches.",
        ..Register::new(&who, "Users", crumbs(&[]))
    }
    .render(StatusCode::OK))
}

fn user_fields(organisation: Field) -> Vec<Field> {
    let text = |name, label, hint| Field::new(name, label, hint, Input::Text);
    let ticks = |names: &[&str]| -> Vec<(String, String, String)> {
        names
            .iter()
            .map(|r| (r.to_string(), role_words(r).to_string(), String::new()))
            .collect()
    };
    let all_roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    vec![
        text("name", "Full name", ""),
        text("email", "Email address", "They sign in with it."),
        Field::new(
            "password",
            "Password",
            "At least 12 characters. Give it to them in person or by phone, never by email.",
            Input::Password,
        ),
        organisation,
        Field::new(
            "roles",
            "Roles",
            "Select every role. They must fit the organisation's kind.",
            Input::Checkboxes(ticks(&all_roles)),
        ),
        Field::new(
            "panel_roles",
            "Panel roles (panelists only)",
            "The seats of a panel they may take.",
            Input::Checkboxes(ticks(&PANEL_ROLES)),
        )
        .called("Panel roles"),
    ]
}

/// Every organisation (the service's own for admins).
fn every_organisation() -> Choosable {
    let mut kinds = ORG_KINDS.to_vec();
    kinds.push(dir::SERVICE_KIND);
    Choosable {
        kinds,
        except: None,
        active_only: false,
    }
}

/// The user form's fields, its organisation any of them.
fn user_fields_for(c: &mut crate::db::DbConn) -> QueryResult<Vec<Field>> {
    let organisation = Field::new("organisation_id", "Organisation", "", Input::Text);
    let organisation = choose::field(c, &every_organisation(), organisation, |o| {
        format!("{} ({})", o.name, kind_words(&o.kind))
    })?;
    Ok(user_fields(organisation))
}

fn user_form(
    who: &SignedIn,
    fields: &[Field],
    sent: &Sent,
    problems: &[Problem],
    status: StatusCode,
) -> HttpResponse {
    forms::render_form(
        forms::FormPage {
            breadcrumbs: crumbs(&[("/admin/users", "Users")]),
            back: ("/admin/users".into(), "Back to the users".into()),
            ..forms::FormPage::new(who, "Add a user", "/admin/users/new".into(), "Add the user")
        },
        fields,
        sent,
        problems,
        status,
    )
}

/// `GET /admin/users/new`.
pub async fn new_user(state: web::Data<AppState>, who: SignedIn) -> PageResult<HttpResponse> {
    admin(&who)?;
    let fields = state.db(|c| Ok(user_fields_for(c)?)).await?;
    Ok(user_form(&who, &fields, &Sent::new(), &[], StatusCode::OK))
}

/// `POST /admin/users/new`: `api::directory::new_user` (roles that do not fit the
/// organisation are refused in the API's words, and nobody is created).
pub async fn create_user(
    state: web::Data<AppState>,
    who: SignedIn,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    let sent = register::checked(&who, form.into_inner())?;
    admin(&who)?;
    let sent2 = sent.clone();
    let (fields, looked) = state
        .db(move |c| {
            let fields = user_fields_for(c)?;
            let looked =
                choose::look_up(c, &every_organisation(), &fields, "organisation_id", &sent2)?;
            Ok((fields, looked))
        })
        .await?;
    let outcome = register::through_api(&fields, &looked.sent, looked.problem, &[], |b| {
        dir::new_user(&state, &who.caller, b)
    })
    .await?;
    match outcome {
        Ok(u) => Ok(super::signin::see_other(&format!(
            "/admin/users/{}?done=created",
            u.id
        ))),
        Err((status, problems)) => Ok(user_form(&who, &fields, &sent, &problems, status)),
    }
}

/// A user's page: who they are, the button that deactivates (or reactivates) them, and their
/// register of interests with the form to add to it.
async fn user_page(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    banner: Option<&str>,
    sent: &Sent,
    problems: Vec<Problem>,
    status: StatusCode,
) -> PageResult<HttpResponse> {
    let id = super::actions::uuid(id)?;
    let key = id.clone();
    let (user, org, entries, names, fields, waiting) = state
        .db(move |c| {
            let user = dir::find_user(c, &key)?.ok_or(crate::api::error::ApiError::NotFound)?;
            let org = dir::find_organisation(c, &user.organisation_id)?;
            let entries = directory::interests_of(c, &key)?;
            let names = interest_names(c, &entries)?;
            // A deactivated case mediator or panel secretary: their cases wait for them.
            let waiting = if user.active {
                Vec::new()
            } else {
                directory::open_parts_of(c, &key)?
                    .into_iter()
                    .filter(|p| p.steps_wait())
                    .collect()
            };
            Ok((user, org, entries, names, interest_fields(c)?, waiting))
        })
        .await?;
    let rows = interest_rows(
        &entries,
        &names,
        |e| format!("/admin/users/{id}/interests/{e}/remove"),
        "the",
    );
    let (field_problems, other): (Vec<Problem>, Vec<Problem>) =
        problems.into_iter().partition(|p| p.field.is_some());
    let action = format!("/admin/users/{id}/interests");
    let summary = vec![
        ("Email address", user.email.clone()),
        (
            "Organisation",
            org.map_or_else(
                || "(unknown)".to_string(),
                |o| format!("{} ({})", o.name, kind_words(&o.kind)),
            ),
        ),
        ("Roles", words_of(&roles::split(&user.roles))),
        ("Panel roles", words_of(&roles::split(&user.panel_roles))),
        (
            "Status",
            if user.active && id == who.caller.user_id {
                "Active: can sign in (this is you: another admin can deactivate you)".to_string()
            } else if user.active {
                "Active: can sign in".to_string()
            } else {
                "Deactivated: cannot sign in".to_string()
            },
        ),
    ];
    let button = if id == who.caller.user_id {
        None
    } else if user.active {
        Some(Button {
            action: format!("/admin/users/{id}/deactivate"),
            text: "Deactivate this user",
            warning: true,
            asks_first: true,
        })
    } else {
        Some(Button {
            action: format!("/admin/users/{id}/reactivate"),
            text: "Reactivate this user",
            warning: false,
            asks_first: false,
        })
    };
    let warning = (!waiting.is_empty()).then(|| Warning {
        label: "Cases waiting for this user",
        text: format!(
            "{} has a part in {} that only they can take forward: {}. While they are \
             deactivated those steps wait, with their deadlines running; reactivate them to let \
             the {} go on.",
            user.name,
            open_cases(&waiting),
            parts_in_words(&waiting),
            cases(&waiting),
        ),
        link: None,
    });
    Ok(Register {
        banner,
        summary,
        warning,
        buttons: button.into_iter().collect(),
        problems: other,
        caption: "Register of interests",
        head: vec!["Organisation", "Interest", "Declared on"],
        rows,
        empty: "No interests declared.",
        form: Some(AddForm {
            heading: "Record an interest",
            action: &action,
            button: "Record the interest",
            fields: &fields,
            sent,
            problems: &field_problems,
        }),
        ..Register::new(who, &user.name, crumbs(&[("/admin/users", "Users")]))
    }
    .render(status))
}

/// `GET /admin/users/{id}`.
pub async fn user(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    admin(&who)?;
    let banner = match register::done(&req).as_deref() {
        Some("created") => Some("User added"),
        Some("deactivated") => Some("User deactivated: they are signed out and cannot sign in"),
        Some("reactivated") => Some("User reactivated"),
        Some("added") => Some("Interest recorded"),
        Some("removed") => Some("Interest removed"),
        _ => None,
    };
    user_page(
        &state,
        &who,
        &id,
        banner,
        &Sent::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `GET /admin/users/{id}/deactivate`: what deactivating the user means, and the open cases
/// in which they have a part, before it is done; its red button sends it.
pub async fn confirm_deactivate(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
) -> PageResult<HttpResponse> {
    admin(&who)?;
    let id = super::actions::uuid(&id)?;
    let key = id.clone();
    let (user, parts) = state
        .db(move |c| {
            let user = dir::find_user(c, &key)?.ok_or(crate::api::error::ApiError::NotFound)?;
            Ok((user, directory::open_parts_of(c, &key)?))
        })
        .await?;
    if !user.active {
        return Ok(super::signin::see_other(&format!("/admin/users/{id}")));
    }
    let heading = format!("Deactivate {}", user.name);
    let mut p = forms::FormPage::new(
        &who,
        &heading,
        format!("/admin/users/{id}/deactivate"),
        "Deactivate this user",
    );
    p.warning = true;
    p.breadcrumbs = crumbs(&[("/admin/users", "Users")]);
    p.back = (
        format!("/admin/users/{id}"),
        format!("Keep {} active: back to their page", user.name),
    );
    p.intro = vec![format!(
        "{} is signed out at once, their API tokens stop working, and they cannot sign in \
         until an admin reactivates them. Their cases, history and register of interests stay.",
        user.name
    )];
    if !parts.is_empty() {
        p.intro.push(format!(
            "They have a part in {}: {}. Deactivated, they are no longer sent its \
             notices and cannot act on it.",
            open_cases(&parts),
            parts_in_words(&parts)
        ));
        if parts.iter().any(|p| p.steps_wait()) {
            p.intro.push(
                "Only a case's own mediator, or its own panel secretary, can take their steps, \
                 and the service cannot yet hand a case to someone else: those steps wait, with \
                 their deadlines running, until this user is reactivated."
                    .into(),
            );
        }
    }
    Ok(forms::render_form(
        p,
        &[],
        &Sent::new(),
        &[],
        StatusCode::OK,
    ))
}

/// "1 open case", "2 open cases".
fn open_cases(parts: &[directory::PartIn]) -> String {
    format!("{} open {}", parts.len(), cases(parts))
}

fn cases(parts: &[directory::PartIn]) -> &'static str {
    if parts.len() == 1 {
        "case"
    } else {
        "cases"
    }
}

/// Each case by title with the person's part: "“Budget” (mediator); “Rent” (panel member)".
fn parts_in_words(parts: &[directory::PartIn]) -> String {
    parts
        .iter()
        .map(|p| format!("“{}” ({})", p.title, p.part))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `POST /admin/users/{id}/deactivate`.
pub async fn deactivate(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    set_active(state, who, id, form, false).await
}

/// `POST /admin/users/{id}/reactivate`.
pub async fn reactivate(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    set_active(state, who, id, form, true).await
}

/// `api::directory::change_user` with `active`: what the button says, so that sending it twice
/// (a double click, a reload) does it once.
async fn set_active(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
    active: bool,
) -> PageResult<HttpResponse> {
    register::checked(&who, form.into_inner())?;
    admin(&who)?;
    let id = super::actions::uuid(&id)?;
    let change: PatchUser = serde_json::from_value(json!({ "active": active }))
        .map_err(|e| PageError::Internal(e.to_string()))?;
    match dir::change_user(&state, &who.caller, id.clone(), change).await {
        Ok(u) => Ok(super::signin::see_other(&format!(
            "/admin/users/{id}?done={}",
            if u.active {
                "reactivated"
            } else {
                "deactivated"
            }
        ))),
        Err(e) => {
            let status = actix_web::ResponseError::status_code(&e);
            let problems = forms::problems_of(e, &[], &[("active", "Deactivating:")])?;
            user_page(&state, &who, &id, None, &Sent::new(), problems, status).await
        }
    }
}

/// `POST /admin/users/{id}/interests`: `api::directory::record_entry`.
pub async fn add_interest(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    let sent = register::checked(&who, form.into_inner())?;
    admin(&who)?;
    let id = super::actions::uuid(&id)?;
    let sent2 = sent.clone();
    let (fields, looked) = state.db(move |c| Ok(interest_form(c, &sent2)?)).await?;
    let outcome = register::through_api(
        &fields,
        &looked.sent,
        looked.problem,
        &[],
        |b: NewInterest| dir::record_entry(&state, &who.caller, id.clone(), b),
    )
    .await?;
    match outcome {
        Ok(_) => Ok(super::signin::see_other(&format!(
            "/admin/users/{id}?done=added"
        ))),
        Err((status, problems)) => {
            user_page(&state, &who, &id, None, &sent, problems, status).await
        }
    }
}

/// `POST /admin/users/{id}/interests/{entry}/remove`: `api::directory::remove_entry`.
pub async fn remove_interest(
    state: web::Data<AppState>,
    who: SignedIn,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    register::checked(&who, form.into_inner())?;
    admin(&who)?;
    let (id, entry) = path.into_inner();
    let (id, entry) = (super::actions::uuid(&id)?, super::actions::uuid(&entry)?);
    dir::remove_entry(&state, &who.caller, id.clone(), entry, Entry::Interest).await?;
    Ok(super::signin::see_other(&format!(
        "/admin/users/{id}?done=removed"
    )))
}

/// `GET /admin/interests`: the whole register of interests, each entry linking to its
/// person's page (where entries are recorded and removed).
pub async fn interests(state: web::Data<AppState>, who: SignedIn) -> PageResult<HttpResponse> {
    admin(&who)?;
    let entries = state.db(|c| Ok(directory::register(c, 1000)?)).await?;
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            let uid = e.interest.user_id.clone().unwrap_or_default();
            row(
                vec![
                    link(e.user_name.clone(), format!("/admin/users/{uid}")),
                    cell(e.organisation_name.clone()),
                    cell(e.interest.nature.clone()),
                    cell(long_date(e.interest.declared_on)),
                ],
                None,
            )
        })
        .collect();
    Ok(Register {
        intro: vec![
            "Every interest declared by the people who sit on panels. Nobody may sit on \
             the panel of a dispute in which a party is an organisation they have an \
             interest in. To record or remove an entry, open the person's page."
                .into(),
        ],
        add_link: Some(("/admin/users", "Find a person")),
        caption: "Register of interests",
        head: vec!["Person", "Organisation", "Interest", "Declared on"],
        rows,
        empty: "Nobody has declared an interest.",
        ..Register::new(&who, "Register of interests", crumbs(&[]))
    }
    .render(StatusCode::OK))
}
