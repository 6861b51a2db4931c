//! GOV.UK Notify's REST API as a mail transport: one `POST /v2/notifications/email` per
//! recipient, authenticated by a token signed with the API key's secret (as Notify's own client
//! libraries make it: HS256, header `{"typ":"JWT","alg":"HS256"}`, claims `iss` = the service id
//! and `iat` = now in seconds, the secret's text as the key). The notice's rendered subject and
//! plain-text body go as the personalisation of one template whose subject is `((subject))` and
//! body `((body))`; its id is the `reference`.
//!
//! The requests are blocking (`ureq`): the worker runs them on the blocking pool, one notice
//! per hand-off.

use super::worker::{Claimed, Outcome};
use crate::config::NotifyConfig;
use serde::Serialize;
use std::time::Duration;

/// The log line of a refused key (403): the key is wrong, revoked, or of another service.
pub const KEY_REFUSED: &str = "GOV.UK Notify refused the API key";
/// The log line of a refused template (a 400 about the template, not the recipient).
pub const TEMPLATE_REFUSED: &str = "GOV.UK Notify refused the template";

/// A client of Notify's API for one service and template.
#[derive(Clone)]
pub struct NotifyClient {
    cfg: NotifyConfig,
    agent: ureq::Agent,
    /// `LDR_PUBLIC_URL`, for the link to a hearing's invitation.
    public_url: String,
}

/// What Notify answered one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 201: accepted for sending.
    Accepted,
    /// 400: this request will never be accepted (Notify's message).
    Refused(String),
    /// The service as a whole was refused, not this notice: a 403 (the key: wrong, revoked,
    /// or refused because this machine's clock is off by more than 30 seconds), a 400 about
    /// the template (not found, or without the `((subject))` and `((body))` fields), or a 429
    /// (the service's rate or daily limit). Every request would meet it for now; the message
    /// says what to fix, or that it passes.
    Setup(String),
    /// 5xx, another status, or no answer: try this notice again later.
    Temporary(String),
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: i64,
}

#[derive(Serialize)]
struct Personalisation<'a> {
    subject: &'a str,
    body: &'a str,
}

#[derive(Serialize)]
struct EmailRequest<'a> {
    email_address: &'a str,
    template_id: String,
    personalisation: Personalisation<'a>,
    reference: &'a str,
}

/// What one attempt at a notice came to: the outcome, and every recipient Notify has accepted it
/// for so far (those of earlier attempts included).
pub struct Attempt {
    pub outcome: Outcome,
    pub sent_to: Vec<String>,
}

impl NotifyClient {
    /// A client whose every request is bounded by `timeout` (connect, TLS, request and answer).
    /// Proxies are taken from `HTTPS_PROXY`/`ALL_PROXY` and `NO_PROXY`; redirects are not
    /// followed (a redirected `POST` is answered as a temporary failure).
    pub fn new(cfg: NotifyConfig, public_url: String, timeout: Duration) -> NotifyClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .user_agent(format!("ldr/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        NotifyClient {
            cfg,
            agent,
            public_url,
        }
    }

    pub fn describe(&self) -> String {
        format!("{:?}", self.cfg)
    }

    /// The bearer token of a request made now.
    pub fn token(&self) -> Result<String, String> {
        let claims = Claims {
            iss: &self.cfg.service_id,
            iat: chrono::Utc::now().timestamp(),
        };
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(self.cfg.secret().as_bytes()),
        )
        .map_err(|e| format!("cannot sign the GOV.UK Notify token: {e}"))
    }

    /// The body Notify is given for `n`: its plain-text part (LF line ends), and for a hearing
    /// invitation a link to it, since Notify carries no calendar attachment.
    pub fn body_of(&self, n: &Claimed) -> String {
        let mut body = n.body_text.replace("\r\n", "\n").trim_end().to_string();
        match (n.ics_method.as_deref(), n.ics.is_some(), &n.dispute_id) {
            (Some("REQUEST"), true, Some(id)) => body.push_str(&format!(
                "\n\nAdd the hearing to your calendar: {}/api/v1/disputes/{id}/hearing.ics\n",
                self.public_url
            )),
            (Some("CANCEL"), true, _) => {
                body.push_str("\n\nIf you added the hearing to your calendar, remove it.\n")
            }
            _ => body.push('\n'),
        }
        // Notify carries no attachment either: a notice that carries a file (the FHSU's
        // referral pack) says where to download it.
        if let (Some(name), Some(id)) = (&n.attachment_name, &n.dispute_id) {
            body.push_str(&format!(
                "\nThe referral pack ({name}) cannot be attached to this message: download it at \
                 {}/api/v1/disputes/{id}/referral-pack\n",
                self.public_url
            ));
        }
        as_written(&body)
    }

    /// Sends `n` as an e-mail to `to`.
    pub fn send_one(&self, n: &Claimed, to: &str, body: &str) -> Answer {
        let token = match self.token() {
            Ok(t) => t,
            Err(e) => return Answer::Temporary(e),
        };
        let req = EmailRequest {
            email_address: to,
            template_id: self.cfg.template_id.to_string(),
            personalisation: Personalisation {
                subject: &n.subject,
                body,
            },
            reference: &n.id,
        };
        let url = format!("{}/v2/notifications/email", self.cfg.base_url);
        let res = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(&req);
        let mut res = match res {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => {
                return Answer::Temporary("GOV.UK Notify: no answer in time".into())
            }
            Err(e) => return Answer::Temporary(format!("GOV.UK Notify: {e}")),
        };
        let status = res.status().as_u16();
        let text = res
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        answer(status, &text)
    }

    /// Sends `n` to each of its recipients that Notify has not accepted it for yet, one request
    /// each, while `may_start()` allows another request (the claim's lease), telling
    /// `accepted` whom it has been accepted for after each acceptance (the worker records it at
    /// once, so a crash part-way does not send it to them again). A temporary failure stops
    /// there (the rest are tried again later); a 400 for one recipient does not keep the others
    /// from theirs; a refused key or template stops everything ([`Outcome::Halt`]).
    pub fn send(
        &self,
        n: &Claimed,
        may_start: impl Fn() -> bool,
        accepted: impl Fn(&[String]),
    ) -> Attempt {
        let (to, mut sent_to) = match (n.recipient_list(), n.sent_list()) {
            (Ok(to), Ok(sent_to)) => (to, sent_to),
            (Err(e), _) | (_, Err(e)) => {
                return Attempt {
                    outcome: Outcome::Permanent(e),
                    sent_to: Vec::new(),
                }
            }
        };
        if to.is_empty() {
            return Attempt {
                outcome: Outcome::Permanent("the notice has no recipient".into()),
                sent_to,
            };
        }
        let body = self.body_of(n);
        let mut refused: Vec<String> = Vec::new();
        let mut temporary: Option<String> = None;
        for r in &to {
            if sent_to.contains(r) {
                continue;
            }
            if !may_start() {
                return Attempt {
                    outcome: Outcome::Unsent,
                    sent_to,
                };
            }
            match self.send_one(n, r, &body) {
                Answer::Accepted => {
                    tracing::debug!(notice_id = %n.id, "GOV.UK Notify accepted the notice for one recipient");
                    sent_to.push(r.clone());
                    accepted(&sent_to);
                }
                Answer::Refused(m) => refused.push(format!("{r}: {m}")),
                Answer::Setup(m) => {
                    return Attempt {
                        outcome: Outcome::Halt(m),
                        sent_to,
                    };
                }
                Answer::Temporary(m) => {
                    temporary = Some(format!("{r}: {m}"));
                    break;
                }
            }
        }
        let mut notes = Vec::new();
        if !refused.is_empty() {
            notes.push(format!(
                "GOV.UK Notify refused it for {}",
                refused.join("; ")
            ));
        }
        if !sent_to.is_empty() && (temporary.is_some() || !refused.is_empty()) {
            notes.push(format!("already accepted for {}", sent_to.join(", ")));
        }
        let outcome = match temporary {
            Some(t) => {
                notes.insert(0, format!("temporary failure for {t}"));
                Outcome::Retry(notes.join(". "))
            }
            None if !refused.is_empty() => Outcome::Permanent(notes.join(". ")),
            None => Outcome::Sent,
        };
        Attempt { outcome, sent_to }
    }
}

/// Maps Notify's answer (status and body) to what the worker does with it.
pub fn answer(status: u16, body: &str) -> Answer {
    let message = || error_message(body).unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        201 => Answer::Accepted,
        400 if about_the_template(body) => Answer::Setup(format!(
            "{TEMPLATE_REFUSED} (400): {}. Check LDR_NOTIFY_TEMPLATE_ID: a template of this \
             service whose subject is ((subject)) and body ((body))",
            message()
        )),
        400 => Answer::Refused(message()),
        403 => Answer::Setup(format!(
            "{KEY_REFUSED} (403): {}. Check LDR_NOTIFY_API_KEY (a live or team key of this \
             service, not revoked) and this machine's clock",
            message()
        )),
        429 => Answer::Setup(format!(
            "GOV.UK Notify is rate limiting this service (429): {}. It passes: the limits are \
             3,000 messages a minute and a daily limit per service",
            message()
        )),
        s if s >= 500 => Answer::Temporary(format!("GOV.UK Notify answered {s}: {}", message())),
        s => Answer::Temporary(format!(
            "GOV.UK Notify answered {s} unexpectedly: {}",
            message()
        )),
    }
}

/// Whether a 400's errors are about the template (`Template not found`, `Missing
/// personalisation: …`) rather than the recipient: every notice would meet them.
fn about_the_template(body: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return false;
    };
    v["errors"].as_array().is_some_and(|errors| {
        errors.iter().any(|e| {
            let m = e["message"].as_str().unwrap_or("").to_ascii_lowercase();
            m.contains("template not found") || m.contains("missing personalisation")
        })
    })
}

/// Notify's errors (`{"status_code": 400, "errors": [{"error": "BadRequestError", "message":
/// "…"}]}`) as one line: `BadRequestError: …; …`.
fn error_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let list: Vec<String> = v["errors"]
        .as_array()?
        .iter()
        .map(|e| {
            let kind = e["error"].as_str().unwrap_or("error");
            let msg = e["message"].as_str().unwrap_or("");
            format!("{kind}: {msg}")
        })
        .collect();
    (!list.is_empty()).then(|| list.join("; ").chars().take(1000).collect())
}

/// Zero width space: invisible, and no Markdown block may begin after it.
const ZWSP: char = '\u{200B}';

/// The plain text `text` as GOV.UK Notify will show it: as written, not as Markdown.
///
/// Notify reads its template's body, the personalisation in it included, as its own Markdown
/// (`notifications-utils`: mistune 0.8, with headings `#`, lists `*` `-` `•` `1.`, inset text
/// `^`, rules, underlined headings, indented code, tables, links `[text](url)`, images and
/// reference definitions; no emphasis). A notice's text holds what people typed (a dispute's
/// title and description, a decision's recommendations), which would otherwise become a
/// heading, vanish as an image or a table, or become a link whose words hide where it goes.
/// So `\`, `[` and `]` are escaped with a backslash (Markdown's own escape, which Notify's
/// renderer removes), and a line that could open a block begins with a zero width space,
/// which none of its block rules allows before the marker. Notify decodes HTML character
/// references before its Markdown (`&#91;` would become `[`), so every `&` is followed by a
/// zero width space too, and lines are cut where Notify cuts them (a lone `\r` and U+2424
/// end a line as `\n` does). Bare addresses (`https://…`) are still made links, as in the
/// SMTP notices' text.
pub fn as_written(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace(['\r', '\u{2424}'], "\n");
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let start = line.trim_start_matches(' ');
        // Python's `\d`, which Notify's list rule uses, is any decimal digit, not only ASCII.
        let numbered = start
            .find(|c: char| !c.is_numeric())
            .is_some_and(|at| at > 0 && start[at..].starts_with(['.', ')']));
        let indented = line.len() - start.len() >= 4 || start.starts_with('\t');
        if indented
            || numbered
            || start.starts_with([
                '#', '^', '*', '-', '+', '•', '=', '_', '|', ':', '`', '~', '>',
            ])
        {
            out.push(ZWSP);
        }
        for c in line.chars() {
            if matches!(c, '\\' | '[' | ']') {
                out.push('\\');
            }
            out.push(c);
            if c == '&' {
                out.push(ZWSP);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
    const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";

    fn client() -> NotifyClient {
        let cfg = crate::config::Config::from_lookup(|k| match k {
            "LDR_NOTIFY_API_KEY" => Some(format!("test-key-{SERVICE}-{SECRET}")),
            "LDR_NOTIFY_TEMPLATE_ID" => Some("f33517ff-2a88-4f6e-b855-c550268ce08a".into()),
            "LDR_PUBLIC_URL" => Some("https://ldr.example.nhs.uk/".into()),
            _ => None,
        })
        .unwrap();
        NotifyClient::new(cfg.notify.unwrap(), cfg.public_url, Duration::from_secs(5))
    }

    fn claimed(ics_method: Option<&str>) -> Claimed {
        Claimed {
            id: "n1".into(),
            recipients: r#"["a@example.org"]"#.into(),
            subject: "Hearing".into(),
            body_text: "Line one\r\nLine two\r\n".into(),
            body_html: String::new(),
            ics: ics_method.map(|_| "BEGIN:VCALENDAR".into()),
            ics_method: ics_method.map(String::from),
            attempts: 0,
            dispute_id: Some("d1".into()),
            sent_to: None,
            attachment_name: None,
            attachment: None,
        }
    }

    #[test]
    fn the_token_is_signed_with_the_secret_text_and_names_the_service() {
        let t = client().token().unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        let d = jsonwebtoken::decode::<serde_json::Value>(
            &t,
            &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
            &v,
        )
        .unwrap();
        assert_eq!(d.header.typ.as_deref(), Some("JWT"));
        assert_eq!(d.claims["iss"], SERVICE);
        let iat = d.claims["iat"].as_i64().unwrap();
        assert!((chrono::Utc::now().timestamp() - iat).abs() <= 2);
        assert_eq!(d.claims.as_object().unwrap().len(), 2, "{}", d.claims);
    }

    #[test]
    fn answers_are_mapped_as_notify_means_them() {
        let bad = r#"{"status_code":400,"errors":[{"error":"BadRequestError","message":"Can't send to this recipient using a team-only API key"}]}"#;
        assert_eq!(answer(201, "{}"), Answer::Accepted);
        assert_eq!(
            answer(400, bad),
            Answer::Refused(
                "BadRequestError: Can't send to this recipient using a team-only API key".into()
            )
        );
        assert!(
            matches!(answer(403, r#"{"errors":[{"error":"AuthError","message":"Invalid token"}]}"#),
            Answer::Setup(m) if m.starts_with("GOV.UK Notify refused the API key (403): AuthError: Invalid token."))
        );
        for template in ["Template not found", "Missing personalisation: subject"] {
            let body = format!(
                r#"{{"status_code":400,"errors":[{{"error":"BadRequestError","message":"{template}"}}]}}"#
            );
            assert!(
                matches!(answer(400, &body), Answer::Setup(m) if m.contains(template) && m.contains("LDR_NOTIFY_TEMPLATE_ID")),
                "{template}"
            );
        }
        assert!(
            matches!(answer(429, r#"{"errors":[{"error":"RateLimitError","message":"Exceeded rate limit"}]}"#),
            Answer::Setup(m) if m.starts_with("GOV.UK Notify is rate limiting this service (429): RateLimitError"))
        );
        for s in [500, 503, 302, 404] {
            assert!(
                matches!(answer(s, "<html>"), Answer::Temporary(m) if m.contains(&s.to_string())),
                "{s}"
            );
        }
    }

    #[test]
    fn a_hearing_invitation_gets_a_link_instead_of_its_attachment() {
        let c = client();
        assert_eq!(c.body_of(&claimed(None)), "Line one\nLine two\n");
        assert_eq!(
            c.body_of(&claimed(Some("REQUEST"))),
            "Line one\nLine two\n\nAdd the hearing to your calendar: \
             https://ldr.example.nhs.uk/api/v1/disputes/d1/hearing.ics\n"
        );
        assert!(c
            .body_of(&claimed(Some("CANCEL")))
            .ends_with("remove it.\n"));
    }

    #[test]
    fn a_referral_pack_gets_a_link_instead_of_its_attachment() {
        let c = client();
        let mut n = claimed(None);
        n.attachment_name = Some("referral-pack-LDR-D1.zip".into());
        n.attachment = Some(b"PK".to_vec());
        assert_eq!(
            c.body_of(&n),
            "Line one\nLine two\n\nThe referral pack (referral-pack-LDR-D1.zip) cannot be \
             attached to this message: download it at \
             https://ldr.example.nhs.uk/api/v1/disputes/d1/referral-pack\n"
        );
    }

    #[test]
    fn notify_is_given_the_text_as_written_not_as_markdown() {
        use super::as_written;
        let z = '\u{200B}';
        // Links, images, footnotes and reference definitions lose their brackets' meaning.
        assert_eq!(
            as_written("See [the letter](https://evil.example) or ![x](y)"),
            "See \\[the letter\\](https://evil.example) or !\\[x\\](y)"
        );
        assert_eq!(
            as_written("[ref]: https://evil.example"),
            "\\[ref\\]: https://evil.example"
        );
        assert_eq!(as_written(r"C:\path"), r"C:\\path");
        // Lines that would open a block start with a zero width space.
        for line in [
            "# Heading",
            "  ## Heading",
            "^ inset",
            "* item",
            "- item",
            "• item",
            "1. item",
            "12) item",
            "---",
            "===",
            "___",
            "| a | b |",
            ":--|--",
            "```",
            "~~~",
            "> quoted",
            "    code",
            "\tcode",
        ] {
            assert_eq!(as_written(line), format!("{z}{line}"), "{line:?}");
        }
        // Character references Notify would decode into brackets or a heading stay as typed.
        assert_eq!(
            as_written("&#91;see&#93;(https://evil.example) & co"),
            format!("&{z}#91;see&{z}#93;(https://evil.example) &{z} co")
        );
        // Lines end where Notify ends them; numbers in any script.
        assert_eq!(
            as_written("Text\r# Heading\u{2424}- item\r\n١. item"),
            format!("Text\n{z}# Heading\n{z}- item\n{z}١. item")
        );
        // The rest, and the lines themselves, are left alone.
        let plain = "Dear North CCG,\n\nThe hearing is at 14:00 in Room 2.\n2025 was a year.\n\
                     See https://ldr.example/disputes/a_b-c\n  two spaces\n";
        assert_eq!(as_written(plain), plain);
    }
}
