//! iCalendar (RFC 5545 / iTIP RFC 5546) invitation for a panel hearing.
//!
//! The event is built with the `icalendar` crate. Start and end are written as local
//! Europe/London wall-clock time (`DTSTART;TZID=Europe/London:20260312T100000`), and the
//! calendar carries a `VTIMEZONE` for Europe/London (GMT/BST rules) so that clients which do
//! not know the Olson name can still resolve it. `icalendar` 0.16 has no `VTIMEZONE` type (its
//! generic components would gain a `DTSTAMP` and `UID` they must not have), so that fixed,
//! well-known block is inserted as text just before the `VEVENT`.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, EventLike, EventStatus, Property};

/// The time zone every hearing is held in.
pub const TZID: &str = "Europe/London";

/// `PRODID` of every calendar this service sends.
pub const PRODID: &str = "-//NHS Local Dispute Resolution service//ldr//EN";

/// Europe/London since 1996: BST from 01:00 GMT on the last Sunday in March to 01:00 GMT on
/// the last Sunday in October. `DTSTART` of each onset is local time before the change.
const VTIMEZONE_EUROPE_LONDON: &str = "BEGIN:VTIMEZONE\r\n\
TZID:Europe/London\r\n\
X-LIC-LOCATION:Europe/London\r\n\
BEGIN:DAYLIGHT\r\n\
TZOFFSETFROM:+0000\r\n\
TZOFFSETTO:+0100\r\n\
TZNAME:BST\r\n\
DTSTART:19700329T010000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
END:DAYLIGHT\r\n\
BEGIN:STANDARD\r\n\
TZOFFSETFROM:+0100\r\n\
TZOFFSETTO:+0000\r\n\
TZNAME:GMT\r\n\
DTSTART:19701025T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
END:STANDARD\r\n\
END:VTIMEZONE\r\n";

/// iTIP method of the calendar object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcsMethod {
    /// New or changed hearing (send with an increased `sequence` when changed).
    Request,
    /// Hearing cancelled (send with an increased `sequence`).
    Cancel,
}

impl IcsMethod {
    /// `"REQUEST"` or `"CANCEL"`, as used in `METHOD:` and in the MIME `method=` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            IcsMethod::Request => "REQUEST",
            IcsMethod::Cancel => "CANCEL",
        }
    }
}

/// Everything needed for one hearing invitation or cancellation.
#[derive(Debug, Clone)]
pub struct HearingInvite {
    /// Stable per hearing: the same UID for the request, every update and the cancellation.
    pub uid: String,
    /// 0 for the first invitation, increased for each update and for the cancellation.
    pub sequence: u32,
    pub method: IcsMethod,
    /// Local date in Europe/London.
    pub date: NaiveDate,
    /// Local start time in Europe/London.
    pub time: NaiveTime,
    pub duration_minutes: u32,
    pub venue: String,
    pub summary: String,
    pub description: String,
    /// Who sends the invitation and answers about it: the panel's secretary.
    pub organizer_name: String,
    pub organizer_email: String,
    /// `(name, email)` of each attendee.
    pub attendees: Vec<(String /*name*/, String /*email*/)>,
    /// `DTSTAMP`: when this calendar object was created.
    pub stamp: DateTime<Utc>,
}

/// The invitation as an iCalendar document (CRLF line endings, lines folded at 75 octets).
pub fn hearing_ics(inv: &HearingInvite) -> String {
    let start = inv.date.and_time(inv.time);
    let end = start + Duration::minutes(i64::from(inv.duration_minutes));
    let local = |date_time| CalendarDateTime::WithTimezone {
        date_time,
        tzid: TZID.to_owned(),
    };
    let status = match inv.method {
        IcsMethod::Request => EventStatus::Confirmed,
        IcsMethod::Cancel => EventStatus::Cancelled,
    };

    let mut event = icalendar::Event::new();
    event
        .uid(&inv.uid)
        .sequence(inv.sequence)
        .timestamp(inv.stamp)
        .starts(local(start))
        .ends(local(end))
        .summary(&one_line(&inv.summary))
        .description(&inv.description.replace("\r\n", "\n").replace('\r', "\n"))
        .location(&one_line(&inv.venue))
        .status(status)
        .append_property(Property::new("TRANSP", "OPAQUE"));

    // ORGANIZER and ATTENDEE are written here rather than as `icalendar::Property`: its
    // parameters live in a HashMap, so their order would change from run to run.
    let organizer: Vec<(&str, String)> = match inv.organizer_name.trim() {
        "" => Vec::new(),
        name => vec![("CN", name.to_owned())],
    };
    let mut people = content_line(
        "ORGANIZER",
        &organizer,
        &format!("mailto:{}", inv.organizer_email.trim()),
    );
    for (name, email) in &inv.attendees {
        let mut params = Vec::with_capacity(5);
        if !name.trim().is_empty() {
            params.push(("CN", name.clone()));
        }
        params.extend([
            ("CUTYPE", "INDIVIDUAL".to_owned()),
            ("ROLE", "REQ-PARTICIPANT".to_owned()),
            ("PARTSTAT", "NEEDS-ACTION".to_owned()),
            // Attendance is not a calendar reply: the hearing notice asks the parties to tell
            // the panel secretary who will attend, and the hearing happens whoever accepts.
            ("RSVP", "FALSE".to_owned()),
        ]);
        people.push_str(&content_line(
            "ATTENDEE",
            &params,
            &format!("mailto:{}", email.trim()),
        ));
    }

    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", inv.method.as_str()))
        .push(event.done());

    let mut text = calendar.to_string();
    // People go at the end of the event; the VTIMEZONE goes before the event that refers to
    // it (RFC 5545 allows any order, but some clients read in one pass). The event's end is
    // its last line of that text: a title or venue folded at 75 octets can hold the same
    // characters, never at a line's start after the one event's properties.
    if let Some(at) = text.rfind("\r\nEND:VEVENT\r\n") {
        text.insert_str(at + 2, &people);
    }
    if let Some(at) = text.find("BEGIN:VEVENT\r\n") {
        text.insert_str(at, VTIMEZONE_EUROPE_LONDON);
    }
    text
}

/// One hearing in a person's calendar feed: nothing of the case beyond its title, and the
/// hearing's date, time and venue.
#[derive(Debug, Clone)]
pub struct FeedHearing {
    /// The hearing's UID, the same as its invitation's: stable across every fetch.
    pub uid: String,
    /// The invitation's SEQUENCE: one more at each change.
    pub sequence: u32,
    pub title: String,
    pub date: NaiveDate,
    pub time: NaiveTime,
    pub duration_minutes: u32,
    pub venue: String,
    /// The case was withdrawn after the hearing was set: shown as cancelled.
    pub cancelled: bool,
    /// `DTSTAMP`: when the case last changed (stable while nothing changes).
    pub stamp: DateTime<Utc>,
}

/// A subscribed calendar (`METHOD:PUBLISH`) of `hearings`, named `name`, asking clients to
/// fetch it again every hour. Always carries the Europe/London `VTIMEZONE`, so that even a
/// feed with no hearing yet is a valid calendar (RFC 5545 wants one component at least).
pub fn feed_ics(name: &str, hearings: &[FeedHearing]) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .append_property(Property::new("X-WR-CALNAME", one_line(name)))
        .append_property(Property::new("X-WR-TIMEZONE", TZID))
        .append_property(
            Property::new("REFRESH-INTERVAL", "PT1H")
                .add_parameter("VALUE", "DURATION")
                .done(),
        )
        .append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    for h in hearings {
        let start = h.date.and_time(h.time);
        let end = start + Duration::minutes(i64::from(h.duration_minutes));
        let local = |date_time| CalendarDateTime::WithTimezone {
            date_time,
            tzid: TZID.to_owned(),
        };
        let mut event = icalendar::Event::new();
        event
            .uid(&h.uid)
            .sequence(h.sequence)
            .timestamp(h.stamp)
            .starts(local(start))
            .ends(local(end))
            .summary(&one_line(&format!("Panel hearing: {}", h.title)))
            .location(&one_line(&h.venue))
            .status(if h.cancelled {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            })
            .append_property(Property::new("TRANSP", "OPAQUE"));
        calendar.push(event.done());
    }
    let mut text = calendar.to_string();
    let at = text
        .find("BEGIN:VEVENT\r\n")
        .or_else(|| text.find("END:VCALENDAR\r\n"))
        .unwrap_or(text.len());
    text.insert_str(at, VTIMEZONE_EUROPE_LONDON);
    text
}

/// One content line `NAME;K=V;...:value` with CRLF, folded at 75 octets (RFC 5545 3.1).
/// Parameter values are made safe with [`param_value`]; `value` is a CAL-ADDRESS (URI).
fn content_line(name: &str, params: &[(&str, String)], value: &str) -> String {
    let mut line = name.to_owned();
    for (key, val) in params {
        line.push(';');
        line.push_str(key);
        line.push('=');
        line.push_str(&param_value(val));
    }
    line.push(':');
    line.extend(
        value
            .chars()
            .filter(|c| !c.is_control() && !c.is_whitespace()),
    );
    fold(&line)
}

/// Folds a line into chunks of at most 75 octets (continuations start with one space and so
/// carry 74 octets of content), never splitting a UTF-8 character; ends with CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    let mut limit = 75;
    for c in line.chars() {
        if used + c.len_utf8() > limit {
            out.push_str("\r\n ");
            used = 1;
            limit = 75;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

/// A TEXT value that must stay on one line (summary, location).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A parameter value (RFC 5545 3.1): no DQUOTE or control characters are allowed, and a value
/// with `,` `;` or `:` must be quoted.
fn param_value(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| *c != '"')
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if clean.contains([',', ':', ';']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Offset, TimeZone, Weekday};
    use chrono_tz::Europe::London;
    use icalendar::parser::{read_calendar, unfold, Component as ParsedComponent};

    fn invite(method: IcsMethod, date: NaiveDate, sequence: u32) -> HearingInvite {
        HearingInvite {
            uid: "hearing-5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa@ldr.example.nhs.uk".into(),
            sequence,
            method,
            date,
            time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            duration_minutes: 150,
            venue: "Room 2.14, Riverside House, 2 Bridge Street, Leeds LS1 4AP".into(),
            summary: "LDR panel hearing: LDR-1A2B3C4D".into(),
            description: "Local Dispute Resolution Panel hearing for case LDR-1A2B3C4D.\nBring the document bundle; questions to the panel secretary.".into(),
            organizer_name: "Angela Price".into(),
            organizer_email: "angela.price@nhs.example.nhs.uk".into(),
            attendees: vec![
                ("Dr Priya O'Brien".into(), "p.obrien@riverside.example.nhs.uk".into()),
                ("Jones, Mark".into(), "mark.jones@icb.example.nhs.uk".into()),
                ("Sam Patel".into(), "lmc@lmc.example.org.uk".into()),
            ],
            stamp: Utc.with_ymd_and_hms(2026, 2, 20, 9, 30, 0).unwrap(),
        }
    }

    fn prop<'a>(c: &'a ParsedComponent<'a>, name: &str) -> &'a icalendar::parser::Property<'a> {
        c.find_prop(name)
            .unwrap_or_else(|| panic!("property {name} missing"))
    }

    fn param<'a>(p: &'a icalendar::parser::Property<'a>, key: &str) -> Option<&'a str> {
        p.params
            .iter()
            .find(|x| x.key.as_str() == key)
            .and_then(|x| x.val.as_ref())
            .map(|v| v.as_str())
    }

    /// Parses the output and checks every property; returns the UTC instant of DTSTART as
    /// resolved through the VTIMEZONE's rules by chrono-tz.
    fn check(inv: &HearingInvite, expected_start: &str, expected_end: &str) -> DateTime<Utc> {
        let ics = hearing_ics(inv);
        assert!(ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
        assert!(
            ics.split("\r\n").all(|l| l.len() <= 75),
            "unfolded long line:\n{ics}"
        );
        let unfolded = unfold(&ics);
        let cal = read_calendar(&unfolded).expect("parses");
        let cal_prop = |k: &str| {
            cal.properties
                .iter()
                .find(|p| p.name.as_str() == k)
                .map(|p| p.val.as_str().to_owned())
        };
        assert_eq!(cal_prop("VERSION").as_deref(), Some("2.0"));
        assert_eq!(cal_prop("PRODID").as_deref(), Some(PRODID));
        assert_eq!(cal_prop("METHOD").as_deref(), Some(inv.method.as_str()));

        let names: Vec<&str> = cal.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["VTIMEZONE", "VEVENT"]);
        let tz = &cal.components[0];
        assert_eq!(prop(tz, "TZID").val.as_str(), TZID);
        let subs: Vec<(&str, &str)> = tz
            .components
            .iter()
            .map(|c| (c.name.as_str(), prop(c, "TZNAME").val.as_str()))
            .collect();
        assert_eq!(subs, [("DAYLIGHT", "BST"), ("STANDARD", "GMT")]);

        let ev = &cal.components[1];
        assert_eq!(prop(ev, "UID").val.as_str(), inv.uid);
        assert_eq!(prop(ev, "SEQUENCE").val.as_str(), inv.sequence.to_string());
        assert_eq!(prop(ev, "DTSTAMP").val.as_str(), "20260220T093000Z");
        for (key, value) in [("DTSTART", expected_start), ("DTEND", expected_end)] {
            let p = prop(ev, key);
            assert_eq!(p.val.as_str(), value, "{key}");
            assert_eq!(param(p, "TZID"), Some(TZID), "{key} TZID");
        }
        let location = prop(ev, "LOCATION").val.clone().unescape_text();
        assert_eq!(location.as_str(), inv.venue);
        let summary = prop(ev, "SUMMARY").val.clone().unescape_text();
        assert_eq!(summary.as_str(), inv.summary);
        let description = prop(ev, "DESCRIPTION").val.clone().unescape_text();
        assert_eq!(description.as_str(), inv.description);
        let status = prop(ev, "STATUS").val.as_str();
        match inv.method {
            IcsMethod::Request => assert_eq!(status, "CONFIRMED"),
            IcsMethod::Cancel => assert_eq!(status, "CANCELLED"),
        }
        let organizer = prop(ev, "ORGANIZER");
        assert_eq!(
            organizer.val.as_str(),
            format!("mailto:{}", inv.organizer_email)
        );
        assert_eq!(
            param(organizer, "CN").map(|n| n.trim_matches('"')),
            Some(inv.organizer_name.as_str())
        );
        // Nobody is asked to reply.
        for p in ev
            .properties
            .iter()
            .filter(|p| p.name.as_str() == "ATTENDEE")
        {
            assert_eq!(param(p, "RSVP"), Some("FALSE"));
        }

        let attendees: Vec<(String, String)> = ev
            .properties
            .iter()
            .filter(|p| p.name.as_str() == "ATTENDEE")
            .map(|p| {
                (
                    param(p, "CN")
                        .unwrap_or_default()
                        .trim_matches('"')
                        .to_owned(),
                    p.val.as_str().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = inv
            .attendees
            .iter()
            .map(|(n, e)| (n.clone(), format!("mailto:{e}")))
            .collect();
        assert_eq!(attendees, expected);

        // Also through icalendar's own model: FORM #3 date-time with the Europe/London TZID.
        let model: Calendar = ics.parse().expect("parses into icalendar::Calendar");
        let event = model.components[..]
            .iter()
            .find_map(|c| c.as_event())
            .expect("event");
        assert_eq!(event.get_uid(), Some(inv.uid.as_str()));
        assert_eq!(event.get_sequence(), Some(inv.sequence));
        let start = match event.get_start() {
            Some(icalendar::DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
                date_time,
                tzid,
            })) => {
                assert_eq!(tzid, TZID);
                date_time
            }
            other => panic!("unexpected DTSTART {other:?}"),
        };
        assert_eq!(start, inv.date.and_time(inv.time));
        London
            .from_local_datetime(&start)
            .single()
            .expect("unambiguous local time")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_title_or_venue_holding_end_vevent_at_a_fold_leaves_the_event_whole() {
        // Wherever the 75-octet fold falls, "END:VEVENT" inside a value starts no line of its
        // own, and the people are added before the event's real end.
        for pad in 0..80 {
            let mut inv = invite(
                IcsMethod::Request,
                NaiveDate::from_ymd_opt(2026, 3, 12).unwrap(),
                0,
            );
            inv.summary = format!("{}END:VEVENT", "x".repeat(pad));
            inv.venue = format!("{}END:VEVENT\r\n", "y".repeat(pad));
            let ics = hearing_ics(&inv);
            let lines: Vec<&str> = ics.split("\r\n").collect();
            let ends: Vec<usize> = (0..lines.len())
                .filter(|i| lines[*i] == "END:VEVENT")
                .collect();
            assert_eq!(ends.len(), 1, "pad {pad}: {ics}");
            let end = ends[0];
            assert!(
                lines[end - 1].starts_with("ATTENDEE") || lines[end - 1].starts_with(' '),
                "pad {pad}: {ics}"
            );
            let unfolded = unfold(&ics);
            let cal = read_calendar(&unfolded).expect("parses");
            let ev = cal.components.iter().find(|c| c.name == "VEVENT").unwrap();
            assert_eq!(
                ev.properties
                    .iter()
                    .filter(|p| p.name.as_str() == "ATTENDEE")
                    .count(),
                inv.attendees.len(),
                "pad {pad}"
            );
            assert!(ev.find_prop("ORGANIZER").is_some(), "pad {pad}");
        }
    }

    #[test]
    fn a_feed_is_a_published_calendar_of_its_hearings() {
        let hearing = FeedHearing {
            uid: "hearing-1@ldr".into(),
            sequence: 2,
            title: "Prescribing budget 2025/26".into(),
            date: NaiveDate::from_ymd_opt(2026, 3, 12).unwrap(),
            time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            duration_minutes: 150,
            venue: "Room 1,\nCounty Hall".into(),
            cancelled: false,
            stamp: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
        };
        let ics = feed_ics("My hearings", std::slice::from_ref(&hearing));
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "{ics}");
        let unfolded = unfold(&ics);
        let cal = read_calendar(&unfolded).expect("parses");
        let names: Vec<&str> = cal.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["VTIMEZONE", "VEVENT"]);
        let ev = &cal.components[1];
        assert_eq!(prop(ev, "UID").val.as_str(), "hearing-1@ldr");
        assert_eq!(prop(ev, "SEQUENCE").val.as_str(), "2");
        assert_eq!(prop(ev, "DTSTAMP").val.as_str(), "20260302T090000Z");
        assert_eq!(prop(ev, "DTSTART").val.as_str(), "20260312T100000");
        assert_eq!(
            prop(ev, "SUMMARY").val.clone().unescape_text().as_str(),
            "Panel hearing: Prescribing budget 2025/26"
        );
        assert_eq!(
            prop(ev, "LOCATION").val.clone().unescape_text().as_str(),
            "Room 1, County Hall"
        );
        assert!(ev.find_prop("DESCRIPTION").is_none() && ev.find_prop("ATTENDEE").is_none());
        assert!(ics.contains("METHOD:PUBLISH\r\n") && ics.contains("X-WR-CALNAME:My hearings"));
        // No hearing yet: still a calendar with one component.
        let empty = feed_ics("My hearings", &[]);
        let unfolded = unfold(&empty);
        let cal = read_calendar(&unfolded).expect("parses");
        assert_eq!(cal.components.len(), 1);
        let cancelled = feed_ics(
            "x",
            &[FeedHearing {
                cancelled: true,
                ..hearing
            }],
        );
        assert!(cancelled.contains("STATUS:CANCELLED"));
    }

    #[test]
    fn requests_in_british_summer_time_and_greenwich_mean_time() {
        // 10:00 BST is 09:00 UTC; 10:00 GMT is 10:00 UTC.
        for ((y, m, d), start, end, utc_hour) in [
            ((2026, 7, 16), "20260716T100000", "20260716T123000", 9),
            ((2026, 3, 12), "20260312T100000", "20260312T123000", 10),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let utc = check(&invite(IcsMethod::Request, date, 0), start, end);
            assert_eq!(utc, Utc.with_ymd_and_hms(y, m, d, utc_hour, 0, 0).unwrap());
        }
    }

    #[test]
    fn cancel_has_status_cancelled_and_same_uid() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let request = hearing_ics(&invite(IcsMethod::Request, date, 1));
        let cancel_inv = invite(IcsMethod::Cancel, date, 2);
        check(&cancel_inv, "20261103T100000", "20261103T123000");
        let cancel = hearing_ics(&cancel_inv);
        assert!(cancel.contains("METHOD:CANCEL\r\n"));
        assert!(cancel.contains("STATUS:CANCELLED\r\n"));
        assert!(cancel.contains("SEQUENCE:2\r\n"));
        assert!(request.contains("METHOD:REQUEST\r\n"));
        assert!(!request.contains("CANCELLED"));
        let uid = |s: &str| s.lines().find(|l| l.starts_with("UID:")).map(str::to_owned);
        assert_eq!(uid(&request), uid(&cancel));
    }

    #[test]
    fn output_is_deterministic() {
        let inv = invite(
            IcsMethod::Request,
            NaiveDate::from_ymd_opt(2026, 7, 16).unwrap(),
            0,
        );
        assert_eq!(hearing_ics(&inv), hearing_ics(&inv));
    }

    #[test]
    fn folding_keeps_lines_short_and_characters_whole() {
        let long = format!("ATTENDEE;CN={}:mailto:x@example.org", "Łukasz Ó".repeat(20));
        let folded = fold(&long);
        assert!(folded.ends_with("\r\n"));
        for l in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(l.len() <= 75, "{l:?}");
        }
        assert_eq!(unfold(&folded).trim_end(), long);
    }

    #[test]
    fn parameter_values_are_safe() {
        assert_eq!(param_value("Team: LMC"), "\"Team: LMC\"");
        assert_eq!(param_value("Jones, Mark"), "\"Jones, Mark\"");
        assert_eq!(param_value("Dr \"Sam\"\nPatel"), "Dr Sam Patel");
        assert_eq!(param_value("Plain Name"), "Plain Name");
    }

    /// The fixed VTIMEZONE's rules (last Sunday of March at 01:00 GMT, last Sunday of October
    /// at 01:00 GMT) agree with the tz database for Europe/London.
    #[test]
    fn vtimezone_rules_match_tz_database() {
        fn last_sunday(year: i32, month: u32) -> NaiveDate {
            let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap() - Duration::days(1);
            while d.weekday() != Weekday::Sun {
                d -= Duration::days(1);
            }
            d
        }
        let offset_at =
            |utc: DateTime<Utc>| utc.with_timezone(&London).offset().fix().local_minus_utc();
        for year in 2000..=2040 {
            let spring = last_sunday(year, 3).and_hms_opt(1, 0, 0).unwrap().and_utc();
            let autumn = last_sunday(year, 10)
                .and_hms_opt(1, 0, 0)
                .unwrap()
                .and_utc();
            let second = Duration::seconds(1);
            assert_eq!(offset_at(spring - second), 0, "{year} before BST");
            assert_eq!(offset_at(spring), 3600, "{year} BST starts");
            assert_eq!(offset_at(autumn - second), 3600, "{year} before GMT");
            assert_eq!(offset_at(autumn), 0, "{year} GMT starts");
        }
        assert!(VTIMEZONE_EUROPE_LONDON.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"));
        assert!(VTIMEZONE_EUROPE_LONDON.contains("RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"));
    }
}
