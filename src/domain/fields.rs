//! Reading the fields of a JSON request body, collecting every problem before failing.
//!
//! Used by the filing ([`super::filing`]) and by every event ([`super::event`]). Each reader
//! records the field it read, so [`Fields::finish`] can refuse the fields nobody read (unknown
//! fields) with a message listing the ones the body may carry.

use chrono::{Datelike, NaiveDate, NaiveTime};
use serde_json::{Map, Value};

/// One thing wrong with one field of a request body (the API shows it under `errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &str, message: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// A closed set of string values (the enums made by `string_enum!` in `workflow.rs`).
pub trait Choice: Sized + Copy + 'static {
    /// Every value, as the API spells it.
    const NAMES: &'static [&'static str];
    fn parse(s: &str) -> Option<Self>;
}

/// Fields every event body may carry besides its own: the event's `type` and the
/// `expected_version` the sender read.
pub const ENVELOPE: [&str; 2] = ["type", "expected_version"];

/// `v` as a date `YYYY-MM-DD` between 1900 and 2200 (the calendar's years).
pub fn parse_date(field: &str, v: &str) -> Result<NaiveDate, FieldProblem> {
    let shape = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    Some(v)
        .filter(|_| shape)
        .and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        .filter(|d| (1900..=2200).contains(&d.year()))
        .ok_or_else(|| FieldProblem::new(field, "must be a date YYYY-MM-DD between 1900 and 2200"))
}

/// The days `from`–`to` (fields `from` and `to`, dates as [`parse_date`] reads them), `to` not
/// before `from`; every problem listed.
pub fn parse_range(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), Vec<FieldProblem>> {
    match (parse_date("from", from), parse_date("to", to)) {
        (Ok(f), Ok(t)) if t < f => Err(vec![FieldProblem::new("to", "must not be before from")]),
        (Ok(f), Ok(t)) => Ok((f, t)),
        (from, to) => Err(from.err().into_iter().chain(to.err()).collect()),
    }
}

/// Reads the fields of one JSON object.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    problems: Vec<FieldProblem>,
    /// The fields read so far, in order: the fields this body may carry.
    read: Vec<&'static str>,
    /// Fields refused with a message of their own (see [`Fields::refuse`]).
    refused: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Fields {
            map,
            problems: Vec::new(),
            read: Vec::new(),
            refused: Vec::new(),
        }
    }

    pub fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(FieldProblem::new(field, message));
    }

    fn has_problem(&self, field: &str) -> bool {
        self.problems.iter().any(|p| p.field == field)
    }

    fn get(&mut self, field: &'static str) -> Option<&'a Value> {
        if !self.read.contains(&field) {
            self.read.push(field);
        }
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// Trimmed text of at most `max` characters; `None` when absent, null or blank.
    pub fn opt_text(&mut self, field: &'static str, max: usize) -> Option<String> {
        match self.get(field) {
            None => None,
            Some(Value::String(s)) if s.chars().count() > max => {
                self.problem(field, format!("must be at most {max} characters"));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(_) => {
                self.problem(field, "must be a string");
                None
            }
        }
    }

    /// Required text (`None` after recording the problem).
    pub fn text(&mut self, field: &'static str, max: usize) -> Option<String> {
        let v = self.opt_text(field, max);
        if v.is_none() && !self.has_problem(field) {
            self.problem(field, "is required");
        }
        v
    }

    /// Optional free text that may be empty.
    pub fn text_or_empty(&mut self, field: &'static str, max: usize) -> String {
        self.opt_text(field, max).unwrap_or_default()
    }

    /// A required id (at most 64 characters).
    pub fn id(&mut self, field: &'static str) -> Option<String> {
        self.text(field, 64)
    }

    /// One of the values of `T`.
    pub fn one_of<T: Choice>(&mut self, field: &'static str) -> Option<T> {
        let v = self.text(field, 64)?;
        let parsed = T::parse(&v);
        if parsed.is_none() {
            self.problem(field, format!("must be one of: {}", T::NAMES.join(", ")));
        }
        parsed
    }

    /// A required date `YYYY-MM-DD`.
    pub fn date(&mut self, field: &'static str) -> Option<NaiveDate> {
        let s = self.text(field, 10)?;
        parse_date(field, &s)
            .map_err(|p| self.problems.push(p))
            .ok()
    }

    /// A required time `HH:MM` (24-hour).
    pub fn time(&mut self, field: &'static str) -> Option<NaiveTime> {
        let s = self.text(field, 5)?;
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map_err(|_| self.problem(field, "must be a time HH:MM (24-hour, Europe/London)"))
            .ok()
    }

    /// A required `true` or `false`.
    pub fn boolean(&mut self, field: &'static str) -> Option<bool> {
        match self.get(field) {
            Some(Value::Bool(b)) => Some(*b),
            None => {
                self.problem(field, "is required (true or false)");
                None
            }
            Some(_) => {
                self.problem(field, "must be true or false");
                None
            }
        }
    }

    /// A required, non-empty list of at most 200 document ids.
    pub fn document_ids(&mut self, field: &'static str) -> Option<Vec<String>> {
        match self.get(field) {
            Some(Value::Array(a)) if a.is_empty() => {
                self.problem(field, "must name at least one document");
                None
            }
            Some(Value::Array(a)) if a.len() <= 200 => {
                let ids: Option<Vec<String>> = a
                    .iter()
                    .map(|v| v.as_str().filter(|s| s.len() <= 64).map(str::to_string))
                    .collect();
                if ids.is_none() {
                    self.problem(field, "must be a list of document ids");
                }
                ids
            }
            None => {
                self.problem(field, "is required");
                None
            }
            Some(_) => {
                self.problem(field, "must be a list of at most 200 document ids");
                None
            }
        }
    }

    /// The raw value of a field with a shape of its own (checked by the caller); `None` when
    /// absent or null.
    pub fn raw(&mut self, field: &'static str) -> Option<&'a Value> {
        self.get(field)
    }

    /// Refuses `field`, if the body carries it, with a message of its own (instead of the
    /// unknown-field message).
    pub fn refuse(&mut self, field: &'static str, message: impl Into<String>) {
        if self.map.contains_key(field) {
            self.refused.push(field);
            self.problem(field, message);
        }
    }

    /// The fields read so far, in order.
    pub fn known(&self) -> &[&'static str] {
        &self.read
    }

    /// `value` when the body has no problem; otherwise every problem, with one for each field
    /// of the body that was never read (`what` names the body in that message, e.g.
    /// "assign_mediator"). `extra` lists fields the body may also carry (e.g. [`ENVELOPE`]).
    pub fn finish<T>(
        mut self,
        what: &str,
        extra: &[&str],
        value: Option<T>,
    ) -> Result<T, Vec<FieldProblem>> {
        let known = self.read.join(", ");
        let also = if extra.is_empty() {
            String::new()
        } else {
            format!(", and {}", extra.join(", "))
        };
        for key in self.map.keys() {
            let k = key.as_str();
            if !self.read.contains(&k) && !self.refused.contains(&k) && !extra.contains(&k) {
                let message = format!("is not a field of {what}: it takes {known}{also}");
                self.problems.push(FieldProblem {
                    field: key.clone(),
                    message,
                });
            }
        }
        match value {
            Some(v) if self.problems.is_empty() => Ok(v),
            // A reader that gives `None` records why, so `value` is only missing with a problem.
            _ if !self.problems.is_empty() => Err(self.problems),
            _ => Err(vec![FieldProblem::new(what, "is incomplete")]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_range_lists_every_bad_date_and_refuses_to_before_from() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            parse_range("2026-03-02", "2026-03-02"),
            Ok((d("2026-03-02"), d("2026-03-02")))
        );
        let fields = |r: Result<_, Vec<FieldProblem>>| -> Vec<String> {
            r.unwrap_err().into_iter().map(|p| p.field).collect()
        };
        assert_eq!(fields(parse_range("2026-3-2", "x")), ["from", "to"]);
        assert_eq!(fields(parse_range("2026-03-02", "")), ["to"]);
        let before = parse_range("2026-03-03", "2026-03-02").unwrap_err();
        assert_eq!(before, [FieldProblem::new("to", "must not be before from")]);
    }

    #[test]
    fn every_problem_is_collected_with_todays_wording() {
        let m = obj(json!({
            "a": "x".repeat(11), "b": 5, "c": "  ", "d": "2026-02-30", "e": "yes",
            "f": [], "g": "25:00", "h": "2026-03-02T10:00", "z": 1
        }));
        let mut f = Fields::new(&m);
        assert_eq!(f.text("a", 10), None);
        assert_eq!(f.text("b", 10), None);
        assert_eq!(f.text("c", 10), None);
        assert_eq!(f.date("d"), None);
        assert_eq!(f.boolean("e"), None);
        assert_eq!(f.document_ids("f"), None);
        assert_eq!(f.time("g"), None);
        assert_eq!(f.date("h"), None);
        assert_eq!(f.text("missing", 10), None);
        let problems = f.finish("thing", &ENVELOPE, Some(())).unwrap_err();
        let got: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.field.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "must be at most 10 characters"),
                ("b", "must be a string"),
                ("c", "is required"),
                ("d", "must be a date YYYY-MM-DD between 1900 and 2200"),
                ("e", "must be true or false"),
                ("f", "must name at least one document"),
                ("g", "must be a time HH:MM (24-hour, Europe/London)"),
                ("h", "must be at most 10 characters"),
                ("missing", "is required"),
                (
                    "z",
                    "is not a field of thing: it takes a, b, c, d, e, f, g, h, missing, \
                     and type, expected_version"
                ),
            ]
        );
    }

    #[test]
    fn dates_keep_to_the_calendars_years_and_shape() {
        assert!(parse_date("d", "2026-03-02").is_ok());
        for bad in [
            "1899-12-31",
            "2201-01-01",
            "2026-3-02",
            "02/03/2026",
            "+026-03-02",
        ] {
            assert!(parse_date("d", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn null_is_absent_and_text_is_trimmed() {
        let m = obj(json!({"a": null, "b": "  x  "}));
        let mut f = Fields::new(&m);
        assert_eq!(f.opt_text("a", 5), None);
        assert_eq!(f.text("b", 5).as_deref(), Some("x"));
        assert_eq!(f.finish("thing", &[], Some(1)), Ok(1));
    }
}
