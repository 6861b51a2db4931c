//! The pages' handlebars templates (`page_templates/`), compiled into the binary: the same
//! engine as the e-mail notices, in strict mode (a field a template names but the page did not
//! give is an error, not an empty string), every value HTML-escaped.
//!
//! `page_templates/partials/NAME.hbs` is the partial `NAME` (the layout is `{{#> layout}}`);
//! every other `NAME.hbs` is the page `NAME`. Helpers:
//! - `{{asset "nhsuk/nhsuk-frontend.min.css"}}`: the file's content-hashed URL (fails the render
//!   for a name that is not an asset, so a typo cannot reach a page);
//! - `{{long_date d}}`: `"2027-03-15"` → `"Monday 15 March 2027"`.

use handlebars::{
    html_escape, Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde_json::Value;
use std::sync::OnceLock;

#[derive(rust_embed::Embed)]
#[folder = "page_templates/"]
#[include = "*.hbs"]
struct Embedded;

pub struct PageTemplates {
    registry: Handlebars<'static>,
    /// Templates that failed to compile (file → message): never non-empty in a build that
    /// passed its tests (`every_page_template_compiles`); kept so that start-up never panics.
    pub broken: Vec<(String, String)>,
}

fn asset_helper(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let name = h.param(0).and_then(|v| v.value().as_str()).unwrap_or("");
    let url = super::assets::assets()
        .url(name)
        .ok_or_else(|| RenderError::from(RenderErrorReason::Other(format!("no asset {name:?}"))))?;
    out.write(url)?;
    Ok(())
}

fn long_date_helper(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let raw = h.param(0).and_then(|v| v.value().as_str()).unwrap_or("");
    let d = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| RenderError::from(RenderErrorReason::Other(format!("not a date: {raw:?}"))))?;
    out.write(&crate::render::templates::long_date(d))?;
    Ok(())
}

impl PageTemplates {
    fn build() -> PageTemplates {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(html_escape);
        registry.register_helper("asset", Box::new(asset_helper));
        registry.register_helper("long_date", Box::new(long_date_helper));
        let mut broken = Vec::new();
        for file in Embedded::iter() {
            let Some(source) = Embedded::get(&file) else {
                continue;
            };
            let source = String::from_utf8_lossy(&source.data).into_owned();
            let name = file.trim_end_matches(".hbs");
            let res = match name.strip_prefix("partials/") {
                Some(partial) => registry.register_partial(partial, source),
                None => registry.register_template_string(name, source),
            };
            if let Err(e) = res {
                broken.push((file.to_string(), e.to_string()));
            }
        }
        PageTemplates { registry, broken }
    }

    /// Renders page `name` with `data`.
    pub fn render(&self, name: &str, data: &Value) -> Result<String, String> {
        self.registry
            .render(name, data)
            .map_err(|e| format!("page template {name}: {e}"))
    }

    pub fn names(&self) -> Vec<String> {
        self.registry.get_templates().keys().cloned().collect()
    }
}

/// The templates, compiled on first use.
pub fn templates() -> &'static PageTemplates {
    static T: OnceLock<PageTemplates> = OnceLock::new();
    T.get_or_init(PageTemplates::build)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_page_template_compiles() {
        let t = super::templates();
        assert!(t.broken.is_empty(), "{:?}", t.broken);
        for page in ["sign_in", "home", "case", "error", "form"] {
            assert!(t.names().iter().any(|n| n == page), "{page}");
        }
    }
}
