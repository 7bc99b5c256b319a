//! Pure rules of the product: no HTTP, no database. Each type here is built from untrusted input
//! by a constructor that always succeeds with a sane value or says exactly what is wrong.

pub mod customer_form;
pub mod deletion_counts;
pub mod field_errors;
pub mod filters;
pub mod ids;
pub mod list_query;
pub mod related;
pub mod retention;
pub mod selection;
pub mod ticket;

/// 12345 → "12,345": every count the administrator reads is grouped.
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The first value of `key` in decoded query or form pairs (later repeats are ignored).
pub fn first_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A person's name as the desk writes it: "first last".
pub fn full_name(first: &str, last: &str) -> String {
    format!("{first} {last}")
}

/// "1 ticket", "7 tickets", "1,234 customers".
pub fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", group_thousands(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_wins() {
        let pairs = vec![
            ("page".to_owned(), "2".to_owned()),
            ("page".to_owned(), "3".to_owned()),
        ];
        assert_eq!(first_value(&pairs, "page"), Some("2"));
        assert_eq!(first_value(&pairs, "q"), None);
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(12345), "12,345");
        assert_eq!(group_thousands(1234567), "1,234,567");
        assert_eq!(group_thousands(-1234), "-1,234");
    }

    #[test]
    fn pluralises() {
        assert_eq!(plural(1, "note", "notes"), "1 note");
        assert_eq!(plural(0, "note", "notes"), "0 notes");
        assert_eq!(plural(2500, "note", "notes"), "2,500 notes");
    }
}
