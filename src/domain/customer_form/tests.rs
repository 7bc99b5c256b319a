//! Unit tests of `customer_form`.

use super::*;

#[test]
fn errors_come_in_the_order_of_the_fields() {
    let form = CustomerForm {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: "not an email".into(),
        organisation: "o".repeat(MAX_ORGANISATION_CHARS + 1),
        ..Default::default()
    };
    let errors = form.validate().unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|(field, _)| field).collect();
    assert_eq!(fields, ["email", "organisation"]);
}

fn form() -> CustomerForm {
    CustomerForm {
        first_name: " Ada ".into(),
        last_name: "Lovelace".into(),
        email: "ada@example.com".into(),
        phone: "+44 20 7946 0018".into(),
        organisation: "Analytical Engines Ltd".into(),
        job_title: "Mathematician".into(),
    }
}

#[test]
fn a_good_form_is_trimmed() {
    let valid = form().validate().unwrap();
    assert_eq!(valid.first_name, "Ada");
    assert_eq!(valid.email, "ada@example.com");
}

#[test]
fn required_fields_and_formats() {
    let errors = CustomerForm::default().validate().unwrap_err();
    assert_eq!(errors.get("first_name"), Some("First name is required."));
    assert_eq!(errors.get("last_name"), Some("Last name is required."));
    assert_eq!(errors.get("email"), Some("Email is required."));
    assert_eq!(errors.len(), 3);

    for bad in [
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "a b@example.com",
        "a@b@c.com",
        "ada@.com",
    ] {
        let mut f = form();
        f.email = bad.into();
        assert!(f.validate().is_err(), "{bad} should be refused");
    }
    let mut f = form();
    f.phone = "call me maybe".into();
    assert!(f.validate().unwrap_err().get("phone").is_some());
}

#[test]
fn text_is_normalised_to_nfc() {
    let mut f = form();
    f.first_name = "Rene\u{301}e".into();
    f.organisation = "Cafe\u{301}".into();
    let valid = f.validate().unwrap();
    assert_eq!(valid.first_name, "Ren\u{e9}e");
    assert_eq!(valid.organisation, "Caf\u{e9}");
}

#[test]
fn invisible_characters_in_emails_are_refused() {
    for bad in [
        "same.person\u{200B}@example.com",
        "same\u{200C}person@example.com",
        "same\u{200D}person@example.com",
        "same\u{2060}person@example.com",
        "\u{FEFF}same.person@example.com",
        "same\u{AD}person@example.com",
        "same.person@exa\u{200E}mple.com",
    ] {
        let mut f = form();
        f.email = bad.into();
        let errors = f.validate().unwrap_err();
        let message = errors.get("email").unwrap_or_default();
        assert!(
            message.contains("invisible") || message.contains("text-direction"),
            "{bad:?}: {message}"
        );
    }
}

#[test]
fn bidi_controls_are_refused_everywhere_but_joiners_stay_in_names() {
    for (field, value) in [
        ("first_name", "\u{202E}enilA"),
        ("last_name", "A\u{2067}b"),
        ("organisation", "Acme\u{200F}"),
        ("job_title", "\u{61C}x"),
    ] {
        let mut f = form();
        match field {
            "first_name" => f.first_name = value.into(),
            "last_name" => f.last_name = value.into(),
            "organisation" => f.organisation = value.into(),
            _ => f.job_title = value.into(),
        }
        let errors = f.validate().unwrap_err();
        assert!(
            errors.get(field).unwrap().contains("text-direction"),
            "{field}"
        );
    }
    let mut f = form();
    // A family emoji (ZWJ) and a Persian name with a ZWNJ.
    f.first_name = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}".into();
    f.last_name = "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}".into();
    assert!(f.validate().is_ok());
}

#[test]
fn length_limits_count_characters() {
    let mut f = form();
    f.first_name = "é".repeat(MAX_NAME_CHARS);
    assert!(f.validate().is_ok());
    f.first_name = "é".repeat(MAX_NAME_CHARS + 1);
    assert_eq!(
        f.validate().unwrap_err().get("first_name"),
        Some("First name can be at most 100 characters.")
    );
}
