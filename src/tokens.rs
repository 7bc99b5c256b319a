//! Random tokens: session keys, CSRF tokens, one-time confirmation tokens, demo passwords,
//! worker names.

use argon2::password_hash::rand_core::{OsRng, RngCore};

/// A random token of `bytes` random bytes, hex-encoded (session keys, CSRF tokens, passwords).
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let a = random_token(32);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_token(32));
    }
}
