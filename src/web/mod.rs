//! The HTTP side: thin handlers that parse requests into domain types, call the domain, and
//! return templates (askama_web makes them responders). Nothing here decides what a deletion
//! takes with it. Every route of the app is listed in [`configure`].

pub mod arrivals;
pub mod assets;
pub mod auth;
pub mod customers;
pub mod deletions;
pub mod error;
pub mod failures;
pub mod filters;
pub mod flash_cookie;
pub mod health;
pub mod input_check;
pub mod layout;
pub mod local_address;
pub mod login;
pub mod login_flood;
pub mod login_guard;
pub mod retention;
pub mod selection;
pub mod session;
pub mod session_turns;

use std::sync::LazyLock;

use actix_web::body::BoxBody;
use actix_web::dev::ResourceDef;
use actix_web::guard::{self, GuardContext};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::db::{DbConn, DbPool, WriteTurns};
pub use error::AppError;
pub use layout::Layout;
pub use session::{Flash, FlashKind, TypedSession};

/// Every route of the application. For the handlers order does not matter: the customer id
/// routes refuse the paths of the other customer screens (see [`not_a_screen`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    use web::{get, post, resource};
    cfg.service(resource("/").route(get().to(|| async { see_other("/people/customers") })))
        .service(resource("/healthz").route(get().to(health::healthz)))
        .service(resource("/static/{file}").route(get().to(assets::asset)))
        .service(resource("/favicon.ico").route(get().to(assets::favicon)))
        // Sign-in and sign-out.
        .service(
            resource("/login")
                .route(get().to(login::login_form))
                .route(post().to(login::login)),
        )
        .service(resource("/logout").route(post().to(login::logout)))
        // People › Customers.
        .service(resource("/people/customers").route(get().to(customers::list::list)))
        .service(
            resource(NEW_CUSTOMER)
                .route(get().to(customers::form::new_form))
                .route(post().to(customers::form::create)),
        )
        // The selection and bulk deletion (administrators).
        .service(resource(SELECTION).route(post().to(selection::ticks::update)))
        .service(
            resource(BULK_DELETE)
                .route(get().to(selection::bulk::confirm))
                .route(post().to(selection::bulk::submit)),
        )
        // The deletion history and a bulk deletion's progress (administrators).
        .service(resource(DELETIONS).route(get().to(deletions::history)))
        .service(resource(DELETION).route(get().to(deletions::progress)))
        .service(
            resource(STOP_DELETION)
                .route(get().to(deletions::confirm_stop))
                .route(post().to(deletions::stop)),
        )
        // Retention rules (administrators).
        .service(resource(RETENTION).route(get().to(retention::list)))
        .service(
            resource(RETENTION_NEW)
                .route(get().to(retention::form::new_form))
                .route(post().to(retention::form::create)),
        )
        .service(
            resource("/people/customers/retention/{rule}/edit")
                .route(get().to(retention::form::edit_form))
                .route(post().to(retention::form::update)),
        )
        .service(
            resource("/people/customers/retention/{rule}/activate")
                .route(get().to(retention::activate::confirm))
                .route(post().to(retention::activate::submit)),
        )
        .service(
            resource("/people/customers/retention/{rule}/deactivate")
                .route(post().to(retention::deactivate)),
        )
        // A customer's own screens last: their guard already keeps them off the paths above, and
        // being last also gives those paths their own pattern in the request metrics (actix
        // names a request by the first pattern that matches its path, guards aside).
        .service(
            resource("/people/customers/{id}")
                .guard(guard::fn_guard(not_a_screen))
                .route(get().to(customers::profile::profile)),
        )
        .service(
            resource("/people/customers/{id}/edit")
                .guard(guard::fn_guard(not_a_screen))
                .route(get().to(customers::form::edit_form))
                .route(post().to(customers::form::update)),
        )
        .service(
            resource("/people/customers/{id}/delete")
                .guard(guard::fn_guard(not_a_screen))
                .route(get().to(customers::delete::confirm_delete))
                .route(post().to(customers::delete::delete)),
        );
}

// The customer screens that are not a customer's; `/people/customers/{id}…` must never take
// their paths.
const NEW_CUSTOMER: &str = "/people/customers/new";
const SELECTION: &str = "/people/customers/selection";
const BULK_DELETE: &str = "/people/customers/selection/delete";
const DELETIONS: &str = "/people/customers/deletions";
const DELETION: &str = "/people/customers/deletions/{job}";
const STOP_DELETION: &str = "/people/customers/deletions/{job}/stop";
const RETENTION: &str = "/people/customers/retention";
const RETENTION_NEW: &str = "/people/customers/retention/new";

static SCREENS: LazyLock<Vec<ResourceDef>> = LazyLock::new(|| {
    [
        NEW_CUSTOMER,
        SELECTION,
        BULK_DELETE,
        DELETIONS,
        DELETION,
        STOP_DELETION,
        RETENTION,
        RETENTION_NEW,
    ]
    .into_iter()
    .map(ResourceDef::new)
    .collect()
});

/// Guard of the `{id}` routes: the path is not one of the other customer screens, so that
/// `/people/customers/deletions` is never read as a customer id, whatever the registration
/// order. Anything else (`abc`, `new/edit`) is the handler's to refuse with 400 or 404.
fn not_a_screen(ctx: &GuardContext<'_>) -> bool {
    let path = percent_encoding::percent_decode_str(ctx.head().uri.path()).decode_utf8_lossy();
    !SCREENS.iter().any(|screen| screen.is_match(&path))
}

/// Runs database work on the blocking thread pool, never on the async workers; its error
/// (Diesel's, or any that converts into an [`AppError`]) becomes the handler's.
pub async fn with_db<T, E, F>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<AppError> + Send + 'static,
{
    with_conn(pool, work).await?.map_err(Into::into)
}

/// Like [`with_db`], for work whose outcome the handler matches itself (a domain error with an
/// answer of its own, such as "changed since the confirmation").
pub async fn with_conn<T, F>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> T + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    web::block(move || -> Result<T, AppError> {
        let waiting = crate::telemetry::WaitingForConnection::start();
        let mut conn = pool.get()?;
        drop(waiting);
        Ok(work(&mut conn))
    })
    .await?
}

/// [`with_db`] for work that writes: on SQLite in this request's turn, on a writer's connection
/// (`db::WriteTurns`, the instance's `AppState::write_turns`), so that writers waiting for
/// SQLite's one lock never hold the connections pages read on.
pub async fn with_db_writing<T, E, F>(
    pool: &DbPool,
    turns: Option<WriteTurns>,
    work: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<AppError> + Send + 'static,
{
    with_conn_writing(pool, turns, work)
        .await?
        .map_err(Into::into)
}

/// [`with_conn`] for work that writes, as [`with_db_writing`].
pub async fn with_conn_writing<T, F>(
    pool: &DbPool,
    turns: Option<WriteTurns>,
    work: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> T + Send + 'static,
    T: Send + 'static,
{
    let Some(turns) = turns else {
        return with_conn(pool, work).await;
    };
    let turn = turns.take().await.map_err(|_| {
        AppError::Busy(
            "Other changes are being saved right now. Nothing was changed: try again in a \
             moment."
                .to_owned(),
        )
    })?;
    // The turn ends with the work, not with this future: a request dropped meanwhile (the
    // client gone) leaves its work running on the writer's connection.
    with_conn(turns.pool(), move |conn| {
        let _turn = turn;
        work(conn)
    })
    .await
}

/// 303 See Other: the browser follows a POST with a GET, so a reload never re-submits.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, local_address::ascii(location)))
        .finish()
}

/// The one place a page is rendered outside a handler's return value: for responses built where
/// no request is at hand (error pages). Handlers return their templates, or
/// `(template, status)`, and askama_web renders them.
pub fn rendered(template: &impl askama::Template, status: StatusCode) -> HttpResponse<BoxBody> {
    match template.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(error) => {
            tracing::error!(%error, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Internal Server Error")
        }
    }
}

/// Whether htmx made the request (and so wants a fragment, not a page).
pub fn is_htmx(request: &HttpRequest) -> bool {
    request.headers().contains_key("HX-Request")
}

/// A customer id from the path: digits only; one too large to exist is simply not found.
pub fn parse_customer_id(raw: &str) -> Result<i64, AppError> {
    parse_id(raw, "customer")
}

/// An id from the path (`what`: "customer", "deletion"): digits only; one too large to exist is
/// simply not found.
pub fn parse_id(raw: &str, what: &str) -> Result<i64, AppError> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::BadRequest(format!(
            "“{}” is not a {what} id: ids are whole numbers.",
            raw.chars().take(40).collect::<String>()
        )));
    }
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(AppError::not_found(format!(
            "There is no {what} with this id."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn read_as_customer_id(path: &str) -> bool {
        let request = TestRequest::with_uri(path).to_srv_request();
        not_a_screen(&request.guard_ctx())
    }

    #[test]
    fn literal_screens_are_never_customer_ids() {
        for path in [
            "/people/customers/new",
            "/people/customers/selection",
            "/people/customers/selection/delete",
            "/people/customers/deletions",
            "/people/customers/deletions/7",
            "/people/customers/deletions/7/stop",
            "/people/customers/deletions/edit",
            "/people/customers/%6Eew",
            "/people/customers/retention",
            "/people/customers/retention/new",
        ] {
            assert!(!read_as_customer_id(path), "{path}");
        }
        for path in [
            "/people/customers/42",
            "/people/customers/42/edit",
            "/people/customers/abc",
            "/people/customers/newer/delete",
            "/people/customers/new/edit",
            "/people/customers/selection/edit",
        ] {
            assert!(read_as_customer_id(path), "{path}");
        }
    }

    #[test]
    fn customer_ids() {
        assert_eq!(parse_customer_id("42").unwrap(), 42);
        assert!(matches!(
            parse_customer_id("abc"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_customer_id("-1"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_customer_id(""),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_customer_id("1234567890123456789012345"),
            Err(AppError::NotFound { .. })
        ));
        assert!(matches!(
            parse_customer_id("0"),
            Err(AppError::NotFound { .. })
        ));
    }
}
