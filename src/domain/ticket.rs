//! A ticket's status: the five the product knows (the database's CHECK constraint allows the
//! same), stored as their `as_str` words; the only place these words are written.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    Active,
    Waiting,
    OnHold,
    Solved,
    Closed,
}

impl TicketStatus {
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::Waiting,
        Self::OnHold,
        Self::Solved,
        Self::Closed,
    ];

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Waiting => "waiting",
            Self::OnHold => "on_hold",
            Self::Solved => "solved",
            Self::Closed => "closed",
        }
    }

    /// As a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Waiting => "Waiting",
            Self::OnHold => "On hold",
            Self::Solved => "Solved",
            Self::Closed => "Closed",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_what_they_store() {
        for status in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(TicketStatus::parse("pending"), None);
    }
}
