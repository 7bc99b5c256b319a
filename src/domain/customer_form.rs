//! The add and edit form of a customer: what was typed, and whether it makes a valid customer.

use serde::Deserialize;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 40;
pub const MAX_ORGANISATION_CHARS: usize = 200;
pub const MAX_JOB_TITLE_CHARS: usize = 100;

/// Exactly what the administrator typed, kept to fill the form in again when it has errors.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct CustomerForm {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub organisation: String,
    pub job_title: String,
}

/// A customer's editable fields, trimmed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCustomer {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub organisation: String,
    pub job_title: String,
}

/// One message per field that is wrong, in the form's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
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

impl CustomerForm {
    pub fn validate(&self) -> Result<ValidCustomer, FieldErrors> {
        let mut errors = FieldErrors::default();
        let first_name = text_field(
            &mut errors,
            "first_name",
            "First name",
            &self.first_name,
            true,
            MAX_NAME_CHARS,
        );
        let last_name = text_field(
            &mut errors,
            "last_name",
            "Last name",
            &self.last_name,
            true,
            MAX_NAME_CHARS,
        );
        let email = text_field(
            &mut errors,
            "email",
            "Email",
            &self.email,
            true,
            MAX_EMAIL_CHARS,
        );
        if errors.get("email").is_none() && !is_plausible_email(&email) {
            errors.add("email", "Enter an email address like name@example.com.");
        }
        let phone = text_field(
            &mut errors,
            "phone",
            "Phone",
            &self.phone,
            false,
            MAX_PHONE_CHARS,
        );
        if errors.get("phone").is_none()
            && !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().x/".contains(c))
        {
            errors.add(
                "phone",
                "Use digits, spaces and + - ( ) . only, like +44 20 7946 0018.",
            );
        }
        let organisation = text_field(
            &mut errors,
            "organisation",
            "Organisation",
            &self.organisation,
            false,
            MAX_ORGANISATION_CHARS,
        );
        let job_title = text_field(
            &mut errors,
            "job_title",
            "Job title",
            &self.job_title,
            false,
            MAX_JOB_TITLE_CHARS,
        );
        if errors.is_empty() {
            Ok(ValidCustomer {
                first_name,
                last_name,
                email,
                phone,
                organisation,
                job_title,
            })
        } else {
            Err(errors)
        }
    }
}

fn text_field(
    errors: &mut FieldErrors,
    field: &'static str,
    label: &str,
    raw: &str,
    required: bool,
    max_chars: usize,
) -> String {
    let value = raw.trim().to_owned();
    if required && value.is_empty() {
        errors.add(field, format!("{label} is required."));
    } else if value.chars().count() > max_chars {
        errors.add(
            field,
            format!("{label} can be at most {max_chars} characters."),
        );
    } else if value.chars().any(char::is_control) {
        errors.add(field, format!("{label} cannot contain control characters."));
    }
    value
}

/// One `@`, something before it, a dotted domain after it, no spaces. Deliverability is the
/// mail server's business; this catches typing mistakes.
fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace())
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
