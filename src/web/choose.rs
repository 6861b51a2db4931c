//! A form's organisation field: the other party of a dispute, a new user's organisation, the
//! organisation of an interest.
//!
//! Up to [`SHORT_LIST`] organisations to choose from, it is a select of their names. More —
//! a directory loaded from NHS ODS holds about 6,500 practices — would be a select of
//! thousands, too long to use with a keyboard or a screen reader and too heavy to send, so the
//! field becomes a text box for the organisation's ODS code or its name, and [`look_up`] finds
//! the organisation before the form goes to the service. A name that several organisations
//! share is refused, listing their ODS codes; so is one that names none. Either way the
//! service is sent the form without the field, so it refuses it too and changes nothing, while
//! still listing the form's other problems.

use super::forms::{Field, Input, Problem, Sent};
use crate::db::directory::{self as dir, Choosable, OrgChoice};
use crate::db::DbConn;
use diesel::QueryResult;

/// The most organisations a select offers.
pub const SHORT_LIST: i64 = 100;

/// `field` (its input replaced) as it offers the organisations of `which`, each named by
/// `label`: a select of them, or with more than [`SHORT_LIST`] a text box for the ODS code
/// or name, its hint saying so.
pub fn field(
    c: &mut DbConn,
    which: &Choosable,
    mut field: Field,
    label: fn(&OrgChoice) -> String,
) -> QueryResult<Field> {
    if dir::count_choosable(c, which)? <= SHORT_LIST {
        let options = dir::choosable_list(c, which, SHORT_LIST)?
            .iter()
            .map(|o| (o.id.clone(), label(o)))
            .collect();
        field.input = Input::Select(options);
    } else {
        let ask = "Enter its ODS code, for example B82001, or its full name.";
        field.hint = if field.hint.is_empty() {
            ask.into()
        } else {
            format!("{} {ask}", field.hint).into()
        };
        field.input = Input::Text;
    }
    Ok(field)
}

/// The form `sent` as the service should read it. When the field `name` of `fields` is a
/// text box (see [`field`]), what was typed in it is looked up among `which`: found, it is
/// replaced by the organisation's id; not found, or found several times, it is taken out and
/// the problem to show is returned.
pub fn look_up(
    c: &mut DbConn,
    which: &Choosable,
    fields: &[Field],
    name: &str,
    sent: &Sent,
) -> QueryResult<(Sent, Option<Problem>)> {
    let Some(field) = fields.iter().find(|f| f.name == name) else {
        return Ok((sent.clone(), None));
    };
    let typed = match (&field.input, sent.get(field.name)) {
        (Input::Text, Some(t)) if !t.trim().is_empty() => t.trim().to_string(),
        _ => return Ok((sent.clone(), None)),
    };
    let found = dir::choosable_named(c, which, &typed, 11)?;
    // An id or an ODS code names one organisation, whatever others are called.
    let exact = found
        .iter()
        .find(|o| o.id == typed || o.ods_code.as_deref() == Some(typed.to_uppercase().as_str()));
    let mut out = sent.clone();
    let problem = match (exact, found.as_slice()) {
        (Some(o), _) | (None, [o]) => {
            out.insert(field.name.to_string(), o.id.clone());
            None
        }
        (None, []) => Some(format!(
            "No organisation that can be chosen here has the ODS code or name “{typed}”: check \
             the ODS code, or enter the name exactly as the organisation is called"
        )),
        (None, several) => {
            let mut each: Vec<String> = several
                .iter()
                .take(10)
                .map(|o| match o.ods_code.as_deref().filter(|c| !c.is_empty()) {
                    Some(code) => format!("{code} ({}, {})", o.name, o.area),
                    None => format!(
                        "{} in {}, which has no ODS code yet (an admin can add it)",
                        o.name, o.area
                    ),
                })
                .collect();
            if several.len() > 10 {
                each.push("and others".into());
            }
            Some(format!(
                "More than one organisation is called “{typed}”: enter the ODS code of the one \
                 you mean: {}",
                each.join("; ")
            ))
        }
    };
    if problem.is_some() {
        out.remove(field.name);
    }
    Ok((
        out,
        problem.map(|text| Problem {
            field: Some(field.name.to_string()),
            text,
        }),
    ))
}

/// The form `sent` to draw again after [`look_up`] replaced what was typed in the field `name`
/// of `fields` by an organisation's id (the answers being changed on the check page): the id
/// shown as the organisation's ODS code, or its name when it has none.
pub fn typed_back(
    c: &mut DbConn,
    which: &Choosable,
    fields: &[Field],
    name: &str,
    sent: &Sent,
) -> QueryResult<Sent> {
    let mut out = sent.clone();
    let is_text = fields
        .iter()
        .any(|f| f.name == name && matches!(f.input, Input::Text));
    if let (true, Some(value)) = (is_text, sent.get(name)) {
        if let Some(o) = dir::choosable_named(c, which, value, 2)?
            .into_iter()
            .find(|o| o.id == *value)
        {
            let typed = o.ods_code.filter(|code| !code.is_empty()).unwrap_or(o.name);
            out.insert(name.to_string(), typed);
        }
    }
    Ok(out)
}
