//! `ldr import-organisations [--kind practices|commissioners] FILE...`: loads NHS ODS files
//! (`epraccur.csv`, `eccg.csv`) into the directory of the database `LDR_DATABASE_URL` names.
//! Every file is read and checked first; a file that is not of the layout stops the command
//! before anything is written. Commissioner files are then imported before practice files, so
//! that one command can load both.

use crate::config::Config;
use crate::domain::ods::{self, Layout};
use std::process::ExitCode;

pub const IMPORT_USAGE: &str =
    "usage: ldr import-organisations [--kind practices|commissioners] FILE.csv...\n\
    Loads GP practices (epraccur.csv layout) and commissioners (eccg.csv layout) from NHS ODS \
    files into the directory of LDR_DATABASE_URL, by ODS code. The layout is detected from the \
    columns unless --kind says it.";

/// Runs the command with the arguments after `import-organisations`.
pub fn import_organisations(args: &[String]) -> ExitCode {
    let mut kind = None;
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{IMPORT_USAGE}");
                return ExitCode::SUCCESS;
            }
            "--kind" => match it.next().and_then(|k| Layout::parse(k)) {
                Some(k) => kind = Some(k),
                None => {
                    eprintln!("ldr import-organisations: --kind takes practices or commissioners\n{IMPORT_USAGE}");
                    return ExitCode::from(2);
                }
            },
            s if s.starts_with('-') && s.len() > 1 => {
                eprintln!("ldr import-organisations: unknown option {s:?}\n{IMPORT_USAGE}");
                return ExitCode::from(2);
            }
            f => files.push(f.to_string()),
        }
    }
    if files.is_empty() {
        eprintln!("ldr import-organisations: no file given\n{IMPORT_USAGE}");
        return ExitCode::from(2);
    }
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ldr: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let today = crate::clock::Clock::new(cfg.today).today();
    // Every file read and checked before anything is written.
    let mut parsed = Vec::new();
    for f in &files {
        let bytes = match std::fs::read(f) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("ldr import-organisations: cannot read {f}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match ods::parse(&bytes, kind, today) {
            Ok(p) => parsed.push((f.clone(), p)),
            Err(e) => {
                eprintln!("ldr import-organisations: {f} refused, nothing imported: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    parsed.sort_by_key(|(_, p)| p.layout != Layout::Commissioners);
    let pool = match crate::db::connect(&cfg.database, 1) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ldr import-organisations: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut conn = match crate::db::checkout(&pool) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ldr import-organisations: no database connection: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = crate::db::migrate(&mut conn) {
        eprintln!("ldr import-organisations: {e}");
        return ExitCode::FAILURE;
    }
    for (f, p) in parsed {
        let started = std::time::Instant::now();
        let out = match crate::db::ods::import(&mut conn, p.layout, &p.records) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("ldr import-organisations: {f}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut skipped = p.skipped;
        skipped.extend(out.skipped);
        skipped.sort_by_key(|s| s.line);
        println!(
            "{f}: {}, {}, {:.1} s",
            p.layout.describe(),
            if p.told {
                "as --kind says"
            } else {
                "detected from the columns"
            },
            started.elapsed().as_secs_f64()
        );
        let not_gp = if p.layout == Layout::Practices {
            format!(
                ", not GP practices (prescribing setting other than 4) {}",
                p.not_gp_practices
            )
        } else {
            String::new()
        };
        println!(
            "  created {}, updated {}, unchanged {}, skipped {}{not_gp}",
            out.created,
            out.updated,
            out.unchanged,
            skipped.len()
        );
        for s in &skipped {
            println!("  line {} skipped: {}", s.line, s.reason);
        }
    }
    ExitCode::SUCCESS
}
