//! The FHSU referral pack (SPEC "Stage 3: the FHSU referral pack"): one ZIP for a case
//! referred to the FHSU, holding
//!
//! - `cover.pdf`: what a caseworker at NHS Resolution reads first ([`cover`]);
//! - every document of the case its reader may see, as `documents/NN-kind-name`;
//! - `manifest.json`: each file's name, kind, size and sha256, and the dispute's id and version.
//!
//! The same case gives the same pack, byte for byte: the entries carry the referral date as
//! their time, the documents come in upload order, and the cover's PDF is dated with the
//! referral date too. The ZIP is written to a file (a temporary one, for a download), one
//! document at a time, so a pack of 50 MiB is never held in memory.
//!
//! Document bytes are read in one place, [`copy_document`], so that how documents are stored
//! can change without touching the rest.

pub mod cover;
pub mod text;

use crate::db::disputes::{DocumentMeta, EventRow};
use crate::db::schema::{organisations, users};
use crate::db::DbConn;
use crate::domain::dispute::{Dispute, DocumentKind};
use crate::domain::workflow::State;
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Seek, Write};

/// A pack larger than this is not attached to the FHSU's notice: the notice says how to get it.
pub const EMAIL_LIMIT: u64 = 10 * 1024 * 1024;

/// Who a pack is made for, which decides the documents it holds (SPEC "Visibility").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reader {
    /// A party, an admin, and the FHSU (to whom the referring party sends it): no hearing
    /// record.
    Party,
    /// The panel's secretary: every document, the hearing record and votes too.
    Panel,
}

/// Whether the dispute has a pack: once referred to the FHSU, and after (closed following the
/// referral).
pub fn available(d: &Dispute) -> bool {
    d.referred_on.is_some() && matches!(d.state, State::ReferredToFhsu | State::Closed)
}

/// "1.2 MB", "340 KB".
pub fn size_label(n: u64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 {
        format!("{:.1} MB", n / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (n / 1024.0).ceil().max(1.0))
    }
}

/// `referral-pack-LDR-1A2B3C4D.zip`.
pub fn file_name(d: &Dispute) -> String {
    format!("referral-pack-{}.zip", d.case_ref())
}

/// A party as the cover shows it.
#[derive(Debug, Clone, Default)]
pub struct Org {
    pub name: String,
    pub address: String,
    pub ods_code: Option<String>,
}

/// One document of the pack.
#[derive(Debug, Clone)]
pub struct Doc {
    pub meta: DocumentMeta,
    /// Its name in the ZIP: `documents/NN-kind-name`, unique and safe.
    pub path: String,
}

/// Everything a pack is made of, read by [`gather`].
#[derive(Debug, Clone)]
pub struct Case {
    pub dispute: Dispute,
    pub reader: Reader,
    pub appellant: Org,
    pub respondent: Org,
    /// user id → (name, organisation id)
    pub people: HashMap<String, (String, String)>,
    /// organisation id → name
    pub orgs: HashMap<String, String>,
    /// The history, each event with its fields read.
    pub events: Vec<(EventRow, Value)>,
    pub documents: Vec<Doc>,
}

impl Case {
    pub fn person(&self, id: &str) -> String {
        self.people
            .get(id)
            .map(|p| p.0.clone())
            .unwrap_or_else(|| "someone no longer in the directory".into())
    }

    /// "Pat Practice (Elm Practice)".
    pub fn person_with_org(&self, id: &str) -> String {
        match self.people.get(id) {
            Some((name, org)) => match self.orgs.get(org) {
                Some(o) => format!("{name} ({o})"),
                None => name.clone(),
            },
            None => self.person(id),
        }
    }

    pub fn org(&self, id: &str) -> String {
        self.orgs.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    /// The referral's statement, contract document id and referring organisation.
    pub fn referral(&self) -> (String, Option<String>, Option<String>) {
        match &self.dispute.detail.fhsu_referral {
            Some(r) => (
                r.statement.clone(),
                Some(r.contract_document_id.clone()),
                Some(r.referred_by_org.clone()),
            ),
            None => (String::new(), None, None),
        }
    }

    /// The day of the referral, which dates the ZIP's entries and the cover.
    pub fn referred_on(&self) -> NaiveDate {
        self.dispute
            .referred_on
            .unwrap_or(self.dispute.matter_arose_on)
    }
}

/// Reads what the pack of `d` for `reader` is made of: the documents `may_see` lets through
/// (`service::visibility::can_see_document` for the caller; for the parties' pack, what a
/// party may see). `extra` is an event not yet written (the `refer_to_fhsu` being applied,
/// when the pack is built for its notice), appended to the history read.
pub fn gather(
    c: &mut DbConn,
    d: Dispute,
    extra: Option<&EventRow>,
    reader: Reader,
    may_see: &dyn Fn(DocumentKind) -> bool,
) -> QueryResult<Case> {
    let mut events = crate::db::disputes::events_of(c, &d.id)?;
    if let Some(e) = extra {
        if !events.iter().any(|x| x.seq == e.seq) {
            events.push(e.clone());
        }
    }
    // A stored kind that does not read is shown to the panel side only.
    let mut docs: Vec<DocumentMeta> = crate::db::disputes::documents_of(c, &d.id)?
        .into_iter()
        .filter(|m| match m.kind.parse::<DocumentKind>() {
            Ok(k) => may_see(k),
            Err(_) => reader == Reader::Panel,
        })
        .collect();
    // Upload order, ties by id: the same on both databases, every time.
    docs.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    let width = docs.len().to_string().len().max(2);
    let documents = docs
        .into_iter()
        .enumerate()
        .map(|(i, meta)| Doc {
            path: format!(
                "documents/{:0width$}-{}-{}",
                i + 1,
                safe_name(&meta.kind),
                safe_name(&meta.name)
            ),
            meta,
        })
        .collect::<Vec<_>>();

    // An event whose fields do not read is an error to fix in the data, never a blank line.
    let events: Vec<(EventRow, Value)> = events
        .into_iter()
        .map(|e| match serde_json::from_str(&e.data) {
            Ok(v) => Ok((e, v)),
            Err(err) => Err(diesel::result::Error::DeserializationError(
                format!(
                    "event {} of dispute {} does not read: {err}",
                    e.seq, e.dispute_id
                )
                .into(),
            )),
        })
        .collect::<QueryResult<_>>()?;
    let mut user_ids: Vec<String> = events.iter().map(|(e, _)| e.actor_id.clone()).collect();
    user_ids.extend(d.mediator_id().map(str::to_string));
    if let Some(p) = &d.panel {
        user_ids.extend(p.everyone().iter().map(|u| u.to_string()));
    }
    user_ids.extend(documents.iter().map(|x| x.meta.uploaded_by.clone()));
    for (_, v) in &events {
        if let Some(votes) = v.get("votes").and_then(|v| v.as_array()) {
            user_ids.extend(
                votes
                    .iter()
                    .filter_map(|x| x.get("member_id")?.as_str().map(str::to_string)),
            );
        }
    }
    user_ids.sort();
    user_ids.dedup();
    let people: HashMap<String, (String, String)> = users::table
        .filter(users::id.eq_any(&user_ids))
        .select((users::id, users::name, users::organisation_id))
        .load::<(String, String, String)>(c)?
        .into_iter()
        .map(|(id, n, o)| (id, (n, o)))
        .collect();
    let mut org_ids: Vec<String> = people.values().map(|p| p.1.clone()).collect();
    org_ids.extend([d.appellant_id.clone(), d.respondent_id.clone()]);
    org_ids.extend(d.lmc_id.clone());
    org_ids.sort();
    org_ids.dedup();
    type OrgRow = (String, String, String, Option<String>);
    let rows: Vec<OrgRow> = organisations::table
        .filter(organisations::id.eq_any(&org_ids))
        .select((
            organisations::id,
            organisations::name,
            organisations::address,
            organisations::ods_code,
        ))
        .load(c)?;
    let org_of = |id: &str| {
        rows.iter()
            .find(|r| r.0 == id)
            .map(|r| Org {
                name: r.1.clone(),
                address: r.2.clone(),
                ods_code: r.3.clone(),
            })
            .unwrap_or_default()
    };
    Ok(Case {
        appellant: org_of(&d.appellant_id),
        respondent: org_of(&d.respondent_id),
        orgs: rows.iter().map(|r| (r.0.clone(), r.1.clone())).collect(),
        people,
        events,
        documents,
        reader,
        dispute: d,
    })
}

/// A file name safe in a ZIP on any system: letters, digits, `.`, `-` and `_` are kept, any
/// other run of characters becomes one `-`; no leading dot (so never `.` or `..`), at most 80
/// characters (the extension kept), never empty.
pub fn safe_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_start_matches(['.', '-']).trim_end_matches('-');
    let out: String = if out.chars().count() > 80 {
        let ext: String = match out.rfind('.') {
            Some(i) if out.len() - i <= 10 => out[i..].to_string(),
            _ => String::new(),
        };
        let keep = 80 - ext.chars().count();
        let stem: String = out.chars().take(keep).collect();
        format!("{}{ext}", stem.trim_end_matches(['.', '-']))
    } else {
        out.to_string()
    };
    if out.is_empty() {
        "document".into()
    } else {
        out
    }
}

/// One file of the pack, as the manifest lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub kind: String,
    pub size: u64,
    pub sha256: String,
    /// The document's id and name in the service (absent for the cover).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_name: Option<String>,
}

/// The pack's `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub dispute_id: String,
    pub case_ref: String,
    pub version: i64,
    pub reader: Reader,
    pub referred_on: NaiveDate,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("writing the pack: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the ZIP: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the cover: {0}")]
    Cover(String),
}

/// Copies the bytes of document `id` into `out`; returns how many. The one place the pack
/// reads stored documents.
pub fn copy_document(c: &mut DbConn, id: &str, out: &mut dyn Write) -> Result<u64, PackError> {
    let mut size = 0u64;
    for seq in 0.. {
        match crate::db::disputes::document_chunk(c, id, seq)? {
            Some(bytes) => {
                out.write_all(&bytes)?;
                size += bytes.len() as u64;
            }
            None => break,
        }
    }
    Ok(size)
}

/// Counts and hashes what passes through to the writer inside.
struct Hashing<'a, W: Write> {
    inner: &'a mut W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The time every entry of the ZIP carries: the referral date, midnight (1980-01-01 for a date
/// a ZIP cannot hold).
fn entry_time(d: NaiveDate) -> zip::DateTime {
    let y = u16::try_from(d.year()).unwrap_or(1980);
    zip::DateTime::from_date_and_time(y, d.month() as u8, d.day() as u8, 0, 0, 0)
        .unwrap_or_default()
}

/// Writes the pack of `case` into `out` (cover, documents, manifest, in that order); returns
/// the writer and the manifest.
pub fn write<W: Write + Seek>(
    c: &mut DbConn,
    case: &Case,
    out: W,
) -> Result<(W, Manifest), PackError> {
    let cover = cover::render(case).map_err(PackError::Cover)?;
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(entry_time(case.referred_on()))
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(out);
    let mut files = Vec::with_capacity(case.documents.len() + 1);
    zip.start_file("cover.pdf", options)?;
    zip.write_all(&cover)?;
    files.push(FileEntry {
        name: "cover.pdf".into(),
        kind: "cover".into(),
        size: cover.len() as u64,
        sha256: hex::encode(Sha256::digest(&cover)),
        document_id: None,
        original_name: None,
    });
    for doc in &case.documents {
        zip.start_file(doc.path.as_str(), options)?;
        let mut h = Hashing {
            inner: &mut zip,
            hash: Sha256::new(),
            size: 0,
        };
        copy_document(c, &doc.meta.id, &mut h)?;
        let (size, sha) = (h.size, hex::encode(h.hash.finalize()));
        if sha != doc.meta.sha256 {
            tracing::error!(document_id = %doc.meta.id, stored = %doc.meta.sha256, read = %sha,
                "a document's bytes no longer match the sha256 recorded at upload");
        }
        files.push(FileEntry {
            name: doc.path.clone(),
            kind: doc.meta.kind.clone(),
            size,
            sha256: sha,
            document_id: Some(doc.meta.id.clone()),
            original_name: Some(doc.meta.name.clone()),
        });
    }
    let manifest = Manifest {
        dispute_id: case.dispute.id.clone(),
        case_ref: case.dispute.case_ref(),
        version: case.dispute.version,
        reader: case.reader,
        referred_on: case.referred_on(),
        files,
    };
    zip.start_file("manifest.json", options)?;
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| PackError::Cover(format!("manifest: {e}")))?;
    zip.write_all(&json)?;
    let out = zip.finish()?;
    Ok((out, manifest))
}

pub use crate::clock::london_date;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names_cannot_climb_out_or_hide() {
        for (raw, want) in [
            ("../../x", "x"),
            ("..\\..\\windows\\system32", "windows-system32"),
            ("/etc/passwd", "etc-passwd"),
            ("..", "document"),
            (".", "document"),
            ("", "document"),
            (".hidden", "hidden"),
            ("Contract (signed) 2025.pdf", "Contract-signed-2025.pdf"),
            ("Ffurflen ŵyr.pdf", "Ffurflen-ŵyr.pdf"),
            ("a\u{0}b\nc", "a-b-c"),
            ("😀.txt", "txt"),
        ] {
            assert_eq!(safe_name(raw), want, "{raw:?}");
        }
        let long = format!("{}.pdf", "n".repeat(300));
        let s = safe_name(&long);
        assert!(s.ends_with(".pdf") && s.chars().count() <= 80, "{s}");
    }

    #[test]
    fn entries_are_dated_with_the_referral_date() {
        let t = entry_time(NaiveDate::from_ymd_opt(2026, 3, 12).unwrap());
        assert_eq!((t.year(), t.month(), t.day()), (2026, 3, 12));
        let early = entry_time(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap());
        assert_eq!(early.year(), 1980);
    }
}
