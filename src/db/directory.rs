//! The directory as the procedure reads it: organisations and users with what the rules need
//! of them (kind, area, region, commissioning group; roles, panel roles, interests), who is
//! unavailable when, and the addresses notices go to.

use super::schema::{interests, organisations, unavailability, users};
use super::DbConn;
use crate::domain::dispute::Org;
use crate::domain::panel::{Candidate, OrgInfo, OrgKind};
use crate::domain::procedure::Person;
use chrono::NaiveDate;
use diesel::prelude::*;
use std::collections::HashMap;
use uuid::Uuid;

/// An organisation with its address for notices.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organisations)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub area: String,
    pub region: String,
    pub email: String,
    pub address: String,
    pub commissioner_id: Option<String>,
}

/// A stored kind as the panel rules see it: the service's own organisation (kind `service`,
/// the bootstrap admin's) counts as none of the procedure's parts, as an FHSU does not.
fn kind(stored: &str) -> OrgKind {
    match stored {
        "practice" => OrgKind::Practice,
        "commissioner" => OrgKind::Commissioner,
        "lmc" => OrgKind::Lmc,
        _ => OrgKind::Fhsu,
    }
}

impl OrgRow {
    /// The organisation as the procedure sees it; an id that is not a UUID is an error.
    pub fn to_org(&self) -> Result<Org, String> {
        let uuid = |id: &str| {
            Uuid::parse_str(id).map_err(|_| format!("the organisation id {id:?} is not a UUID"))
        };
        Ok(Org {
            id: self.id.clone(),
            name: self.name.clone(),
            address: self.address.clone(),
            info: OrgInfo {
                id: uuid(&self.id)?,
                kind: kind(&self.kind),
                area: self.area.clone(),
                region: self.region.clone(),
                commissioner_id: self.commissioner_id.as_deref().map(uuid).transpose()?,
            },
        })
    }
}

/// The organisations of `ids` that exist, in one statement (in no particular order).
pub fn orgs(c: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<OrgRow>> {
    organisations::table
        .filter(organisations::id.eq_any(ids))
        .select(OrgRow::as_select())
        .load(c)
}

/// The LMC of `area`: the `lmc` organisation of that area created first.
pub fn lmc_of_area(c: &mut DbConn, area: &str) -> QueryResult<Option<OrgRow>> {
    organisations::table
        .filter(organisations::kind.eq("lmc"))
        .filter(organisations::area.eq(area))
        .order(organisations::created_at.asc())
        .select(OrgRow::as_select())
        .first(c)
        .optional()
}

/// Whether the directory has an organisation of kind `fhsu` (to refer a dispute to).
pub fn fhsu_exists(c: &mut DbConn) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        organisations::table.filter(organisations::kind.eq("fhsu")),
    ))
    .get_result(c)
}

/// Every `fhsu` organisation's address.
pub fn fhsu_emails(c: &mut DbConn) -> QueryResult<Vec<String>> {
    organisations::table
        .filter(organisations::kind.eq("fhsu"))
        .select(organisations::email)
        .load(c)
}

/// The users of `ids` that exist (any id not a UUID names nobody), with their organisation
/// and interests: what an event that names people needs ([`Person`]). A user whose
/// organisation is gone is left out, as one that does not exist.
pub fn people(c: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<Person>> {
    let ids: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| Uuid::parse_str(id).is_ok())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    type Row = (String, String, String, String, bool, OrgRow);
    let rows: Vec<Row> = users::table
        .inner_join(organisations::table.on(organisations::id.eq(users::organisation_id)))
        .filter(users::id.eq_any(&ids))
        .select((
            users::id,
            users::name,
            users::roles,
            users::panel_roles,
            users::active,
            OrgRow::as_select(),
        ))
        .load(c)?;
    let declared: Vec<(String, String)> = interests::table
        .filter(interests::user_id.eq_any(&ids))
        .select((interests::user_id, interests::organisation_id))
        .load(c)?;
    // An id that does not read is an error to fix in the data: a person left out, or an
    // interest dropped, would let a conflicted member onto a panel without a word.
    let unreadable = |what: String| diesel::result::Error::DeserializationError(what.into());
    let uuid = |what: &str, id: &str| {
        Uuid::parse_str(id).map_err(|_| unreadable(format!("{what} {id:?} is not a UUID")))
    };
    rows.into_iter()
        .map(|(id, name, roles, panel_roles, active, org)| {
            let interests = declared
                .iter()
                .filter(|(u, _)| *u == id)
                .map(|(_, o)| uuid(&format!("the interest of user {id} names organisation"), o))
                .collect::<QueryResult<_>>()?;
            let candidate = Candidate {
                id: uuid("the user id", &id)?,
                name: name.clone(),
                active,
                roles: crate::domain::roles::split(&roles),
                panel_roles: crate::domain::roles::split(&panel_roles),
                org: org.to_org().map_err(unreadable)?.info,
                interests,
            };
            Ok(Person {
                id,
                name,
                candidate,
            })
        })
        .collect()
}

/// The names of those of `ids` who recorded that they cannot sit on `date`.
pub fn unavailable_on(c: &mut DbConn, ids: &[&str], date: NaiveDate) -> QueryResult<Vec<String>> {
    unavailability::table
        .inner_join(users::table.on(users::id.eq(unavailability::user_id)))
        .filter(unavailability::user_id.eq_any(ids))
        .filter(unavailability::from_date.le(date))
        .filter(unavailability::to_date.ge(date))
        .select(users::name)
        .distinct()
        .load(c)
}

/// The periods in which any of `ids` cannot sit that overlap [`from`, `to`], each with the
/// person's name.
pub fn unavailable_between(
    c: &mut DbConn,
    ids: &[&str],
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<crate::domain::hearing_days::Unavailable>> {
    Ok(unavailability::table
        .inner_join(users::table.on(users::id.eq(unavailability::user_id)))
        .filter(unavailability::user_id.eq_any(ids))
        .filter(unavailability::to_date.ge(from))
        .filter(unavailability::from_date.le(to))
        .order((unavailability::from_date.asc(), users::name.asc()))
        .select((
            users::name,
            unavailability::from_date,
            unavailability::to_date,
        ))
        .load::<(String, NaiveDate, NaiveDate)>(c)?
        .into_iter()
        .map(|(name, from, to)| crate::domain::hearing_days::Unavailable { name, from, to })
        .collect())
}

/// Someone who may be appointed: (id, name, roles, panel roles, organisation's name).
pub type Appointable = (String, String, String, String, String);

/// The active people who may sit on a panel or be its secretary (role `panelist` or
/// `panel_secretary`), by name.
pub fn appointable(c: &mut DbConn) -> QueryResult<Vec<Appointable>> {
    users::table
        .inner_join(organisations::table.on(organisations::id.eq(users::organisation_id)))
        .filter(users::active.eq(true))
        .filter(
            users::roles
                .like("%panelist%")
                .or(users::roles.like("%panel_secretary%")),
        )
        .order((users::name.asc(), users::id.asc()))
        .select((
            users::id,
            users::name,
            users::roles,
            users::panel_roles,
            organisations::name,
        ))
        .load(c)
}

/// A user's name and address, and whether the account is active.
#[derive(Debug, Clone)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub active: bool,
}

/// The users of `ids` that exist, by id.
pub fn contacts(c: &mut DbConn, ids: &[&str]) -> QueryResult<HashMap<String, Contact>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name, users::email, users::active))
        .load::<(String, String, String, bool)>(c)?
        .into_iter()
        .map(|(id, name, email, active)| {
            (
                id,
                Contact {
                    name,
                    email,
                    active,
                },
            )
        })
        .collect())
}

/// The addresses of every active panel secretary (each sees every case awaiting a panel).
pub fn panel_secretary_emails(c: &mut DbConn) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::active.eq(true))
        .filter(users::roles.like("%panel_secretary%"))
        .order(users::email)
        .select(users::email)
        .load(c)
}

/// The addresses of the active accountable officers of the organisation `org_id`.
pub fn accountable_officer_emails(c: &mut DbConn, org_id: &str) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::organisation_id.eq(org_id))
        .filter(users::active.eq(true))
        .filter(users::roles.like("%accountable_officer%"))
        .select(users::email)
        .load(c)
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
diesel::define_sql_function!(fn trim(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// A condition on organisations, for either database.
pub type OrgCond = Box<
    dyn BoxableExpression<
        organisations::table,
        super::MultiBackend,
        SqlType = diesel::sql_types::Bool,
    >,
>;

/// The open organisations of the procedure (not the service's own) with no e-mail address: a
/// dispute that names one cannot tell it, and each notice it misses is only logged. An ODS
/// import leaves every new organisation so until an admin adds its address.
pub fn untold() -> OrgCond {
    Box::new(
        organisations::active
            .eq(true)
            .and(organisations::kind.eq_any(crate::domain::roles::ORG_KINDS))
            .and(trim(organisations::email).eq("")),
    )
}

/// The organisations a form's organisation field may name.
#[derive(Debug, Clone)]
pub struct Choosable {
    /// Their kinds (`practice`, `commissioner`, …).
    pub kinds: Vec<&'static str>,
    /// Never this one (the filer's own organisation).
    pub except: Option<String>,
    /// Only open ones (ODS marks a closed practice inactive).
    pub active_only: bool,
}

/// An organisation as a form offers it.
#[derive(Debug, Clone, Queryable)]
pub struct OrgChoice {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub area: String,
    pub ods_code: Option<String>,
}

type Filtered<'a> = organisations::BoxedQuery<'a, super::MultiBackend>;

fn choosable<'a>(which: &'a Choosable) -> Filtered<'a> {
    let mut q = organisations::table
        .filter(organisations::kind.eq_any(&which.kinds))
        .into_boxed();
    if let Some(own) = &which.except {
        q = q.filter(organisations::id.ne(own));
    }
    if which.active_only {
        q = q.filter(organisations::active.eq(true));
    }
    q
}

/// `q`'s organisations in the order a form lists them: by name, then ODS code (those without
/// one last), at most `limit`.
fn listed(c: &mut DbConn, q: Filtered<'_>, limit: i64) -> QueryResult<Vec<OrgChoice>> {
    q.order((
        organisations::name.asc(),
        organisations::ods_code.is_null().asc(),
        organisations::ods_code.asc(),
        organisations::id.asc(),
    ))
    .limit(limit)
    .select((
        organisations::id,
        organisations::name,
        organisations::kind,
        organisations::area,
        organisations::ods_code,
    ))
    .load(c)
}

/// The organisations `which` covers, listed ([`listed`]).
pub fn choosable_list(
    c: &mut DbConn,
    which: &Choosable,
    limit: i64,
) -> QueryResult<Vec<OrgChoice>> {
    listed(c, choosable(which), limit)
}

/// The organisations of `which` that `typed` names, listed ([`listed`]): by id, by ODS code (in
/// capitals, as ODS codes are kept) or by name (any case, as the database folds it: SQLite
/// folds only ASCII letters).
pub fn choosable_named(
    c: &mut DbConn,
    which: &Choosable,
    typed: &str,
    limit: i64,
) -> QueryResult<Vec<OrgChoice>> {
    let typed = typed.trim();
    let q = choosable(which).filter(
        organisations::id
            .eq(typed)
            .or(organisations::ods_code
                .eq(typed.to_uppercase())
                .assume_not_null())
            .or(lower(organisations::name).eq(lower(typed.to_string()))),
    );
    listed(c, q, limit)
}

/// The names of the organisations of `ids` that exist, with their ODS code when they have one
/// ("Riverside Surgery (B82001)").
pub fn labels(c: &mut DbConn, ids: &[&str]) -> QueryResult<HashMap<String, String>> {
    let rows: Vec<(String, String, Option<String>)> = organisations::table
        .filter(organisations::id.eq_any(ids))
        .select((
            organisations::id,
            organisations::name,
            organisations::ods_code,
        ))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, ods)| {
            let label = match ods.filter(|o| !o.is_empty()) {
                Some(code) => format!("{name} ({code})"),
                None => name,
            };
            (id, label)
        })
        .collect())
}
