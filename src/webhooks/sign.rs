//! Standard Webhooks 1.0 signatures, and the secrets at rest.
//!
//! - A secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those bytes.
//! - `webhook-signature` is `v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")),
//!   one per secret that signs, separated by a space (after a rotation, the new secret's and
//!   the previous one's until its overlap ends).
//! - At rest a secret is sealed with ChaCha20-Poly1305 ([`SecretBox`]) under a key derived
//!   with HKDF-SHA256 from `LDR_WEBHOOK_KEY` (or the JWT secret when that is unset), bound to
//!   its endpoint's id: a copy of the database without the server's key reveals nothing.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::NaiveDateTime;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hkdf, hmac};

pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "no randomness available for a webhook secret".to_string())?;
    Ok(format!("{SECRET_PREFIX}{}", B64.encode(bytes)))
}

/// The HMAC key of a secret (the bytes after `whsec_`).
fn key_bytes(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    B64.decode(b64)
        .map_err(|_| "a webhook secret is not whsec_ + base64".to_string())
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with `secret`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes(secret)?);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body.as_bytes());
    Ok(format!("v1,{}", B64.encode(ctx.sign().as_ref())))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, String> {
    secrets
        .iter()
        .map(|s| signature(s, id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()
        .map(|v| v.join(" "))
}

/// Whether the previous secret still signs at `now`: only before `until`.
pub fn previous_signs(now: NaiveDateTime, until: Option<NaiveDateTime>) -> bool {
    until.is_some_and(|u| now < u)
}

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// Seals and opens secrets at rest: ChaCha20-Poly1305 under a key derived from the server's
/// key material; the endpoint's id is the associated data, so a sealed secret copied onto
/// another endpoint's row does not open.
pub struct SecretBox {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

/// The key's length (`Okm` needs it as a `KeyType`).
struct KeyLen;

impl hkdf::KeyType for KeyLen {
    fn len(&self) -> usize {
        CHACHA20_POLY1305.key_len()
    }
}

impl SecretBox {
    /// The box whose key is HKDF-SHA256(`material`) for this purpose.
    pub fn derive(material: &[u8]) -> Result<SecretBox, String> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"ldr webhook secrets").extract(material);
        let mut key = [0u8; 32];
        prk.expand(&[b"chacha20-poly1305 v1"], KeyLen)
            .and_then(|okm| okm.fill(&mut key))
            .map_err(|_| "cannot derive the webhook secrets' key".to_string())?;
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &key)
            .map_err(|_| "cannot make the webhook secrets' key".to_string())?;
        Ok(SecretBox {
            key: LessSafeKey::new(unbound),
        })
    }

    /// `base64(nonce ‖ ciphertext ‖ tag)` of `secret`, bound to `webhook_id`.
    pub fn seal(&self, webhook_id: &str, secret: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "no randomness available to seal a webhook secret".to_string())?;
        let mut buf = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(webhook_id.as_bytes()),
                &mut buf,
            )
            .map_err(|_| "cannot seal a webhook secret".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(B64.encode(out))
    }

    /// The secret [`SecretBox::seal`] sealed for `webhook_id`.
    pub fn open(&self, webhook_id: &str, sealed: &str) -> Result<String, String> {
        let fail = || {
            format!(
                "the secret of webhook {webhook_id} does not open with this server's key \
                 (LDR_WEBHOOK_KEY, or the JWT secret when it is unset, changed since it was \
                 stored): rotate the endpoint's secret"
            )
        };
        let raw = B64.decode(sealed).map_err(|_| fail())?;
        if raw.len() < NONCE_LEN + aead::MAX_TAG_LEN {
            return Err(fail());
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(webhook_id.as_bytes()), &mut buf)
            .map_err(|_| fail())?;
        String::from_utf8(plain.to_vec()).map_err(|_| fail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, id, 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn two_secrets_give_two_signatures() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert!(a.starts_with("whsec_") && a != b);
        assert_eq!(key_bytes(&a).unwrap().len(), 32);
        let h = signature_header(&[&a, &b], "msg_1", 5, "{}").unwrap();
        let parts: Vec<&str> = h.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], signature(&a, "msg_1", 5, "{}").unwrap());
        assert_eq!(parts[1], signature(&b, "msg_1", 5, "{}").unwrap());
    }

    #[test]
    fn the_previous_secret_signs_only_until_its_end() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let until = Some(t("2026-03-03 10:00:00"));
        assert!(previous_signs(t("2026-03-03 09:59:59"), until));
        assert!(!previous_signs(t("2026-03-03 10:00:00"), until));
        assert!(!previous_signs(t("2026-03-02 10:00:00"), None));
    }

    #[test]
    fn sealed_secrets_open_only_with_the_key_and_the_endpoint() {
        let b = SecretBox::derive(b"a server key of some length 0123456789").unwrap();
        let s = new_secret().unwrap();
        let sealed = b.seal("w1", &s).unwrap();
        assert!(!sealed.contains(&s[6..]));
        assert_eq!(b.open("w1", &sealed).unwrap(), s);
        assert!(b.open("w2", &sealed).is_err());
        let other = SecretBox::derive(b"another server key 0123456789abcdef").unwrap();
        assert!(other.open("w1", &sealed).is_err());
        assert!(b.open("w1", "not base64!").is_err());
        assert!(b.open("w1", "AAAA").is_err());
        // Two seals of one secret differ (a fresh nonce each time).
        assert_ne!(b.seal("w1", &s).unwrap(), sealed);
    }
}
