//! NHS ODS directory files, read into organisations: GP practices in the `epraccur.csv` layout
//! and commissioners in the `eccg.csv` layout. Pure: the file's bytes in, typed records (or the
//! reason a line or the whole file is refused) out; `db::ods` writes them.
//!
//! Both layouts are NHS Digital's 27-column "standard" ODS format, with no header row:
//!
//! | column | practices (`epraccur`) | commissioners (`eccg`) |
//! |---|---|---|
//! | 1 | ODS code | ODS code |
//! | 2 | name | name |
//! | 3 | national grouping (NHS England region) → `region` | same |
//! | 4 | high level health geography (the ICB) → `area` | same |
//! | 5–9 | address lines | address lines |
//! | 10 | postcode | postcode |
//! | 11, 12 | open date, close date (`YYYYMMDD`) | same |
//! | 13 | status: `A` active, `C` closed, `D` dormant, `P` proposed | empty |
//! | 14 | organisation sub-type | organisation sub-type |
//! | 15 | the commissioner's ODS code | empty |
//! | 16–17 | join / left parent dates | empty |
//! | 18 | telephone | telephone |
//! | 22 | amended-record flag | amended-record flag |
//! | 24 | provider/purchaser | empty |
//! | 26 | prescribing setting (`4` = GP practice) | empty |
//!
//! `area` is the ICB code of column 4 for both, so a practice and its commissioner share an
//! area, and the LMC of their disputes is the `lmc` organisation whose `area` is that code.

use chrono::NaiveDate;

/// Columns of a line in both layouts.
pub const COLUMNS: usize = 27;

/// The prescribing setting (column 26) of a GP practice.
pub const GP_PRACTICE_SETTING: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `epraccur.csv`: GP practices.
    Practices,
    /// `eccg.csv`: commissioners.
    Commissioners,
}

impl Layout {
    /// `--kind`'s spelling (`practices`/`epraccur`, `commissioners`/`eccg`).
    pub fn parse(s: &str) -> Option<Layout> {
        match s.trim().to_ascii_lowercase().as_str() {
            "practices" | "practice" | "epraccur" => Some(Layout::Practices),
            "commissioners" | "commissioner" | "eccg" => Some(Layout::Commissioners),
            _ => None,
        }
    }

    /// The organisation kind its lines become.
    pub fn kind(self) -> &'static str {
        match self {
            Layout::Practices => "practice",
            Layout::Commissioners => "commissioner",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Layout::Practices => "GP practices (epraccur layout)",
            Layout::Commissioners => "commissioners (eccg layout)",
        }
    }
}

/// One organisation of the file, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdsRecord {
    /// The file's line (1-based) where it starts.
    pub line: u64,
    /// Upper case.
    pub ods_code: String,
    pub name: String,
    /// Column 3, the national grouping.
    pub region: String,
    /// Column 4, the high level health geography.
    pub area: String,
    /// Address lines and postcode, joined with ", ".
    pub address: String,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    /// A practice: status other than `C`. A commissioner: no close date on or before today.
    pub active: bool,
    /// A practice's commissioner (column 15, upper case); `None` for a commissioner.
    pub commissioner_code: Option<String>,
}

/// A line left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: u64,
    pub reason: String,
}

/// A whole file read.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub layout: Layout,
    /// The layout was told (`--kind`) rather than detected from the columns.
    pub told: bool,
    pub records: Vec<OdsRecord>,
    pub skipped: Vec<Skipped>,
    /// Well-formed practice lines whose prescribing setting is not a GP practice's (out of
    /// hours services, walk-in centres, prisons…): left out, counted.
    pub not_gp_practices: usize,
}

/// A line's fields, trimmed; bytes that are not UTF-8 are read as Latin-1.
struct Line {
    number: u64,
    fields: Vec<String>,
}

impl Line {
    /// Column `n` (1-based), or "" past the end.
    fn col(&self, n: usize) -> &str {
        self.fields.get(n - 1).map(String::as_str).unwrap_or("")
    }
}

fn decode(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.trim().to_string(),
        Err(_) => b
            .iter()
            .map(|&c| c as char)
            .collect::<String>()
            .trim()
            .to_string(),
    }
}

fn read_lines(bytes: &[u8]) -> Vec<Result<Line, Skipped>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut out = Vec::new();
    let mut rec = csv::ByteRecord::new();
    // The line a record starts on, counted here: after a CRLF (as ODS files end their lines)
    // the reader's own count still gives the line before.
    let (mut counted_to, mut line) = (0usize, 1u64);
    let mut line_at = |offset: u64| {
        let mut at = (offset as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at > counted_to {
            line += bytes[counted_to..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted_to = at;
        }
        line
    };
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let number = line_at(rec.position().map(|p| p.byte()).unwrap_or(0));
                // A line of nothing but commas or spaces is not an organisation.
                if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue;
                }
                out.push(Ok(Line {
                    number,
                    fields: rec.iter().map(decode).collect(),
                }));
            }
            Err(e) => {
                let line = line_at(e.position().map(|p| p.byte()).unwrap_or(0));
                out.push(Err(Skipped {
                    line,
                    reason: format!("unreadable CSV: {e}"),
                }));
                // The reader cannot go on past an I/O error; on a slice there is none, and a
                // format error leaves it at the next record.
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    out
}

/// An ODS code: 3 to 10 letters and digits (upper case once read).
pub fn is_ods_code(s: &str) -> bool {
    (3..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A date `YYYYMMDD`.
fn ods_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

fn is_status(s: &str) -> bool {
    matches!(s, "A" | "C" | "D" | "P")
}

/// Reads an ODS file. `told`: the layout from `--kind`; otherwise it is detected from the
/// columns (column 13 holds a status code on most lines of a practice file, and column 13 and
/// column 15 are empty on most lines of a commissioner file). `today` decides whether a
/// commissioner's close date has passed.
///
/// The whole file is refused (`Err`, nothing to write) when it has no line, when its first
/// line is a header row, when most of its lines do not have 27 columns, or when its layout
/// cannot be told. Otherwise each line is either a record or skipped with its reason, and a
/// second line with an ODS code already seen is skipped.
pub fn parse(bytes: &[u8], told: Option<Layout>, today: NaiveDate) -> Result<Parsed, String> {
    let lines = read_lines(bytes);
    let total = lines.len();
    if total == 0 {
        return Err("the file has no lines".into());
    }
    let read: Vec<&Line> = lines.iter().filter_map(|l| l.as_ref().ok()).collect();
    let full: Vec<&Line> = read
        .iter()
        .copied()
        .filter(|l| l.fields.len() == COLUMNS)
        .collect();
    if full.len() * 2 <= total {
        return Err(format!(
            "not an ODS file in the epraccur or eccg layout: {} of its {total} lines have the \
             {COLUMNS} columns of that layout",
            full.len()
        ));
    }
    if let Some(first) = read.first() {
        let code = first.col(1).to_ascii_uppercase();
        if first.number <= 1 && !is_ods_code(&code) && ods_date(first.col(11)).is_none() {
            return Err(format!(
                "line 1 looks like a header row ({:?}, …): ODS files have none; remove it",
                first.col(1)
            ));
        }
    }
    let layout = match told {
        Some(l) => l,
        None => {
            let practices = full.iter().filter(|l| is_status(l.col(13))).count();
            let commissioners = full
                .iter()
                .filter(|l| l.col(13).is_empty() && l.col(15).is_empty())
                .count();
            if practices * 2 > full.len() {
                Layout::Practices
            } else if commissioners * 2 > full.len() {
                Layout::Commissioners
            } else {
                return Err(format!(
                    "cannot tell the layout from the columns ({practices} of {} lines have a \
                     status code in column 13, {commissioners} have columns 13 and 15 empty): \
                     say which with --kind practices or --kind commissioners",
                    full.len()
                ));
            }
        }
    };
    let mut out = Parsed {
        layout,
        told: told.is_some(),
        records: Vec::new(),
        skipped: Vec::new(),
        not_gp_practices: 0,
    };
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for l in lines {
        let l = match l {
            Ok(l) => l,
            Err(s) => {
                out.skipped.push(s);
                continue;
            }
        };
        match record(&l, layout, today) {
            Ok(Some(r)) => {
                if let Some(first) = seen.get(&r.ods_code) {
                    out.skipped.push(Skipped {
                        line: l.number,
                        reason: format!(
                            "ODS code {} is also on line {first}, which is the one imported",
                            r.ods_code
                        ),
                    });
                } else {
                    seen.insert(r.ods_code.clone(), l.number);
                    out.records.push(r);
                }
            }
            Ok(None) => out.not_gp_practices += 1,
            Err(reason) => out.skipped.push(Skipped {
                line: l.number,
                reason,
            }),
        }
    }
    Ok(out)
}

fn bounded(col: usize, what: &str, v: &str, max: usize) -> Result<String, String> {
    if v.is_empty() {
        return Err(format!("column {col} ({what}) is empty"));
    }
    if v.chars().count() > max {
        return Err(format!(
            "column {col} ({what}) is longer than {max} characters"
        ));
    }
    Ok(v.to_string())
}

/// One line: `Ok(None)` for a practice line that is not a GP practice.
fn record(l: &Line, layout: Layout, today: NaiveDate) -> Result<Option<OdsRecord>, String> {
    if l.fields.len() != COLUMNS {
        return Err(format!(
            "has {} columns, not the layout's {COLUMNS}",
            l.fields.len()
        ));
    }
    let code = l.col(1).to_ascii_uppercase();
    if !is_ods_code(&code) {
        return Err(format!(
            "column 1 (ODS code) {:?} is not an ODS code (3 to 10 letters and digits)",
            l.col(1)
        ));
    }
    if layout == Layout::Practices {
        let setting = l.col(26);
        match setting.parse::<u32>() {
            Ok(GP_PRACTICE_SETTING) => {}
            Ok(_) => return Ok(None),
            Err(_) => {
                return Err(format!(
                    "column 26 (prescribing setting) {setting:?} is not a number"
                ))
            }
        }
    }
    let name = bounded(2, "name", l.col(2), 200)?;
    let region = bounded(3, "national grouping", l.col(3), 100)?;
    let area = bounded(4, "high level health geography", l.col(4), 100)?;
    let parts: Vec<&str> = (5..=10)
        .map(|c| l.col(c))
        .filter(|s| !s.is_empty())
        .collect();
    if l.col(10).is_empty() {
        return Err("column 10 (postcode) is empty".into());
    }
    let address = parts.join(", ");
    if address.chars().count() > 500 {
        return Err("the address (columns 5 to 10) is longer than 500 characters".into());
    }
    let opened_on = ods_date(l.col(11)).ok_or_else(|| {
        format!(
            "column 11 (open date) {:?} is not a date YYYYMMDD",
            l.col(11)
        )
    })?;
    let closed_on = match l.col(12) {
        "" => None,
        s => Some(
            ods_date(s)
                .ok_or_else(|| format!("column 12 (close date) {s:?} is not a date YYYYMMDD"))?,
        ),
    };
    let (active, commissioner_code) = match layout {
        Layout::Practices => {
            let status = l.col(13);
            if !is_status(status) {
                return Err(format!(
                    "column 13 (status code) {status:?} is not A, C, D or P"
                ));
            }
            let c = l.col(15).to_ascii_uppercase();
            if !is_ods_code(&c) {
                return Err(format!(
                    "column 15 (commissioner) {:?} is not an ODS code",
                    l.col(15)
                ));
            }
            (status != "C", Some(c))
        }
        Layout::Commissioners => (closed_on.is_none_or(|d| d > today), None),
    };
    Ok(Some(OdsRecord {
        line: l.number,
        ods_code: code,
        name,
        region,
        area,
        address,
        opened_on,
        closed_on,
        active,
        commissioner_code,
    }))
}

/// A practice line in the epraccur layout (for tests and benchmarks): `code`, `name`, the
/// commissioner `ccg`, the ICB `icb`, status `status`.
pub fn practice_line(code: &str, name: &str, ccg: &str, icb: &str, status: &str) -> String {
    let close = if status == "C" { "20240331" } else { "" };
    format!(
        "\"{code}\",\"{name}\",\"Y61\",\"{icb}\",\"1 HIGH STREET\",\"\",\"CHELMSFORD\",\"ESSEX\",\"\",\
         \"CM1 1AA\",\"19740401\",\"{close}\",\"{status}\",\"B\",\"{ccg}\",\"20130401\",\"\",\
         \"01245 000000\",\"\",\"\",\"\",\"0\",\"\",\"P\",\"\",\"4\",\"\""
    )
}

/// A commissioner line in the eccg layout (for tests and benchmarks).
pub fn commissioner_line(code: &str, name: &str, icb: &str, closed_on: &str) -> String {
    format!(
        "\"{code}\",\"{name}\",\"Y61\",\"{icb}\",\"PHOENIX COURT\",\"CHRISTOPHER MARTIN ROAD\",\
         \"BASILDON\",\"ESSEX\",\"\",\"SS14 3HG\",\"20130401\",\"{closed_on}\",\"\",\"C\",\"\",\
         \"\",\"\",\"01268 000000\",\"\",\"\",\"\",\"0\",\"\",\"\",\"\",\"\",\"\""
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
    }

    fn file(lines: &[String]) -> Vec<u8> {
        (lines.join("\r\n") + "\r\n").into_bytes()
    }

    #[test]
    fn example_lines_have_the_layout() {
        let p = practice_line("F81001", "THE SURGERY", "06Q", "QH8", "A");
        let c = commissioner_line("06Q", "NHS MID ESSEX", "QH8", "");
        for l in [&p, &c] {
            let n = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(l.as_bytes())
                .records()
                .next()
                .unwrap()
                .unwrap()
                .len();
            assert_eq!(n, COLUMNS, "{l}");
        }
    }

    #[test]
    fn reads_practices_and_detects_the_layout() {
        let f = file(&[
            practice_line("F81001", "THE SURGERY", "06Q", "QH8", "A"),
            practice_line("f81002", "CLOSED SURGERY", "06q", "QH8", "C"),
            practice_line("F81003", "DORMANT SURGERY", "06Q", "QH8", "D"),
        ]);
        let p = parse(&f, None, today()).unwrap();
        assert_eq!(p.layout, Layout::Practices);
        assert!(!p.told);
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        let r = &p.records[0];
        assert_eq!(r.line, 1);
        assert_eq!(r.ods_code, "F81001");
        assert_eq!(r.area, "QH8");
        assert_eq!(r.region, "Y61");
        assert_eq!(r.address, "1 HIGH STREET, CHELMSFORD, ESSEX, CM1 1AA");
        assert_eq!(r.commissioner_code.as_deref(), Some("06Q"));
        assert!(r.active);
        assert_eq!(p.records[1].ods_code, "F81002");
        assert!(!p.records[1].active);
        assert_eq!(p.records[1].closed_on, NaiveDate::from_ymd_opt(2024, 3, 31));
        assert!(p.records[2].active, "dormant stays active");
    }

    #[test]
    fn reads_commissioners_closed_by_a_past_close_date() {
        let f = file(&[
            commissioner_line("06Q", "NHS MID ESSEX", "QH8", ""),
            commissioner_line("99E", "NHS BASILDON", "QH8", "20220630"),
            commissioner_line("07H", "NHS WEST ESSEX", "QM7", "20991231"),
        ]);
        let p = parse(&f, None, today()).unwrap();
        assert_eq!(p.layout, Layout::Commissioners);
        let active: Vec<bool> = p.records.iter().map(|r| r.active).collect();
        assert_eq!(active, [true, false, true]);
        assert!(p.records.iter().all(|r| r.commissioner_code.is_none()));
    }

    #[test]
    fn malformed_lines_are_skipped_with_their_reason() {
        let good = practice_line("F81001", "A", "06Q", "QH8", "A");
        let f = file(&[
            good.clone(),
            good.replace("19740401", "1974-04-01")
                .replace("F81001", "F81002"),
            good.replace("\"A\",\"B\"", "\"X\",\"B\"")
                .replace("F81001", "F81003"),
            good.replace("F81001", "F8 1004"),
            "\"F81005\",\"SHORT\"".to_string(),
            good.clone(),
            good.replace("\"4\"", "\"2\"").replace("F81001", "F81006"),
            good.replace("\"06Q\"", "\"\"").replace("F81001", "F81007"),
            good.replace("CM1 1AA", "").replace("F81001", "F81008"),
        ]);
        let p = parse(&f, None, today()).unwrap();
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.not_gp_practices, 1);
        let got: Vec<(u64, &str)> = p
            .skipped
            .iter()
            .map(|s| (s.line, s.reason.as_str()))
            .collect();
        assert_eq!(got.len(), 7, "{got:?}");
        assert!(got[0].0 == 2 && got[0].1.contains("column 11"), "{got:?}");
        assert!(got[1].0 == 3 && got[1].1.contains("column 13"), "{got:?}");
        assert!(got[2].0 == 4 && got[2].1.contains("column 1 "), "{got:?}");
        assert!(got[3].0 == 5 && got[3].1.contains("2 columns"), "{got:?}");
        assert!(
            got[4].0 == 6 && got[4].1.contains("also on line 1"),
            "{got:?}"
        );
        assert!(got[5].0 == 8 && got[5].1.contains("column 15"), "{got:?}");
        assert!(got[6].0 == 9 && got[6].1.contains("postcode"), "{got:?}");
    }

    #[test]
    fn line_numbers_with_lf_and_quoted_newlines() {
        let good = practice_line("F81001", "A", "06Q", "QH8", "A");
        let two_lines = good
            .replace("F81001", "F81002")
            .replace("1 HIGH STREET", "1 HIGH\nSTREET");
        let bad = good.replace("F81001", "F81003").replace("19740401", "x");
        let f = format!("{good}\n\n{two_lines}\n{bad}\n");
        let p = parse(f.as_bytes(), None, today()).unwrap();
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[1].line, 3);
        assert_eq!(p.skipped[0].line, 5, "{:?}", p.skipped);
    }

    #[test]
    fn refuses_files_not_of_the_layout() {
        let header = "Organisation Code,Name,National Grouping,High Level Health Geography,\
                      A1,A2,A3,A4,A5,Postcode,Open Date,Close Date,Status Code,Sub Type,\
                      Commissioner,J,L,Tel,N,N,N,Amended,N,PP,N,Setting,N";
        let f = file(&[
            header.to_string(),
            practice_line("F81001", "A", "06Q", "QH8", "A"),
        ]);
        assert!(parse(&f, None, today()).unwrap_err().contains("header row"));
        let f = b"name,email\nElm,elm@x\nOak,oak@x\n";
        let e = parse(f, None, today()).unwrap_err();
        assert!(e.contains("0 of its 3 lines"), "{e}");
        assert!(parse(b"", None, today()).unwrap_err().contains("no lines"));
        assert!(parse(b"\n\n", None, today()).is_err());
        // 27 columns but neither layout: ask for --kind; with it, the lines are judged.
        let odd = practice_line("F81001", "A", "06Q", "QH8", "Z");
        let f = file(&[odd.clone(), odd.replace("F81001", "F81002")]);
        assert!(parse(&f, None, today()).unwrap_err().contains("--kind"));
        let p = parse(&f, Some(Layout::Practices), today()).unwrap();
        assert!(p.told);
        assert_eq!(p.skipped.len(), 2);
    }

    #[test]
    fn latin1_bytes_are_read() {
        let mut f = practice_line("F81001", "CAF\u{c9} SURGERY", "06Q", "QH8", "A").into_bytes();
        // Replace the UTF-8 É (C3 89) by its Latin-1 byte (C9).
        let at = f.windows(2).position(|w| w == [0xC3, 0x89]).unwrap();
        f.splice(at..at + 2, [0xC9]);
        let p = parse(&f, None, today()).unwrap();
        assert_eq!(p.records[0].name, "CAF\u{c9} SURGERY");
    }

    #[test]
    fn kinds_are_spelt_either_way() {
        assert_eq!(Layout::parse("eccg"), Some(Layout::Commissioners));
        assert_eq!(Layout::parse("Practices"), Some(Layout::Practices));
        assert_eq!(Layout::parse("lmc"), None);
    }
}
