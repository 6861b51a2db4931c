//! A panel member's or secretary's hearings: the cases of their panels (the panelist's "my
//! hearings" page) and their personal calendar feed (`/calendar/{token}.ics`), which Outlook
//! and Google Calendar subscribe to.
//!
//! A feed's address carries a random token, shown once when it is created; only its sha256
//! is stored. A person has at most one live feed: creating one revokes the one before, and a
//! revoked token, an unknown one, or one whose person is no longer active or no longer sits
//! on panels or keeps them, finds nothing (the address answers 404). The feed holds nothing of
//! a case beyond its title and the hearing's date, time and venue.

use super::tokens;
use super::ServiceError;
use crate::db::directory;
use crate::db::disputes::DisputeRow;
use crate::db::schema::{calendar_feeds, disputes, users};
use crate::db::{now, write_tx, DbConn};
use crate::domain::dispute::Dispute;
use crate::domain::hearing_days::Unavailable;
use crate::domain::roles::{self, Role};
use crate::domain::workflow::State;
use crate::render::ics::{self, FeedHearing};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// The most cases a panel member's list or feed holds (the latest hearings first).
pub const MAX_CASES: i64 = 500;

/// The cases whose panel `user_id` sits on or is the secretary of, latest hearing first
/// (cases with no hearing yet first of all).
pub fn panel_cases_of(c: &mut DbConn, user_id: &str) -> Result<Vec<Dispute>, ServiceError> {
    let me = user_id.to_string();
    let rows: Vec<DisputeRow> = disputes::table
        .select(DisputeRow::as_select())
        .filter(
            disputes::clinical_member_id
                .eq(me.clone())
                .or(disputes::gp_conciliator_id.eq(me.clone()))
                .or(disputes::lmc_representative_id.eq(me.clone()))
                .or(disputes::secretary_id.eq(me)),
        )
        .order((disputes::hearing_date.desc(), disputes::id.asc()))
        .limit(MAX_CASES)
        .load(c)?;
    let mut out: Vec<Dispute> = rows
        .into_iter()
        .map(super::decode)
        .collect::<Result<_, _>>()?;
    // NULLs sort differently on the two databases: the cases without a hearing go first.
    out.sort_by_key(|d| {
        (
            d.hearing.is_some(),
            std::cmp::Reverse(d.hearing.as_ref().map(|h| h.date)),
        )
    });
    Ok(out)
}

/// When the panel members and the secretary of `d` cannot sit, from `today` to `until` (the
/// hearing deadline; none without a panel or a deadline): what the hearing options and the
/// hearing calendar take into account.
pub fn unavailability(
    c: &mut DbConn,
    d: &Dispute,
    today: NaiveDate,
    until: Option<NaiveDate>,
) -> Result<Vec<Unavailable>, ServiceError> {
    let (Some(panel), Some(until)) = (d.panel.as_ref(), until) else {
        return Ok(Vec::new());
    };
    Ok(directory::unavailable_between(
        c,
        &panel.everyone(),
        today,
        until,
    )?)
}

/// Whether a person with `roles` may have a feed: panelists and panel secretaries.
pub fn may_have_feed(roles: &[Role]) -> bool {
    roles.contains(&Role::Panelist) || roles.contains(&Role::PanelSecretary)
}

/// The person's live feed: when it was created and last read.
#[derive(Debug, Clone)]
pub struct Feed {
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

/// The live feed of `user_id`, if any.
pub fn feed_of(c: &mut DbConn, user_id: &str) -> Result<Option<Feed>, ServiceError> {
    let row: Option<(NaiveDateTime, Option<NaiveDateTime>)> = calendar_feeds::table
        .filter(calendar_feeds::user_id.eq(user_id))
        .filter(calendar_feeds::revoked_at.is_null())
        .select((calendar_feeds::created_at, calendar_feeds::last_used_at))
        .first(c)
        .optional()?;
    Ok(row.map(|(created_at, last_used_at)| Feed {
        created_at,
        last_used_at,
    }))
}

/// Creates a feed for `user_id` (whose roles are `roles`), revoking the one before; returns
/// its token (32 random bytes, hex), which is stored only as its sha256.
pub fn create_feed(c: &mut DbConn, user_id: &str, roles: &[Role]) -> Result<String, ServiceError> {
    if !may_have_feed(roles) {
        return Err(ServiceError::Forbidden(
            "Only panelists and panel secretaries have a calendar feed of hearings.".into(),
        ));
    }
    let token = tokens::random();
    write_tx(c, |c| -> Result<(), ServiceError> {
        let t = now();
        revoke(c, user_id, t)?;
        diesel::insert_into(calendar_feeds::table)
            .values((
                calendar_feeds::id.eq(uuid::Uuid::new_v4().to_string()),
                calendar_feeds::user_id.eq(user_id),
                calendar_feeds::token_hash.eq(tokens::sha256_hex(&token)),
                calendar_feeds::created_at.eq(t),
            ))
            .execute(c)?;
        Ok(())
    })?;
    Ok(token)
}

fn revoke(c: &mut DbConn, user_id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::user_id.eq(user_id))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(at))
    .execute(c)
}

/// Revokes the live feed of `user_id`; whether there was one.
pub fn revoke_feed(c: &mut DbConn, user_id: &str) -> Result<bool, ServiceError> {
    Ok(revoke(c, user_id, now())? > 0)
}

/// The feed of the token `token` as iCalendar text, or `None` for a token that is unknown,
/// revoked, or whose person is inactive or no longer a panelist or panel secretary.
pub fn feed_text(c: &mut DbConn, token: &str) -> Result<Option<String>, ServiceError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let found: Option<(String, String, String, bool)> = calendar_feeds::table
        .inner_join(users::table.on(users::id.eq(calendar_feeds::user_id)))
        .filter(calendar_feeds::token_hash.eq(tokens::sha256_hex(&token.to_ascii_lowercase())))
        .filter(calendar_feeds::revoked_at.is_null())
        .select((calendar_feeds::id, users::id, users::roles, users::active))
        .first(c)
        .optional()?;
    let Some((feed_id, user_id, user_roles, active)) = found else {
        return Ok(None);
    };
    let user_roles = roles::parse_list(&user_roles);
    if !active || !may_have_feed(&user_roles) {
        return Ok(None);
    }
    let hearings: Vec<FeedHearing> = panel_cases_of(c, &user_id)?
        .iter()
        .filter_map(feed_hearing)
        .collect();
    // When it was last read, at most once a minute (a calendar client polls).
    let t = now();
    diesel::update(
        calendar_feeds::table.find(&feed_id).filter(
            calendar_feeds::last_used_at
                .is_null()
                .or(calendar_feeds::last_used_at.lt(t - chrono::Duration::minutes(1))),
        ),
    )
    .set(calendar_feeds::last_used_at.eq(t))
    .execute(c)?;
    Ok(Some(ics::feed_ics("Panel hearings", &hearings)))
}

/// The hearing of `d` as the feed shows it, if one was set.
fn feed_hearing(d: &Dispute) -> Option<FeedHearing> {
    let h = d.hearing.as_ref()?;
    let ended_unheard = matches!(d.state, State::Withdrawn | State::Closed) && d.held_on.is_none();
    Some(FeedHearing {
        // The invitation's UID (`service::notices`): the same hearing, the same event.
        uid: format!("hearing-{}@ldr", d.id),
        sequence: h.sequence.max(0) as u32,
        title: d.title.clone(),
        date: h.date,
        time: h.time,
        duration_minutes: super::notices::HEARING_MINUTES,
        venue: h.venue.clone(),
        cancelled: ended_unheard,
        stamp: d.updated_at.and_utc(),
    })
}
