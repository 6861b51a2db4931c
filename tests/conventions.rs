//! Conventions the code and its documents keep, checked on every run.
//!
//! The modules' dependencies point one way: domain (pure) ← db ← service ← {api, web, notify},
//! with the wiring (`app`, `server`, `cli`, `main`) on top. This reads every file under `src/`
//! for the modules it names (`crate::x`, also inside `use crate::{…}`) and fails on any edge
//! the table below does not allow, naming the file, so a helper put in the wrong layer is
//! caught when it is written rather than when the next cycle is untangled.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may use. A module not listed here fails the test: say where a
/// new one belongs.
const ALLOWED: &[(&str, &[&str])] = &[
    // Pure, no I/O, below everything.
    ("domain", &[]),
    ("clock", &[]),
    ("render", &["domain"]),
    // The webhook protocol: signatures, sealed secrets, which addresses a post may go to.
    ("webhooks", &[]),
    ("db", &["domain"]),
    ("config", &["db", "domain"]),
    ("logging", &["config"]),
    ("metrics", &["db"]),
    ("pack", &["clock", "db", "domain", "render"]),
    (
        "service",
        &[
            "clock", "config", "db", "domain", "metrics", "pack", "render", "webhooks",
        ],
    ),
    // The front ends and the jobs, on the service. `app` is the state the handlers take.
    (
        "notify",
        &[
            "clock", "config", "db", "domain", "metrics", "render", "service", "webhooks",
        ],
    ),
    (
        "api",
        &[
            "app", "clock", "config", "db", "domain", "metrics", "pack", "render", "service",
            "webhooks",
        ],
    ),
    // The pages still call some of the API's functions and share its error type: a sideways
    // edge between two front ends (docs/design.md), never one into the pages from below.
    (
        "web",
        &[
            "api", "app", "clock", "config", "db", "domain", "metrics", "pack", "render",
            "service", "webhooks",
        ],
    ),
    // The wiring.
    (
        "app",
        &[
            "api", "clock", "config", "db", "domain", "metrics", "notify", "pack", "render",
            "service", "webhooks",
        ],
    ),
    ("healthcheck", &["config"]),
    (
        "cli",
        &["clock", "config", "db", "domain", "logging", "server"],
    ),
    ("server", &[]),
    ("lib", &[]),
    ("main", &[]),
];

/// Modules whose every dependency is allowed: the wiring that builds the others.
const WIRING: &[&str] = &["server", "main", "lib"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file under `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules `text` names as `crate::x`, comments aside.
fn named(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::x, b}`: the first segment of each item at the top level of the braces.
            let mut depth = 0;
            let mut item_start = true;
            for (i, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        rest = &group[i..];
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphabetic() || c == '_') => {
                        out.insert(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn dependencies_between_modules_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    all.sort();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for file in &all {
        let module = module_of(&src, file);
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "{}: module `{module}` is not in tests/layering.rs's table; say which layer it is",
                file.display()
            ));
            continue;
        };
        if WIRING.contains(&module.as_str()) {
            continue;
        }
        for used in named(&std::fs::read_to_string(file).unwrap()) {
            if used != module && !may.contains(&used.as_str()) {
                wrong.push(format!(
                    "{}: `{module}` uses `crate::{used}`, which it may not",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies against the layering (domain ← db ← service ← {{api, web, notify}} ← app):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scan_reads_grouped_and_plain_paths_and_skips_comments() {
    let text = "use crate::db::DbConn;\n// crate::web is only mentioned\nuse crate::{api::x, \
                service::{a, b}, domain};\nlet y = crate::clock::now();\n";
    let got: Vec<String> = named(text).into_iter().collect();
    assert_eq!(got, ["api", "clock", "db", "domain", "service"]);
}

/// The dependencies `Cargo.toml` names in `[dependencies]` and `[dev-dependencies]`.
fn cargo_dependencies() -> Vec<String> {
    let toml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let mut section = "";
    let mut out = Vec::new();
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line;
        } else if section == "[dependencies]" || section == "[dev-dependencies]" {
            if let Some((name, _)) = line.split_once('=') {
                let name = name.trim();
                if !name.is_empty() && !name.starts_with('#') {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// Whether `text` names `word` as a whole crate name (not inside a longer one: `zip` is not
/// named by `gzipped`, nor `http` by `https`).
fn names(text: &str, word: &str) -> bool {
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(is_part)
            && !text[at + word.len()..].chars().next().is_some_and(is_part)
    })
}

#[test]
fn every_crate_is_explained_in_the_readme_and_in_the_design_notes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let section = |file: &str, heading: &str| {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let at = text
            .find(heading)
            .unwrap_or_else(|| panic!("{file} has no {heading:?}"));
        text[at..].to_string()
    };
    let readme = section("README.md", "## Why each crate is here");
    let design = section("docs/design.md", "## Crates");
    let deps = cargo_dependencies();
    assert!(deps.len() > 40, "Cargo.toml read wrong: {deps:?}");
    let missing: Vec<String> = deps
        .iter()
        .flat_map(|d| {
            [("README.md", &readme), ("docs/design.md", &design)]
                .into_iter()
                .filter(|(_, text)| !names(text, d))
                .map(move |(file, _)| format!("{d} is not explained in {file}"))
        })
        .collect();
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    assert!(
        names("zip (deflate only)", "zip") && !names("gzipped", "zip") && !names("https", "http")
    );
}
