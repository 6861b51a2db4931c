//! E-mail notice templates: loading, helpers and pure rendering.
//!
//! Each notice NAME has three Handlebars files in `email_templates/`:
//! `NAME.subject.hbs`, `NAME.txt.hbs` and `NAME.html.hbs`, plus the shared partials in
//! `email_templates/partials/` (`{{> header_txt}}`, `{{> footer_txt}}`, `{{> header_html}}`,
//! `{{> footer_html}}`).
//!
//! Two registries are used so that escaping is right for each output: the HTML registry
//! escapes every `{{value}}`, the plain registry (subject and text) escapes nothing. Both run
//! in strict mode, so a required field that is missing from the context is an error; optional
//! fields are guarded with `{{#if x}}` in the templates.
//!
//! Helpers available in every template:
//! - `{{long_date d}}`: `"2026-03-12"` → `"Thursday 12 March 2026"`.
//! - `{{clock_time t}}`: `"14:30"` → `"2:30pm"`, `"10:00"` → `"10am"`, `"12:00"` → `"midday"`.
//! - `{{expect_one_of v "a" "b"}}`: prints nothing, fails the render unless `v` is one of the
//!   listed strings (guards enumerated fields such as `outcome`).
//! - `(is_list v)`: true when `v` is a JSON array (fields such as `recommendations` may be a
//!   list of items or one free-text string).
//!
//! HTML registry only:
//! - `{{multiline text}}`: HTML-escapes `text` and turns line breaks into `<br>`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use handlebars::{
    html_escape, no_escape, Context, Handlebars, Helper, HelperDef, HelperResult, Output,
    RenderContext, RenderError, RenderErrorReason, ScopedJson,
};
use serde_json::Value;

/// A rendered notice, ready to be put into a MIME message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line, trimmed, never HTML-escaped.
    pub subject: String,
    /// Plain-text body (never HTML-escaped), ending in exactly one newline.
    pub text: String,
    /// HTML body, every inserted value escaped.
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A template file is missing or unreadable.
    #[error("cannot read template file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A template file does not parse.
    #[error("template file {file} is broken: {message}")]
    Parse { file: String, message: String },
    /// `render` was asked for a name that is not in [`Templates::NAMES`].
    #[error("unknown notice template {0:?}")]
    UnknownTemplate(String),
    /// Rendering failed, e.g. a required field is missing (strict mode) or a date is malformed.
    #[error("rendering {file} failed: {message}")]
    Render { file: String, message: String },
    /// The subject rendered to nothing.
    #[error("subject of {0} rendered empty")]
    EmptySubject(String),
}

/// The three parts of a notice: `(suffix in the file name, goes to the HTML registry)`.
const PARTS: [(&str, bool); 3] = [("subject", false), ("txt", false), ("html", true)];

/// Shared partials: `(partial name, file under email_templates/, goes to the HTML registry)`.
const PARTIALS: [(&str, &str, bool); 4] = [
    ("header_txt", "partials/header.txt.hbs", false),
    ("footer_txt", "partials/footer.txt.hbs", false),
    ("header_html", "partials/header.html.hbs", true),
    ("footer_html", "partials/footer.html.hbs", true),
];

macro_rules! notice_templates {
    ($($name:literal),+ $(,)?) => {
        const TEMPLATE_NAMES: &[&str] = &[$($name),+];

        /// `(name, subject, txt, html)` compiled into the binary.
        const EMBEDDED: &[(&str, &str, &str, &str)] = &[$(
            (
                $name,
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/email_templates/", $name, ".subject.hbs")),
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/email_templates/", $name, ".txt.hbs")),
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/email_templates/", $name, ".html.hbs")),
            )
        ),+];
    };
}

notice_templates!(
    "dispute_filed",
    "dispute_acknowledged",
    "awaiting_panel",
    "mediator_assigned",
    "informal_resolved",
    "informal_exhausted",
    "formal_requested",
    "screening_outcome",
    "panel_appointed",
    "hearing_scheduled",
    "hearing_cancelled",
    "bundle_distributed",
    "decision_notified",
    "fhsu_referral",
    "fhsu_determination",
    "dispute_withdrawn",
    "dispute_closed",
    "deadline_reminder",
    "deadline_breached",
);

const EMBEDDED_PARTIALS: [&str; 4] = [
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/email_templates/partials/header.txt.hbs"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/email_templates/partials/footer.txt.hbs"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/email_templates/partials/header.html.hbs"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/email_templates/partials/footer.html.hbs"
    )),
];

/// The notice templates, compiled and ready to render.
pub struct Templates {
    /// Subject and plain-text templates and partials: no escaping.
    plain: Handlebars<'static>,
    /// HTML templates and partials: HTML escaping.
    html: Handlebars<'static>,
    /// Embedded templates that failed to compile (file → message); only ever non-empty if a
    /// broken file was compiled in, which the tests rule out. Kept so that `embedded()` never
    /// panics and `render` can say what is wrong.
    broken: BTreeMap<String, String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("names", &Self::NAMES)
            .field("broken", &self.broken)
            .finish()
    }
}

impl Templates {
    /// Every notice template name.
    pub const NAMES: &'static [&'static str] = TEMPLATE_NAMES;

    /// Loads every template and partial from `dir` (the `email_templates/` folder).
    /// Fails on the first missing, unreadable or unparsable file, naming it.
    pub fn load(dir: &Path) -> Result<Templates, TemplateError> {
        let mut t = Templates::empty();
        let mut partials = Vec::new();
        for (partial, file, is_html) in PARTIALS {
            let source = read(dir, file)?;
            t.registry_mut(is_html)
                .register_partial(partial, source.as_str())
                .map_err(|e| parse_error(file, &e))?;
            partials.push((partial, source));
        }
        for name in Self::NAMES {
            for (part, is_html) in PARTS {
                let file = format!("{name}.{part}.hbs");
                let source = inline_partials(&read(dir, &file)?, &partials);
                t.registry_mut(is_html)
                    .register_template_string(&format!("{name}.{part}"), source)
                    .map_err(|e| parse_error(&file, &e))?;
            }
        }
        Ok(t)
    }

    /// The same templates, compiled into the binary with `include_str!`, so the service works
    /// from any directory. Never panics: a template that failed to compile is reported by
    /// `render` (the test suite checks that every embedded template renders).
    pub fn embedded() -> Templates {
        let mut t = Templates::empty();
        let mut partials = Vec::new();
        for ((partial, file, is_html), source) in PARTIALS.into_iter().zip(EMBEDDED_PARTIALS) {
            match t.registry_mut(is_html).register_partial(partial, source) {
                Ok(()) => partials.push((partial, source.to_owned())),
                Err(e) => {
                    t.broken.insert(file.to_owned(), e.to_string());
                }
            }
        }
        for (name, subject, txt, html) in EMBEDDED {
            for ((part, is_html), source) in PARTS.into_iter().zip([subject, txt, html]) {
                if let Err(e) = t.registry_mut(is_html).register_template_string(
                    &format!("{name}.{part}"),
                    inline_partials(source, &partials),
                ) {
                    t.broken.insert(format!("{name}.{part}.hbs"), e.to_string());
                }
            }
        }
        t
    }

    /// Renders notice `name` with `ctx` (a JSON object holding the common and the
    /// template-specific fields).
    pub fn render(&self, name: &str, ctx: &Value) -> Result<Rendered, TemplateError> {
        self.render_owned(name, ctx.clone())
    }

    /// [`Templates::render`] with the context given up: its three parts are rendered from the
    /// one handlebars context it becomes. (`Registry::render` serialises its data into a new
    /// context on every call, three times a notice, a sixth of the rendering.)
    pub fn render_owned(&self, name: &str, ctx: Value) -> Result<Rendered, TemplateError> {
        if !Self::NAMES.contains(&name) {
            return Err(TemplateError::UnknownTemplate(name.to_owned()));
        }
        let own_prefix = format!("{name}.");
        if let Some((file, message)) = self
            .broken
            .iter()
            .find(|(file, _)| file.starts_with("partials/") || file.starts_with(&own_prefix))
        {
            return Err(TemplateError::Parse {
                file: file.clone(),
                message: message.clone(),
            });
        }
        let ctx = Context::from(ctx);
        let subject = self.render_part(name, "subject", &ctx)?;
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        if subject.is_empty() {
            return Err(TemplateError::EmptySubject(format!("{name}.subject.hbs")));
        }
        let text = tidy_text(&self.render_part(name, "txt", &ctx)?);
        let html = tidy_html(&self.render_part(name, "html", &ctx)?);
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }

    fn render_part(&self, name: &str, part: &str, ctx: &Context) -> Result<String, TemplateError> {
        let registry = if part == "html" {
            &self.html
        } else {
            &self.plain
        };
        registry
            .render_with_context(&format!("{name}.{part}"), ctx)
            .map_err(|e| TemplateError::Render {
                file: format!("{name}.{part}.hbs"),
                message: render_message(&e),
            })
    }

    fn empty() -> Templates {
        let mut plain = Handlebars::new();
        plain.set_strict_mode(true);
        plain.register_escape_fn(no_escape);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        html.register_escape_fn(html_escape);
        for reg in [&mut plain, &mut html] {
            for (name, helper) in ValueHelper::ALL {
                reg.register_helper(name, Box::new(helper));
            }
        }
        html.register_helper("multiline", Box::new(multiline));
        Templates {
            plain,
            html,
            broken: BTreeMap::new(),
        }
    }

    fn registry_mut(&mut self, is_html: bool) -> &mut Handlebars<'static> {
        if is_html {
            &mut self.html
        } else {
            &mut self.plain
        }
    }
}

/// `source` with each line that is only a partial's tag (`{{> header_html}}`) replaced by that
/// partial's source, which renders the same text: such a line is "standalone", so handlebars
/// drops its line end and inserts the partial with no indentation, in the same context. The
/// templates are compiled that way because handlebars renders a `{{> partial}}` by first
/// cloning the whole context (a tenth of a notice's rendering, four times per notice). Any other
/// use of a partial is left to handlebars, which still has them registered.
fn inline_partials(source: &str, partials: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(source.len() * 2);
    for line in source.split_inclusive('\n') {
        let tag = line
            .trim_end_matches(['\n', '\r'])
            .strip_prefix("{{> ")
            .and_then(|t| t.strip_suffix("}}"));
        match partials.iter().find(|(name, _)| Some(*name) == tag) {
            Some((_, partial)) => out.push_str(partial),
            None => out.push_str(line),
        }
    }
    out
}

fn read(dir: &Path, file: &str) -> Result<String, TemplateError> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|source| TemplateError::Io { path, source })
}

fn parse_error(file: &str, e: &handlebars::TemplateError) -> TemplateError {
    TemplateError::Parse {
        file: file.to_owned(),
        message: e.to_string(),
    }
}

/// The reason, plus the position in the template when known (the file is named by the caller).
fn render_message(e: &RenderError) -> String {
    let mut msg = e.reason().to_string();
    match (e.line_no, e.column_no) {
        (Some(line), Some(col)) => msg.push_str(&format!(" (line {line}, column {col})")),
        (Some(line), None) => msg.push_str(&format!(" (line {line})")),
        _ => {}
    }
    msg
}

/// Plain text: no trailing spaces, at most one blank line in a row, no leading blank lines,
/// exactly one final newline.
fn tidy_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank_run = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() && blank_run > 0 {
            out.push('\n');
        }
        blank_run = 0;
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// HTML: drop trailing spaces and blank lines left by template tags; one final newline.
fn tidy_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let line = line.trim_end();
        if !line.is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `"Thursday 12 March 2026"`.
pub fn long_date(d: NaiveDate) -> String {
    format!("{} {} {}", d.format("%A"), d.day(), d.format("%B %Y"))
}

/// NHS style 12-hour clock: `"10am"`, `"2:30pm"`, `"midday"`, `"midnight"`.
pub fn clock_time(t: NaiveTime) -> String {
    let (h, m) = (t.hour(), t.minute());
    match (h, m) {
        (0, 0) => "midnight".to_owned(),
        (12, 0) => "midday".to_owned(),
        _ => {
            let suffix = if h < 12 { "am" } else { "pm" };
            let h12 = match h % 12 {
                0 => 12,
                x => x,
            };
            if m == 0 {
                format!("{h12}{suffix}")
            } else {
                format!("{h12}:{m:02}{suffix}")
            }
        }
    }
}

fn helper_error(msg: String) -> RenderError {
    RenderErrorReason::Other(msg).into()
}

/// The first parameter as a string, with a clear error when it is missing, null or not text.
fn str_param<'a>(h: &'a Helper<'_>, helper: &str) -> Result<&'a str, RenderError> {
    let p = h
        .param(0)
        .ok_or_else(|| helper_error(format!("{helper}: missing parameter")))?;
    let what = p.relative_path().map(String::as_str).unwrap_or("parameter");
    if p.is_value_missing() {
        return Err(helper_error(format!("{helper}: {what} is missing")));
    }
    p.value().as_str().ok_or_else(|| {
        helper_error(format!(
            "{helper}: {what} must be a string, got {}",
            p.value()
        ))
    })
}

/// The helpers that compute a value: `long_date` and `clock_time` write their one string
/// parameter in words (or fail the render naming the form they expected), `expect_one_of`
/// writes nothing unless its first parameter is not one of the others, `is_list` tells a list.
#[derive(Clone, Copy)]
enum ValueHelper {
    LongDate,
    ClockTime,
    ExpectOneOf,
    IsList,
}

impl ValueHelper {
    const ALL: [(&'static str, ValueHelper); 4] = [
        ("long_date", ValueHelper::LongDate),
        ("clock_time", ValueHelper::ClockTime),
        ("expect_one_of", ValueHelper::ExpectOneOf),
        ("is_list", ValueHelper::IsList),
    ];

    /// `long_date` and `clock_time`: the value in words, or the form that was expected.
    fn words(self, s: &str) -> Result<String, &'static str> {
        match self {
            ValueHelper::LongDate => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(long_date)
                .map_err(|_| "a date in the form YYYY-MM-DD"),
            _ => NaiveTime::parse_from_str(s, "%H:%M")
                .map(clock_time)
                .map_err(|_| "a time in the form HH:MM"),
        }
    }

    fn value(self, name: &str, h: &Helper<'_>) -> Result<Value, RenderError> {
        match self {
            ValueHelper::IsList => Ok(Value::Bool(
                h.param(0).is_some_and(|p| p.value().is_array()),
            )),
            ValueHelper::ExpectOneOf => {
                let value = str_param(h, name)?;
                let allowed: Vec<&str> = h
                    .params()
                    .iter()
                    .skip(1)
                    .filter_map(|p| p.value().as_str())
                    .collect();
                if allowed.contains(&value) {
                    return Ok(Value::String(String::new()));
                }
                let what = h
                    .param(0)
                    .and_then(|p| p.relative_path())
                    .map(String::as_str)
                    .unwrap_or("value");
                Err(helper_error(format!(
                    "{what} is {value:?}, expected one of {}",
                    allowed.join(", ")
                )))
            }
            ValueHelper::LongDate | ValueHelper::ClockTime => {
                let s = str_param(h, name)?;
                self.words(s)
                    .map(Value::String)
                    .map_err(|form| helper_error(format!("{name}: {s:?} is not {form}")))
            }
        }
    }
}

impl HelperDef for ValueHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        Ok(ScopedJson::Derived(self.value(h.name(), h)?))
    }
}

/// HTML only: escape, then keep the author's line breaks (a helper function: it writes HTML
/// that must not be escaped again).
fn multiline(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let s = str_param(h, "multiline")?;
    let normalised = s.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<String> = normalised.trim().lines().map(html_escape).collect();
    out.write(&lines.join("<br>\n"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_date_examples() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(long_date(d(2026, 3, 12)), "Thursday 12 March 2026");
        assert_eq!(long_date(d(2026, 1, 1)), "Thursday 1 January 2026");
        assert_eq!(long_date(d(2024, 2, 29)), "Thursday 29 February 2024");
        assert_eq!(long_date(d(2025, 12, 25)), "Thursday 25 December 2025");
        assert_eq!(long_date(d(2026, 9, 7)), "Monday 7 September 2026");
    }

    #[test]
    fn clock_time_examples() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(clock_time(t(10, 0)), "10am");
        assert_eq!(clock_time(t(9, 30)), "9:30am");
        assert_eq!(clock_time(t(14, 5)), "2:05pm");
        assert_eq!(clock_time(t(12, 0)), "midday");
        assert_eq!(clock_time(t(12, 30)), "12:30pm");
        assert_eq!(clock_time(t(0, 0)), "midnight");
        assert_eq!(clock_time(t(0, 15)), "12:15am");
    }

    #[test]
    fn templates_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Templates>();
    }

    #[test]
    fn inline_partials_replaces_only_lines_that_are_a_known_partial_tag() {
        let partials = [("head", "H1\nH2\n".to_owned()), ("foot", "F".to_owned())];
        let source =
            "{{> head}}\nbody {{> head}}\n  {{> head}}\n{{> other}}\n{{> foot}}\r\n{{> head}}";
        assert_eq!(
            inline_partials(source, &partials),
            "H1\nH2\nbody {{> head}}\n  {{> head}}\n{{> other}}\nFH1\nH2\n"
        );
    }

    #[test]
    fn a_template_with_its_partials_inlined_renders_as_with_handlebars_partials() {
        let partial = "<p>{{case_ref}}</p>\n{{#if note}}\n<i>{{note}}</i>\n{{/if}}\n";
        let template =
            "{{> head}}\n<b>{{title}}</b>\n{{#each items}}\n{{> head}}\n{{/each}}\n{{> head}}";
        let mut with_partials = Handlebars::new();
        with_partials.register_partial("head", partial).unwrap();
        with_partials
            .register_template_string("t", template)
            .unwrap();
        let mut inlined = Handlebars::new();
        inlined
            .register_template_string(
                "t",
                inline_partials(template, &[("head", partial.to_owned())]),
            )
            .unwrap();
        for ctx in [
            serde_json::json!({"case_ref": "LDR-1", "title": "A & B", "note": "n", "items": [{"case_ref": "x"}, {}]}),
            serde_json::json!({"case_ref": "LDR-2", "title": "T", "items": []}),
        ] {
            assert_eq!(
                inlined.render("t", &ctx).unwrap(),
                with_partials.render("t", &ctx).unwrap(),
                "{ctx}"
            );
        }
    }

    #[test]
    fn tidy_text_collapses_blank_runs() {
        assert_eq!(tidy_text("\n\na  \n\n\n\nb\n\n"), "a\n\nb\n");
    }
}
