//! Notice templates: snapshots of every template, strict mode, escaping, embedded vs loaded.
//!
//! Snapshots live in tests/snapshots/templates__*.snap. After a deliberate wording change,
//! re-run with `INSTA_UPDATE=always cargo test --test templates` and review the diff.

use std::path::{Path, PathBuf};

use ldr::render::templates::{long_date, Rendered, TemplateError, Templates};
use serde_json::{json, Value};

fn template_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("email_templates")
}

fn loaded() -> Templates {
    Templates::load(&template_dir()).expect("templates load")
}

/// Fields every notice receives.
fn common() -> Value {
    json!({
        "case_ref": "LDR-1A2B3C4D",
        "title": "Withheld prescribing incentive scheme payment 2025/26",
        "category_words": "Prescribing",
        "appellant_name": "Riverside Medical Practice",
        "respondent_name": "NHS Northshire Integrated Care Board",
        "today": "2026-02-20",
        "case_url": "https://ldr.example.nhs.uk/disputes/5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa"
    })
}

/// The panel's secretary, as the service adds it to every notice of a case with a panel.
fn secretary() -> Value {
    json!({"name": "Angela Price", "email": "angela.price@northshire.example.nhs.uk"})
}

fn with(extra: Value) -> Value {
    let mut ctx = common();
    let map = ctx.as_object_mut().unwrap();
    for (k, v) in extra.as_object().expect("object").clone() {
        map.insert(k, v);
    }
    ctx
}

/// A realistic context for each template (one timeline: formal request lodged Thursday
/// 12 February 2026, hearing due by Thursday 12 March 2026, held Tuesday 10 March 2026).
fn fixture(name: &str) -> Value {
    let extra = match name {
        "dispute_filed" => json!({
            "summary": "The ICB withheld the practice's 2025/26 prescribing incentive scheme payment of £18,400, saying the practice did not meet the antimicrobial stewardship target.\nThe practice says the target was changed after the scheme year had started and that it met the target as originally agreed.",
            "matter_arose_on": "2025-11-28"
        }),
        "dispute_acknowledged" => json!({
            "summary": "The ICB withheld the practice's 2025/26 prescribing incentive scheme payment of £18,400.",
            "matter_arose_on": "2025-11-28"
        }),
        "awaiting_panel" => json!({
            "lodged_on": "2026-02-12",
            "notice_by": "2026-03-02",
            "hearing_by": "2026-03-12"
        }),
        "mediator_assigned" => json!({
            "mediator_name": "Dr Helen Marsh",
            "mode": "mediation"
        }),
        "informal_resolved" => json!({
            "summary": "The ICB agreed to assess the practice against the target as published in April 2025 and to pay the 2025/26 incentive payment in full in the March 2026 payment run."
        }),
        "informal_exhausted" => json!({
            "reason": "The parties met with the LMC on 4 February 2026 but could not agree which version of the target applies."
        }),
        "formal_requested" => json!({
            "lodged_on": "2026-02-12",
            "hearing_by": "2026-03-12",
            "grounds": "The ICB changed the antimicrobial stewardship target part-way through the scheme year without agreement, contrary to the scheme terms.",
            "requested_by_name": "Riverside Medical Practice"
        }),
        "screening_outcome" => json!({
            "outcome": "proceed",
            "reason": "The request raises a genuine dispute about the scheme terms that informal resolution has not settled.",
            "hearing_by": "2026-03-12"
        }),
        "panel_appointed" => json!({
            "members": [
                {"name": "Jane Whitfield", "role_label": "lay chair"},
                {"name": "Dr Samuel Okafor", "role_label": "GP member nominated by the LMC"},
                {"name": "Karen Lloyd", "role_label": "commissioner member"}
            ],
            "chair_name": "Jane Whitfield",
            "secretary_name": "Angela Price",
            "secretary": secretary(),
            "hearing_by": "2026-03-12"
        }),
        "hearing_scheduled" => json!({
            "hearing_date": "2026-03-10",
            "hearing_time": "10:00",
            "venue": "Meeting room 3, Northshire House, 1 Station Road, Northtown NT1 2AB",
            "is_update": false,
            "bundle_by": "2026-03-02",
            "secretary": secretary()
        }),
        "hearing_cancelled" => json!({
            "hearing_date": "2026-03-10",
            "hearing_time": "10:00",
            "venue": "Meeting room 3, Northshire House, 1 Station Road, Northtown NT1 2AB",
            "reason": "The panel chair is unwell. The panel secretary will arrange a new date."
        }),
        "bundle_distributed" => json!({
            "hearing_date": "2026-03-10",
            "public_url": "https://ldr.example.nhs.uk",
            "secretary": secretary(),
            "documents": [
                {"id": "0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d", "name": "Formal request and grounds", "kind": "grounds"},
                {"id": "1c7d2e3f-4051-4b6c-9d7e-8f9a0b1c2d3e", "name": "ICB response to the formal request", "kind": "other"},
                {"id": "2d8e3f40-5162-4c7d-ae8f-9a0b1c2d3e4f", "name": "Prescribing incentive scheme 2025/26 terms", "kind": "evidence"},
                {"id": "3e9f4051-6273-4d8e-bf9a-0b1c2d3e4f50", "name": "Practice antimicrobial prescribing data, April to December 2025", "kind": "evidence"}
            ]
        }),
        "decision_notified" => json!({
            "outcome": "appellant",
            "recommendations": [
                "The ICB pays the 2025/26 incentive payment in full within 28 days.",
                "The ICB consults the LMC before changing scheme targets in future years."
            ],
            "hearing_date": "2026-03-10",
            "fhsu_by": "2026-04-07"
        }),
        "fhsu_referral" => json!({
            "referred_on": "2026-03-24",
            "statement": "The ICB considers that the panel did not take account of the scheme's variation clause, which allows targets to be updated in year.",
            "referred_by_name": "NHS Northshire Integrated Care Board",
            "for_fhsu": false,
            "pack": {
                "name": "referral-pack-LDR-1A2B3C4D.zip",
                "files": [
                    "cover.pdf",
                    "documents/01-grounds-Formal-request-and-grounds.pdf",
                    "documents/02-evidence-Prescribing-incentive-scheme-2025-26-terms.pdf",
                    "documents/03-contract-GMS-contract-2024.pdf",
                    "manifest.json"
                ],
                "attached": true,
                "size_label": "2.4 MB",
                "limit_label": "10.0 MB",
                "link": "/api/v1/disputes/5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa/referral-pack"
            }
        }),
        "fhsu_determination" => json!({
            "determined_on": "2026-06-18",
            "outcome": "appellant",
            "summary": "The FHSU upheld the panel's decision. The ICB must pay the 2025/26 incentive payment in full."
        }),
        "dispute_withdrawn" => json!({
            "reason": "The ICB has paid the incentive payment in full.",
            "withdrawn_by_name": "Riverside Medical Practice"
        }),
        "dispute_closed" => json!({
            "reason": "The FHSU determination has been carried out and no further steps remain."
        }),
        "deadline_reminder" => json!({
            "deadline_label": "the hearing",
            "due_on": "2026-03-12",
            "action": "schedule the hearing and send notice",
            "working_days_left": 3
        }),
        "deadline_breached" => json!({
            "deadline_label": "the hearing",
            "due_on": "2026-03-12",
            "action": "schedule the hearing and send notice"
        }),
        other => panic!("no fixture for {other}"),
    };
    with(extra)
}

fn show(r: &Rendered) -> String {
    format!(
        "SUBJECT: {}\n\n===== TEXT =====\n{}\n===== HTML =====\n{}",
        r.subject, r.text, r.html
    )
}

fn render(t: &Templates, name: &str, ctx: &Value) -> Rendered {
    t.render(name, ctx)
        .unwrap_or_else(|e| panic!("{name} failed: {e}"))
}

macro_rules! snapshot_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                let name = stringify!($name);
                let r = render(&loaded(), name, &fixture(name));
                insta::assert_snapshot!(name, show(&r));
            }
        )+

        /// Every template in NAMES has a snapshot test above.
        #[test]
        fn every_template_has_a_snapshot_test() {
            let tested = [$(stringify!($name)),+];
            assert_eq!(tested.as_slice(), Templates::NAMES);
        }
    };
}

snapshot_tests!(
    dispute_filed,
    dispute_acknowledged,
    awaiting_panel,
    mediator_assigned,
    informal_resolved,
    informal_exhausted,
    formal_requested,
    screening_outcome,
    panel_appointed,
    hearing_scheduled,
    hearing_cancelled,
    bundle_distributed,
    decision_notified,
    fhsu_referral,
    fhsu_determination,
    dispute_withdrawn,
    dispute_closed,
    deadline_reminder,
    deadline_breached,
);

/// Branches worth reviewing as whole notices too.
#[test]
fn variant_snapshots() {
    let t = loaded();
    let variants = [
        (
            "hearing_scheduled",
            "variant_hearing_moved",
            json!({"is_update": true, "hearing_date": "2026-03-11", "hearing_time": "14:30"}),
        ),
        (
            "screening_outcome",
            "variant_screened_out_vexatious",
            json!({"outcome": "vexatious", "reason": "The request repeats a dispute about the same payment that the panel decided in 2025.", "hearing_by": null}),
        ),
        (
            "screening_outcome",
            "variant_screened_out_contract_may_go_to_the_fhsu",
            json!({"outcome": "frivolous", "reason": "The scheme terms were agreed and signed by both parties in April 2025.", "hearing_by": null, "fhsu_by": "2028-05-31"}),
        ),
        (
            "decision_notified",
            "variant_decision_respondent_final",
            json!({"outcome": "respondent", "recommendations": [], "fhsu_by": null}),
        ),
        (
            "decision_notified",
            "variant_decision_text_recommendations",
            json!({"recommendations": "The ICB should pay the withheld amount within 28 days.\nBoth parties should review the scheme terms with the LMC before April 2027."}),
        ),
        (
            "fhsu_referral",
            "variant_fhsu_referral_to_the_fhsu",
            json!({"for_fhsu": true}),
        ),
        (
            "fhsu_referral",
            "variant_fhsu_referral_pack_too_large",
            json!({"pack": {"name": "referral-pack-LDR-1A2B3C4D.zip", "files": ["cover.pdf", "documents/01-evidence-Scans.pdf", "manifest.json"],
                "attached": false, "size_label": "14.2 MB", "limit_label": "10.0 MB",
                "link": "/api/v1/disputes/5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa/referral-pack"}}),
        ),
        (
            "fhsu_referral",
            "variant_fhsu_referral_to_the_fhsu_too_large",
            json!({"for_fhsu": true, "pack": {"name": "referral-pack-LDR-1A2B3C4D.zip", "files": ["cover.pdf", "documents/01-evidence-Scans.pdf", "manifest.json"],
                "attached": false, "size_label": "14.2 MB", "limit_label": "10.0 MB",
                "link": "/api/v1/disputes/5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa/referral-pack"}}),
        ),
        (
            "mediator_assigned",
            "variant_mediator_advisory",
            json!({"mode": "advisory", "mediator_name": "Dr Helen Marsh"}),
        ),
    ];
    for (name, snapshot, overrides) in variants {
        let mut ctx = fixture(name);
        for (k, v) in overrides.as_object().unwrap() {
            ctx[k] = v.clone();
        }
        insta::assert_snapshot!(snapshot, show(&render(&t, name, &ctx)));
    }
}

#[test]
fn subjects_are_one_line_and_start_with_the_case_reference() {
    let t = loaded();
    for name in Templates::NAMES {
        let r = render(&t, name, &fixture(name));
        assert!(
            r.subject.starts_with("[LDR-1A2B3C4D] "),
            "{name}: {}",
            r.subject
        );
        assert!(!r.subject.contains(['\n', '\r']), "{name}");
        assert_eq!(r.subject, r.subject.trim(), "{name}");
        assert!(
            r.subject.len() < 140,
            "{name}: subject too long: {}",
            r.subject
        );
        assert!(r.text.contains("LDR-1A2B3C4D"), "{name}");
        assert!(r.html.contains("LDR-1A2B3C4D"), "{name}");
        assert!(
            r.text.ends_with('\n') && !r.text.ends_with("\n\n"),
            "{name}"
        );
        assert!(r.html.starts_with("<!DOCTYPE html>"), "{name}");
        assert!(r.html.trim_end().ends_with("</html>"), "{name}");
        assert!(!r.text.contains("{{") && !r.html.contains("{{"), "{name}");
    }
}

#[test]
fn subject_examples() {
    let t = loaded();
    let subject = |name: &str| render(&t, name, &fixture(name)).subject;
    assert_eq!(
        subject("hearing_scheduled"),
        "[LDR-1A2B3C4D] Hearing scheduled for Tuesday 10 March 2026"
    );
    assert_eq!(
        subject("decision_notified"),
        "[LDR-1A2B3C4D] Panel decision: in favour of the appellant, Riverside Medical Practice"
    );
    assert_eq!(
        subject("deadline_reminder"),
        "[LDR-1A2B3C4D] Reminder: the hearing is due by Thursday 12 March 2026"
    );
}

#[test]
fn strict_mode_rejects_a_missing_required_field() {
    let t = loaded();

    let mut ctx = fixture("hearing_scheduled");
    ctx.as_object_mut().unwrap().remove("venue");
    match t.render("hearing_scheduled", &ctx) {
        Err(TemplateError::Render { file, message }) => {
            assert_eq!(file, "hearing_scheduled.txt.hbs");
            assert!(message.contains("venue"), "{message}");
        }
        other => panic!("expected a render error, got {other:?}"),
    }

    // A common field, used by the subject.
    let mut ctx = fixture("dispute_closed");
    ctx.as_object_mut().unwrap().remove("case_ref");
    let err = t.render("dispute_closed", &ctx).unwrap_err();
    assert!(
        err.to_string().contains("dispute_closed.subject.hbs"),
        "{err}"
    );
    assert!(err.to_string().contains("case_ref"), "{err}");

    // Every required field of every template is caught (each removal must fail), except the
    // ones documented as optional.
    let optional = [
        ("dispute_filed", "matter_arose_on"),
        ("dispute_acknowledged", "matter_arose_on"),
        ("awaiting_panel", "notice_by"),
        // Null while the secretary's account is inactive: the notice says "the panel secretary".
        ("panel_appointed", "secretary"),
        ("hearing_scheduled", "secretary"),
        ("bundle_distributed", "secretary"),
        ("screening_outcome", "hearing_by"),
        ("screening_outcome", "fhsu_by"),
        ("hearing_scheduled", "is_update"),
        ("decision_notified", "recommendations"),
        ("decision_notified", "fhsu_by"),
        // Absent or false: the parties' copy; true: the FHSU's notice.
        ("fhsu_referral", "for_fhsu"),
        ("dispute_withdrawn", "reason"),
        ("deadline_reminder", "working_days_left"),
    ];
    for name in Templates::NAMES {
        let full = fixture(name);
        for key in full.as_object().unwrap().keys() {
            let mut ctx = full.clone();
            ctx.as_object_mut().unwrap().remove(key);
            let result = t.render(name, &ctx);
            if optional.contains(&(*name, key.as_str())) {
                assert!(result.is_ok(), "{name} without optional {key}: {result:?}");
                let mut null = full.clone();
                null[key] = Value::Null;
                let r = t.render(name, &null);
                assert!(r.is_ok(), "{name} with null {key}: {r:?}");
            } else {
                assert!(result.is_err(), "{name} rendered without required {key}");
            }
        }
    }
}

#[test]
fn required_fields_inside_lists_are_checked() {
    let t = loaded();
    let mut ctx = fixture("panel_appointed");
    ctx["members"][1]
        .as_object_mut()
        .unwrap()
        .remove("role_label");
    let err = t.render("panel_appointed", &ctx).unwrap_err();
    assert!(err.to_string().contains("role_label"), "{err}");
}

#[test]
fn html_is_escaped_but_text_and_subject_are_not() {
    let t = loaded();
    let mut ctx = fixture("dispute_filed");
    ctx["title"] = json!("Rent review for O'Brien & Sons <Ltd>");
    ctx["summary"] = json!("<script>alert('x')</script> O'Brien & Sons");
    let r = render(&t, "dispute_filed", &ctx);

    assert!(r.subject.contains("O'Brien & Sons <Ltd>"), "{}", r.subject);
    assert!(r
        .text
        .contains("<script>alert('x')</script> O'Brien & Sons"));
    assert!(r.text.contains("Rent review for O'Brien & Sons <Ltd>"));
    assert!(!r.text.contains("&amp;") && !r.text.contains("&lt;") && !r.text.contains("&#x27;"));

    assert!(!r.html.contains("<script>"), "{}", r.html);
    assert!(r
        .html
        .contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; O&#x27;Brien &amp; Sons"));
    assert!(r
        .html
        .contains("Rent review for O&#x27;Brien &amp; Sons &lt;Ltd&gt;"));
}

#[test]
fn html_keeps_line_breaks_of_multi_line_fields() {
    let r = render(&loaded(), "dispute_filed", &fixture("dispute_filed"));
    assert!(
        r.html.contains("agreed.<br>\n") || r.html.contains("target.<br>\n"),
        "{}",
        r.html
    );
}

#[test]
fn embedded_and_loaded_render_the_same() {
    let (embedded, loaded) = (Templates::embedded(), loaded());
    for name in Templates::NAMES {
        let ctx = fixture(name);
        assert_eq!(
            render(&embedded, name, &ctx),
            render(&loaded, name, &ctx),
            "{name}"
        );
    }
}

#[test]
fn long_date_examples() {
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(long_date(d("2026-03-12")), "Thursday 12 March 2026");
    assert_eq!(long_date(d("2026-03-02")), "Monday 2 March 2026");
    assert_eq!(long_date(d("2025-12-31")), "Wednesday 31 December 2025");
    assert_eq!(long_date(d("2028-02-29")), "Tuesday 29 February 2028");
}

#[test]
fn long_date_helper_rejects_bad_dates() {
    let t = loaded();
    for bad in [json!("12/03/2026"), json!("2026-02-30"), json!(20260312)] {
        let mut ctx = fixture("dispute_closed");
        ctx["today"] = bad.clone();
        let err = t.render("dispute_closed", &ctx).unwrap_err();
        assert!(err.to_string().contains("long_date"), "{bad}: {err}");
    }
}

#[test]
fn enumerated_fields_are_checked() {
    let t = loaded();
    for (name, key) in [
        ("screening_outcome", "outcome"),
        ("decision_notified", "outcome"),
        ("mediator_assigned", "mode"),
        ("fhsu_determination", "outcome"),
    ] {
        let mut ctx = fixture(name);
        ctx[key] = json!("undecided");
        let err = t.render(name, &ctx).unwrap_err();
        assert!(err.to_string().contains("undecided"), "{name}: {err}");
    }
}

/// `s` with each run of whitespace one space: the templates wrap their lines (about 72
/// characters), so a phrase may run over a line end.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn decision_outcome_and_fhsu_wording() {
    let t = loaded();
    let r = render(&t, "decision_notified", &fixture("decision_notified"));
    assert!(flat(&r.text).contains("in favour of the appellant, Riverside Medical Practice"));
    assert!(flat(&r.text).contains("on or before Tuesday 7 April 2026"));

    let mut ctx = fixture("decision_notified");
    ctx["outcome"] = json!("respondent");
    ctx["fhsu_by"] = Value::Null;
    ctx["recommendations"] = json!([]);
    let r = render(&t, "decision_notified", &ctx);
    let r_empty_text = {
        ctx["recommendations"] = json!("");
        render(&t, "decision_notified", &ctx)
    };
    assert_eq!(r, r_empty_text, "empty list and empty text render alike");
    assert!(
        flat(&r.text).contains("in favour of the respondent, NHS Northshire Integrated Care Board")
    );
    assert!(!r.text.contains("FHSU"), "{}", r.text);
    assert!(!r.text.contains("recommendations"), "{}", r.text);
}

#[test]
fn reminder_counts_working_days() {
    let t = loaded();
    let text = |days: Value| {
        let mut ctx = fixture("deadline_reminder");
        ctx["working_days_left"] = days;
        render(&t, "deadline_reminder", &ctx).text
    };
    assert!(text(json!(3)).contains("\nWorking days left: 3\n"));
    assert!(text(json!(1)).contains("\nWorking days left: 1\n"));
    assert!(text(json!(0)).contains("\nWorking days left: 0 (the deadline is today)\n"));
    let none = text(Value::Null);
    assert!(!none.contains("Working days left"), "{none}");
    assert!(none.contains(
        "Please schedule the hearing and send notice on or before Thursday 12 March 2026."
    ));
}

#[test]
fn hearing_time_is_written_in_words() {
    let t = loaded();
    let mut ctx = fixture("hearing_scheduled");
    ctx["hearing_time"] = json!("14:30");
    assert!(render(&t, "hearing_scheduled", &ctx)
        .text
        .contains("Time: 2:30pm (UK time)"));
    ctx["hearing_time"] = json!("2.30pm");
    assert!(t.render("hearing_scheduled", &ctx).is_err());
}

#[test]
fn unknown_template_is_an_error() {
    let err = loaded().render("no_such_notice", &common()).unwrap_err();
    assert!(matches!(err, TemplateError::UnknownTemplate(ref n) if n == "no_such_notice"));
}

/// Every name in NAMES has its three files, the partials are there, and every file in the
/// folder belongs to a known name.
#[test]
fn template_folder_matches_names() {
    let dir = template_dir();
    for name in Templates::NAMES {
        for part in ["subject", "txt", "html"] {
            let f = dir.join(format!("{name}.{part}.hbs"));
            assert!(f.is_file(), "missing {}", f.display());
        }
    }
    let mut partials: Vec<String> = std::fs::read_dir(dir.join("partials"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    partials.sort();
    assert_eq!(
        partials,
        [
            "footer.html.hbs",
            "footer.txt.hbs",
            "header.html.hbs",
            "header.txt.hbs"
        ]
    );
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        let file = entry.file_name().into_string().unwrap();
        if entry.file_type().unwrap().is_dir() {
            assert_eq!(file, "partials", "unexpected folder {file}");
            continue;
        }
        let name = [".subject.hbs", ".txt.hbs", ".html.hbs"]
            .iter()
            .find_map(|suffix| file.strip_suffix(suffix))
            .unwrap_or_else(|| panic!("unexpected file {file}"));
        assert!(
            Templates::NAMES.contains(&name),
            "file for unknown template: {file}"
        );
    }
}

/// A fresh copy of email_templates/ in a scratch folder under target/.
fn copy_templates(tag: &str) -> PathBuf {
    let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("email_templates_{tag}"));
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(dest.join("partials")).unwrap();
    for sub in ["", "partials"] {
        for entry in std::fs::read_dir(template_dir().join(sub)).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), dest.join(sub).join(entry.file_name())).unwrap();
            }
        }
    }
    dest
}

#[test]
fn load_names_a_missing_file() {
    let dir = copy_templates("missing");
    std::fs::remove_file(dir.join("bundle_distributed.html.hbs")).unwrap();
    let err = Templates::load(&dir).unwrap_err();
    assert!(matches!(err, TemplateError::Io { .. }), "{err:?}");
    assert!(
        err.to_string().contains("bundle_distributed.html.hbs"),
        "{err}"
    );

    let dir = copy_templates("missing_partial");
    std::fs::remove_file(dir.join("partials/footer.txt.hbs")).unwrap();
    let err = Templates::load(&dir).unwrap_err();
    assert!(err.to_string().contains("footer.txt.hbs"), "{err}");
}

#[test]
fn load_names_a_broken_file() {
    let dir = copy_templates("broken");
    std::fs::write(
        dir.join("dispute_closed.txt.hbs"),
        "{{#if reason}}never closed\n",
    )
    .unwrap();
    let err = Templates::load(&dir).unwrap_err();
    assert!(matches!(err, TemplateError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains("dispute_closed.txt.hbs"), "{err}");
}

/// Issue #31's e-mail points on the rendered messages: every notice links to the case and
/// shows the category in words; the bundle links each document; the panel secretary is named
/// with an address wherever a notice says to send or tell them something; reminders and
/// alerts read as sentences; the FHSU's determination says who won.
#[test]
fn notices_link_the_case_name_addresses_and_read_naturally() {
    let t = loaded();
    let case_url = "https://ldr.example.nhs.uk/disputes/5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa";
    for name in Templates::NAMES {
        let r = render(&t, name, &fixture(name));
        assert!(r.text.contains(&format!("\n{case_url}\n")), "{name}");
        assert!(
            r.html.contains(&format!("<a href=\"{case_url}\"")),
            "{name}"
        );
        assert!(r.text.contains("\nCategory: Prescribing\n"), "{name}");
        assert!(!r.text.contains("Category: prescribing"), "{name}");
    }
    let bundle = render(&t, "bundle_distributed", &fixture("bundle_distributed"));
    assert!(bundle.text.contains(
        "- Formal request and grounds (grounds):\n  \
         https://ldr.example.nhs.uk/documents/0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d\n"
    ));
    assert!(bundle.html.contains(
        "href=\"https://ldr.example.nhs.uk/documents/0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d\""
    ));
    for name in ["bundle_distributed", "hearing_scheduled", "panel_appointed"] {
        let r = render(&t, name, &fixture(name));
        let text = flat(&r.text);
        assert!(
            text.contains("Angela Price (angela.price@northshire.example.nhs.uk)"),
            "{name}: {text}"
        );
        // Without an active secretary, the notice still says whom to ask.
        let mut ctx = fixture(name);
        ctx["secretary"] = Value::Null;
        let r = render(&t, name, &ctx);
        assert!(!r.text.contains("angela.price@"), "{name}");
    }
    let hearing = flat(&render(&t, "hearing_scheduled", &fixture("hearing_scheduled")).text);
    assert!(hearing.contains(
        "Send any documents you want the panel to consider to Angela Price \
         (angela.price@northshire.example.nhs.uk) on or before Monday 2 March 2026."
    ));
    let mut reminder = fixture("deadline_reminder");
    reminder["deadline_label"] = json!("the document bundle");
    reminder["due_on"] = json!("2026-03-03");
    assert_eq!(
        render(&t, "deadline_reminder", &reminder).subject,
        "[LDR-1A2B3C4D] Reminder: the document bundle is due by Tuesday 3 March 2026"
    );
    assert_eq!(
        render(&t, "deadline_breached", &fixture("deadline_breached")).subject,
        "[LDR-1A2B3C4D] Deadline missed: the hearing was due by Thursday 12 March 2026"
    );
    let mut determination = fixture("fhsu_determination");
    for (outcome, words) in [
        (
            "appellant",
            "Outcome: In favour of the appellant, Riverside Medical Practice.",
        ),
        (
            "respondent",
            "Outcome: In favour of the respondent, NHS Northshire Integrated Care Board.",
        ),
        ("partly", "Outcome: In part for each party."),
    ] {
        determination["outcome"] = json!(outcome);
        let r = render(&t, "fhsu_determination", &determination);
        assert!(flat(&r.text).contains(words), "{outcome}: {}", r.text);
    }
    let ack = render(&t, "dispute_acknowledged", &fixture("dispute_acknowledged"));
    assert_eq!(
        ack.subject,
        "[LDR-1A2B3C4D] Your dispute has been filed: Withheld prescribing incentive scheme \
         payment 2025/26"
    );
}
