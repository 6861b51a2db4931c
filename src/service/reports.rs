//! The timeliness report (SPEC "Reports"): counts over the formal requests lodged in a range of
//! days, computed once here for `GET /api/v1/reports/timeliness`, its page and its CSV
//! download (`/reports/timeliness`), so that the three always give the same figures.

use super::ServiceError;
use crate::db::schema::{breaches, disputes, events as history};
use crate::db::DbConn;
use crate::domain::calendar::Calendar;
use crate::domain::roles::Role;
use crate::domain::workflow::State;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

/// Timeliness over the formal requests lodged in a range of days.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Timeliness {
    pub bundles_late: usize,
    pub decisions_late: usize,
    pub formal_requests: usize,
    pub from: NaiveDate,
    pub hearings_late: usize,
    pub hearings_within_deadline: usize,
    #[schema(value_type = Option<f64>)]
    pub median_working_days_to_hearing: Option<serde_json::Number>,
    pub notices_short: usize,
    pub overrides: usize,
    pub to: NaiveDate,
}

impl Timeliness {
    /// The counts in the report's order, each with its name in the API and in words.
    pub fn counts(&self) -> [(&'static str, &'static str, usize); 7] {
        [
            (
                "formal_requests",
                "Formal requests lodged",
                self.formal_requests,
            ),
            (
                "hearings_within_deadline",
                "Hearings within the 20-working-day limit",
                self.hearings_within_deadline,
            ),
            (
                "hearings_late",
                "Hearings late (or overdue and not held)",
                self.hearings_late,
            ),
            (
                "notices_short",
                "Hearings with less than 7 working days' notice",
                self.notices_short,
            ),
            (
                "bundles_late",
                "Bundles distributed less than 5 working days before the hearing",
                self.bundles_late,
            ),
            (
                "decisions_late",
                "Decisions sent more than 7 days after the hearing",
                self.decisions_late,
            ),
            (
                "overrides",
                "Rules overridden by the panel secretary",
                self.overrides,
            ),
        ]
    }

    /// The report as CSV: a header line of the API's field names and one line of figures
    /// (the median empty when no hearing was held).
    pub fn csv(&self) -> String {
        let mut head: Vec<&str> = vec!["from", "to"];
        let mut row: Vec<String> = vec![self.from.to_string(), self.to.to_string()];
        for (name, _, n) in self.counts() {
            head.push(name);
            row.push(n.to_string());
        }
        head.push("median_working_days_to_hearing");
        row.push(
            self.median_working_days_to_hearing
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        );
        format!("{}\r\n{}\r\n", head.join(","), row.join(","))
    }
}

/// The report for `caller` (an admin or a panel secretary) over the dates `from` to `to` as
/// sent (`YYYY-MM-DD`, both required): `GET /reports/timeliness` and the report's page alike.
pub fn timeliness_for(
    c: &mut DbConn,
    cal: &Calendar,
    today: NaiveDate,
    caller: &super::Caller,
    from: &str,
    to: &str,
) -> Result<Timeliness, ServiceError> {
    caller.require(&[Role::Admin, Role::PanelSecretary])?;
    let (from, to) = crate::domain::fields::parse_range(from, to).map_err(ServiceError::Fields)?;
    timeliness(c, cal, today, from, to)
}

/// The report over the formal requests lodged from `from` to `to` (inclusive); `today` decides
/// whether a hearing not yet held is already late.
pub fn timeliness(
    c: &mut DbConn,
    cal: &Calendar,
    today: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Timeliness, ServiceError> {
    type Row = (
        String,
        String,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<NaiveDate>,
    );
    let rows: Vec<Row> = disputes::table
        .filter(disputes::lodged_on.ge(from))
        .filter(disputes::lodged_on.le(to))
        .select((
            disputes::id,
            disputes::state,
            disputes::lodged_on,
            disputes::hearing_by,
            disputes::held_on,
        ))
        .load(c)?;
    // The range's disputes as a subquery, not a list of ids: SQLite allows at most
    // 32,766 bound values in one statement.
    let in_range = || {
        disputes::table
            .filter(disputes::lodged_on.ge(from))
            .filter(disputes::lodged_on.le(to))
            .select(disputes::id)
    };
    // Disputes, not breaches: a rule breached twice in one case (a moved hearing's bundle late
    // again) counts that case once.
    let br: std::collections::BTreeSet<(String, String)> = breaches::table
        .filter(breaches::dispute_id.eq_any(in_range()))
        .select((breaches::kind, breaches::dispute_id))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect();
    let count = |k: &str| br.iter().filter(|(kind, _)| kind == k).count();
    // Every override, counted from the history (each rule an event overrode), so that
    // overriding a rule the sweep had already recorded as breached counts too.
    // An event that does not read is an error to fix in the data, not an override less.
    let override_data: Vec<(String, i64, String)> = history::table
        .filter(history::dispute_id.eq_any(in_range()))
        .filter(history::data.like("%\"override\":%"))
        .select((history::dispute_id, history::seq, history::data))
        .load(c)?;
    let mut overrides = 0;
    for (dispute, seq, data) in &override_data {
        let d: Value = serde_json::from_str(data).map_err(|e| {
            ServiceError::Internal(format!(
                "event {seq} of dispute {dispute} does not read: {e}"
            ))
        })?;
        overrides += d["override"]["rules"].as_array().map_or(0, Vec::len);
    }
    let mut within = 0;
    let mut late = 0;
    let mut spans = Vec::new();
    for (_, st, lodged, by, held) in &rows {
        match (held, by) {
            (Some(h), Some(b)) => {
                if h <= b {
                    within += 1
                } else {
                    late += 1
                }
                if let Some(l) = lodged {
                    spans.push(cal.working_days_between(*l, *h));
                }
            }
            (None, Some(b)) => {
                let s = crate::domain::dispute::decode_state(st)
                    .map_err(|e| ServiceError::Internal(format!("the timeliness report: {e}")))?;
                let open = !s.is_terminal() && s != State::Rejected;
                if open && today > *b {
                    late += 1;
                }
            }
            _ => {}
        }
    }
    spans.sort_unstable();
    // A whole number of days when there is a middle one; halves otherwise.
    let median = match spans.len() {
        0 => None,
        n if n % 2 == 1 => Some(serde_json::Number::from(spans[n / 2])),
        n => serde_json::Number::from_f64((spans[n / 2 - 1] + spans[n / 2]) as f64 / 2.0),
    };
    Ok(Timeliness {
        bundles_late: count("bundle_too_late"),
        decisions_late: count("decision_late"),
        formal_requests: rows.len(),
        from,
        hearings_late: late,
        hearings_within_deadline: within,
        median_working_days_to_hearing: median,
        notices_short: count("insufficient_notice"),
        overrides,
        to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_has_the_api_names_and_the_figures() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let t = Timeliness {
            bundles_late: 1,
            decisions_late: 0,
            formal_requests: 3,
            from: d("2026-03-01"),
            hearings_late: 1,
            hearings_within_deadline: 2,
            median_working_days_to_hearing: serde_json::Number::from_f64(9.5),
            notices_short: 0,
            overrides: 2,
            to: d("2026-03-31"),
        };
        assert_eq!(
            t.csv(),
            "from,to,formal_requests,hearings_within_deadline,hearings_late,notices_short,\
             bundles_late,decisions_late,overrides,median_working_days_to_hearing\r\n\
             2026-03-01,2026-03-31,3,2,1,0,1,0,2,9.5\r\n"
        );
        let none = Timeliness {
            median_working_days_to_hearing: None,
            ..t
        };
        assert!(none.csv().ends_with(",2,\r\n"));
    }
}
