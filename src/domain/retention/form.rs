//! A retention rule's form: what was typed, and whether it makes a valid rule (with one message
//! per wrong field).

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use super::{
    OrganisationMatch, RuleCriteria, SafetyLimit, DEFAULT_MAX_CUSTOMERS, DEFAULT_MAX_PERCENT,
    MAX_MONTHS, MAX_RULE_NAME_CHARS,
};
use crate::domain::customer_form::{is_bidi_control, MAX_ORGANISATION_CHARS};
use crate::domain::filters::parse_day;

/// Above this, a count is a typing mistake (and would not fit the database's checks).
const MAX_LIMIT_CUSTOMERS: i64 = 1_000_000_000_000;

/// One message per field that is wrong, in the order of [`RULE_FIELDS`].
pub type RuleErrors = crate::domain::field_errors::FieldErrors<RuleFields>;

/// The rule form's order of fields: [`RULE_FIELDS`].
#[derive(Debug)]
pub struct RuleFields;

impl crate::domain::field_errors::FieldOrder for RuleFields {
    fn rank(field: &str) -> Option<usize> {
        RULE_FIELDS.iter().position(|f| *f == field)
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
    /// A checkbox: `yes` when ticked, absent otherwise (so absent is unticked, not the new
    /// form's default).
    #[serde(default)]
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

#[cfg(test)]
mod tests;
