//! The pages' static files (`assets/`: the NHS.UK design system's built CSS, JavaScript and
//! images, and our own few lines), compiled into the binary and served at content-hashed URLs
//! (`/assets/nhsuk-frontend.1a2b3c4d5e.min.css`) that browsers may keep for a year.
//!
//! The design system's CSS names its images at fixed paths (`url(/assets/images/x.svg)`) and our
//! `app.js` imports the design system's module by name: when the table is built (once, on first
//! use), every such reference in a CSS or JavaScript file is rewritten to the hashed URL, and
//! the file is hashed after that, so a changed image changes the CSS's URL too.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
#[exclude = "test/*"]
#[exclude = "VERSIONS"]
#[exclude = "fonts/*"]
struct Embedded;

/// One served file.
pub struct Asset {
    pub bytes: Vec<u8>,
    /// The file gzipped, for a text file that shrinks (served to browsers that accept gzip).
    pub gzip: Option<Vec<u8>>,
    pub content_type: &'static str,
}

/// `bytes` gzipped, when that is smaller.
fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).ok()?;
    let out = e.finish().ok()?;
    (out.len() < bytes.len()).then_some(out)
}

/// Every asset: logical name (its path under `assets/`, e.g. `nhsuk/nhsuk-frontend.min.css`)
/// → hashed URL, and hashed file name → the file.
pub struct Assets {
    urls: HashMap<String, String>,
    files: HashMap<String, Asset>,
}

/// The cache lifetime of a hashed URL: its content never changes.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// `nhsuk/images/favicon.svg` with hash `h` → `nhsuk/images/favicon.h.svg`;
/// `nhsuk/nhsuk-frontend.min.css` → `nhsuk/nhsuk-frontend.h.min.css`.
fn hashed_name(name: &str, hash: &str) -> String {
    let (dir, file) = match name.rfind('/') {
        Some(i) => (&name[..=i], &name[i + 1..]),
        None => ("", name),
    };
    match file.find('.') {
        Some(i) => format!("{dir}{}.{hash}{}", &file[..i], &file[i..]),
        None => format!("{dir}{file}.{hash}"),
    }
}

impl Assets {
    fn build() -> Assets {
        let mut names: Vec<String> = Embedded::iter().map(|n| n.into_owned()).collect();
        // Files that refer to others come after them: images, then the design system's
        // CSS and JavaScript, then ours (which refer to the design system's).
        let rank = |n: &str| match n.rsplit('.').next() {
            Some("css") | Some("js") if n.starts_with("nhsuk/") => 1,
            Some("css") | Some("js") => 2,
            _ => 0,
        };
        names.sort_by_key(|n| (rank(n), n.clone()));
        let mut urls: HashMap<String, String> = HashMap::new();
        let mut files = HashMap::new();
        for name in names {
            let Some(file) = Embedded::get(&name) else {
                continue;
            };
            let mut bytes = file.data.into_owned();
            if rank(&name) > 0 {
                if let Ok(text) = String::from_utf8(bytes.clone()) {
                    bytes = rewrite(&text, &urls).into_bytes();
                }
            }
            let hash = hex::encode(&Sha256::digest(&bytes)[..5]);
            let hashed = hashed_name(&name, &hash);
            urls.insert(name.clone(), format!("/assets/{hashed}"));
            let content_type = content_type(&name);
            let text = content_type.starts_with("text/") || content_type == "image/svg+xml";
            files.insert(
                hashed,
                Asset {
                    content_type,
                    gzip: if text { gzip(&bytes) } else { None },
                    bytes,
                },
            );
        }
        Assets { urls, files }
    }

    /// The hashed URL of the asset at `name` under `assets/`; `None` when there is none.
    pub fn url(&self, name: &str) -> Option<&str> {
        self.urls.get(name).map(String::as_str)
    }

    /// The file at a hashed name (the URL without `/assets/`).
    pub fn file(&self, hashed: &str) -> Option<&Asset> {
        self.files.get(hashed)
    }

    /// Every hashed URL (for tests and the first-visit budget).
    pub fn all_urls(&self) -> impl Iterator<Item = (&str, &str)> {
        self.urls.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// `text` with each reference to an asset already hashed rewritten to its hashed URL: the
/// design system's `/assets/images/NAME` (its CSS's fixed paths) and our `/assets/NAME`.
fn rewrite(text: &str, urls: &HashMap<String, String>) -> String {
    let mut out = text.to_string();
    for (name, url) in urls {
        if let Some(image) = name.strip_prefix("nhsuk/images/") {
            out = out.replace(&format!("/assets/images/{image})"), &format!("{url})"));
        }
        out = out.replace(&format!("\"/assets/{name}\""), &format!("\"{url}\""));
    }
    out
}

/// The table, built on first use.
pub fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(Assets::build)
}

/// `GET /assets/{name}`: a file by its hashed name, cached for a year (gzipped when the browser
/// accepts it and that is smaller); anything else 404.
pub async fn serve(req: actix_web::HttpRequest, name: web::Path<String>) -> HttpResponse {
    let accepts_gzip = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    match assets().file(&name) {
        Some(a) => {
            let mut res = HttpResponse::Ok();
            res.insert_header((header::CONTENT_TYPE, a.content_type))
                .insert_header((header::CACHE_CONTROL, IMMUTABLE))
                .insert_header((header::VARY, "Accept-Encoding"));
            match &a.gzip {
                Some(gz) if accepts_gzip => res
                    .insert_header((header::CONTENT_ENCODING, "gzip"))
                    .body(web::Bytes::from_static(gz.as_slice())),
                _ => res.body(web::Bytes::from_static(a.bytes.as_slice())),
            }
        }
        None => HttpResponse::NotFound()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body("Not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_keep_the_extensions() {
        assert_eq!(
            hashed_name("nhsuk/nhsuk-frontend.min.css", "ab12"),
            "nhsuk/nhsuk-frontend.ab12.min.css"
        );
        assert_eq!(
            hashed_name("nhsuk/images/favicon.svg", "ab12"),
            "nhsuk/images/favicon.ab12.svg"
        );
        assert_eq!(hashed_name("app.js", "ab12"), "app.ab12.js");
    }

    #[test]
    fn every_reference_of_the_css_and_our_script_is_to_a_hashed_url_of_this_host() {
        let a = assets();
        let css_url = a.url("nhsuk/nhsuk-frontend.min.css").expect("the CSS");
        let css = a.file(css_url.trim_start_matches("/assets/")).unwrap();
        let css = String::from_utf8(css.bytes.clone()).unwrap();
        assert!(!css.contains("@font-face"), "no font from another host");
        assert!(!css.contains("http://") && !css.contains("https://"));
        let mut refs = 0;
        for part in css.split("url(").skip(1) {
            let target = part.split(')').next().unwrap().trim_matches(['"', '\'']);
            if target.starts_with("data:") {
                continue;
            }
            let hashed = target.strip_prefix("/assets/").expect(target);
            assert!(a.file(hashed).is_some(), "{target} is served");
            refs += 1;
        }
        assert!(refs > 0, "the CSS's images are rewritten");
        let js_url = a.url("app.js").expect("our script");
        let js = a.file(js_url.trim_start_matches("/assets/")).unwrap();
        let js = String::from_utf8(js.bytes.clone()).unwrap();
        let nhsuk_js = a.url("nhsuk/nhsuk-frontend.min.js").unwrap();
        assert!(
            js.contains(nhsuk_js),
            "app.js imports the hashed module: {js}"
        );
        let check_url = a.url("check.js").expect("the live check's script");
        let check = a.file(check_url.trim_start_matches("/assets/")).unwrap();
        let check = String::from_utf8(check.bytes.clone()).unwrap();
        assert!(
            !check.contains("http://") && !check.contains("https://"),
            "the live check posts to the form's own address only"
        );
    }
}
