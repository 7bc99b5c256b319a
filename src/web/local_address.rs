//! Where a request may send the browser back to: one rule for every "next", "return_to" and
//! "goto" value, so that no value can leave the site or make an invalid `Location` header.

/// Where a refused address falls back to.
pub const FALLBACK: &str = "/people/customers";

/// Longest address accepted; longer ones fall back.
pub const MAX_LEN: usize = 2048;

/// `address` when it is a path on this site that is safe to put in a `Location` header: it
/// starts with one `/`, has no backslash, no control character (Unicode Cc, which includes NUL,
/// DEL and the C1 range) and no whitespace other than nothing, and is at most [`MAX_LEN`] bytes.
pub fn checked(address: &str) -> Option<&str> {
    let is_local = address.starts_with('/')
        && !address.starts_with("//")
        && !address.contains('\\')
        && !address.chars().any(|c| c.is_control() || c.is_whitespace());
    (is_local && address.len() <= MAX_LEN).then_some(address)
}

/// `address` if [`checked`] accepts it, else [`FALLBACK`]; characters outside ASCII are
/// percent-encoded, so that the `Location` header carries ASCII only (a raw U+202E would be
/// sent as is).
pub fn or_fallback(address: &str) -> String {
    ascii(checked(address).unwrap_or(FALLBACK))
}

/// `address` with every character outside ASCII percent-encoded (as UTF-8), for a header.
pub fn ascii(address: &str) -> String {
    let mut encoded = String::with_capacity(address.len());
    for c in address.chars() {
        if c.is_ascii() {
            encoded.push(c);
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_ascii() {
        assert_eq!(
            or_fallback("/people/customers?q=Jos\u{e9}\u{202E}"),
            "/people/customers?q=Jos%C3%A9%E2%80%AE"
        );
        assert_eq!(
            or_fallback("/people/customers?q=a"),
            "/people/customers?q=a"
        );
    }

    #[test]
    fn local_paths_pass() {
        for ok in [
            "/people/customers",
            "/people/customers?page=2&q=%C3%A9",
            "/people/customers/7/edit",
        ] {
            assert_eq!(checked(ok), Some(ok));
        }
    }

    #[test]
    fn anything_else_falls_back() {
        let long = format!("/{}", "a".repeat(MAX_LEN));
        for bad in [
            "",
            "people",
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/ok\\..\\",
            "javascript:alert(1)",
            "/\nLocation: x",
            "/people/customers?\u{0}",
            "/people/customers?\u{1}",
            "/people/customers?\u{7f}",
            "/people/customers?\u{85}",
            "/people customers",
            long.as_str(),
        ] {
            assert_eq!(checked(bad), None, "{bad:?}");
            assert_eq!(or_fallback(bad), FALLBACK);
        }
    }
}
