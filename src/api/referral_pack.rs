//! `GET /disputes/{id}/referral-pack`: the FHSU referral pack of a referred dispute, as a ZIP
//! (see [`crate::pack`]). Built into a temporary file under the data folder and streamed from
//! it, so that a large pack is never held in memory; the file has no name on disk and goes
//! when the answer has been sent.

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::domain::dispute::Dispute;
use crate::pack::{self, PackError};
use crate::service::visibility;
use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpRequest, HttpResponse, Responder};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/disputes/{id}/referral-pack").route(web::get().to(referral_pack)));
}

impl From<PackError> for ApiError {
    fn from(e: PackError) -> Self {
        match e {
            PackError::Db(e) => ApiError::from(e),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The 409 for a dispute that has no pack yet.
pub fn not_available(d: &Dispute) -> ApiError {
    ApiError::Conflict {
        code: "referral_pack_not_available",
        detail: format!(
            "The referral pack exists once the dispute has been referred to the FHSU; it is {} now. \
             Either party of a contract matter refers it with the event refer_to_fhsu (after the \
             decision is notified, or after the formal request was screened out), and the pack can \
             be downloaded from then on.",
            d.state.as_str()
        ),
    }
}

/// A temporary file with no name, in the data folder (so a large pack is not written to a
/// memory-backed /tmp); the system's temporary folder if the data folder cannot take it.
pub fn temp_file(dir: &std::path::Path) -> std::io::Result<std::fs::File> {
    let _ = std::fs::create_dir_all(dir);
    tempfile::tempfile_in(dir).or_else(|e| {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot write a temporary file in the data folder; using the system's");
        tempfile::tempfile()
    })
}

/// The FHSU referral pack of a dispute referred to the FHSU, as a ZIP: `cover.pdf`, the
/// case's documents the caller may see (the hearing record only in the secretary's and admins'
/// pack) and `manifest.json` (each file's name, kind, size and sha256). For the parties, the
/// panel's secretary and admins, once the dispute is `referred_to_fhsu` (or closed after it).
/// The same case gives the same bytes.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/referral-pack", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "the pack, as an attachment named referral-pack-<case ref>.zip",
            content_type = "application/zip", body = Vec<u8>),
        (status = 403, description = "the caller may see the case but is neither a party, its panel's secretary nor an admin"),
        (status = 404), (status = 409, description = "the dispute has not been referred to the FHSU")))]
pub async fn referral_pack(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (user_id, id) = (caller.user_id.clone(), id.into_inner());
    let built = build(&state, caller, id.clone()).await?;
    // The pack holds the case's history and documents: its download is a read of them.
    state.record_read(&req, &user_id, &id, "referral_pack", None);
    built.respond(&req)
}

/// A referral pack built into its temporary file, ready to be sent.
pub struct Built {
    file: std::fs::File,
    name: String,
}

/// Builds the pack of the dispute `id` for `caller` (the API's route and the pages' alike):
/// 404 when the caller may not see the dispute, 403 when they may see it but are not one of
/// the pack's readers, 409 before the referral.
pub async fn build(state: &AppState, caller: Caller, id: String) -> ApiResult<Built> {
    let dir = state.cfg.data_dir.clone();
    let (file, name, size) = state
        .db(move |c| {
            let d = crate::service::visible(c, &caller, &id)?;
            let reader = visibility::pack_reader(&caller, &d)?;
            if !pack::available(&d) {
                return Err(not_available(&d));
            }
            let name = pack::file_name(&d);
            let see = |k| visibility::can_see_document(&caller, &d, k);
            let case = pack::gather(c, d.clone(), None, reader, &see)?;
            let file = temp_file(&dir).map_err(ApiError::internal)?;
            let (mut file, _) = pack::write(c, &case, file)?;
            use std::io::Seek;
            let size = file.stream_position().map_err(ApiError::internal)?;
            file.rewind().map_err(ApiError::internal)?;
            Ok((file, name, size))
        })
        .await?;
    tracing::info!(file = %name, size, "referral pack built");
    Ok(Built { file, name })
}

impl Built {
    /// The pack as an attachment, streamed from its file.
    pub fn respond(self, req: &HttpRequest) -> ApiResult<HttpResponse> {
        let named = actix_files::NamedFile::from_file(self.file, &self.name)
            .map_err(ApiError::internal)?
            .set_content_type("application/zip".parse().map_err(ApiError::internal)?)
            .set_content_disposition(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(self.name)],
            })
            .use_etag(false)
            .use_last_modified(false);
        Ok(named.respond_to(req).map_into_boxed_body())
    }
}
