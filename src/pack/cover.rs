//! The pack's `cover.pdf`: what a caseworker at NHS Resolution reads first, in two minutes —
//! who the parties are and where to write to them, what is referred and whether it is in time,
//! the referring party's statement, what happened at stages 1 and 2 (dated, people named), the
//! panel's decision, and what else is in the pack.
//!
//! Written with `krilla` as an accessible PDF checked against PDF/UA-1 while it is written:
//! real text in an embedded font (Noto Sans, see [`super::text`]), a tag tree giving headings,
//! paragraphs, tables and lists in reading order, decoration and page footers marked as
//! artifacts, the title shown as the window title, and the language `en-GB`. Text is wrapped
//! to the page and continues on as many pages as it needs: nothing is cut. The PDF is dated
//! with the referral date, so the same case always gives the same bytes.

use super::text::{self, Weight};
use super::{london_date, Case, Reader};
use crate::db::disputes::EventRow;
use crate::render::templates::long_date;
use chrono::{Datelike, NaiveDate};
use krilla::color::rgb;
use krilla::configure::{Accessibility, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, ListNumbering, Node, SpanTag, TableHeaderScope,
    Tag, TagGroup, TagTree,
};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use serde_json::Value;
use std::collections::HashMap;
use std::num::NonZeroU16;

// A4 in points, with 20 mm margins.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.7;
const RIGHT: f32 = PAGE_W - 56.7;
const TOP: f32 = 52.0;
/// The last baseline of the body; the footer sits below.
const BOTTOM: f32 = PAGE_H - 62.0;
const WIDTH: f32 = RIGHT - LEFT;
/// What wrapping leaves unused at the end of each line, for kerning.
const SLACK: f32 = 2.0;

const BODY: f32 = 10.0;
const SMALL: f32 = 8.5;
const H1: f32 = 19.0;
const H2: f32 = 13.0;
/// The label column of key facts and of the timeline.
const LABEL_W: f32 = 128.0;
const GUTTER: f32 = 12.0;

const INK: (u8, u8, u8) = (0x21, 0x2b, 0x32);
const SECONDARY: (u8, u8, u8) = (0x4c, 0x62, 0x72);
const NHS_BLUE: (u8, u8, u8) = (0x00, 0x5e, 0xb8);
const RULE: (u8, u8, u8) = (0xd8, 0xdd, 0xe0);

/// One block of the cover, in reading order.
enum Block {
    Heading(u16, String),
    Para {
        text: String,
        weight: Weight,
        size: f32,
        color: (u8, u8, u8),
        /// Drawn with a grey bar on its left (a quoted statement).
        quote: bool,
    },
    /// A two-column table: each row a header cell (the label) and a data cell.
    Rows(Vec<(String, String)>),
    /// A list whose items have a label (a date) and a body.
    Items(Vec<(String, String)>),
    /// The enclosed files, each its name in the pack, a description and its checksum.
    Files(Vec<(String, String, String)>),
}

/// A line placed on a page.
struct Placed {
    page: usize,
    x: f32,
    y: f32,
    weight: Weight,
    size: f32,
    color: (u8, u8, u8),
    shown: String,
    original: String,
    /// (block, slot): where its tag goes in the tree.
    slot: (usize, usize),
}

/// A filled rectangle (decoration, an artifact).
struct Bar {
    page: usize,
    rect: (f32, f32, f32, f32),
    color: (u8, u8, u8),
}

struct Layout {
    lines: Vec<Placed>,
    bars: Vec<Bar>,
    /// Each heading's text, page and top, for the document outline (bookmarks).
    marks: Vec<(String, usize, f32)>,
    page: usize,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            lines: Vec::new(),
            bars: Vec::new(),
            marks: Vec::new(),
            page: 0,
            y: TOP,
        }
    }

    fn new_page(&mut self) {
        self.page += 1;
        self.y = TOP;
    }

    /// Room for `h` more points on this page, or a new page.
    fn need(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        x: f32,
        y: f32,
        weight: Weight,
        size: f32,
        color: (u8, u8, u8),
        (shown, original): (String, String),
        slot: (usize, usize),
    ) {
        if shown.trim().is_empty() {
            return;
        }
        self.lines.push(Placed {
            page: self.page,
            x,
            y,
            weight,
            size,
            color,
            shown,
            original,
            slot,
        });
    }

    /// Lays out the blocks; returns the number of pages.
    fn run(&mut self, blocks: &[Block]) -> usize {
        for (b, block) in blocks.iter().enumerate() {
            match block {
                Block::Heading(level, t) => {
                    let size = if *level == 1 { H1 } else { H2 };
                    let lead = size * 1.25;
                    let lines = text::wrap(t, Weight::Bold, size, WIDTH - SLACK);
                    // Keep a heading with at least three lines of what follows.
                    if *level > 1 {
                        self.y += 10.0;
                    }
                    self.need(lead * lines.len() as f32 + BODY * 1.4 * 3.0);
                    let color = if *level == 1 { INK } else { NHS_BLUE };
                    self.marks.push((t.clone(), self.page, self.y));
                    for l in lines {
                        self.need(lead);
                        self.y += lead;
                        self.line(LEFT, self.y, Weight::Bold, size, color, l, (b, 0));
                    }
                    self.y += if *level == 1 { 4.0 } else { 6.0 };
                    if *level > 1 {
                        self.bars.push(Bar {
                            page: self.page,
                            rect: (LEFT, self.y - 3.0, WIDTH, 0.8),
                            color: RULE,
                        });
                        self.y += 4.0;
                    }
                }
                Block::Para {
                    text: t,
                    weight,
                    size,
                    color,
                    quote,
                } => {
                    let indent = if *quote { 12.0 } else { 0.0 };
                    let lead = size * 1.4;
                    let lines = text::wrap(t, *weight, *size, WIDTH - indent - SLACK);
                    let mut start: Option<(usize, f32)> = None;
                    for l in lines {
                        if self.y + lead > BOTTOM {
                            self.close_quote(*quote, &mut start);
                            self.new_page();
                        }
                        if start.is_none() {
                            start = Some((self.page, self.y));
                        }
                        self.y += lead;
                        self.line(LEFT + indent, self.y, *weight, *size, *color, l, (b, 0));
                    }
                    self.y += size * 0.4;
                    self.close_quote(*quote, &mut start);
                    self.y += size * 0.5;
                }
                Block::Rows(rows) => self.two_columns(b, rows, Weight::Bold, INK),
                Block::Items(items) => self.two_columns(b, items, Weight::Bold, NHS_BLUE),
                Block::Files(files) => {
                    for (i, (path, about, sum)) in files.iter().enumerate() {
                        self.need(BODY * 1.4 * 3.0);
                        let parts = [
                            (path, Weight::Bold, BODY, INK, 2 * i),
                            (about, Weight::Regular, BODY, INK, 2 * i + 1),
                            (sum, Weight::Regular, SMALL, SECONDARY, 2 * i + 1),
                        ];
                        for (t, weight, size, color, slot) in parts {
                            let lead = size * 1.4;
                            for l in text::wrap(t, weight, size, WIDTH - SLACK) {
                                self.need(lead);
                                self.y += lead;
                                self.line(LEFT, self.y, weight, size, color, l, (b, slot));
                            }
                        }
                        self.y += 6.0;
                    }
                }
            }
        }
        self.page + 1
    }

    /// The grey bar left of a quoted paragraph, from where it started on this page to here.
    fn close_quote(&mut self, quote: bool, start: &mut Option<(usize, f32)>) {
        if let (true, Some((page, y0))) = (quote, start.take()) {
            self.bars.push(Bar {
                page,
                rect: (LEFT, y0 + 2.0, 3.0, self.y - y0 + 2.0),
                color: RULE,
            });
        }
    }

    /// Rows of a label (in `label_weight`) and a text beside it, side by side; a row may break
    /// across pages between its lines.
    fn two_columns(
        &mut self,
        b: usize,
        rows: &[(String, String)],
        label_weight: Weight,
        label_color: (u8, u8, u8),
    ) {
        let lead = BODY * 1.4;
        for (i, (label, body)) in rows.iter().enumerate() {
            let l = text::wrap(label, label_weight, BODY, LABEL_W - SLACK);
            let r = text::wrap(
                body,
                Weight::Regular,
                BODY,
                WIDTH - LABEL_W - GUTTER - SLACK,
            );
            // Keep a row of up to six lines on one page; a longer one starts where two fit.
            let rows = l.len().max(r.len());
            self.need(lead * if rows <= 6 { rows } else { 2 } as f32);
            let (mut l, mut r) = (l.into_iter(), r.into_iter());
            loop {
                let (a, z) = (l.next(), r.next());
                if a.is_none() && z.is_none() {
                    break;
                }
                self.need(lead);
                self.y += lead;
                if let Some(a) = a {
                    self.line(LEFT, self.y, label_weight, BODY, label_color, a, (b, 2 * i));
                }
                if let Some(z) = z {
                    let x = LEFT + LABEL_W + GUTTER;
                    self.line(x, self.y, Weight::Regular, BODY, INK, z, (b, 2 * i + 1));
                }
            }
            self.y += 5.0;
        }
        self.y += 4.0;
    }
}

fn color((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// "12 March 2026".
pub fn day(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), d.format("%B"), d.year())
}

fn party_label(case: &Case, side: &str) -> String {
    match side {
        "appellant" => format!("the appellant, {}", case.appellant.name),
        "respondent" => format!("the respondent, {}", case.respondent.name),
        other => other.to_string(),
    }
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn date_of(v: &Value, k: &str) -> Option<NaiveDate> {
    v.get(k)?.as_str()?.parse().ok()
}

/// One history event as a line of the timeline, or `None` for what the timeline leaves out
/// (notes). The panel's side reads the hearing record and the votes; the parties' pack does
/// not (SPEC "Visibility").
fn timeline_entry(case: &Case, e: &EventRow, v: &Value) -> Option<String> {
    let by = case.person_with_org(&e.actor_id);
    let panel = case.reader == Reader::Panel;
    let mut s = match e.event_type.as_str() {
        "file" => format!(
            "Dispute filed by {by} against {}.",
            case.respondent.name
        ),
        "assign_mediator" => format!(
            "{} took the case as LMC mediator ({} role).",
            case.person_with_org(str_of(v, "mediator_id")),
            str_of(v, "mode")
        ),
        "add_note" => return None,
        "resolve_informally" => format!("Resolved informally, certified by {by}: {}", str_of(v, "summary")),
        "exhaust_informal" => format!(
            "Informal stage certified exhausted by the LMC mediator, {by}: {}",
            str_of(v, "reason")
        ),
        "request_formal" => {
            let mut s = format!("Formal request lodged by {by}");
            if let Some(d) = date_of(v, "lodged_on") {
                s.push_str(&format!(" (lodged on {})", day(d)));
            }
            s.push_str(&format!(". Grounds: {}", str_of(v, "grounds")));
            s
        }
        "record_lmc_consultation" => {
            let mut s = format!("LMC consultation recorded by {by}");
            if let Some(d) = date_of(v, "consulted_on") {
                s.push_str(&format!(" (the LMC was consulted on {})", day(d)));
            }
            s.push_str(&format!(": {}", str_of(v, "summary")));
            s
        }
        "screen" => {
            let outcome = match str_of(v, "outcome") {
                "proceed" => "the request proceeds to a panel",
                "frivolous" => "screened out as frivolous",
                "vexatious" => "screened out as vexatious",
                other => other,
            };
            format!("Screened by {by}, accountable officer: {outcome}. Reason: {}", str_of(v, "reason"))
        }
        "appoint_panel" => format!(
            "Panel appointed by {by}: {} (clinical member), {} (GP conciliator), {} (LMC representative); chair {}; secretary {} (non-voting).",
            case.person_with_org(str_of(v, "clinical_member_id")),
            case.person_with_org(str_of(v, "gp_conciliator_id")),
            case.person_with_org(str_of(v, "lmc_representative_id")),
            case.person(str_of(v, "chair_id")),
            case.person_with_org(str_of(v, "secretary_id")),
        ),
        "schedule_hearing" => {
            let mut s = match date_of(v, "date") {
                Some(d) => format!("Hearing set for {} at {}, {}", long_date(d), str_of(v, "time"), str_of(v, "venue")),
                None => "Hearing set".into(),
            };
            if let Some(prev) = v.get("previous").and_then(|p| date_of(p, "date")) {
                s.push_str(&format!(" (moved from {})", day(prev)));
            }
            s.push_str(&format!("; notice sent by {by}."));
            s
        }
        "distribute_bundle" => {
            let n = v.get("document_ids").and_then(Value::as_array).map_or(0, Vec::len);
            format!("Bundle of {n} document(s) distributed to the parties and the panel by {by}.")
        }
        "record_hearing" => {
            let mut s = match date_of(v, "held_on") {
                Some(d) => format!("Hearing held on {}.", day(d)),
                None => "Hearing held.".into(),
            };
            if panel {
                let yn = |k: &str| if v.get(k).and_then(Value::as_bool) == Some(true) { "yes" } else { "no" };
                s.push_str(&format!(
                    " Appellant presented: {}; respondent presented: {}. Record: {}",
                    yn("appellant_presented"),
                    yn("respondent_presented"),
                    str_of(v, "record")
                ));
            }
            s
        }
        "record_decision" => {
            let mut s = format!(
                "Panel's decision recorded: in favour of {}.",
                party_label(case, str_of(v, "outcome"))
            );
            if panel {
                if let Some(votes) = v.get("votes").and_then(Value::as_array) {
                    let list: Vec<String> = votes
                        .iter()
                        .map(|x| format!("{}: {}", case.person(str_of(x, "member_id")), str_of(x, "vote")))
                        .collect();
                    s.push_str(&format!(" Votes: {}.", list.join("; ")));
                }
            }
            s
        }
        "notify_decision" => format!("Written decision sent to both parties by {by}."),
        "refer_to_fhsu" => {
            let mut s = format!("Referred to the FHSU by {by}");
            if let Some(d) = date_of(v, "referred_on") {
                s.push_str(&format!(" (referral dated {})", day(d)));
            }
            s.push('.');
            s
        }
        "record_fhsu_determination" => {
            let mut s = "FHSU determination recorded".to_string();
            if let Some(d) = date_of(v, "determined_on") {
                s.push_str(&format!(" (determined on {})", day(d)));
            }
            s.push_str(&format!(": {}", str_of(v, "outcome")));
            s
        }
        "close" => format!("Closed by {by}: {}", str_of(v, "reason")),
        "withdraw" => format!("Withdrawn by {by}: {}", str_of(v, "reason")),
        other => format!("{other} by {by}."),
    };
    if let Some(o) = v.get("override") {
        let rules: Vec<&str> = o
            .get("rules")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        s.push_str(&format!(
            " The panel secretary overrode the rule(s) {}: {}",
            rules.join(", "),
            str_of(o, "reason")
        ));
    }
    Some(s)
}

fn human_size(n: i64) -> String {
    let n = n.max(0) as f64;
    if n < 1024.0 {
        format!("{n} bytes")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KB", n / 1024.0)
    } else {
        format!("{:.1} MB", n / (1024.0 * 1024.0))
    }
}

fn address_block(o: &super::Org) -> String {
    let mut s = format!("{}\n{}", o.name, o.address.trim());
    match &o.ods_code {
        Some(code) if !code.trim().is_empty() => s.push_str(&format!("\nODS code: {code}")),
        _ => s.push_str("\nODS code: not recorded"),
    }
    s
}

/// The cover's blocks, in reading order.
fn blocks(case: &Case) -> Vec<Block> {
    let d = &case.dispute;
    let (statement, contract_id, referred_by) = case.referral();
    let referred_by = referred_by.map(|o| case.org(&o)).unwrap_or_default();
    let detail = &d.detail;
    let para = |t: String| Block::Para {
        text: t,
        weight: Weight::Regular,
        size: BODY,
        color: INK,
        quote: false,
    };
    let mut out = vec![
        Block::Para {
            text: "Local Dispute Resolution service · FHSU referral pack".into(),
            weight: Weight::Bold,
            size: SMALL + 0.5,
            color: NHS_BLUE,
            quote: false,
        },
        Block::Heading(1, "Referral to the FHSU (NHS Resolution)".into()),
        Block::Para {
            text: format!("Case {}: {}", d.case_ref(), d.title),
            weight: Weight::Bold,
            size: 11.5,
            color: INK,
            quote: false,
        },
    ];
    if case.reader == Reader::Panel {
        out.push(Block::Para {
            text: "This copy is the panel's: it includes the hearing record and the votes, which the parties' pack does not.".into(),
            weight: Weight::Regular,
            size: SMALL,
            color: SECONDARY,
            quote: false,
        });
    }

    // At a glance.
    out.push(Block::Heading(2, "At a glance".into()));
    let contract = contract_id
        .as_deref()
        .and_then(|id| case.documents.iter().find(|x| x.meta.id == id))
        .map(|x| format!("{} (in this pack as {})", x.meta.name, x.path))
        .unwrap_or_else(|| "not in this pack".into());
    let mut rows = vec![
        ("Case reference".to_string(), d.case_ref()),
        (
            "Referred by".into(),
            format!("{referred_by} on {}", long_date(case.referred_on())),
        ),
        ("Dispute".into(), d.title.clone()),
        (
            "Category".into(),
            format!(
                "{}{}",
                d.category.as_str().replace('_', " "),
                if d.contract_related {
                    "; relates directly to the provisions of a GMS/PMS/APMS contract"
                } else {
                    ""
                }
            ),
        ),
        ("Matter arose on".into(), long_date(d.matter_arose_on)),
        (
            "Last day for referral".into(),
            format!(
                "{} (three years beginning on the day the matter arose)",
                long_date(crate::domain::deadlines::fhsu_by(d.matter_arose_on))
            ),
        ),
        ("Contract document".into(), contract),
    ];
    match &detail.decision {
        Some(dec) => rows.push((
            "Panel's decision".into(),
            format!(
                "In favour of {}{}",
                party_label(case, dec.outcome.as_str()),
                d.decision_notified_on
                    .map(|n| format!("; sent to the parties on {}", long_date(n)))
                    .unwrap_or_default()
            ),
        )),
        None => rows.push((
            "Panel's decision".into(),
            "None: the formal request did not reach a panel (see the history below).".into(),
        )),
    }
    out.push(Block::Rows(rows));

    // The parties.
    out.push(Block::Heading(2, "The parties".into()));
    out.push(Block::Rows(vec![
        ("Appellant".into(), address_block(&case.appellant)),
        ("Respondent".into(), address_block(&case.respondent)),
    ]));

    // The statement.
    let from = if referred_by.is_empty() {
        "the referring party".to_string()
    } else {
        referred_by.clone()
    };
    out.push(Block::Heading(2, format!("Statement from {from}")));
    out.push(Block::Para {
        text: statement,
        weight: Weight::Regular,
        size: BODY,
        color: INK,
        quote: true,
    });
    out.push(Block::Heading(2, "The dispute as filed".into()));
    out.push(para(d.summary.clone()));

    // History.
    out.push(Block::Heading(2, "What happened at stages 1 and 2".into()));
    let items: Vec<(String, String)> = case
        .events
        .iter()
        .filter_map(|(e, v)| timeline_entry(case, e, v).map(|t| (day(london_date(e.at)), t)))
        .collect();
    out.push(Block::Items(items));

    // Panel, hearing, decision.
    if let Some(panel) = &d.panel {
        out.push(Block::Heading(2, "The panel".into()));
        let mut rows = Vec::new();
        for (role, id) in [
            ("Clinical member", &panel.clinical_member_id),
            ("GP conciliator", &panel.gp_conciliator_id),
            ("LMC representative", &panel.lmc_representative_id),
        ] {
            let mut who = case.person_with_org(id);
            if panel.chair_id == *id {
                who.push_str(", chair");
            }
            rows.push((role.to_string(), who));
        }
        rows.push((
            "Secretary".to_string(),
            format!("{} (non-voting)", case.person_with_org(&panel.secretary_id)),
        ));
        if let Some(hearing) = &d.hearing {
            let mut h = format!(
                "{} at {}, {}",
                long_date(hearing.date),
                hearing.time_text(),
                hearing.venue
            );
            if let Some(held) = d.held_on {
                h.push_str(&format!("; held on {}", long_date(held)));
            }
            rows.push(("Hearing".to_string(), h));
        }
        out.push(Block::Rows(rows));
    }
    if let Some(dec) = &detail.decision {
        out.push(Block::Heading(
            2,
            "The panel's decision and recommendations".into(),
        ));
        let mut rows = vec![(
            "Outcome".to_string(),
            format!("In favour of {}", party_label(case, dec.outcome.as_str())),
        )];
        if let Some(decided) = case
            .events
            .iter()
            .find(|(e, _)| e.event_type == "record_decision")
            .map(|(e, _)| london_date(e.at))
        {
            rows.push(("Decided on".into(), long_date(decided)));
        }
        if let Some(n) = d.decision_notified_on {
            rows.push(("Sent to the parties".into(), long_date(n)));
        }
        rows.push((
            "Recommendations".into(),
            if dec.recommendations.trim().is_empty() {
                "None".into()
            } else {
                dec.recommendations.clone()
            },
        ));
        out.push(Block::Rows(rows));
    }

    // What is enclosed.
    out.push(Block::Heading(2, "Enclosed documents".into()));
    if case.documents.is_empty() {
        out.push(para("No documents besides this cover.".into()));
    } else {
        out.push(Block::Para {
            text: "Each file's SHA-256 checksum is given so that its integrity can be checked; manifest.json lists the same.".into(),
            weight: Weight::Regular,
            size: SMALL,
            color: SECONDARY,
            quote: false,
        });
        let items = case
            .documents
            .iter()
            .map(|x| {
                (
                    x.path.clone(),
                    format!(
                        "{}: {}, {}, uploaded by {} on {}.",
                        x.meta.kind,
                        x.meta.name,
                        human_size(x.meta.size),
                        case.person_with_org(&x.meta.uploaded_by),
                        day(london_date(x.meta.created_at)),
                    ),
                    format!("SHA-256 {}", x.meta.sha256),
                )
            })
            .collect();
        out.push(Block::Files(items));
    }
    out
}

/// The cover of `case`, as the bytes of a PDF.
pub fn render(case: &Case) -> Result<Vec<u8>, String> {
    let blocks = blocks(case);
    let mut layout = Layout::new();
    let pages = layout.run(&blocks);

    let configuration = ConfigurationBuilder::new()
        .with_accessibility_validator(Accessibility::UA1)
        .finish()
        .map_err(|e| format!("PDF configuration: {e:?}"))?;
    let settings = SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    };
    let mut doc = Document::new_with(settings);
    let font = |w: Weight| {
        Font::new(text::ttf(w).into(), 0).ok_or_else(|| format!("the {w:?} font does not load"))
    };
    let (regular, bold) = (font(Weight::Regular)?, font(Weight::Bold)?);
    let footer = format!(
        "{} · FHSU referral pack cover · referred on {}",
        case.dispute.case_ref(),
        day(case.referred_on())
    );
    let mut ids: HashMap<(usize, usize), Vec<Identifier>> = HashMap::new();
    let mut next_line = 0;
    for page_no in 0..pages {
        let size = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?;
        let mut page = doc.start_page_with(size);
        let mut surface = page.surface();
        // Decoration first: the rules and bars of this page.
        surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
            ArtifactType::Layout,
        )));
        if page_no == 0 {
            let mut pb = PathBuilder::new();
            pb.push_rect(Rect::from_xywh(0.0, 0.0, PAGE_W, 8.0).ok_or("rect")?);
            if let Some(p) = pb.finish() {
                surface.set_fill(Some(color(NHS_BLUE)));
                surface.draw_path(&p);
            }
        }
        for bar in layout.bars.iter().filter(|b| b.page == page_no) {
            let (x, y, w, h) = bar.rect;
            if let Some(r) = Rect::from_xywh(x, y, w, h.max(0.1)) {
                let mut pb = PathBuilder::new();
                pb.push_rect(r);
                if let Some(p) = pb.finish() {
                    surface.set_fill(Some(color(bar.color)));
                    surface.draw_path(&p);
                }
            }
        }
        surface.end_tagged();
        while let Some(l) = layout.lines.get(next_line).filter(|l| l.page == page_no) {
            let f = if l.weight == Weight::Bold {
                bold.clone()
            } else {
                regular.clone()
            };
            let replaced = l.shown != l.original;
            let id = surface.start_tagged(ContentTag::Span(SpanTag {
                actual_text: replaced.then_some(l.original.as_str()),
                ..SpanTag::empty()
            }));
            surface.set_fill(Some(color(l.color)));
            surface.draw_text(
                Point::from_xy(l.x, l.y),
                f,
                l.size,
                &l.shown,
                false,
                TextDirection::LeftToRight,
            );
            surface.end_tagged();
            ids.entry(l.slot).or_default().push(id);
            next_line += 1;
        }
        // The footer: page furniture, not content.
        surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
            ArtifactType::Footer,
        )));
        surface.set_fill(Some(color(SECONDARY)));
        let text_y = PAGE_H - 34.0;
        surface.draw_text(
            Point::from_xy(LEFT, text_y),
            regular.clone(),
            SMALL,
            &text::drawable(&footer, Weight::Regular).0,
            false,
            TextDirection::LeftToRight,
        );
        let page_label = format!("Page {} of {pages}", page_no + 1);
        let w = text::Metrics::of(Weight::Regular).width(&page_label, SMALL);
        surface.draw_text(
            Point::from_xy(RIGHT - w, text_y),
            regular.clone(),
            SMALL,
            &page_label,
            false,
            TextDirection::LeftToRight,
        );
        surface.end_tagged();
        surface.finish();
        page.finish();
    }

    doc.set_tag_tree(tag_tree(&blocks, &mut ids));
    let mut outline = Outline::new();
    for (t, page, y) in &layout.marks {
        outline.push_child(OutlineNode::new(
            text::drawable(t, Weight::Regular).0,
            XyzDestination::new(*page, Point::from_xy(LEFT, *y)),
        ));
    }
    doc.set_outline(outline);
    let title = format!(
        "FHSU referral pack: {}, {}",
        case.dispute.case_ref(),
        case.dispute.title
    );
    let r = case.referred_on();
    let date = DateTime::new(u16::try_from(r.year()).unwrap_or(2000))
        .month(r.month() as u8)
        .day(r.day() as u8);
    doc.set_metadata(
        Metadata::new()
            .title(title)
            .language("en-GB".into())
            .creator("Local Dispute Resolution service".into())
            .creation_date(date)
            .document_id(format!(
                "{}-v{}-{:?}",
                case.dispute.id, case.dispute.version, case.reader
            )),
    );
    doc.finish().map_err(|e| format!("{e:?}"))
}

/// The tag tree: a group per block, holding the identifiers of its lines.
fn tag_tree(blocks: &[Block], ids: &mut HashMap<(usize, usize), Vec<Identifier>>) -> TagTree {
    let mut take = |b: usize, s: usize| -> Vec<Node> {
        ids.remove(&(b, s))
            .unwrap_or_default()
            .into_iter()
            .map(Node::from)
            .collect()
    };
    let mut tree = TagTree::new().with_lang(Some("en-GB".into()));
    for (b, block) in blocks.iter().enumerate() {
        let group = match block {
            Block::Heading(level, t) => {
                let level = NonZeroU16::new(*level).unwrap_or(NonZeroU16::MIN);
                TagGroup::with_children(Tag::Hn(level, Some(t.clone())), take(b, 0))
            }
            Block::Para { .. } => TagGroup::with_children(Tag::P, take(b, 0)),
            Block::Rows(rows) => {
                let mut body = TagGroup::new(Tag::TBody);
                for i in 0..rows.len() {
                    let mut tr = TagGroup::new(Tag::TR);
                    tr.push(TagGroup::with_children(
                        Tag::TH(TableHeaderScope::Row),
                        take(b, 2 * i),
                    ));
                    tr.push(TagGroup::with_children(Tag::TD, take(b, 2 * i + 1)));
                    body.push(tr);
                }
                TagGroup::with_children(Tag::Table, vec![body.into()])
            }
            Block::Items(_) | Block::Files(_) => {
                let n = match block {
                    Block::Items(items) => items.len(),
                    Block::Files(files) => files.len(),
                    _ => 0,
                };
                let mut list = TagGroup::new(Tag::L(ListNumbering::None));
                for i in 0..n {
                    let mut li = TagGroup::new(Tag::LI);
                    li.push(TagGroup::with_children(Tag::Lbl, take(b, 2 * i)));
                    li.push(TagGroup::with_children(Tag::LBody, take(b, 2 * i + 1)));
                    list.push(li);
                }
                list
            }
        };
        tree.push(group);
    }
    tree
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::db::disputes::{DisputeRow, DocumentMeta};
    use crate::pack::{Doc, Org};
    use chrono::NaiveDateTime;
    use serde_json::json;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn ev(seq: i64, t: &str, actor: &str, when: &str, data: Value) -> EventRow {
        EventRow {
            dispute_id: "d".into(),
            seq,
            event_type: t.into(),
            actor_id: actor.into(),
            at: at(when),
            data: data.to_string(),
        }
    }

    /// A realistic case referred to the FHSU, with `statement` as the referral's statement.
    pub(crate) fn sample(reader: Reader, statement: &str, title: &str) -> Case {
        let detail = json!({
            "decision": {
                "votes": [
                    {"member_id": "u-cm", "vote": "appellant"},
                    {"member_id": "u-gp", "vote": "appellant"},
                    {"member_id": "u-lr", "vote": "respondent"},
                ],
                "outcome": "appellant",
                "recommendations": "The ICB restores the practice's prescribing budget for 2025/26 in full within 28 days, and consults the LMC before changing budgets in future years.",
                "recorded_on": "2026-03-12",
            },
            "fhsu_referral": {"statement": statement, "contract_document_id": "doc-1",
                "referred_on": "2026-03-24", "referred_by_org": "org-icb"},
        });
        let date = |s: &str| Some(s.parse::<NaiveDate>().unwrap());
        let d = DisputeRow {
            id: "5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa".into(),
            title: title.into(),
            category: "prescribing".into(),
            appellant_id: "org-elm".into(),
            respondent_id: "org-icb".into(),
            summary: "The ICB reduced the practice's prescribing budget for 2025/26 by £18,400 without the consultation the contract requires.".into(),
            matter_arose_on: "2025-06-01".parse().unwrap(),
            contract_related: true,
            inter_practice: false,
            screening_org_id: "org-icb".into(),
            lmc_id: Some("org-lmc".into()),
            state: "referred_to_fhsu".into(),
            version: 14,
            mediator_id: Some("u-med".into()),
            mediator_mode: Some("mediation".into()),
            lodged_on: date("2026-02-12"),
            lmc_consulted_on: date("2026-02-13"),
            clinical_member_id: Some("u-cm".into()),
            gp_conciliator_id: Some("u-gp".into()),
            lmc_representative_id: Some("u-lr".into()),
            secretary_id: Some("u-sec".into()),
            chair_id: Some("u-gp".into()),
            hearing_date: date("2026-03-10"),
            hearing_time: Some("10:00".into()),
            hearing_venue: Some("Meeting room 3, Northshire House, 1 Station Road, Northtown NT1 2AB".into()),
            hearing_sequence: 1,
            notice_sent_on: date("2026-02-25"),
            bundle_distributed_on: date("2026-03-02"),
            held_on: date("2026-03-10"),
            decided_on: date("2026-03-12"),
            decision_notified_on: date("2026-03-13"),
            referred_on: date("2026-03-24"),
            hearing_by: date("2026-03-12"),
            notice_by: None,
            bundle_by: None,
            decision_by: date("2026-03-17"),
            fhsu_by: date("2028-05-31"),
            next_sweep_on: None,
            next_deadline_on: None,
            detail: detail.to_string(),
            created_by: "u-pat".into(),
            created_at: at("2026-01-05 09:00:00"),
            updated_at: at("2026-03-24 09:00:00"),
        };
        let people: HashMap<String, (String, String)> = [
            ("u-pat", "Pat Practice", "org-elm"),
            ("u-cara", "Cara Commissioner", "org-icb"),
            ("u-ao", "Alan Officer", "org-icb"),
            ("u-med", "Mia Mediator", "org-lmc"),
            ("u-cm", "Dr Clinical", "org-south"),
            ("u-gp", "Dr Conciliator", "org-birch"),
            ("u-lr", "Lee Representative", "org-kent"),
            ("u-sec", "Sam Secretary", "org-south"),
        ]
        .into_iter()
        .map(|(i, n, o)| (i.to_string(), (n.to_string(), o.to_string())))
        .collect();
        let orgs: HashMap<String, String> = [
            ("org-elm", "Elm Practice"),
            ("org-icb", "NHS Northshire Integrated Care Board"),
            ("org-lmc", "North Essex LMC"),
            ("org-south", "South CCG"),
            ("org-birch", "Birch Practice"),
            ("org-kent", "Kent LMC"),
        ]
        .into_iter()
        .map(|(i, n)| (i.to_string(), n.to_string()))
        .collect();
        let events = vec![
            ev(1, "file", "u-pat", "2026-01-05 09:00:00", json!({})),
            ev(
                2,
                "assign_mediator",
                "u-med",
                "2026-01-07 10:00:00",
                json!({"mediator_id": "u-med", "mode": "mediation"}),
            ),
            ev(
                3,
                "exhaust_informal",
                "u-med",
                "2026-02-04 16:00:00",
                json!({"reason": "The parties met with the LMC on 4 February 2026 but could not agree."}),
            ),
            ev(
                4,
                "request_formal",
                "u-pat",
                "2026-02-12 11:00:00",
                json!({"grounds": "The ICB changed the budget part-way through the year without agreement.", "lodged_on": "2026-02-12"}),
            ),
            ev(
                5,
                "record_lmc_consultation",
                "u-ao",
                "2026-02-13 12:00:00",
                json!({"consulted_on": "2026-02-13", "summary": "LMC consulted by phone."}),
            ),
            ev(
                6,
                "screen",
                "u-ao",
                "2026-02-16 09:30:00",
                json!({"outcome": "proceed", "reason": "A genuine dispute about the contract terms."}),
            ),
            ev(
                7,
                "appoint_panel",
                "u-sec",
                "2026-02-20 14:00:00",
                json!({"clinical_member_id": "u-cm", "gp_conciliator_id": "u-gp", "lmc_representative_id": "u-lr", "secretary_id": "u-sec", "chair_id": "u-gp"}),
            ),
            ev(
                8,
                "schedule_hearing",
                "u-sec",
                "2026-02-25 10:00:00",
                json!({"date": "2026-03-10", "time": "10:00", "venue": "Meeting room 3, Northshire House"}),
            ),
            ev(
                9,
                "add_note",
                "u-pat",
                "2026-02-26 10:00:00",
                json!({"text": "not in the timeline"}),
            ),
            ev(
                10,
                "distribute_bundle",
                "u-sec",
                "2026-03-02 10:00:00",
                json!({"document_ids": ["doc-1", "doc-2"]}),
            ),
            ev(
                11,
                "record_hearing",
                "u-sec",
                "2026-03-10 16:00:00",
                json!({"held_on": "2026-03-10", "appellant_presented": true, "respondent_presented": true, "record": "Both parties presented; the panel asked about the variation clause."}),
            ),
            ev(
                12,
                "record_decision",
                "u-sec",
                "2026-03-12 15:00:00",
                json!({"outcome": "appellant", "recommendations": "Restore the budget.", "votes": [{"member_id": "u-cm", "vote": "appellant"}, {"member_id": "u-gp", "vote": "appellant"}, {"member_id": "u-lr", "vote": "respondent"}]}),
            ),
            ev(
                13,
                "notify_decision",
                "u-sec",
                "2026-03-13 09:00:00",
                json!({}),
            ),
            ev(
                14,
                "refer_to_fhsu",
                "u-cara",
                "2026-03-24 09:00:00",
                json!({"statement": statement, "contract_document_id": "doc-1", "referred_on": "2026-03-24"}),
            ),
        ];
        let doc = |id: &str, name: &str, kind: &str, size: i64, when: &str, path: &str| Doc {
            meta: DocumentMeta {
                id: id.into(),
                dispute_id: "d".into(),
                name: name.into(),
                kind: kind.into(),
                content_type: "application/pdf".into(),
                size,
                sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
                uploaded_by: "u-pat".into(),
                created_at: at(when),
            },
            path: path.into(),
        };
        let mut documents = vec![
            doc(
                "doc-2",
                "Grounds for the formal request.pdf",
                "grounds",
                48_213,
                "2026-02-12 11:05:00",
                "documents/01-grounds-Grounds-for-the-formal-request.pdf",
            ),
            doc(
                "doc-3",
                "Prescribing budget letter 2025.pdf",
                "evidence",
                1_250_000,
                "2026-02-12 11:06:00",
                "documents/02-evidence-Prescribing-budget-letter-2025.pdf",
            ),
            doc(
                "doc-1",
                "GMS contract 2024.pdf",
                "contract",
                2_400_000,
                "2026-03-24 08:55:00",
                "documents/03-contract-GMS-contract-2024.pdf",
            ),
        ];
        if reader == Reader::Panel {
            documents.push(doc(
                "doc-4",
                "Hearing record.pdf",
                "record",
                30_000,
                "2026-03-10 17:00:00",
                "documents/04-record-Hearing-record.pdf",
            ));
        }
        Case {
            dispute: d.decode().unwrap(),
            reader,
            appellant: Org {
                name: "Elm Practice".into(),
                address: "Elm Surgery, 1 Elm Street, Northtown NT1 1AA".into(),
                ods_code: Some("F81001".into()),
            },
            respondent: Org {
                name: "NHS Northshire Integrated Care Board".into(),
                address: "Northshire House, 1 Station Road, Northtown NT1 2AB".into(),
                ods_code: None,
            },
            people,
            orgs,
            events: events
                .into_iter()
                .map(|e| {
                    let v = serde_json::from_str(&e.data).unwrap();
                    (e, v)
                })
                .collect(),
            documents,
        }
    }

    fn text_of(pdf: &[u8]) -> String {
        pdf_extract::extract_text_from_mem(pdf).expect("the cover's text extracts")
    }

    #[test]
    fn the_cover_is_a_tagged_pdf_with_real_text_title_and_language() {
        let pdf = render(&sample(
            Reader::Party,
            "We ask the FHSU to determine the dispute.",
            "Prescribing budget 2025/26",
        ))
        .unwrap();
        if let Ok(dir) = std::env::var("LDR_COVER_OUT") {
            std::fs::write(format!("{dir}/cover-sample.pdf"), &pdf).unwrap();
        }
        let raw = String::from_utf8_lossy(&pdf);
        assert!(
            raw.contains("/StructTreeRoot") && raw.contains("/MarkInfo"),
            "not tagged"
        );
        assert!(raw.contains("/Lang"), "no language");
        let t = text_of(&pdf);
        for s in [
            "Elm Practice",
            "Elm Surgery, 1 Elm Street, Northtown NT1 1AA",
            "F81001",
            "Northshire House, 1 Station Road",
            "We ask the FHSU to determine the dispute.",
            "restores the practice",
            "Mia Mediator",
            "Dr Conciliator",
            "5 January 2026",
            "12 February 2026",
            "24 March 2026",
            "Wednesday 31 May 2028",
        ] {
            assert!(t.contains(s), "{s:?} missing from:\n{t}");
        }
        // The parties' copy leaves the hearing record and the votes out.
        assert!(!t.contains("variation clause"), "{t}");
        assert!(!t.contains("Votes:"), "{t}");
        let panel = text_of(&render(&sample(Reader::Panel, "s", "t")).unwrap());
        assert!(
            panel.contains("variation clause") && panel.contains("Votes:"),
            "{panel}"
        );
    }

    #[test]
    fn the_same_case_gives_the_same_bytes() {
        let a = render(&sample(Reader::Party, "Same.", "Same")).unwrap();
        let b = render(&sample(Reader::Party, "Same.", "Same")).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn hostile_text_still_gives_a_valid_wrapped_pdf() {
        let long: String = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(180);
        let long = &long[..10_000];
        let statement = format!(
            "{long}\nمرحبا بالعالم — שלום עולם 😀👍🏽 \u{202e}reversed\u{202c} 漢字 \u{0}\u{7} {}END",
            "x".repeat(3000)
        );
        let title = format!("Title {} 😀 עברית", "y".repeat(400));
        let pdf = render(&sample(Reader::Party, &statement, &title)).unwrap();
        if let Ok(dir) = std::env::var("LDR_COVER_OUT") {
            std::fs::write(format!("{dir}/cover-hostile.pdf"), &pdf).unwrap();
        }
        let t = text_of(&pdf);
        // Wrapped, never cut: the statement's end and both ends of the long word are there.
        assert!(t.contains("END"), "the end of the statement is missing");
        // Page footers (artifacts, which this extractor does not skip) come between pages.
        let compact: String = t
            .lines()
            .filter(|l| !l.contains("FHSU referral pack cover"))
            .flat_map(str::split_whitespace)
            .collect();
        if let Ok(dir) = std::env::var("LDR_COVER_OUT") {
            std::fs::write(format!("{dir}/cover-hostile.txt"), &t).unwrap();
        }
        assert!(compact.contains(&"x".repeat(3000)), "the long word was cut");
        assert!(compact.contains(&"y".repeat(400)), "the long title was cut");
        assert!(
            t.contains('?'),
            "characters the font lacks are not shown as ?"
        );
    }
}
