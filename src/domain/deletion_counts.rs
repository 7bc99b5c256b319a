//! What goes with a deletion, and how it is said to the administrator before and after.

use super::plural;
use super::related::{Counted, Shown, RELATED};

/// The rows that go with a set of customers. Compared field by field to tell whether what is
/// about to be deleted is still what the administrator confirmed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeletionCounts {
    pub customers: i64,
    pub tickets: i64,
    pub tickets_in_trash: i64,
    pub chats: i64,
    pub notes: i64,
}

impl DeletionCounts {
    pub fn get(&self, count: Counted) -> i64 {
        match count {
            Counted::Tickets => self.tickets,
            Counted::Chats => self.chats,
            Counted::Notes => self.notes,
        }
    }

    pub fn get_mut(&mut self, count: Counted) -> &mut i64 {
        match count {
            Counted::Tickets => &mut self.tickets,
            Counted::Chats => &mut self.chats,
            Counted::Notes => &mut self.notes,
        }
    }

    /// Each shown kind of related row with its count, in the declared order.
    fn kinds(&self) -> impl Iterator<Item = (&'static Shown, i64)> + '_ {
        RELATED
            .iter()
            .filter_map(|entry| entry.shown.as_ref())
            .map(|shown| (shown, self.get(shown.count)))
    }

    /// "7 tickets (2 in the trash), 3 live chat conversations and 1 note"
    pub fn associated_data(&self) -> String {
        let parts: Vec<String> = self
            .kinds()
            .map(|(shown, n)| {
                let named = plural(n, shown.one, shown.many);
                match shown.trash {
                    Some(_) if self.tickets_in_trash > 0 => format!(
                        "{named} ({} in the trash)",
                        super::group_thousands(self.tickets_in_trash)
                    ),
                    _ => named,
                }
            })
            .collect();
        and_list(&parts)
    }

    /// "1 ticket and 2 notes": only the kinds there are some of (trash aside), or `None`.
    pub fn listed(&self) -> Option<String> {
        let parts: Vec<String> = self
            .kinds()
            .filter(|(_, n)| *n > 0)
            .map(|(shown, n)| plural(n, shown.one, shown.many))
            .collect();
        (!parts.is_empty()).then(|| and_list(&parts))
    }

    pub fn has_associated_data(&self) -> bool {
        self.kinds().any(|(_, n)| n > 0)
    }
}

/// "a", "a and b", "a, b and c".
fn and_list(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [only] => only.clone(),
        [first @ .., last] => format!("{} and {last}", first.join(", ")),
    }
}

/// "Ada Lovelace", "Ada Lovelace and Alan Turing", "Ada Lovelace, Alan Turing and 1,232 more":
/// `names` are the first few (by name) of `total` customers.
pub fn names_summary(names: &[String], total: i64) -> String {
    let shown = if total as usize > names.len() || total > 3 {
        &names[..names.len().min(2)]
    } else {
        names
    };
    let rest = total - shown.len() as i64;
    match (shown, rest) {
        ([], _) => String::new(),
        ([only], 0) => only.clone(),
        (names, 0) => {
            let (last, first) = names.split_last().expect("not empty");
            format!("{} and {last}", first.join(", "))
        }
        (names, rest) => format!(
            "{} and {} more",
            names.join(", "),
            super::group_thousands(rest)
        ),
    }
}

/// How a deletion was asked for; stored in the deletion record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionKind {
    Single,
    Bulk,
}

impl DeletionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Single => "single",
            Self::Bulk => "bulk",
        }
    }

    /// As the history shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Single => "Single",
            Self::Bulk => "Bulk",
        }
    }
}

impl TryFrom<String> for DeletionKind {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        [Self::Single, Self::Bulk]
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| format!("unknown deletion kind {value:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_only_what_there_is() {
        let none = DeletionCounts::default();
        assert_eq!(none.listed(), None);
        let one = DeletionCounts { tickets: 1, ..none };
        assert_eq!(one.listed().as_deref(), Some("1 ticket"));
        let three = DeletionCounts {
            tickets: 1,
            chats: 2,
            notes: 1,
            ..none
        };
        assert_eq!(
            three.listed().as_deref(),
            Some("1 ticket, 2 live chat conversations and 1 note")
        );
    }

    #[test]
    fn describes_associated_data_with_trash() {
        let counts = DeletionCounts {
            customers: 1,
            tickets: 7,
            tickets_in_trash: 2,
            chats: 3,
            notes: 1,
        };
        assert_eq!(
            counts.associated_data(),
            "7 tickets (2 in the trash), 3 live chat conversations and 1 note"
        );
        assert!(counts.has_associated_data());
    }

    #[test]
    fn names_read_like_a_sentence() {
        let names: Vec<String> = ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names_summary(&names[..1], 1), "Ada Lovelace");
        assert_eq!(
            names_summary(&names[..2], 2),
            "Ada Lovelace and Alan Turing"
        );
        assert_eq!(
            names_summary(&names, 3),
            "Ada Lovelace, Alan Turing and Grace Hopper"
        );
        assert_eq!(
            names_summary(&names, 1234),
            "Ada Lovelace, Alan Turing and 1,232 more"
        );
        assert_eq!(names_summary(&[], 0), "");
    }

    #[test]
    fn describes_nothing_and_singulars() {
        let none = DeletionCounts {
            customers: 1,
            ..Default::default()
        };
        assert_eq!(
            none.associated_data(),
            "0 tickets, 0 live chat conversations and 0 notes"
        );
        assert!(!none.has_associated_data());
        let one = DeletionCounts {
            customers: 1,
            tickets: 1,
            tickets_in_trash: 0,
            chats: 1,
            notes: 1,
        };
        assert_eq!(
            one.associated_data(),
            "1 ticket, 1 live chat conversation and 1 note"
        );
    }
}
