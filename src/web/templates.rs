//! The pages' handlebars templates (`page_templates/`), compiled into the binary: the same
//! engine as the e-mail notices, in strict mode (a field a template names but the page did not
//! give is an error, not an empty string), every value HTML-escaped.
//!
//! `page_templates/partials/NAME.hbs` is the partial `NAME`; every other `NAME.hbs` is the page
//! `NAME`, its body: [`PageTemplates::render`] draws the body, then `partials/layout.hbs` around
//! it (the NHS.UK header, skip link, breadcrumbs, footer) from the few things the layout reads
//! ([`LAYOUT_KEYS`]). The layout is not a partial block around the page, and a page gives each
//! of its partials just what it draws (`{{> form_fields fields}}`), because handlebars copies a
//! partial's whole context: a page's data would be copied at each partial. Helpers:
//! - `{{asset "nhsuk/nhsuk-frontend.min.css"}}`: the file's content-hashed URL (fails the render
//!   for a name that is not an asset, so a typo cannot reach a page);
//! - `{{long_date d}}`: `"2027-03-15"` → `"Monday 15 March 2027"`;
//! - `{{tag t}}`: an NHS.UK tag from `{"text", "colour"}` ([`super::list::Tag`]): the words
//!   in the colour (a helper rather than a partial: a list draws one or more a row, and a
//!   partial costs handlebars a context of its own and a parse of its parameter each time).

use handlebars::{
    html_escape, Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext,
    RenderError, RenderErrorReason,
};
use serde_json::Value;
use std::sync::OnceLock;

#[derive(rust_embed::Embed)]
#[folder = "page_templates/"]
#[include = "*.hbs"]
struct Embedded;

/// What the layout reads of a page's data.
pub const LAYOUT_KEYS: [&str; 6] = ["title", "errors", "refresh", "user", "csrf", "breadcrumbs"];

pub struct PageTemplates {
    registry: Handlebars<'static>,
    /// The pages' names (the other templates are partials).
    pages: std::collections::HashSet<String>,
    /// Templates that failed to compile (file → message): never non-empty in a build that
    /// passed its tests (`every_page_template_compiles`); kept so that start-up never panics.
    pub broken: Vec<(String, String)>,
}

/// A helper of one parameter that writes what `f` makes of it, or fails the render with
/// `f`'s message.
struct OneParam(fn(&Value) -> Result<String, String>);

impl HelperDef for OneParam {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let param = h.param(0).map_or(&Value::Null, |v| v.value());
        let text = (self.0)(param).map_err(|m| RenderError::from(RenderErrorReason::Other(m)))?;
        out.write(&text)?;
        Ok(())
    }
}

/// `{{tag t}}`: `<strong class="nhsuk-tag nhsuk-tag--COLOUR">TEXT</strong>`, both escaped;
/// fails the render when `t` has no text or no colour.
fn tag(t: &Value) -> Result<String, String> {
    let field = |k: &str| {
        t.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("a tag without its {k}"))
    };
    let (text, colour) = (field("text")?, field("colour")?);
    Ok(format!(
        "<strong class=\"nhsuk-tag nhsuk-tag--{}\">{}</strong>",
        html_escape(colour),
        html_escape(text)
    ))
}

fn asset_url(name: &Value) -> Result<String, String> {
    let name = name.as_str().unwrap_or("");
    super::assets::assets()
        .url(name)
        .map(str::to_string)
        .ok_or_else(|| format!("no asset {name:?}"))
}

fn long_date(raw: &Value) -> Result<String, String> {
    let raw = raw.as_str().unwrap_or("");
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(crate::render::templates::long_date)
        .map_err(|_| format!("not a date: {raw:?}"))
}

impl PageTemplates {
    fn build() -> PageTemplates {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(html_escape);
        registry.register_helper("asset", Box::new(OneParam(asset_url)));
        registry.register_helper("long_date", Box::new(OneParam(long_date)));
        registry.register_helper("tag", Box::new(OneParam(tag)));
        let mut broken = Vec::new();
        let mut pages = std::collections::HashSet::new();
        for file in Embedded::iter() {
            let Some(source) = Embedded::get(&file) else {
                continue;
            };
            let source = String::from_utf8_lossy(&source.data).into_owned();
            let name = file.trim_end_matches(".hbs");
            let res = match name.strip_prefix("partials/") {
                Some(partial) => registry.register_partial(partial, source),
                None => {
                    pages.insert(name.to_string());
                    registry.register_template_string(name, source)
                }
            };
            if let Err(e) = res {
                broken.push((file.to_string(), e.to_string()));
            }
        }
        PageTemplates {
            registry,
            pages,
            broken,
        }
    }

    /// Renders page `name` with `data`, in the layout; a partial's name (a fragment such as
    /// `check_result`) is rendered alone.
    pub fn render<T: serde::Serialize>(&self, name: &str, data: &T) -> Result<String, String> {
        let failed = |e: handlebars::RenderError| format!("page template {name}: {e}");
        // A context made from the data itself (`render` would copy it once more).
        let data = Context::from(
            serde_json::to_value(data).map_err(|e| format!("page data {name}: {e}"))?,
        );
        let body = self
            .registry
            .render_with_context(name, &data)
            .map_err(failed)?;
        if !self.pages.contains(name) {
            return Ok(body);
        }
        let mut frame: serde_json::Map<String, serde_json::Value> = LAYOUT_KEYS
            .iter()
            .filter_map(|k| data.data().get(*k).map(|v| (k.to_string(), v.clone())))
            .collect();
        frame.insert("body".into(), body.into());
        let frame = Context::from(serde_json::Value::Object(frame));
        self.registry
            .render_with_context("layout", &frame)
            .map_err(failed)
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

    #[test]
    fn a_tag_is_its_words_in_its_colour_escaped() {
        let mut h = handlebars::Handlebars::new();
        h.set_strict_mode(true);
        h.register_helper("tag", Box::new(super::OneParam(super::tag)));
        h.register_template_string("t", "{{tag t}}").unwrap();
        let out = h
            .render(
                "t",
                &serde_json::json!({"t": {"text": "Due <soon>", "colour": "orange"}}),
            )
            .unwrap();
        assert_eq!(
            out,
            r#"<strong class="nhsuk-tag nhsuk-tag--orange">Due &lt;soon&gt;</strong>"#
        );
        for broken in [
            serde_json::json!({"t": {"text": "Breached"}}),
            serde_json::json!({"t": {"colour": "red"}}),
        ] {
            let e = h.render("t", &broken).unwrap_err().to_string();
            assert!(e.contains("a tag without its"), "{e}");
        }
    }
}
