//! Unit tests of `form`.

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

fn day(raw: &str) -> chrono::NaiveDate {
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
fn an_unticked_checkbox_is_sent_as_nothing() {
    let sent: RuleForm =
        serde_urlencoded::from_str("name=Quiet&inactive_months=12&max_customers=5").unwrap();
    assert_eq!(sent.keep_open_tickets, None);
    assert_eq!(sent.max_percent, DEFAULT_MAX_PERCENT.to_string());
    let ticked: RuleForm = serde_urlencoded::from_str("keep_open_tickets=yes").unwrap();
    assert!(ticked.keeps_open_tickets());
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
