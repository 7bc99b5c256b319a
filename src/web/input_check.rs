//! Middleware: text that no field may hold is refused before anything reads it. Every query
//! string, and the body of every URL-encoded form, is percent-decoded here from the raw bytes;
//! invalid UTF-8 (which the usual decoders would silently turn into U+FFFD) and control
//! characters other than tab, CR and LF (NUL among them, which PostgreSQL cannot store) give the
//! readable 400 page, and nothing runs further: no session is loaded, no handler is called.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web;

use super::AppError;

/// Why a URL-encoded text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadText {
    InvalidUtf8,
    ControlCharacter,
}

impl BadText {
    fn explain(self, place: &str) -> String {
        match self {
            Self::InvalidUtf8 => format!("The {place} contains bytes that are not valid text."),
            Self::ControlCharacter => format!(
                "The {place} contains an invisible control character (such as NUL) that no field \
                 accepts."
            ),
        }
    }
}

/// Checks a URL-encoded text (`a=1&b=x+y%20z`): once decoded ('+' as space), it must be valid
/// UTF-8 without control characters other than tab, CR and LF.
pub fn check_urlencoded(raw: &[u8]) -> Result<(), BadText> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    let text = std::str::from_utf8(&decoded).map_err(|_| BadText::InvalidUtf8)?;
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        return Err(BadText::ControlCharacter);
    }
    Ok(())
}

fn is_urlencoded_form(request: &ServiceRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_urlencoded_type)
}

/// Whether a Content-Type is a URL-encoded form. Media types are case-insensitive, and actix's
/// form extractor reads `Application/X-WWW-Form-Urlencoded` as one: so must every check.
pub fn is_urlencoded_type(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|media| {
        media
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

fn refuse(request: ServiceRequest, why: String) -> ServiceResponse<BoxBody> {
    tracing::info!("request refused: malformed text in the query or form");
    request
        .error_response(AppError::BadRequest(why))
        .map_into_boxed_body()
}

/// The middleware; see the module documentation.
pub async fn reject_bad_text(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Err(bad) = check_urlencoded(request.query_string().as_bytes()) {
        return Ok(refuse(request, bad.explain("address")));
    }
    let has_body = !matches!(*request.method(), Method::GET | Method::HEAD);
    if has_body && is_urlencoded_form(&request) {
        // Read the form (within the body limit), check it, then put it back for what follows.
        let body = match request.extract::<web::Bytes>().await {
            Ok(body) => body,
            Err(error) => return Ok(request.error_response(error).map_into_boxed_body()),
        };
        if let Err(bad) = check_urlencoded(&body) {
            return Ok(refuse(request, bad.explain("form")));
        }
        let (_, mut payload) = actix_http::h1::Payload::create(true);
        payload.unread_data(body);
        request.set_payload(payload.into());
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_passes() {
        for ok in [
            "",
            "q=O%27Brien+%26+Sons%2C+50%25+%22off%22",
            "q=%C3%A9l%C3%A8ve&page=2",
            "note=line+one%0D%0Aline+two%09tabbed",
            "q=%",
            "q=%zz",
            "first_name=Zo%C3%AB&emoji=%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB",
        ] {
            assert_eq!(check_urlencoded(ok.as_bytes()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn bad_text_is_refused() {
        assert_eq!(check_urlencoded(b"q=%00"), Err(BadText::ControlCharacter));
        assert_eq!(
            check_urlencoded(b"return_to=%3F%01"),
            Err(BadText::ControlCharacter)
        );
        assert_eq!(check_urlencoded(b"a=%7F"), Err(BadText::ControlCharacter));
        assert_eq!(
            check_urlencoded(b"a=%C2%85"),
            Err(BadText::ControlCharacter)
        );
        assert_eq!(check_urlencoded(b"a=\x01"), Err(BadText::ControlCharacter));
        assert_eq!(check_urlencoded(b"a=%FF%FE"), Err(BadText::InvalidUtf8));
        assert_eq!(check_urlencoded(b"a=\xff"), Err(BadText::InvalidUtf8));
        assert_eq!(check_urlencoded(b"a=%C3"), Err(BadText::InvalidUtf8));
    }
}
