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

    /// Whether a ticket with this status still needs work (solved and closed ones do not).
    pub fn is_open_status(self) -> bool {
        !matches!(self, Self::Solved | Self::Closed)
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == stored)
    }
}

/// An open ticket: not in the trash, and neither solved nor closed, as SQL over `tickets`
/// (`customers::open_ticket_exists`; the partial index `tickets_customer_open_idx` holds the
/// untrashed tickets with their status).
pub const OPEN_TICKET: &str = "trashed_at IS NULL AND status NOT IN ('solved', 'closed')";

/// Whether a ticket is open, as [`OPEN_TICKET`] says in SQL.
pub fn is_open(status: TicketStatus, in_trash: bool) -> bool {
    !in_trash && status.is_open_status()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_names_exactly_the_statuses_that_are_not_open() {
        for status in TicketStatus::ALL {
            let named = OPEN_TICKET.contains(&format!("'{}'", status.as_str()));
            assert_eq!(named, !status.is_open_status(), "{status:?}");
            assert!(!is_open(status, true));
        }
        assert!(is_open(TicketStatus::OnHold, false));
        assert!(!is_open(TicketStatus::Solved, false));
    }

    #[test]
    fn statuses_read_back_what_they_store() {
        for status in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(TicketStatus::parse("pending"), None);
    }
}
