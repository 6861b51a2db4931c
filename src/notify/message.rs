//! Building the MIME message for a rendered notice with `lettre`.
//!
//! Without a calendar part:
//!
//! ```text
//! multipart/alternative
//! ├── text/plain; charset=utf-8
//! └── text/html; charset=utf-8
//! ```
//!
//! With a calendar part, the layout Google Calendar itself sends, which Gmail and Outlook
//! (desktop, web and mobile) both show as a meeting request with accept/decline buttons:
//!
//! ```text
//! multipart/mixed
//! ├── multipart/alternative
//! │   ├── text/plain; charset=utf-8
//! │   ├── text/html; charset=utf-8
//! │   └── text/calendar; method=REQUEST; charset=UTF-8      (the iTIP part clients act on)
//! └── application/ics; name="invite.ics"                     (attachment "invite.ics")
//! ```
//!
//! A notice that carries a file (the FHSU's referral pack) adds it as the last part of a
//! `multipart/mixed`, after the alternative (and the calendar attachment, if any):
//!
//! ```text
//! multipart/mixed
//! ├── multipart/alternative (text, HTML)
//! └── application/zip; name="referral-pack-LDR-1A2B3C4D.zip"   (attachment, base64)
//! ```
//!
//! The `text/calendar` alternative is what Outlook and Gmail process as the invitation; the
//! `invite.ics` attachment is the same calendar for clients that only offer attachments to
//! save. It is sent as `application/ics` (not a second `text/calendar`) so that no client sees
//! two invitations.

use lettre::address::{Address, Envelope};
use lettre::message::header::{
    self, ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Attachment, Body, Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::Message;
use std::sync::Mutex;

use crate::render::templates::Rendered;

/// File name of the calendar attachment.
pub const ICS_FILENAME: &str = "invite.ics";

/// Builds the notice e-mail. `ics` is `(method, body)` with method `"REQUEST"` or `"CANCEL"`.
/// `message_id` is used as the Message-ID header as given (see [`message_id_for`]); angle
/// brackets are added if it has none. Any invalid address gives an `Err` naming it.
pub fn build_message(
    from: &str,
    to: &[String],
    rendered: &Rendered,
    ics: Option<(
        &str, /*method: "REQUEST"|"CANCEL"*/
        &str, /*ics body*/
    )>,
    message_id: &str,
) -> Result<Message, String> {
    build_message_with(from, to, rendered, ics, None, message_id)
}

/// The content type of an attached file, from its name: a ZIP, a PDF, or bytes.
fn attachment_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".zip") {
        "application/zip"
    } else if lower.ends_with(".pdf") {
        "application/pdf"
    } else {
        "application/octet-stream"
    }
}

/// The `To` header of a message to several recipients: none of their addresses.
pub const UNDISCLOSED: &str = "undisclosed-recipients:;";

/// [`build_message`] with a file attached: `attachment` is `(file name, bytes)`. The name is
/// used as given when it is a plain file name (letters, digits, `.`, `-`, `_`), else refused.
pub fn build_message_with(
    from: &str,
    to: &[String],
    rendered: &Rendered,
    ics: Option<(&str, &str)>,
    attachment: Option<(&str, &[u8])>,
    message_id: &str,
) -> Result<Message, String> {
    let from_mailbox = sender(from)?;
    if to.is_empty() {
        return Err("no recipients".to_owned());
    }
    let message_id = message_id.trim();
    if !message_id.contains('@') || message_id.contains(char::is_whitespace) {
        return Err(format!(
            "invalid Message-ID {message_id:?}: expected <id@domain>"
        ));
    }
    let message_id = if message_id.starts_with('<') && message_id.ends_with('>') {
        message_id.to_owned()
    } else {
        format!(
            "<{}>",
            message_id.trim_start_matches('<').trim_end_matches('>')
        )
    };
    if rendered.subject.contains(['\r', '\n']) {
        return Err("subject must be a single line".to_owned());
    }

    let recipients = to
        .iter()
        .map(|addr| mailbox(addr).map_err(|e| format!("invalid recipient address {addr:?}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    // The envelope is the sender and the recipients, as lettre would derive it by parsing the
    // headers it was given back again (a twentieth of a notice's delivery).
    let envelope = Envelope::new(
        Some(from_mailbox.email.clone()),
        recipients.iter().map(|m| m.email.clone()).collect(),
    )
    .map_err(|e| format!("envelope: {e}"))?;
    // The recipients are in the envelope. The `To` header names them only when there is one:
    // a notice to a practice, the panel and the LMC at once must not show the practice the
    // panel's personal addresses (people see each other's names and roles, never addresses;
    // SECURITY.md), so several are `undisclosed-recipients:;` (RFC 5322's empty group, as a
    // message sent only to Bcc has), and each sees the message as sent to them.
    let builder = Message::builder()
        .from(from_mailbox)
        .subject(rendered.subject.clone())
        .message_id(Some(message_id));
    let builder = match <[Mailbox; 1]>::try_from(recipients) {
        Ok([one]) => builder.header(header::To::from(Mailboxes::from(one))),
        Err(_) => builder.raw_header(header::HeaderValue::dangerous_new_pre_encoded(
            header::HeaderName::new_from_ascii_str("To"),
            UNDISCLOSED.to_owned(),
            UNDISCLOSED.to_owned(),
        )),
    }
    .envelope(envelope);

    let alternative = MultiPart::alternative()
        .singlepart(text_part(ContentType::TEXT_PLAIN, &rendered.text))
        .singlepart(text_part(ContentType::TEXT_HTML, &rendered.html));

    let body = match ics {
        None => alternative,
        Some((method, calendar)) => {
            let method = method.trim().to_ascii_uppercase();
            if method != "REQUEST" && method != "CANCEL" {
                return Err(format!(
                    "invalid calendar method {method:?}: expected REQUEST or CANCEL"
                ));
            }
            let calendar_type =
                CalendarContentType(format!("text/calendar; method={method}; charset=UTF-8"));
            let attachment_type =
                ContentType::parse(&format!("application/ics; name=\"{ICS_FILENAME}\""))
                    .map_err(|e| format!("attachment content type: {e}"))?;
            let calendar_part = SinglePart::builder()
                .header(calendar_type)
                .body(calendar.to_owned());
            MultiPart::mixed()
                .multipart(alternative.singlepart(calendar_part))
                .singlepart(
                    Attachment::new(ICS_FILENAME.to_owned())
                        .body(calendar.to_owned(), attachment_type),
                )
        }
    };

    let body = match attachment {
        None => body,
        Some((name, bytes)) => {
            let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
            if name.is_empty() || !name.chars().all(plain) {
                return Err(format!("invalid attachment name {name:?}"));
            }
            let kind = ContentType::parse(&format!("{}; name=\"{name}\"", attachment_type(name)))
                .map_err(|e| format!("attachment content type: {e}"))?;
            let part = Attachment::new(name.to_owned()).body(bytes.to_vec(), kind);
            // An alternative alone becomes the first part of a mixed; a mixed (with a calendar
            // attachment) takes the file as its last part.
            if ics.is_some() {
                body.singlepart(part)
            } else {
                MultiPart::mixed().multipart(body).singlepart(part)
            }
        }
    };

    builder
        .multipart(body)
        .map_err(|e| format!("cannot build message: {e}"))
}

/// A text part of type `kind` holding `text` with CRLF line ends ([`crlf`]), encoded as lettre
/// chooses (`email_encoding`'s `Encoding::choose`, which lettre's `Body::new` calls): plain
/// ASCII with every line under 76 characters goes as `7bit`, as it is (the templates keep their
/// lines short for that), anything else quoted-printable or base64. `7bit` may not hold a NUL or
/// a CR that does not end a line (RFC 2045, 2.7), which lettre's choice does not look for, and a
/// user's text (a summary, a reason) may bring either: such a part is always quoted-printable,
/// which encodes them.
///
/// A `7bit` body is handed to lettre already encoded. Given a string, lettre would look for
/// line ends to convert one character at a time (about 12 instructions a byte, 7% of an
/// `assign_mediator`) and find none, as [`crlf`] has already converted them. The unit tests
/// check that every part comes out as lettre itself would write it.
fn text_part(kind: ContentType, text: &str) -> SinglePart {
    let part = SinglePart::builder().header(kind);
    let body = crlf(text);
    let b = body.as_bytes();
    // After crlf every LF has its CR, so a CR is lone when no LF follows it.
    let lone_cr = memchr::memchr_iter(b'\r', b).any(|i| b.get(i + 1) != Some(&b'\n'));
    if lone_cr || memchr::memchr(0, b).is_some() {
        return part
            .header(ContentTransferEncoding::QuotedPrintable)
            .body(body);
    }
    match email_encoding::body::Encoding::choose(body.as_str(), false) {
        email_encoding::body::Encoding::SevenBit => part.body(Body::dangerous_pre_encoded(
            body.into_bytes(),
            ContentTransferEncoding::SevenBit,
        )),
        _ => part.body(body),
    }
}

/// `addr` (trimmed) as a mailbox. A bare address, as every recipient the service stores is,
/// is checked as an address only: lettre's full mailbox parser (display names, comments,
/// quoting) costs five times as much, a twentieth of a notice's delivery. Anything else (a
/// `Name <address>` form) goes through the full parser, and so does an address the quick
/// check refuses, which the full parser then refuses too (the unit tests compare the two).
fn mailbox(addr: &str) -> Result<Mailbox, String> {
    let addr = addr.trim();
    // Only the plain form (RFC 5322 dot-atoms): lettre's address check also accepts a quoted
    // local part or a domain literal (`"a b"@x.uk`, `a@[192.0.2.1]`), which its mailbox parser
    // refuses. Those are left to the full parser, so that nothing is sent that was not before.
    let plain = |c: char| c.is_ascii_alphanumeric() || "@.!#$%&'*+/=?^_`{|}~-".contains(c);
    if addr.chars().all(plain) {
        if let Ok(email) = addr.parse::<Address>() {
            return Ok(Mailbox::new(None, email));
        }
    }
    addr.parse::<Mailbox>().map_err(|e| e.to_string())
}

/// The sender `from` as a mailbox, parsed once for as long as it stays the same
/// (`LDR_MAIL_FROM` is usually `Name <address>`, which only the full parser reads).
fn sender(from: &str) -> Result<Mailbox, String> {
    static LAST: Mutex<Option<(String, Mailbox)>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((text, parsed)) = last.as_ref() {
        if text == from {
            return Ok(parsed.clone());
        }
    }
    let parsed = mailbox(from).map_err(|e| format!("invalid sender address {from:?}: {e}"))?;
    *last = Some((from.to_owned(), parsed.clone()));
    Ok(parsed)
}

/// `s` with every line ending a CRLF, as a message body needs, in one pass. lettre turns a bare
/// LF into CRLF itself too, but by inserting each `\r` into the string in place, which moves the
/// rest of the body once per line (a seventh of a notice's delivery); given CRLF, it finds
/// nothing to insert.
fn crlf(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 32);
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', s.as_bytes()) {
        // `i` is an LF, so both slices end on a character boundary.
        out.push_str(&s[start..i]);
        if !out.ends_with('\r') {
            out.push('\r');
        }
        out.push('\n');
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out
}

/// `Content-Type` of the calendar part, written exactly as given. lettre's `ContentType` goes
/// through the `mime` crate, which lower-cases the charset (`charset=utf-8`); that is equally
/// valid (RFC 2046), but this keeps the conventional `charset=UTF-8` seen in Outlook's and
/// Google's invitations.
#[derive(Debug, Clone)]
struct CalendarContentType(String);

impl Header for CalendarContentType {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Type")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// A stable Message-ID for a notice: `<NOTICE-UUID@domain-of-from>`, so a retried delivery of
/// the same notice carries the same id. `from` may be a bare address or `Name <address>`;
/// if no domain can be found, `ldr.invalid` is used.
pub fn message_id_for(notice_id: uuid::Uuid, from: &str) -> String {
    let domain = sender(from)
        .map(|m| m.email.domain().to_ascii_lowercase())
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "ldr.invalid".to_owned());
    format!("<{}@{}>", notice_id.hyphenated(), domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> Rendered {
        Rendered {
            subject: "[LDR-1A2B3C4D] Hearing scheduled for Thursday 12 March 2026".into(),
            text: "A hearing has been scheduled.\nO'Brien & Sons\n".into(),
            html: "<p>A hearing has been scheduled.</p>\n<p>O&#x27;Brien &amp; Sons</p>\n".into(),
        }
    }

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:hearing-1@ldr.example.nhs.uk\r\nDTSTAMP:20260220T093000Z\r\nDTSTART;TZID=Europe/London:20260312T100000\r\nSUMMARY:LDR panel hearing\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn from() -> &'static str {
        "Local Dispute Resolution <ldr-noreply@LDR.example.nhs.uk>"
    }

    fn to() -> Vec<String> {
        vec![
            "Dr Priya O'Brien <p.obrien@riverside.example.nhs.uk>".into(),
            "lmc@lmc.example.org.uk".into(),
        ]
    }

    fn formatted(m: &Message) -> String {
        String::from_utf8(m.formatted()).expect("utf-8")
    }

    #[test]
    fn message_id_is_stable_and_uses_sender_domain() {
        let id = uuid::Uuid::parse_str("5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa").unwrap();
        let a = message_id_for(id, from());
        assert_eq!(
            a,
            "<5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa@ldr.example.nhs.uk>"
        );
        assert_eq!(a, message_id_for(id, from()));
        assert_eq!(
            message_id_for(id, "noreply@ldr.example.org"),
            "<5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa@ldr.example.org>"
        );
        assert_eq!(
            message_id_for(id, "not an address"),
            "<5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa@ldr.invalid>"
        );
    }

    #[test]
    fn plain_notice_is_multipart_alternative() {
        let id = "<5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa@ldr.example.nhs.uk>";
        let m = build_message(from(), &to(), &rendered(), None, id).unwrap();
        let s = formatted(&m);
        assert!(s.contains(&format!("Message-ID: {id}\r\n")), "{s}");
        assert!(s.contains("Content-Type: multipart/alternative;"), "{s}");
        assert!(!s.contains("multipart/mixed"), "{s}");
        assert!(s.contains("Content-Type: text/plain; charset=utf-8"), "{s}");
        assert!(s.contains("Content-Type: text/html; charset=utf-8"), "{s}");
        assert!(s.contains("O'Brien & Sons"), "{s}");
        assert!(s.contains("O&#x27;Brien &amp; Sons"), "{s}");
        assert!(!s.contains("text/calendar"), "{s}");
        assert!(
            s.contains("Subject: [LDR-1A2B3C4D] Hearing scheduled for Thursday 12 March 2026\r\n"),
            "{s}"
        );
        assert_eq!(m.envelope().to().len(), 2);
    }

    #[test]
    fn several_recipients_see_none_of_each_others_addresses() {
        let to: Vec<String> = [
            "Dr Priya O'Brien <p.obrien@riverside.example.nhs.uk>",
            "lmc@lmc.example.org.uk",
            "\"Smith, Jo\" <jo.smith@ccg.example.nhs.uk>",
            "Mia Mediator <mia@lmc.example.org.uk>",
            "panel-secretary@icb.example.nhs.uk",
        ]
        .map(String::from)
        .to_vec();
        let id = "<5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa@ldr.example.nhs.uk>";
        let m = build_message(from(), &to, &rendered(), None, id).unwrap();
        let mut reference = Message::builder().from(from().parse().unwrap());
        for a in &to {
            reference = reference.to(a.parse().unwrap());
        }
        let reference = reference.body(String::from("x")).unwrap();
        // Every recipient in the envelope, as lettre would derive it from a `To` of them all.
        assert_eq!(m.envelope(), reference.envelope());
        assert_eq!(m.envelope().to().len(), 5);
        // None of them in the headers.
        let s = formatted(&m);
        assert_eq!(s.matches("\r\nTo: ").count(), 1, "{s}");
        assert!(s.contains("\r\nTo: undisclosed-recipients:;\r\n"), "{s}");
        let head = &s[..s.find("\r\n\r\n").unwrap()];
        for a in [
            "p.obrien@",
            "jo.smith@",
            "mia@",
            "lmc@lmc",
            "panel-secretary@",
        ] {
            assert!(!head.contains(a), "{a} in the headers: {head}");
        }
        // One recipient: the header names them.
        let one = build_message(from(), &to[..1], &rendered(), None, id).unwrap();
        assert_eq!(
            one.headers().get_raw("To"),
            Some("Dr Priya O'Brien <p.obrien@riverside.example.nhs.uk>")
        );
    }

    #[test]
    fn crlf_ends_every_line_with_crlf_once() {
        assert_eq!(crlf(""), "");
        assert_eq!(crlf("no line end"), "no line end");
        assert_eq!(crlf("\n"), "\r\n");
        assert_eq!(crlf("\n\na"), "\r\n\r\na");
        assert_eq!(crlf("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
        assert_eq!(crlf("a\r\r\nb"), "a\r\r\nb");
        assert_eq!(crlf("a\rb\n"), "a\rb\r\n");
        assert_eq!(crlf("Zoë\n£5 — ok\n"), "Zoë\r\n£5 — ok\r\n");
    }

    #[test]
    fn a_part_built_from_crlf_text_is_the_part_lettre_builds_from_lf_text() {
        let long = "x".repeat(90);
        for text in [
            "A hearing has been scheduled.\nO'Brien & Sons\n".to_owned(),
            format!("\n{long}\nZoë owes £5\r\n\n — end"),
            "<p style=\"margin:0\">a</p>\n<p>b</p>".to_owned(),
        ] {
            let formatted_part = |p: SinglePart| String::from_utf8(p.formatted()).unwrap();
            assert_eq!(
                formatted_part(SinglePart::plain(crlf(&text))),
                formatted_part(SinglePart::plain(text.clone())),
                "{text:?}"
            );
            assert_eq!(
                formatted_part(SinglePart::html(crlf(&text))),
                formatted_part(SinglePart::html(text.clone())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn invitation_carries_calendar_part_and_attachment() {
        let id = "<notice-1@ldr.example.nhs.uk>";
        let m = build_message(from(), &to(), &rendered(), Some(("REQUEST", ICS)), id).unwrap();
        let s = formatted(&m);
        assert!(
            s.contains("Message-ID: <notice-1@ldr.example.nhs.uk>\r\n"),
            "{s}"
        );
        assert!(s.contains("Content-Type: multipart/mixed;"), "{s}");
        assert!(s.contains("Content-Type: multipart/alternative;"), "{s}");
        assert!(s.contains("Content-Type: text/plain; charset=utf-8"), "{s}");
        assert!(s.contains("Content-Type: text/html; charset=utf-8"), "{s}");
        assert!(
            s.contains("Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n"),
            "{s}"
        );
        assert!(
            s.contains("Content-Type: application/ics; name=\"invite.ics\""),
            "{s}"
        );
        assert!(
            s.contains("Content-Disposition: attachment; filename=\"invite.ics\""),
            "{s}"
        );
        assert!(
            s.contains("DTSTART;TZID=Europe/London:20260312T100000"),
            "{s}"
        );
        // The calendar part sits inside the alternative, after text and html.
        let text_at = s.find("text/plain").unwrap();
        let html_at = s.find("text/html").unwrap();
        let cal_at = s.find("text/calendar").unwrap();
        let att_at = s.find("application/ics").unwrap();
        assert!(
            text_at < html_at && html_at < cal_at && cal_at < att_at,
            "{s}"
        );
    }

    #[test]
    fn a_file_goes_as_the_last_part_of_a_mixed_message() {
        use mail_parser::MimeHeaders;
        let zip: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        for ics in [None, Some(("REQUEST", ICS))] {
            let m = build_message_with(
                from(),
                &to(),
                &rendered(),
                ics,
                Some(("referral-pack-LDR-1A2B3C4D.zip", &zip)),
                "<a@b.uk>",
            )
            .unwrap();
            let raw = m.formatted();
            let s = String::from_utf8_lossy(&raw);
            assert!(s.contains("Content-Type: multipart/mixed;"), "{s}");
            assert!(s.contains("text/plain") && s.contains("text/html"), "{s}");
            let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let part = parsed
                .attachments()
                .find(|p| p.attachment_name() == Some("referral-pack-LDR-1A2B3C4D.zip"))
                .expect("the zip is attached");
            assert_eq!(part.contents(), zip.as_slice());
            let ct = part.content_type().unwrap();
            assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("zip")));
            // Its body is the message's last part.
            assert!(s.rfind("application/zip").unwrap() > s.rfind("text/html").unwrap());
            assert_eq!(ics.is_some(), s.contains("text/calendar"), "{s}");
        }
        for bad in ["../x.zip", "a b.zip", "", "x\r\nBcc: y.zip"] {
            let e = build_message_with(
                from(),
                &to(),
                &rendered(),
                None,
                Some((bad, b"PK")),
                "<a@b.uk>",
            );
            assert!(e.is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cancellation_uses_method_cancel() {
        let ics = ICS.replace("METHOD:REQUEST", "METHOD:CANCEL");
        let m = build_message(
            from(),
            &to(),
            &rendered(),
            Some(("CANCEL", &ics)),
            "<c@x.uk>",
        )
        .unwrap();
        let s = formatted(&m);
        assert!(
            s.contains("text/calendar; method=CANCEL; charset=UTF-8"),
            "{s}"
        );
    }

    #[test]
    fn invalid_addresses_are_named() {
        let bad_to = vec!["ok@example.nhs.uk".to_owned(), "not-an-address".to_owned()];
        let err = build_message(from(), &bad_to, &rendered(), None, "<a@b.uk>").unwrap_err();
        assert!(err.contains("not-an-address"), "{err}");
        assert!(err.contains("recipient"), "{err}");

        let err = build_message("nobody@", &to(), &rendered(), None, "<a@b.uk>").unwrap_err();
        assert!(err.contains("nobody@"), "{err}");
        assert!(err.contains("sender"), "{err}");

        let err = build_message(from(), &[], &rendered(), None, "<a@b.uk>").unwrap_err();
        assert!(err.contains("no recipients"), "{err}");
    }

    #[test]
    fn bad_method_and_message_id_are_rejected() {
        let err = build_message(
            from(),
            &to(),
            &rendered(),
            Some(("PUBLISH", ICS)),
            "<a@b.uk>",
        )
        .unwrap_err();
        assert!(err.contains("PUBLISH"), "{err}");
        let err = build_message(from(), &to(), &rendered(), None, "a b@c.uk").unwrap_err();
        assert!(err.contains("Message-ID"), "{err}");
        let err =
            build_message(from(), &to(), &rendered(), None, "<a@b.uk>\r\nBcc: x@y.uk").unwrap_err();
        assert!(err.contains("Message-ID"), "{err}");
        let m = build_message(from(), &to(), &rendered(), None, "id-1@b.uk").unwrap();
        assert!(formatted(&m).contains("Message-ID: <id-1@b.uk>\r\n"));
    }

    #[test]
    fn a_bare_address_is_read_as_lettres_full_parser_reads_it() {
        let cases = [
            "gp.practice@elm.nhs.uk",
            "  mediator@lmc.example.org ",
            "first.last+tag@sub.example.co.uk",
            "o'brien@example.com",
            "UPPER@Example.COM",
            "user@[192.168.0.1]",
            "Ann Smith <ann@example.com>",
            "\"Smith, Ann\" <ann@example.com>",
            "\"john doe\"@example.com",
            "a..b@example.com",
            ".a@example.com",
            "a@example..com",
            "a@-example.com",
            "a@example.com.",
            "a@b@example.com",
            "tom&jerry{1}@example.com",
            "nobody@",
            "@example.com",
            "two@@example.com",
            "a b@example.com",
            "",
        ];
        for addr in cases {
            let full = addr.trim().parse::<Mailbox>();
            match (mailbox(addr), full) {
                (Ok(fast), Ok(full)) => assert_eq!(fast, full, "{addr:?}"),
                (Err(_), Err(_)) => {}
                (fast, full) => panic!("{addr:?}: {fast:?} but the full parser: {full:?}"),
            }
        }
    }

    #[test]
    fn the_sender_is_parsed_again_when_it_changes() {
        let a = sender("Local Dispute Resolution <ldr@a.example>").unwrap();
        assert_eq!(a.email.to_string(), "ldr@a.example");
        assert_eq!(a.name.as_deref(), Some("Local Dispute Resolution"));
        let b = sender("ldr@b.example").unwrap();
        assert_eq!(
            (b.name, b.email.to_string()),
            (None, "ldr@b.example".into())
        );
        assert!(sender("not an address").is_err());
        let again = sender("Local Dispute Resolution <ldr@a.example>").unwrap();
        assert_eq!(again, a);
        assert_eq!(
            message_id_for(uuid::Uuid::nil(), "LDR <ldr@Mail.Example>"),
            "<00000000-0000-0000-0000-000000000000@mail.example>"
        );
    }

    /// The decoded text of the part of `m` whose type starts with `kind`, and its encoding.
    fn part_of(m: &Message, kind: &str) -> (String, String) {
        use mail_parser::MimeHeaders;
        let raw = m.formatted();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let part = parsed
            .parts
            .iter()
            .find(|p| {
                p.content_type()
                    .is_some_and(|t| format!("{}/{}", t.ctype(), t.subtype().unwrap_or("")) == kind)
            })
            .unwrap();
        let encoding = part
            .headers
            .iter()
            .find(|h| {
                h.name
                    .as_str()
                    .eq_ignore_ascii_case("Content-Transfer-Encoding")
            })
            .and_then(|h| h.value.as_text().map(str::to_owned))
            .unwrap_or_default();
        (
            String::from_utf8_lossy(part.contents()).into_owned(),
            encoding.to_ascii_lowercase(),
        )
    }

    #[test]
    fn short_ascii_lines_go_as_7bit_and_anything_else_is_encoded() {
        let build = |text: &str, html: &str| {
            let r = Rendered {
                subject: "s".into(),
                text: text.into(),
                html: html.into(),
            };
            build_message(from(), &to(), &r, None, "<a@b.uk>").unwrap()
        };
        let m = build("Short lines.\nOnly ASCII.\n", "<p>Short.</p>\n");
        assert_eq!(
            part_of(&m, "text/plain"),
            ("Short lines.\r\nOnly ASCII.\r\n".into(), "7bit".into())
        );
        assert_eq!(
            part_of(&m, "text/html"),
            ("<p>Short.</p>\r\n".into(), "7bit".into())
        );

        let long = format!("{}\n", "word ".repeat(20));
        let m = build(&long, "<p>Zoë</p>\n");
        let (text, enc) = part_of(&m, "text/plain");
        assert_eq!(
            (text.replace("\r\n", "\n"), enc.as_str()),
            (long.clone(), "quoted-printable")
        );
        let (html, enc) = part_of(&m, "text/html");
        assert_eq!(
            (html.as_str(), enc.as_str()),
            ("<p>Zoë</p>\r\n", "quoted-printable")
        );

        // A NUL, or a CR that ends no line, may not go as 7bit: encoded, and read back whole.
        for odd in ["a\0b\n", "one\rtwo\n"] {
            let m = build(odd, odd);
            for kind in ["text/plain", "text/html"] {
                let (back, enc) = part_of(&m, kind);
                assert_eq!(enc, "quoted-printable", "{odd:?} {kind}");
                assert_eq!(back, odd.replace('\n', "\r\n"), "{odd:?} {kind}");
            }
        }
    }

    /// Every text part without a NUL or a lone CR is byte for byte what lettre writes when it is
    /// given the same CRLF text and chooses the encoding itself (text_part hands a 7bit body over
    /// encoded). lettre measures the lines as given, so it must be given CRLF text: "ok\n" and
    /// 74 characters is 7bit with LF ends and quoted-printable with CRLF.
    #[test]
    fn text_parts_are_what_lettre_itself_writes() {
        let line = |n: usize| format!("{}\n", "x".repeat(n));
        let mut texts: Vec<String> = [
            "",
            "a",
            "\n",
            "\nlead",
            "no end",
            "short\n",
            "short\r\nlines\r\n",
            "mixed\r\n\nends\n",
            "tab\there\n",
            "trailing  \n",
            "a = b =\n",
            "Zoë Brontë\n",
            "📬📬📬📬📬📬📬📬\n",
            "<p style=\"margin:0 0 16px 0;\">Short.</p>\n",
        ]
        .map(str::to_owned)
        .to_vec();
        for n in [74, 75, 76, 77, 200, 1200] {
            texts.push(line(n));
            texts.push(format!("ok\n{}", line(n)));
            texts.push(line(n).trim_end().to_owned());
        }
        for kind in [ContentType::TEXT_PLAIN, ContentType::TEXT_HTML] {
            for t in &texts {
                let ours = text_part(kind.clone(), t).formatted();
                let lettre = SinglePart::builder()
                    .header(kind.clone())
                    .body(crlf(t))
                    .formatted();
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&lettre),
                    "{t:?}"
                );
            }
        }
    }
}
