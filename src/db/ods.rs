//! Writes the organisations of an ODS file (`domain::ods`) to the directory, by ODS code:
//! created when new, updated when a field ODS gives has changed, left alone otherwise (a second
//! run of the same file writes nothing). Never deletes: a closed organisation is marked
//! inactive. The e-mail address, which ODS does not give, is the admins': a new organisation
//! has none, and an update never touches it.

use super::schema::organisations;
use super::{now, write_tx, DbConn};
use crate::domain::ods::{Layout, OdsRecord, Skipped};
use diesel::prelude::*;
use std::collections::HashMap;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Lines left out here (the commissioner unknown, the code taken by another kind, …).
    pub skipped: Vec<Skipped>,
}

/// Lines written per transaction. A transaction that fails is written again line by line, so
/// that one bad line costs only itself.
const CHUNK: usize = 500;

/// An organisation of the directory that has an ODS code.
#[derive(Debug, Clone)]
struct Existing {
    id: String,
    kind: String,
    /// Its ODS-owned fields as they are now.
    fields: Fields,
}

/// The fields ODS owns, as they should be.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fields {
    ods_code: String,
    name: String,
    area: String,
    region: String,
    address: String,
    commissioner_id: Option<String>,
    active: bool,
}

enum Op {
    Create(Fields),
    Update(String, Fields),
}

struct Planned {
    line: u64,
    op: Op,
}

fn load(c: &mut DbConn) -> QueryResult<Vec<Existing>> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        bool,
    );
    let rows: Vec<Row> = organisations::table
        .filter(organisations::ods_code.is_not_null())
        .select((
            organisations::id,
            organisations::ods_code.assume_not_null(),
            organisations::kind,
            organisations::name,
            organisations::area,
            organisations::region,
            organisations::address,
            organisations::commissioner_id,
            organisations::active,
        ))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, ods_code, kind, name, area, region, address, commissioner_id, active)| Existing {
                id,
                kind,
                fields: Fields {
                    ods_code,
                    name,
                    area,
                    region,
                    address,
                    commissioner_id,
                    active,
                },
            },
        )
        .collect())
}

/// Imports `records` of `layout`. A practice's commissioner must be in the directory already
/// (import the commissioner file first, or name it first on the same command line). Errors
/// only when the directory cannot be read; a line that cannot be written is skipped.
pub fn import(c: &mut DbConn, layout: Layout, records: &[OdsRecord]) -> Result<Outcome, String> {
    let existing = load(c).map_err(|e| format!("reading the directory: {e}"))?;
    let mut by_code: HashMap<String, Vec<&Existing>> = HashMap::new();
    for e in &existing {
        by_code
            .entry(e.fields.ods_code.trim().to_ascii_uppercase())
            .or_default()
            .push(e);
    }
    let kind = layout.kind();
    let mut out = Outcome::default();
    let mut plan = Vec::new();
    for r in records {
        let skip = |reason: String| Skipped {
            line: r.line,
            reason,
        };
        let commissioner_id = match &r.commissioner_code {
            None => None,
            Some(code) => {
                let found: Vec<&&Existing> = by_code
                    .get(code)
                    .map(|v| v.iter().filter(|e| e.kind == "commissioner").collect())
                    .unwrap_or_default();
                match found.as_slice() {
                    [one] => Some(one.id.clone()),
                    [] => {
                        out.skipped.push(skip(format!(
                            "its commissioner {code} (column 15) is not in the directory: \
                             import the commissioner file (eccg.csv) first"
                        )));
                        continue;
                    }
                    many => {
                        out.skipped.push(skip(format!(
                            "its commissioner's ODS code {code} is held by {} organisations in \
                             the directory: correct them first",
                            many.len()
                        )));
                        continue;
                    }
                }
            }
        };
        let want = Fields {
            ods_code: r.ods_code.clone(),
            name: r.name.clone(),
            area: r.area.clone(),
            region: r.region.clone(),
            address: r.address.clone(),
            commissioner_id,
            active: r.active,
        };
        match by_code
            .get(&r.ods_code)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            [] => plan.push(Planned {
                line: r.line,
                op: Op::Create(want),
            }),
            [e] if e.kind != kind => out.skipped.push(skip(format!(
                "ODS code {} belongs to an organisation of kind {} in the directory, not a {kind}",
                r.ods_code, e.kind
            ))),
            [e] => {
                if e.fields == want {
                    out.unchanged += 1;
                } else {
                    plan.push(Planned {
                        line: r.line,
                        op: Op::Update(e.id.clone(), want),
                    });
                }
            }
            many => out.skipped.push(skip(format!(
                "ODS code {} is held by {} organisations in the directory: correct them first",
                r.ods_code,
                many.len()
            ))),
        }
    }
    for chunk in plan.chunks(CHUNK) {
        let whole = write_tx(c, |c| {
            for p in chunk {
                apply(c, kind, &p.op)?;
            }
            Ok::<_, diesel::result::Error>(())
        });
        // A chunk refused as a whole is written line by line, so that the lines the database
        // refuses (a constraint) are skipped and the others kept; any other failure (the
        // connection lost, a timeout) stops the import: the rest is not written, and the
        // command exits 1 (running it again completes it).
        let results: Vec<(u64, &Op, Result<(), String>)> = match whole {
            Ok(()) => chunk.iter().map(|p| (p.line, &p.op, Ok(()))).collect(),
            Err(_) => {
                let mut each = Vec::with_capacity(chunk.len());
                for p in chunk {
                    match write_tx(c, |c| apply(c, kind, &p.op)) {
                        Ok(()) => each.push((p.line, &p.op, Ok(()))),
                        Err(e) if refuses_the_line(&e) => {
                            each.push((p.line, &p.op, Err(e.to_string())))
                        }
                        Err(e) => {
                            return Err(format!(
                            "the database failed at line {}: {e}; lines before it were written, \
                                 run the import again to complete it",
                            p.line
                        ))
                        }
                    }
                }
                each
            }
        };
        for (line, op, r) in results {
            match (r, op) {
                (Ok(()), Op::Create(_)) => out.created += 1,
                (Ok(()), Op::Update(..)) => out.updated += 1,
                (Err(e), _) => out.skipped.push(Skipped {
                    line,
                    reason: format!("the database refused it: {e}"),
                }),
            }
        }
    }
    out.skipped.sort_by_key(|s| s.line);
    Ok(out)
}

/// Whether the database refused this line's data (a constraint), rather than failed.
fn refuses_the_line(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    matches!(
        e,
        E::DatabaseError(
            K::UniqueViolation | K::ForeignKeyViolation | K::NotNullViolation | K::CheckViolation,
            _
        )
    )
}

fn apply(c: &mut DbConn, kind: &str, op: &Op) -> QueryResult<()> {
    match op {
        Op::Create(f) => diesel::insert_into(organisations::table)
            .values((
                organisations::id.eq(uuid::Uuid::new_v4().to_string()),
                organisations::name.eq(&f.name),
                organisations::kind.eq(kind),
                organisations::area.eq(&f.area),
                organisations::region.eq(&f.region),
                // ODS has no e-mail addresses: an admin adds one.
                organisations::email.eq(""),
                organisations::address.eq(&f.address),
                organisations::ods_code.eq(&f.ods_code),
                organisations::commissioner_id.eq(&f.commissioner_id),
                organisations::created_at.eq(now()),
                organisations::active.eq(f.active),
            ))
            .execute(c)
            .map(|_| ()),
        Op::Update(id, f) => diesel::update(organisations::table.find(id))
            .set((
                organisations::name.eq(&f.name),
                organisations::area.eq(&f.area),
                organisations::region.eq(&f.region),
                organisations::address.eq(&f.address),
                organisations::ods_code.eq(&f.ods_code),
                organisations::commissioner_id.eq(&f.commissioner_id),
                organisations::active.eq(f.active),
            ))
            .execute(c)
            .map(|_| ()),
    }
}
