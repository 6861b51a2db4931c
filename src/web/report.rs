//! The timeliness report (`/reports/timeliness`, admins and panel secretaries): the figures of
//! `GET /api/v1/reports/timeliness` for a range of days chosen with the NHS.UK date inputs, a
//! bar chart of them drawn here as SVG (`role="img"` with its title and description) beside
//! the same figures as a table, and their CSV (`/reports/timeliness.csv?from=&to=`). All three
//! come from `AppState::timeliness_report` (`service::reports::timeliness_for`), as the API's do.

use super::forms::{self, Field, Input, Problem, Sent};
use super::register;
use super::session::SignedIn;
use super::{page, PageError, PageResult};
use crate::app::AppState;
use crate::domain::roles::Role;
use crate::render::templates::long_date;
use crate::service::reports::Timeliness;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};

fn fields() -> Vec<Field> {
    vec![
        Field::new(
            "from",
            "From",
            "The first day a formal request was lodged, for example 1 4 2026",
            Input::Date,
        )
        .called("The first day"),
        Field::new(
            "to",
            "To",
            "The last day, for example 31 3 2027",
            Input::Date,
        )
        .called("The last day"),
    ]
}

/// The chart's width and the room its bars have (the rest is for the figure beside them).
const CHART_WIDTH: u32 = 330;
const BAR_ROOM: u32 = 280;
/// Height of one bar and of one row (its label above it).
const BAR_HEIGHT: u32 = 20;
const ROW_HEIGHT: u32 = 52;

/// The bars of the chart: each count's label above a bar as long as its share of the largest
/// count, with the figure after it. Counts of something late or overridden are drawn red
/// (their labels say so: colour is never the only sign).
pub fn chart(t: &Timeliness) -> Value {
    let counts = t.counts();
    let max = counts.iter().map(|c| c.2).max().unwrap_or(0).max(1);
    let bars: Vec<Value> = counts
        .iter()
        .enumerate()
        .map(|(i, (name, _, n))| {
            let top = i as u32 * ROW_HEIGHT;
            let width = (*n as u64 * u64::from(BAR_ROOM) / max as u64) as u32;
            let good = matches!(*name, "formal_requests" | "hearings_within_deadline");
            json!({
                "label": short_label(name),
                "label_y": top + 16,
                "bar_y": top + 24,
                "width": width,
                "height": BAR_HEIGHT,
                "colour": if good { "#005eb8" } else { "#d5281b" },
                "value": n,
                "value_x": width + 8,
                "value_y": top + 24 + 15,
            })
        })
        .collect();
    let description = counts
        .iter()
        .map(|(_, label, n)| format!("{label}: {n}"))
        .collect::<Vec<_>>()
        .join(". ");
    json!({
        "width": CHART_WIDTH,
        "height": counts.len() as u32 * ROW_HEIGHT,
        "title": format!("Timeliness from {} to {}", long_date(t.from), long_date(t.to)),
        "description": format!("{description}."),
        "bars": bars,
    })
}

/// A count's name in the chart, short enough for its width (the table and the chart's
/// description say it in full).
fn short_label(name: &str) -> &'static str {
    match name {
        "formal_requests" => "Formal requests",
        "hearings_within_deadline" => "Hearings in time",
        "hearings_late" => "Hearings late",
        "notices_short" => "Notice too short",
        "bundles_late" => "Bundles late",
        "decisions_late" => "Decisions late",
        _ => "Rules overridden",
    }
}

/// The report's range when none is asked for: the financial year (from 1 April) up to today.
fn default_range(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let year = if today.month() >= 4 {
        today.year()
    } else {
        today.year() - 1
    };
    (NaiveDate::from_ymd_opt(year, 4, 1).unwrap_or(today), today)
}

fn boxes(sent: &mut Sent, name: &str, d: NaiveDate) {
    sent.insert(format!("{name}-day"), d.day().to_string());
    sent.insert(format!("{name}-month"), d.month().to_string());
    sent.insert(format!("{name}-year"), d.year().to_string());
}

fn allowed(who: &SignedIn) -> PageResult<()> {
    if who.caller.has(Role::Admin) || who.caller.has(Role::PanelSecretary) {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

/// `GET /reports/timeliness`: the form (a GET form: asking changes nothing) and, for a range
/// that reads, the report.
pub async fn page_handler(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    allowed(&who)?;
    let mut sent: Sent = register::query(&req);
    let asked = [
        "from-day",
        "from-month",
        "from-year",
        "to-day",
        "to-month",
        "to-year",
    ]
    .iter()
    .any(|k| sent.contains_key(*k));
    if !asked {
        let (from, to) = default_range(state.clock.today());
        boxes(&mut sent, "from", from);
        boxes(&mut sent, "to", to);
    }
    let fields = fields();
    let (st, caller) = (state.clone(), who.caller.clone());
    let outcome =
        register::through_api(&fields, &sent, None, &[], move |b: RangeBody| async move {
            st.timeliness_report(&caller, &b.from, &b.to).await
        })
        .await?;
    let (status, report, problems): (StatusCode, Option<Timeliness>, Vec<Problem>) = match outcome {
        Ok(t) => (StatusCode::OK, Some(t), Vec::new()),
        Err((status, problems)) => (status, None, problems),
    };
    let data = json!({
        "title": "Timeliness report",
        "user": who.layout(),
        "csrf": who.csrf,
        "breadcrumbs": [{"href": "/", "text": "Your cases"}],
        "errors": forms::summary(&fields, &problems),
        "fields": forms::render_fields(&fields, &sent, &problems),
        "report": report.as_ref().map(|t| json!({
            "from": long_date(t.from),
            "to": long_date(t.to),
            "rows": t.counts().iter().map(|(_, label, n)| json!({"label": label, "value": n}))
                .collect::<Vec<_>>(),
            "median": t.median_working_days_to_hearing.as_ref().map(ToString::to_string),
            "chart": chart(t),
            "csv": format!("/reports/timeliness.csv?from={}&to={}", t.from, t.to),
        })),
    });
    Ok(page(status, "timeliness", &data))
}

/// The range as the API reads it (the form's two dates, `YYYY-MM-DD`).
#[derive(serde::Deserialize)]
struct RangeBody {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /reports/timeliness.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`: the same figures as CSV.
pub async fn csv(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    allowed(&who)?;
    let q = register::query(&req);
    let get = |k: &str| q.get(k).map_or("", String::as_str);
    let t = match state
        .timeliness_report(&who.caller, get("from"), get("to"))
        .await
    {
        Ok(t) => t,
        Err(e) => {
            let problems = forms::problems_of(e, &[], &[("from", "From"), ("to", "To")])?;
            let text = problems
                .into_iter()
                .map(|p| p.text)
                .collect::<Vec<_>>()
                .join("; ");
            return Err(PageError::BadRequest(format!(
                "The report's dates do not read ({text}). Choose them again on the \
                 timeliness report page."
            )));
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"timeliness-{}-to-{}.csv\"",
                t.from, t.to
            ),
        ))
        .body(t.csv()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_long_as_their_share_of_the_largest_count() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let t = Timeliness {
            bundles_late: 1,
            decisions_late: 0,
            formal_requests: 4,
            from: d("2026-04-01"),
            hearings_late: 2,
            hearings_within_deadline: 2,
            median_working_days_to_hearing: None,
            notices_short: 0,
            overrides: 0,
            to: d("2027-03-31"),
        };
        let c = chart(&t);
        let bars = c["bars"].as_array().unwrap();
        assert_eq!(bars.len(), 7);
        assert_eq!(bars[0]["width"], BAR_ROOM);
        assert_eq!(bars[1]["width"], BAR_ROOM / 2);
        assert_eq!(bars[5]["width"], 0);
        assert!(c["description"].as_str().unwrap().starts_with(
            "Formal requests lodged: 4. Hearings within the 20-working-day limit: 2."
        ));
        assert_eq!(
            default_range(d("2026-03-02")),
            (d("2025-04-01"), d("2026-03-02"))
        );
        assert_eq!(
            default_range(d("2026-04-01")),
            (d("2026-04-01"), d("2026-04-01"))
        );
    }
}
