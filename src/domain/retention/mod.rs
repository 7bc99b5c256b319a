//! Retention rules, as rules: who a rule matches on a given day (the list's filters it stands
//! for), its safety limit and its state; its form and the validation are [`form`]. Pure: the
//! storage is `retention/`.

mod form;

use chrono::{Months, NaiveDate};

use super::filters::{Filters, TicketsFilter};
use super::group_thousands;

pub use form::{RuleErrors, RuleForm, ValidRule, RULE_FIELDS};

pub const MAX_RULE_NAME_CHARS: usize = 100;
/// A hundred years: anything longer is a typing mistake.
pub const MAX_MONTHS: u32 = 1_200;
pub const DEFAULT_MAX_CUSTOMERS: i64 = 10_000;
pub const DEFAULT_MAX_PERCENT: i32 = 10;

/// Where a rule is. Stored as its `as_str`; the only place these words are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleState {
    /// Saved, never runs (every rule starts here; editing an active rule's criteria returns it).
    Inactive,
    /// Runs once per interval.
    Active,
    /// Its last run would have deleted more than its safety limit: it deletes nothing until an
    /// administrator confirms that run.
    Paused,
}

impl RuleState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inactive => "inactive",
            Self::Active => "active",
            Self::Paused => "paused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Inactive => "Inactive",
            Self::Active => "Active",
            Self::Paused => "Paused",
        }
    }
}

impl TryFrom<String> for RuleState {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        [Self::Inactive, Self::Active, Self::Paused]
            .into_iter()
            .find(|state| state.as_str() == value)
            .ok_or_else(|| format!("unknown rule state {value:?}"))
    }
}

/// "Organisation is X" or "organisation is not X", case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationMatch {
    pub name: String,
    pub negated: bool,
}

/// Who a rule deletes: customers inactive for at least `inactive_months` (counted back from the
/// day of each run), of (or not of) an organisation, created before a day, and, unless
/// `keep_open_tickets` is off, without an open ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCriteria {
    pub inactive_months: u32,
    pub organisation: Option<OrganisationMatch>,
    pub created_before: Option<NaiveDate>,
    pub keep_open_tickets: bool,
}

impl RuleCriteria {
    /// The day before which a matching customer was last active, for a run on `today`: today
    /// minus the months (the 31st of a shorter month becomes its last day).
    pub fn active_before(&self, today: NaiveDate) -> NaiveDate {
        active_before(today, self.inactive_months)
    }

    /// The list's filters that hold who the rule matches on `today`: last active before today
    /// minus the months, the organisation, created before, and no open ticket when it keeps
    /// customers with open tickets.
    pub fn filters(&self, today: NaiveDate) -> Filters {
        let (organisation, organisation_not) = match &self.organisation {
            Some(OrganisationMatch { name, negated }) if *negated => (None, Some(name.clone())),
            Some(OrganisationMatch { name, .. }) => (Some(name.clone()), None),
            None => (None, None),
        };
        Filters {
            organisation,
            organisation_not,
            created_after: None,
            created_before: self.created_before,
            active_before: Some(self.active_before(today)),
            tickets: self.keep_open_tickets.then_some(TicketsFilter::NoOpen),
        }
    }

    /// The customer list's URL parameters for [`Self::filters`] (its "Matches now" link).
    pub fn list_params(&self, today: NaiveDate) -> Vec<(&'static str, String)> {
        self.filters(today).to_pairs()
    }

    /// "Inactive for at least 24 months, organisation is not “Acme”, created before
    /// 2020-01-01, keeps customers with open tickets".
    pub fn describe(&self) -> String {
        let mut parts = vec![format!(
            "Inactive for at least {}",
            super::plural(i64::from(self.inactive_months), "month", "months")
        )];
        if let Some(organisation) = &self.organisation {
            let verb = if organisation.negated { "is not" } else { "is" };
            parts.push(format!("organisation {verb} “{}”", organisation.name));
        }
        if let Some(day) = self.created_before {
            parts.push(format!("created before {}", day.format("%Y-%m-%d")));
        }
        parts.push(
            if self.keep_open_tickets {
                "keeps customers with open tickets"
            } else {
                "also deletes customers with open tickets"
            }
            .to_owned(),
        );
        parts.join(", ")
    }
}

/// `today` minus `months`, or the earliest day there is.
pub fn active_before(today: NaiveDate, months: u32) -> NaiveDate {
    today
        .checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

/// How much one run may delete before it pauses the rule instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetyLimit {
    pub max_customers: i64,
    /// Of all customers at the time of the run.
    pub max_percent: i32,
}

impl Default for SafetyLimit {
    fn default() -> Self {
        Self {
            max_customers: DEFAULT_MAX_CUSTOMERS,
            max_percent: DEFAULT_MAX_PERCENT,
        }
    }
}

impl SafetyLimit {
    /// Whether deleting `count` of `all` customers goes past the limit, and if so why, in words:
    /// more than `max_customers`, or more than `max_percent` % of all.
    pub fn exceeded(&self, count: i64, all: i64) -> Option<String> {
        let share = |n: i64| i128::from(n) * 100;
        let over_count = count > self.max_customers;
        let over_share = share(count) > i128::from(all) * i128::from(self.max_percent);
        (over_count || over_share).then(|| {
            format!(
                "This run would delete {} of {}, more than its safety limit ({} or {} % of all \
                 customers). Nothing was deleted.",
                super::plural(count, "customer", "customers"),
                group_thousands(all),
                super::plural(self.max_customers, "customer", "customers"),
                self.max_percent
            )
        })
    }

    /// "10,000 customers or 10 % of all"
    pub fn describe(&self) -> String {
        format!(
            "{} or {} % of all",
            super::plural(self.max_customers, "customer", "customers"),
            self.max_percent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        super::super::filters::parse_day(raw).unwrap()
    }

    fn criteria() -> RuleCriteria {
        RuleForm {
            name: "Two years quiet".into(),
            organisation: "Acme".into(),
            organisation_match: "is_not".into(),
            created_before: "2024-01-31".into(),
            ..Default::default()
        }
        .validate()
        .unwrap()
        .criteria()
        .clone()
    }

    #[test]
    fn months_count_back_from_the_day_of_the_run() {
        let criteria = criteria();
        assert_eq!(criteria.active_before(day("2026-12-01")), day("2024-12-01"));
        assert_eq!(active_before(day("2026-03-31"), 1), day("2026-02-28"));
        assert_eq!(active_before(day("2026-03-31"), 1_200), day("1926-03-31"));
    }

    #[test]
    fn the_safety_limit_is_a_count_or_a_share_of_all() {
        let limit = SafetyLimit::default();
        assert_eq!(limit.exceeded(10_000, 1_000_000), None);
        assert!(limit.exceeded(10_001, 1_000_000).is_some());
        assert_eq!(limit.exceeded(10, 100), None);
        let reason = limit.exceeded(11, 100).unwrap();
        assert!(reason.contains("11 customers of 100"), "{reason}");
        assert!(reason.contains("10,000 customers or 10 %"), "{reason}");
        let all = SafetyLimit {
            max_customers: 5,
            max_percent: 100,
        };
        assert_eq!(all.exceeded(5, 5), None);
        assert!(all.exceeded(6, 6).is_some());
        assert_eq!(limit.exceeded(0, 0), None);
    }

    #[test]
    fn criteria_are_the_lists_filters() {
        let criteria = criteria();
        let filters = criteria.filters(day("2026-12-01"));
        assert_eq!(filters.organisation_not.as_deref(), Some("Acme"));
        assert_eq!(filters.organisation, None);
        assert_eq!(filters.created_before, Some(day("2024-01-31")));
        assert_eq!(filters.active_before, Some(day("2024-12-01")));
        assert_eq!(filters.tickets, Some(TicketsFilter::NoOpen));
        assert_eq!(
            criteria.list_params(day("2026-12-01")),
            [
                ("organisation_not", "Acme".to_owned()),
                ("created_before", "2024-01-31".to_owned()),
                ("active_before", "2024-12-01".to_owned()),
                ("tickets", "no_open".to_owned()),
            ]
        );
        let everyone = RuleCriteria {
            keep_open_tickets: false,
            organisation: None,
            created_before: None,
            ..criteria
        };
        assert_eq!(everyone.filters(day("2026-12-01")).tickets, None);
    }

    #[test]
    fn criteria_in_words() {
        let criteria = criteria();
        assert_eq!(
            criteria.describe(),
            "Inactive for at least 24 months, organisation is not “Acme”, created before \
             2024-01-31, keeps customers with open tickets"
        );
        assert_eq!(
            RuleState::try_from("paused".to_owned()),
            Ok(RuleState::Paused)
        );
        assert!(RuleState::try_from("on".to_owned()).is_err());
    }
}
