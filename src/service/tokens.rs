//! Secrets handed to people and machines as text: session ids, CSRF tokens, API keys,
//! calendar-feed tokens, the browser value of an OpenID sign-in. Each is 32 random bytes
//! from the operating system, kept in the database only as its sha256, and compared in
//! constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new token: 32 random bytes from the operating system, in hex (64 characters).
pub fn random() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a token: its sha256, in hex.
pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal, non-empty strings, compared in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_compare_only_when_equal() {
        let a = random();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(random(), a);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &a[..63]));
        assert!(!same(&a[1..], &a[..63]));
        assert!(!same("", ""));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
