//! The list's filters and, with the search, its criteria: who a list shows, who "All (N)"
//! selects and who a bulk deletion (from the list or the command line) takes. Pure: parsed from
//! query-string pairs (or the command line's flags), written back into every list link; an
//! invalid value is ignored with a note for the page, never an error.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use unicode_normalization::UnicodeNormalization;

use super::customer_form::is_invisible;
use serde::{Deserialize, Serialize};

use super::list_query::Search;

/// Longest organisation a filter keeps (as the customer form allows).
pub const MAX_ORGANISATION_CHARS: usize = super::customer_form::MAX_ORGANISATION_CHARS;
/// How much of an ignored value a note repeats.
const NOTE_VALUE_CHARS: usize = 40;

/// `tickets=none|open|no_open`. An open ticket is one not in the trash whose status is neither
/// solved nor closed (`domain/ticket.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketsFilter {
    /// No tickets at all.
    None,
    /// At least one open ticket.
    Open,
    /// No open ticket (possibly solved, closed or trashed ones).
    NoOpen,
}

impl TicketsFilter {
    pub const ALL: [Self; 3] = [Self::None, Self::Open, Self::NoOpen];

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Self::None),
            "open" => Some(Self::Open),
            "no_open" => Some(Self::NoOpen),
            _ => None,
        }
    }

    pub fn as_param(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Open => "open",
            Self::NoOpen => "no_open",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::None => "No tickets",
            Self::Open => "Has open tickets",
            Self::NoOpen => "No open tickets",
        }
    }
}

/// The filters of a list, each optional; they combine with each other and the search (AND).
/// Dates are whole days, UTC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    /// Exactly this organisation, case-insensitively.
    pub organisation: Option<String>,
    /// Any organisation but this one, case-insensitively.
    pub organisation_not: Option<String>,
    /// Created strictly after this day (from the next day's start, UTC).
    #[serde(with = "optional_day")]
    pub created_after: Option<NaiveDate>,
    /// Created strictly before this day (before its start, UTC).
    #[serde(with = "optional_day")]
    pub created_before: Option<NaiveDate>,
    /// Last active strictly before this day.
    #[serde(with = "optional_day")]
    pub active_before: Option<NaiveDate>,
    pub tickets: Option<TicketsFilter>,
}

/// One filter as a removable chip: what it reads and the parameter that removing it drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chip {
    pub label: String,
    pub param: &'static str,
}

/// The query-string names of the filters, in the order links write them.
pub const PARAMS: [&str; 6] = [
    "organisation",
    "organisation_not",
    "created_after",
    "created_before",
    "active_before",
    "tickets",
];

impl Filters {
    /// From decoded query-string pairs (the first of repeated keys wins). Returns the filters
    /// and a note for each value that was ignored.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, Vec<String>) {
        let get = |key: &str| super::first_value(pairs, key);
        let mut filters = Self::default();
        let mut notes = Vec::new();
        let mut organisation_of = |key: &str, label: &str| -> Option<String> {
            let raw = get(key)?;
            // What the chip shows must be what is compared: a zero-width or direction character
            // would make "is not “Wonka Retail”" exclude nobody.
            if raw.chars().any(|c| is_invisible(c) && !c.is_whitespace()) {
                notes.push(format!(
                    "The value for “{label}” contains invisible characters, so that filter is ignored."
                ));
                return None;
            }
            organisation(&raw.nfc().collect::<String>())
        };
        filters.organisation = organisation_of("organisation", "Organisation is");
        filters.organisation_not = organisation_of("organisation_not", "Organisation is not");
        let mut day = |key: &'static str, label: &str| -> Option<NaiveDate> {
            let raw = get(key)?.trim();
            if raw.is_empty() {
                return None;
            }
            let parsed = parse_day(raw);
            if parsed.is_none() {
                notes.push(format!(
                    "“{}” is not a date for “{label}” (YYYY-MM-DD), so that filter is ignored.",
                    shortened(raw)
                ));
            }
            parsed
        };
        filters.created_after = day("created_after", "Created after");
        filters.created_before = day("created_before", "Created before");
        filters.active_before = day("active_before", "Last active before");
        if let Some(raw) = get("tickets").map(str::trim).filter(|v| !v.is_empty()) {
            filters.tickets = TicketsFilter::parse(raw);
            if filters.tickets.is_none() {
                notes.push(format!(
                    "“{}” is not a tickets filter (none, open or no_open), so it is ignored.",
                    shortened(raw)
                ));
            }
        }
        (filters, notes)
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether who matches can change without any customer being written: activity and
    /// tickets live in other tables (and other systems write them), so such listings are never
    /// served from a cache.
    pub fn depends_on_activity(&self) -> bool {
        self.active_before.is_some() || self.tickets.is_some()
    }

    /// As query-string pairs, in [`PARAMS`] order; unset filters left out.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(name) = &self.organisation {
            pairs.push(("organisation", name.clone()));
        }
        if let Some(name) = &self.organisation_not {
            pairs.push(("organisation_not", name.clone()));
        }
        let days = [
            ("created_after", self.created_after),
            ("created_before", self.created_before),
            ("active_before", self.active_before),
        ];
        for (key, day) in days {
            if let Some(day) = day {
                pairs.push((key, day.format("%Y-%m-%d").to_string()));
            }
        }
        if let Some(tickets) = self.tickets {
            pairs.push(("tickets", tickets.as_param().to_owned()));
        }
        pairs
    }

    /// These filters without the one named by `param` (a chip's removal).
    pub fn without(&self, param: &str) -> Self {
        let mut less = self.clone();
        match param {
            "organisation" => less.organisation = None,
            "organisation_not" => less.organisation_not = None,
            "created_after" => less.created_after = None,
            "created_before" => less.created_before = None,
            "active_before" => less.active_before = None,
            "tickets" => less.tickets = None,
            _ => {}
        }
        less
    }

    /// Each filter that is set, as a chip.
    pub fn chips(&self) -> Vec<Chip> {
        let day = |d: &NaiveDate| d.format("%Y-%m-%d").to_string();
        let mut chips = Vec::new();
        let mut push = |param: &'static str, label: String| chips.push(Chip { label, param });
        if let Some(name) = &self.organisation {
            push("organisation", format!("Organisation is “{name}”"));
        }
        if let Some(name) = &self.organisation_not {
            push("organisation_not", format!("Organisation is not “{name}”"));
        }
        if let Some(d) = &self.created_after {
            push("created_after", format!("Created after {}", day(d)));
        }
        if let Some(d) = &self.created_before {
            push("created_before", format!("Created before {}", day(d)));
        }
        if let Some(d) = &self.active_before {
            push("active_before", format!("Last active before {}", day(d)));
        }
        if let Some(tickets) = self.tickets {
            push("tickets", tickets.label().to_owned());
        }
        chips
    }

    /// `created_after` as a bound: created at or after the start of the next day.
    pub fn created_from(&self) -> Option<NaiveDateTime> {
        self.created_after.and_then(|d| d.succ_opt()).map(start_of)
    }

    /// `created_before` as a bound: created before the start of that day.
    pub fn created_until(&self) -> Option<NaiveDateTime> {
        self.created_before.map(start_of)
    }

    /// `active_before` as a bound: last active before the start of that day.
    pub fn active_until(&self) -> Option<NaiveDateTime> {
        self.active_before.map(start_of)
    }
}

/// Who a list or a deletion is about: the text search and the filters, combined (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Criteria {
    pub search: Search,
    pub filters: Filters,
}

impl Criteria {
    pub fn new(search: Search, filters: Filters) -> Self {
        Self { search, filters }
    }

    pub fn is_empty(&self) -> bool {
        self.search.is_empty() && self.filters.is_empty()
    }

    /// How a list's caches tell criteria apart: the search and the filters' query string.
    pub fn cache_key(&self) -> String {
        let filters = serde_urlencoded::to_string(self.filters.to_pairs()).unwrap_or_default();
        format!("{}\u{0}{filters}", self.search.as_str())
    }

    /// "“acme”, Organisation is “Acme”, No tickets", or "" for every customer.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!("“{}”", self.search.as_str()));
        }
        parts.extend(self.filters.chips().into_iter().map(|chip| chip.label));
        parts.join(", ")
    }
}

/// `YYYY-MM-DD`, exactly (four-digit years, at most 9998: the day after must still have four
/// digits, because SQLite compares timestamps as text and "10000-01-01" sorts before "2024").
pub fn parse_day(raw: &str) -> Option<NaiveDate> {
    let well_formed = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    well_formed
        .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .flatten()
        .filter(|day| day.year() <= 9998)
}

/// Days in the session as `YYYY-MM-DD` (chrono's serde feature is not built).
mod optional_day {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(day: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match day {
            Some(day) => s.serialize_some(&day.format("%Y-%m-%d").to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let raw: Option<String> = Option::deserialize(d)?;
        Ok(raw.as_deref().and_then(super::parse_day))
    }
}

fn start_of(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).expect("midnight exists")
}

/// An organisation to filter on: whitespace collapsed, bounded; "" is no filter.
fn organisation(raw: &str) -> Option<String> {
    let words: Vec<&str> = raw
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let name: String = words
        .join(" ")
        .chars()
        .take(MAX_ORGANISATION_CHARS)
        .collect();
    (!name.is_empty()).then_some(name)
}

fn shortened(raw: &str) -> String {
    let mut short: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(NOTE_VALUE_CHARS)
        .collect();
    if raw.chars().count() > NOTE_VALUE_CHARS {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests;
