//! The add and edit form of a customer: what was typed, and whether it makes a valid customer.

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 40;
pub const MAX_ORGANISATION_CHARS: usize = 200;
pub const MAX_JOB_TITLE_CHARS: usize = 100;

/// A field of the form: declared once, for the validation and for the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    /// The HTML input type.
    pub input_type: &'static str,
    pub required: bool,
    pub max_chars: usize,
}

const fn field(
    name: &'static str,
    label: &'static str,
    input_type: &'static str,
    required: bool,
    max_chars: usize,
) -> FieldSpec {
    FieldSpec {
        name,
        label,
        input_type,
        required,
        max_chars,
    }
}

/// The form's fields, in order.
pub const FIELDS: [FieldSpec; 6] = [
    field("first_name", "First name", "text", true, MAX_NAME_CHARS),
    field("last_name", "Last name", "text", true, MAX_NAME_CHARS),
    field("email", "Email", "email", true, MAX_EMAIL_CHARS),
    field("phone", "Phone", "tel", false, MAX_PHONE_CHARS),
    field(
        "organisation",
        "Organisation",
        "text",
        false,
        MAX_ORGANISATION_CHARS,
    ),
    field("job_title", "Job title", "text", false, MAX_JOB_TITLE_CHARS),
];

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

/// A customer's editable fields, trimmed and checked. Its fields are private: only
/// [`CustomerForm::validate`] makes one, so holding one means the checks passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCustomer {
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    organisation: String,
    job_title: String,
}

impl ValidCustomer {
    pub fn first_name(&self) -> &str {
        &self.first_name
    }

    pub fn last_name(&self) -> &str {
        &self.last_name
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    pub fn phone(&self) -> &str {
        &self.phone
    }

    pub fn organisation(&self) -> &str {
        &self.organisation
    }

    pub fn job_title(&self) -> &str {
        &self.job_title
    }
}

/// One message per field that is wrong, in the order of [`FIELDS`].
pub type FieldErrors = super::field_errors::FieldErrors<CustomerFields>;

/// The customer form's order of fields: [`FIELDS`].
#[derive(Debug)]
pub struct CustomerFields;

impl super::field_errors::FieldOrder for CustomerFields {
    fn rank(field: &str) -> Option<usize> {
        FIELDS.iter().position(|spec| spec.name == field)
    }
}

impl CustomerForm {
    /// What was typed in a field of [`FIELDS`].
    pub fn value(&self, field: &str) -> &str {
        match field {
            "first_name" => &self.first_name,
            "last_name" => &self.last_name,
            "email" => &self.email,
            "phone" => &self.phone,
            "organisation" => &self.organisation,
            "job_title" => &self.job_title,
            _ => "",
        }
    }

    pub fn validate(&self) -> Result<ValidCustomer, FieldErrors> {
        let mut errors = FieldErrors::default();
        let [first_name, last_name, email, phone, organisation, job_title] = FIELDS.map(|spec| {
            text_field(
                &mut errors,
                spec.name,
                spec.label,
                self.value(spec.name),
                spec.required,
                spec.max_chars,
            )
        });
        if errors.get("email").is_none() && email.chars().any(is_invisible) {
            errors.add(
                "email",
                "Email cannot contain invisible characters (such as zero-width spaces): two \
                 addresses would look the same.",
            );
        }
        if errors.get("email").is_none() && !is_plausible_email(&email) {
            errors.add("email", "Enter an email address like name@example.com.");
        }
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
    // NFC: "é" typed as e + combining accent and as one character is the same text, stored
    // and compared the same way.
    let value: String = raw.trim().nfc().collect();
    if required && value.is_empty() {
        errors.add(field, format!("{label} is required."));
    } else if value.chars().count() > max_chars {
        errors.add(
            field,
            format!("{label} can be at most {max_chars} characters."),
        );
    } else if value.chars().any(char::is_control) {
        errors.add(field, format!("{label} cannot contain control characters."));
    } else if value.chars().any(is_bidi_control) {
        errors.add(
            field,
            format!(
                "{label} cannot contain text-direction control characters (invisible marks that \
                 change the order in which the text is shown)."
            ),
        );
    }
    value
}

/// Invisible characters that change the display order of text: embeddings and overrides
/// (U+202A–U+202E), isolates (U+2066–U+2069), and the LRM, RLM and ALM marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Unicode general category Cf (format characters, invisible): soft hyphen, zero-width space
/// and joiners, word joiner, BOM, bidi controls, tags and the rest of the category (Unicode 15).
/// A character that shows nothing, or nothing of its own, where an email is read: format
/// characters (Cf), Unicode's other default-ignorable code points (variation selectors, the
/// combining grapheme joiner, Hangul fillers, Mongolian selectors…), the blank Braille pattern,
/// and white space. Two emails differing only by these would look the same.
pub fn is_invisible(c: char) -> bool {
    is_format_char(c)
        || c.is_whitespace()
        || matches!(c,
            '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
            | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{E0000}'..='\u{E0FFF}')
}

pub fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
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
mod tests;
