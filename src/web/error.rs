//! One error type for every handler, rendered as a page a person can read.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use askama_web::WebTemplate;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404, with what to tell the person and, when the page deserves one, a title of its own
    /// ("Already deleted" for a second delete of the same customer).
    #[error("not found: {message}")]
    NotFound {
        title: Option<&'static str>,
        message: String,
    },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// 503 with a message: this instance is doing as much of that kind of work as it will at
    /// once (not a fault, so logged at WARN, not ERROR).
    #[error("busy: {0}")]
    Busy(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound {
            title: None,
            message: message.into(),
        }
    }

    /// The customer existed and is gone: a second delete of the same customer.
    pub fn already_deleted() -> Self {
        Self::NotFound {
            title: Some("Already deleted"),
            message: "This customer no longer exists: they have already been deleted, together \
                      with their tickets, chats and notes. Nothing else was changed."
                .to_owned(),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    /// A locked, busy or full database, or a lost PostgreSQL connection, is worth retrying:
    /// 503; anything else is a 500.
    fn from(error: diesel::result::Error) -> Self {
        if super::failures::is_transient_db_error(&error) {
            Self::Unavailable(error.into())
        } else {
            Self::Internal(error.into())
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(error.into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("blocking task failed: {error}"))
    }
}

/// What a 503 asks the client to wait before trying again.
pub const RETRY_AFTER_SECONDS: u32 = 5;

#[derive(Template, WebTemplate, Clone)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: super::Layout,
    pub status: u16,
    pub title: String,
    pub message: String,
}

impl ErrorPage {
    pub fn for_status(status: StatusCode, message: Option<String>) -> Self {
        let (title, default_message) = match status.as_u16() {
            400 => (
                "That request could not be understood",
                "Something in the address or the form was not valid. Nothing was changed.",
            ),
            403 => (
                "You can't do that",
                "You don't have permission for this. Nothing was changed.",
            ),
            404 => (
                "Not found",
                "There is nothing at this address. It may have been deleted, or the link is wrong.",
            ),
            405 => (
                "That doesn't work here",
                "This address does not accept that kind of request. Nothing was changed.",
            ),
            413 => (
                "That was too much to send",
                "The form you sent was larger than this site accepts. Nothing was changed.",
            ),
            503 => (
                "Temporarily unavailable",
                "The database cannot be reached right now. Try again in a moment.",
            ),
            s if s >= 500 => (
                "Something went wrong on our side",
                "The problem has been logged. Nothing was changed; try again in a moment.",
            ),
            _ => (
                "That didn't work",
                "The request could not be completed. Nothing was changed.",
            ),
        };
        Self {
            layout: super::Layout::default(),
            status: status.as_u16(),
            title: title.to_owned(),
            message: message.unwrap_or_else(|| default_message.to_owned()),
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The page as a response built without a request (from an error): a 503 asks to retry.
    pub fn response(&self) -> HttpResponse {
        let status = self.status();
        let mut response = super::rendered(self, status);
        // Kept with the response, so that `failures::error_pages_signed_in` can render it again
        // with the signed-in header.
        response.extensions_mut().insert(self.clone());
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) | Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            // A database error wrapped on the way (a session that could not be read or
            // written, say) is classified like one met directly.
            Self::Internal(error) if super::failures::is_transient_chain(error) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            Self::NotFound { message, .. } => Some(message.clone()),
            Self::BadRequest(why) => Some(format!("{why} Nothing was changed.")),
            Self::Forbidden(why) => Some(why.clone()),
            Self::Busy(why) => {
                tracing::warn!(why = why.as_str(), "refused while busy");
                Some(why.clone())
            }
            Self::Unavailable(error) | Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                None
            }
            Self::PayloadTooLarge => None,
        };
        let mut page = ErrorPage::for_status(status, message);
        if let Self::NotFound {
            title: Some(title), ..
        } = self
        {
            page.title = (*title).to_owned();
        }
        page.response()
    }
}

/// Catch-all for error responses that did not come from [`AppError`] (an unknown method, a URL
/// actix could not route or parse): give them the same readable page.
pub fn render_plain_errors<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    // /healthz answers in plain text for load balancers and monitors, errors included.
    if is_html || response.request().path() == "/healthz" {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let (request, original) = response.into_parts();
    let page = ErrorPage::for_status(status, None).response();
    let mut new = page.map_body(|_, body| BoxBody::new(body));
    // Keep headers such as Allow on a 405.
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    new.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, new).map_into_right_body(),
    ))
}
