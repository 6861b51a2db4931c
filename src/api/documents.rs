//! Documents' bytes on their way in and out, with memory and time bounded.
//!
//! An upload is received under a permit of [`AppState::uploads`] and spooled, as it arrives, to
//! an unnamed temporary file under `LDR_DATA_DIR/uploads` (unlinked from the start, so it goes
//! when the request ends however it ends, even in a crash), with its size bounded and its
//! SHA-256 computed on the way. Only then is it copied into the database, 256 KiB chunk by
//! chunk, in one short write transaction: a slow client never holds a database connection or
//! SQLite's write lock. A download streams the chunks one at a time. So a request holds at most
//! about one chunk of a document in memory whatever the document's size.
//!
//! Types and names: a document is served with its stored type only when that is on
//! [`SERVED_TYPES`], otherwise as `application/octet-stream`, always as an attachment with
//! `nosniff`; control and format characters (bidirectional overrides among them) are stripped
//! from names.

use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use actix_web::web;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::time::Duration;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// The largest document (the file part of an upload).
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;
/// A whole upload body may exceed the file by this much (the other fields, part headers and
/// boundaries); a `Content-Length` above the sum is refused before a byte is read.
pub const MAX_UPLOAD_OVERHEAD: u64 = 64 * 1024;
/// Documents are stored and served in chunks of this size (the last one shorter).
pub const CHUNK_BYTES: usize = 256 * 1024;
/// How long an upload waits for a free permit before it is refused with 429.
pub const PERMIT_WAIT: Duration = Duration::from_secs(5);
/// The `Retry-After` of that refusal.
pub const PERMIT_RETRY_AFTER_SECS: u64 = 10;
/// Fields of an upload other than the file hold at most this many bytes.
const FIELD_LIMIT: usize = 1024;
/// Parts an upload may have.
const MAX_PARTS: usize = 10;

/// The content types a document is served with as stored; anything else is served as
/// `application/octet-stream`. None of these is run by a browser in the service's origin.
pub const SERVED_TYPES: [&str; 17] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "text/plain",
    "text/csv",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/rtf",
    "message/rfc822",
];

/// The type a document is served with: its own (lower-cased, without parameters) when on
/// [`SERVED_TYPES`], otherwise `application/octet-stream`.
pub fn served_type(stored: &str) -> &'static str {
    let essence = stored
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    SERVED_TYPES
        .iter()
        .find(|t| **t == essence)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// Whether a character is dropped from a document's name: controls (Cc), format characters (Cf:
/// the bidirectional embeddings, overrides, isolates and marks U+202A–U+202E, U+2066–U+2069,
/// U+200E, U+200F, U+061C, zero-width characters, …) and the line and paragraph separators.
fn dropped_from_name(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// A document's name as stored and shown: the last path segment, without control or format
/// characters, quotes or semicolons, at most 200 characters, trimmed; "document" when nothing
/// is left (or only `.`/`..`).
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !dropped_from_name(*c) && *c != '"' && *c != ';')
        .take(200)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." {
        "document".into()
    } else {
        clean.to_string()
    }
}

/// The file part's name: `filename*` (RFC 6266 prefers it) when it is UTF-8, else `filename`.
fn part_file_name(cd: Option<&actix_web::http::header::ContentDisposition>) -> String {
    let Some(cd) = cd else {
        return "document".into();
    };
    let ext = cd.get_filename_ext().and_then(|v| match v.charset {
        actix_web::http::header::Charset::Ext(ref s) if s.eq_ignore_ascii_case("utf-8") => {
            String::from_utf8(v.value.clone()).ok()
        }
        actix_web::http::header::Charset::Us_Ascii
        | actix_web::http::header::Charset::Iso_8859_1 => {
            Some(v.value.iter().map(|b| *b as char).collect())
        }
        _ => None,
    });
    match ext.as_deref().or(cd.get_filename()) {
        Some(n) => clean_name(n),
        None => "document".into(),
    }
}

/// A received file, spooled to an unnamed temporary file.
pub struct Spooled {
    pub file: std::fs::File,
    pub size: u64,
    pub sha256: String,
    pub name: String,
    /// As stored: the part's type if on [`SERVED_TYPES`], otherwise `application/octet-stream`.
    pub content_type: String,
}

/// What an upload's body held.
pub struct Upload {
    pub kind: Option<String>,
    pub file: Option<Spooled>,
    /// Every other short field, by name (the upload page's `csrf_token`).
    pub fields: Vec<(String, String)>,
}

impl Upload {
    /// The value of the other field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A file being spooled: written and hashed on the blocking pool, a chunk at a time.
struct Spool {
    file: std::fs::File,
    hasher: Sha256,
    size: u64,
}

fn spool_error(e: impl std::fmt::Display) -> ApiError {
    // A full or failing disk is the service's trouble, not the client's: 503, logged.
    ApiError::Unavailable(format!("spooling an upload: {e}"))
}

impl Spool {
    async fn create(dir: PathBuf) -> ApiResult<Spool> {
        let file = web::block(move || {
            std::fs::create_dir_all(&dir)?;
            tempfile::tempfile_in(&dir)
        })
        .await?
        .map_err(spool_error)?;
        Ok(Spool {
            file,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Appends `buf` and gives it back emptied, for the next chunk.
    async fn write(mut self, mut buf: Vec<u8>) -> ApiResult<(Spool, Vec<u8>)> {
        web::block(move || {
            self.file.write_all(&buf)?;
            self.hasher.update(&buf);
            self.size += buf.len() as u64;
            buf.clear();
            Ok::<_, std::io::Error>((self, buf))
        })
        .await?
        .map_err(spool_error)
    }
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("The multipart body is malformed: {e}"))
}

/// A permit to receive an upload: at once when one is free, otherwise after waiting up to
/// [`PERMIT_WAIT`]; then 429 with `Retry-After`.
pub async fn upload_permit(state: &AppState) -> ApiResult<tokio::sync::OwnedSemaphorePermit> {
    let sem = state.uploads.clone();
    match tokio::time::timeout(PERMIT_WAIT, sem.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(ApiError::Unavailable(
            "the upload permits are closed".into(),
        )),
        Err(_) => {
            tracing::warn!("an upload was refused: every upload permit stayed taken");
            Err(ApiError::TooManyRequests {
                retry_after_secs: PERMIT_RETRY_AFTER_SECS,
                what: "uploads at once on this server".into(),
            })
        }
    }
}

/// Reads a multipart upload (`file`, `kind`): the file is spooled as it arrives and refused
/// with 413 as soon as it passes [`MAX_DOCUMENT_BYTES`]; a second `file` part is refused (400)
/// when it starts. The caller bounds the time it may take.
pub async fn read_upload(
    dir: PathBuf,
    headers: &actix_web::http::header::HeaderMap,
    payload: web::Payload,
) -> ApiResult<Upload> {
    let mut mp = actix_multipart::Multipart::new(headers, payload);
    let mut kind: Option<String> = None;
    let mut file: Option<Spooled> = None;
    let mut fields = Vec::new();
    let mut parts = 0;
    while let Some(field) = mp.next().await {
        let mut field = field.map_err(malformed)?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::BadRequest(format!(
                "Too many multipart fields: an upload has a file part and a kind part (at most {MAX_PARTS} parts)."
            )));
        }
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            if file.is_some() {
                return Err(ApiError::BadRequest(
                    "One file per upload: this request has a second file part. Send each document in a request of its own.".into(),
                ));
            }
            // A browser's form with no file chosen sends a file part with an empty name.
            let unnamed = field.content_disposition().is_none_or(|cd| {
                cd.get_filename().is_none_or(str::is_empty) && cd.get_filename_ext().is_none()
            });
            let fname = part_file_name(field.content_disposition());
            let content_type =
                served_type(field.content_type().map(|m| m.essence_str()).unwrap_or(""));
            let mut spool = Spool::create(dir.clone()).await?;
            let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
            let mut size = 0usize;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(malformed)?;
                size += chunk.len();
                if size > MAX_DOCUMENT_BYTES {
                    return Err(ApiError::PayloadTooLarge(
                        "A document may be at most 20 MiB.".into(),
                    ));
                }
                buf.extend_from_slice(&chunk);
                if buf.len() >= CHUNK_BYTES {
                    (spool, buf) = spool.write(buf).await?;
                }
            }
            if !buf.is_empty() {
                (spool, _) = spool.write(buf).await?;
            }
            if unnamed && spool.size == 0 {
                continue;
            }
            file = Some(Spooled {
                file: spool.file,
                size: spool.size,
                sha256: hex::encode(spool.hasher.finalize()),
                name: fname,
                content_type: content_type.to_string(),
            });
        } else {
            let mut buf = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(malformed)?;
                if buf.len() + chunk.len() > FIELD_LIMIT {
                    return Err(ApiError::field(&name, "is too long"));
                }
                buf.extend_from_slice(&chunk);
            }
            let value = String::from_utf8_lossy(&buf).trim().to_string();
            if name == "kind" {
                // An empty kind (a form's unchosen select) is no kind.
                kind = Some(value).filter(|v| !v.is_empty());
            } else {
                fields.push((name, value));
            }
        }
    }
    Ok(Upload { kind, file, fields })
}

/// Copies a spooled file into the database as chunks `0..` of `document_id` (inside the
/// caller's transaction), reading it [`CHUNK_BYTES`] at a time; returns the bytes copied.
pub fn copy_into_chunks(
    c: &mut crate::db::DbConn,
    document_id: &str,
    file: &mut std::fs::File,
) -> ApiResult<u64> {
    file.rewind().map_err(spool_error)?;
    let mut buf = Vec::with_capacity(CHUNK_BYTES);
    let mut seq = 0i32;
    let mut total = 0u64;
    loop {
        buf.clear();
        let n = (&mut *file)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut buf)
            .map_err(spool_error)?;
        if n == 0 {
            return Ok(total);
        }
        crate::db::disputes::insert_document_chunk(c, document_id, seq, &buf)?;
        total += n as u64;
        seq += 1;
    }
}

/// A document's bytes as a response body of `size` bytes: its chunks, each read on the
/// blocking pool when the previous one has been taken by the connection.
pub fn chunk_body(
    state: web::Data<AppState>,
    document_id: String,
    size: u64,
) -> actix_web::body::SizedStream<impl futures_util::Stream<Item = Result<web::Bytes, ApiError>>> {
    let stream = futures_util::stream::unfold(
        (state, document_id, 0i32, size),
        |(state, id, seq, left)| async move {
            if left == 0 {
                return None;
            }
            let key = id.clone();
            let got = state
                .db(move |c| Ok(crate::db::disputes::document_chunk(c, &key, seq)?))
                .await;
            match got {
                Ok(Some(bytes)) if (bytes.len() as u64) <= left && !bytes.is_empty() => {
                    let left = left - bytes.len() as u64;
                    Some((Ok(web::Bytes::from(bytes)), (state, id, seq + 1, left)))
                }
                Ok(other) => {
                    tracing::error!(document_id = %id, seq, found = other.map(|b| b.len()), left,
                        "a document's chunks do not add up to its size");
                    let e =
                        ApiError::Internal("a document's chunks do not add up to its size".into());
                    Some((Err(e), (state, id, seq, 0)))
                }
                Err(e) => {
                    tracing::warn!(document_id = %id, seq, error = %e, "a document download was cut short");
                    Some((Err(e), (state, id, seq, 0)))
                }
            }
        },
    );
    actix_web::body::SizedStream::new(size, stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_controls_and_bidi_marks() {
        assert_eq!(clean_name("a\u{202E}gpj.exe"), "agpj.exe");
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{FEFF}',
            '\u{2028}', '\u{2029}', '\u{0007}', '\u{007F}', '\u{0085}',
        ] {
            assert_eq!(clean_name(&format!("x{c}y.pdf")), "xy.pdf", "{:?}", c);
        }
        assert_eq!(clean_name("\u{202E}\u{200F}"), "document");
        assert_eq!(clean_name("../../etc/Grounds v2.pdf"), "Grounds v2.pdf");
        assert_eq!(clean_name("Ünïcödé ✓ résumé.pdf"), "Ünïcödé ✓ résumé.pdf");
        assert_eq!(clean_name(" .. "), "document");
    }

    #[test]
    fn only_listed_types_are_served_as_such() {
        assert_eq!(served_type("application/pdf"), "application/pdf");
        assert_eq!(served_type("Application/PDF; x=1"), "application/pdf");
        for t in [
            "text/html",
            "text/ecmascript",
            "application/x-ecmascript",
            "text/jscript",
            "application/javascript",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/xml",
            "multipart/x-mixed-replace",
            "",
        ] {
            assert_eq!(served_type(t), "application/octet-stream", "{t}");
        }
    }
}
