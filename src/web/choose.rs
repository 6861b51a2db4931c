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
    // One more than a select offers says whether there are too many.
    let listed = dir::choosable_list(c, which, SHORT_LIST + 1)?;
    if listed.len() as i64 <= SHORT_LIST {
        field.input = Input::Select(listed.iter().map(|o| (o.id.clone(), label(o))).collect());
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

/// A form's organisation field looked up ([`look_up`]).
pub struct LookedUp {
    /// The form as the service should read it: what was typed replaced by the organisation's
    /// id, or taken out when it names none or several.
    pub sent: Sent,
    /// Why it was taken out.
    pub problem: Option<Problem>,
    /// The form to draw again: an id in the box (sent on by the check page) shown as the
    /// organisation's ODS code, or its name when it has none; otherwise what was typed.
    pub shown: Sent,
}

/// The form `sent` looked up. When the field `name` of `fields` is a text box (see [`field`]),
/// what was typed in it is looked up among `which`.
pub fn look_up(
    c: &mut DbConn,
    which: &Choosable,
    fields: &[Field],
    name: &str,
    sent: &Sent,
) -> QueryResult<LookedUp> {
    let unchanged = || LookedUp {
        sent: sent.clone(),
        problem: None,
        shown: sent.clone(),
    };
    let Some(field) = fields.iter().find(|f| f.name == name) else {
        return Ok(unchanged());
    };
    let typed = match (&field.input, sent.get(field.name)) {
        (Input::Text, Some(t)) if !t.trim().is_empty() => t.trim().to_string(),
        _ => return Ok(unchanged()),
    };
    let found = dir::choosable_named(c, which, &typed, 11)?;
    // An id or an ODS code names one organisation, whatever others are called.
    let exact = found
        .iter()
        .find(|o| o.id == typed || o.ods_code.as_deref() == Some(typed.to_uppercase().as_str()));
    let (mut out, mut shown) = (sent.clone(), sent.clone());
    let problem = match (exact, found.as_slice()) {
        (Some(o), _) | (None, [o]) => {
            out.insert(field.name.to_string(), o.id.clone());
            if o.id == typed {
                let code = o.ods_code.as_deref().filter(|code| !code.is_empty());
                shown.insert(field.name.to_string(), code.unwrap_or(&o.name).to_string());
            }
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
    Ok(LookedUp {
        sent: out,
        problem: problem.map(|text| Problem {
            field: Some(field.name.to_string()),
            text,
        }),
        shown,
    })
}
