//! Retention rules, as rules: what a rule's form holds, whether it makes a valid rule, who a
//! rule matches on a given day, and its safety limit. Pure: the storage is `retention/`.

use chrono::{Months, NaiveDate};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use super::customer_form::{is_bidi_control, MAX_ORGANISATION_CHARS};
use super::group_thousands;

pub const MAX_RULE_NAME_CHARS: usize = 100;
/// A hundred years: anything longer is a typing mistake.
pub const MAX_MONTHS: u32 = 1_200;
pub const DEFAULT_MAX_CUSTOMERS: i64 = 10_000;
pub const DEFAULT_MAX_PERCENT: i32 = 10;
/// Above this, a count is a typing mistake (and would not fit the database's checks).
const MAX_LIMIT_CUSTOMERS: i64 = 1_000_000_000_000;

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

    /// The customer list's filters that show who the rule matches on `today` (its URL
    /// parameters, in the list's order).
    pub fn list_params(&self, today: NaiveDate) -> Vec<(&'static str, String)> {
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        let mut pairs = Vec::new();
        match &self.organisation {
            Some(OrganisationMatch {
                name,
                negated: false,
            }) => pairs.push(("organisation", name.clone())),
            Some(OrganisationMatch {
                name,
                negated: true,
            }) => pairs.push(("organisation_not", name.clone())),
            None => {}
        }
        if let Some(created_before) = self.created_before {
            pairs.push(("created_before", day(created_before)));
        }
        pairs.push(("active_before", day(self.active_before(today))));
        if self.keep_open_tickets {
            pairs.push(("tickets", "no_open".to_owned()));
        }
        pairs
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

/// One message per field that is wrong, in the form's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleErrors(Vec<(&'static str, String)>);

impl RuleErrors {
    /// The first message of a field counts; messages stay in the form's order.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            let rank = |name: &str| RULE_FIELDS.iter().position(|f| *f == name);
            let at = self
                .0
                .iter()
                .position(|(other, _)| rank(other) > rank(field))
                .unwrap_or(self.0.len());
            self.0.insert(at, (field, message.into()));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }
}

/// The form's fields, in order (the errors are listed in this order).
pub const RULE_FIELDS: [&str; 8] = [
    "name",
    "inactive_months",
    "organisation_match",
    "organisation",
    "created_before",
    "keep_open_tickets",
    "max_customers",
    "max_percent",
];

/// Exactly what the administrator typed, kept to fill the form in again when it has errors.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RuleForm {
    pub name: String,
    pub inactive_months: String,
    /// `is` or `is_not`.
    pub organisation_match: String,
    pub organisation: String,
    /// `YYYY-MM-DD` or nothing.
    pub created_before: String,
    /// A checkbox: `yes` when ticked, absent otherwise.
    pub keep_open_tickets: Option<String>,
    pub max_customers: String,
    pub max_percent: String,
}

impl Default for RuleForm {
    /// A new rule's form: keeps customers with open tickets, the default safety limit.
    fn default() -> Self {
        Self {
            name: String::new(),
            inactive_months: "24".into(),
            organisation_match: "is".into(),
            organisation: String::new(),
            created_before: String::new(),
            keep_open_tickets: Some("yes".into()),
            max_customers: DEFAULT_MAX_CUSTOMERS.to_string(),
            max_percent: DEFAULT_MAX_PERCENT.to_string(),
        }
    }
}

/// A rule's name, criteria and limit, trimmed and checked. Its fields are private: only
/// [`RuleForm::validate`] makes one (the checks that need the database, a unique name and an
/// organisation some customer has, are `retention::save`'s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRule {
    name: String,
    criteria: RuleCriteria,
    limit: SafetyLimit,
}

impl ValidRule {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn criteria(&self) -> &RuleCriteria {
        &self.criteria
    }

    pub fn limit(&self) -> SafetyLimit {
        self.limit
    }
}

impl RuleForm {
    /// The form of a stored rule.
    pub fn of(name: &str, criteria: &RuleCriteria, limit: SafetyLimit) -> Self {
        Self {
            name: name.to_owned(),
            inactive_months: criteria.inactive_months.to_string(),
            organisation_match: match &criteria.organisation {
                Some(organisation) if organisation.negated => "is_not",
                _ => "is",
            }
            .into(),
            organisation: criteria
                .organisation
                .as_ref()
                .map(|organisation| organisation.name.clone())
                .unwrap_or_default(),
            created_before: criteria
                .created_before
                .map(|day| day.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            keep_open_tickets: criteria.keep_open_tickets.then(|| "yes".into()),
            max_customers: limit.max_customers.to_string(),
            max_percent: limit.max_percent.to_string(),
        }
    }

    pub fn keeps_open_tickets(&self) -> bool {
        self.keep_open_tickets.as_deref() == Some("yes")
    }

    pub fn organisation_negated(&self) -> bool {
        self.organisation_match == "is_not"
    }

    pub fn validate(&self) -> Result<ValidRule, RuleErrors> {
        let mut errors = RuleErrors::default();
        let name = text(&mut errors, "name", "Name", &self.name, MAX_RULE_NAME_CHARS);
        if errors.get("name").is_none() && name.is_empty() {
            errors.add("name", "Name is required.");
        }
        let inactive_months = whole_number(&mut errors, "inactive_months", &self.inactive_months)
            .and_then(|months| match months {
                ..=0 => {
                    errors.add(
                        "inactive_months",
                        "Inactive for must be at least 1 month (a number of months greater than 0).",
                    );
                    None
                }
                1..=1_200 => u32::try_from(months).ok(),
                _ => {
                    errors.add(
                        "inactive_months",
                        format!("Inactive for can be at most {MAX_MONTHS} months (100 years)."),
                    );
                    None
                }
            });
        let negated = match self.organisation_match.as_str() {
            "is" => false,
            "is_not" => true,
            _ => {
                errors.add("organisation_match", "Choose “is” or “is not”.");
                false
            }
        };
        let organisation = text(
            &mut errors,
            "organisation",
            "Organisation",
            &self.organisation,
            MAX_ORGANISATION_CHARS,
        );
        let created_before = match self.created_before.trim() {
            "" => None,
            raw => {
                let day = parse_day(raw);
                if day.is_none() {
                    errors.add(
                        "created_before",
                        "Created before must be a date written YYYY-MM-DD, such as 2020-01-31.",
                    );
                }
                day
            }
        };
        let max_customers = whole_number(&mut errors, "max_customers", &self.max_customers)
            .and_then(|n| {
                if (1..=MAX_LIMIT_CUSTOMERS).contains(&n) {
                    Some(n)
                } else {
                    errors.add(
                        "max_customers",
                        "The safety limit must be at least 1 customer.",
                    );
                    None
                }
            });
        let max_percent =
            whole_number(&mut errors, "max_percent", &self.max_percent).and_then(|n| {
                match i32::try_from(n) {
                    Ok(n @ 1..=100) => Some(n),
                    _ => {
                        errors.add(
                            "max_percent",
                            "The safety limit's share must be between 1 and 100 %.",
                        );
                        None
                    }
                }
            });
        match (inactive_months, max_customers, max_percent) {
            (Some(inactive_months), Some(max_customers), Some(max_percent))
                if errors.is_empty() =>
            {
                Ok(ValidRule {
                    name,
                    criteria: RuleCriteria {
                        inactive_months,
                        organisation: (!organisation.is_empty()).then_some(OrganisationMatch {
                            name: organisation,
                            negated,
                        }),
                        created_before,
                        keep_open_tickets: self.keeps_open_tickets(),
                    },
                    limit: SafetyLimit {
                        max_customers,
                        max_percent,
                    },
                })
            }
            _ => Err(errors),
        }
    }
}

/// Trimmed, NFC; refused with a message if too long or holding control or text-direction
/// characters.
fn text(
    errors: &mut RuleErrors,
    field: &'static str,
    label: &str,
    raw: &str,
    max_chars: usize,
) -> String {
    let value: String = raw.trim().nfc().collect();
    if value.chars().count() > max_chars {
        errors.add(
            field,
            format!("{label} can be at most {max_chars} characters."),
        );
    } else if value.chars().any(char::is_control) {
        errors.add(field, format!("{label} cannot contain control characters."));
    } else if value.chars().any(is_bidi_control) {
        errors.add(
            field,
            format!("{label} cannot contain text-direction control characters."),
        );
    }
    value
}

/// A whole number (an optional minus sign and up to 13 digits), or a message.
fn whole_number(errors: &mut RuleErrors, field: &'static str, raw: &str) -> Option<i64> {
    let raw = raw.trim().replace([',', '_'], "");
    let digits = raw.strip_prefix('-').unwrap_or(&raw);
    let parsed =
        (!digits.is_empty() && digits.len() <= 13 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| raw.parse::<i64>().ok())
            .flatten();
    if parsed.is_none() {
        errors.add(field, "Enter a whole number, such as 24.");
    }
    parsed
}

/// `YYYY-MM-DD`, exactly (four-digit years).
fn parse_day(raw: &str) -> Option<NaiveDate> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RuleForm {
        RuleForm {
            name: "  Two years quiet ".into(),
            organisation: "Acme".into(),
            organisation_match: "is_not".into(),
            created_before: "2024-01-31".into(),
            ..Default::default()
        }
    }

    fn day(raw: &str) -> NaiveDate {
        parse_day(raw).unwrap()
    }

    #[test]
    fn a_good_form_makes_a_rule_and_comes_back_the_same() {
        let valid = form().validate().unwrap();
        assert_eq!(valid.name(), "Two years quiet");
        assert_eq!(
            valid.criteria(),
            &RuleCriteria {
                inactive_months: 24,
                organisation: Some(OrganisationMatch {
                    name: "Acme".into(),
                    negated: true
                }),
                created_before: Some(day("2024-01-31")),
                keep_open_tickets: true,
            }
        );
        assert_eq!(valid.limit(), SafetyLimit::default());
        let again = RuleForm::of(valid.name(), valid.criteria(), valid.limit());
        assert_eq!(again.validate().unwrap(), valid);
        let without_tickets = RuleForm {
            keep_open_tickets: None,
            ..form()
        };
        assert!(
            !without_tickets
                .validate()
                .unwrap()
                .criteria()
                .keep_open_tickets
        );
    }

    #[test]
    fn bad_values_come_back_with_messages_in_the_form_order() {
        let bad = RuleForm {
            name: " ".into(),
            inactive_months: "-3".into(),
            organisation: "o".repeat(10_000),
            created_before: "last year".into(),
            max_customers: "0".into(),
            max_percent: "101".into(),
            organisation_match: "maybe".into(),
            ..Default::default()
        };
        let errors = bad.validate().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(field, _)| field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "inactive_months",
                "organisation_match",
                "organisation",
                "created_before",
                "max_customers",
                "max_percent"
            ]
        );
        assert_eq!(errors.get("name"), Some("Name is required."));
        assert!(errors
            .get("inactive_months")
            .unwrap()
            .contains("at least 1"));
        for months in ["0", "-1", "x", "", "1.5", "99999999999999999999", "1201"] {
            let f = RuleForm {
                inactive_months: months.into(),
                ..form()
            };
            assert!(
                f.validate().unwrap_err().get("inactive_months").is_some(),
                "{months:?}"
            );
        }
        let long = RuleForm {
            name: "n".repeat(MAX_RULE_NAME_CHARS + 1),
            ..form()
        };
        assert_eq!(
            long.validate().unwrap_err().get("name"),
            Some("Name can be at most 100 characters.")
        );
        let control = RuleForm {
            name: "a\u{0}b".into(),
            ..form()
        };
        assert!(control.validate().is_err());
    }

    #[test]
    fn months_count_back_from_the_day_of_the_run() {
        let criteria = form().validate().unwrap().criteria().clone();
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
    fn criteria_in_words() {
        let criteria = form().validate().unwrap().criteria().clone();
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
