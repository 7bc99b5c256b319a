//! Builds the HTTP server: middleware, routes and shared state. Used by `serve` and by the tests'
//! `spawn_app`, so both run exactly the same application.

use std::net::TcpListener;
use std::time::Instant;

use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_session::SessionMiddleware;
use actix_web::cookie::{time, Key, SameSite};
use actix_web::dev::{Server, Service};
use actix_web::http::header;
use actix_web::middleware::{from_fn, DefaultHeaders, ErrorHandlers};
use actix_web::{web, App, HttpServer};

use crate::customers::ListCaches;
use crate::db::DbPool;
use crate::jobs::{Worker, WorkerSettings};
use crate::passwords::PasswordChecker;
use crate::session_store::DbSessionStore;
use crate::web::error::{render_plain_errors, ErrorPage};
use crate::web::login_guard::LoginGuard;
pub use crate::web::login_guard::SignInSettings;
use crate::web::{self as routes, auth, AppError};

/// Largest form body accepted; a customer form is well under 4 KiB.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Settings of a running server.
#[derive(Clone)]
pub struct ServerSettings {
    /// Signs and encrypts the session cookie; 64 bytes or more.
    pub session_key: Key,
    /// Send cookies only over HTTPS.
    pub secure_cookies: bool,
    /// actix worker threads (0 = one per core).
    pub workers: usize,
    /// A session ends after this long without a request.
    pub session_idle: time::Duration,
    /// How this instance's background worker deletes bulk deletion jobs.
    pub worker: WorkerSettings,
    /// Limits on sign-in attempts: password checking threads and queue, per-address limit,
    /// trusted proxies.
    pub sign_in: SignInSettings,
}

impl ServerSettings {
    pub const DEFAULT_SESSION_IDLE_HOURS: i64 = 8;
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

pub fn run(
    listener: TcpListener,
    pool: DbPool,
    settings: ServerSettings,
) -> std::io::Result<Running> {
    let store = DbSessionStore::new(pool.clone());
    let worker = Worker::spawn(pool.clone(), settings.worker.clone());
    let pool = web::Data::new(pool);
    let caches = web::Data::new(ListCaches::default());
    // Shared by all HTTP workers: one set of password checking threads, one per-address limit.
    let checker = web::Data::new(PasswordChecker::start(settings.sign_in.checker));
    let guard = web::Data::new(LoginGuard::new(
        &settings.session_key,
        settings.secure_cookies,
        &settings.sign_in,
    ));
    let workers = settings.workers;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .app_data(caches.clone())
            .app_data(checker.clone())
            .app_data(guard.clone())
            .app_data(
                web::FormConfig::default()
                    .limit(MAX_FORM_BYTES)
                    .error_handler(|error, _| form_error(error).into()),
            )
            .app_data(web::PayloadConfig::default().limit(MAX_FORM_BYTES))
            // Listed innermost first: a request passes session → sign-in → CSRF → handler.
            .wrap(from_fn(auth::verify_csrf))
            .wrap(from_fn(auth::require_sign_in))
            .wrap(
                SessionMiddleware::builder(store.clone(), settings.session_key.clone())
                    .cookie_name("desk_session".into())
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_secure(settings.secure_cookies)
                    .cookie_content_security(CookieContentSecurity::Signed)
                    .session_lifecycle(
                        PersistentSession::default()
                            .session_ttl(settings.session_idle)
                            .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
                    )
                    .build(),
            )
            .wrap(ErrorHandlers::new().default_handler(render_plain_errors))
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::REFERRER_POLICY, "same-origin"))
                    .add((header::X_FRAME_OPTIONS, "DENY")),
            )
            .wrap_fn(|request, service| {
                // One log line per request: method, path (no query: it may hold a search for a
                // person's name), status and time taken.
                let started = Instant::now();
                crate::pacing::request_received();
                let method = request.method().clone();
                let path = request.path().to_owned();
                let response = service.call(request);
                async move {
                    let response = response.await?;
                    tracing::info!(
                        %method,
                        path,
                        status = response.status().as_u16(),
                        ms = started.elapsed().as_secs_f64() * 1000.0,
                        "request"
                    );
                    Ok(response)
                }
            })
            .route(
                "/",
                web::get().to(|| async { routes::see_other("/people/customers") }),
            )
            .route("/healthz", web::get().to(routes::health::healthz))
            .route("/static/{file}", web::get().to(routes::assets::asset))
            .configure(routes::login::routes)
            // Before the customer routes, so that "deletions" is not read as a customer id.
            .configure(routes::deletions::routes)
            .configure(routes::selection::routes)
            .configure(routes::customers::routes)
            .default_service(web::to(|| async {
                ErrorPage::for_status(actix_web::http::StatusCode::NOT_FOUND, None).response()
            }))
    })
    .listen(listener)?;
    let server = if workers > 0 {
        server.workers(workers)
    } else {
        server
    };
    Ok(Running {
        server: server.run(),
        worker,
    })
}

/// A started instance: the HTTP server (a future that ends when it has stopped) and the
/// deletion worker, which stops after its current batch when this handle is dropped.
pub struct Running {
    pub server: Server,
    pub worker: Worker,
}

fn form_error(error: actix_web::error::UrlencodedError) -> AppError {
    use actix_web::error::UrlencodedError;
    match error {
        UrlencodedError::Overflow { .. } => AppError::PayloadTooLarge,
        UrlencodedError::ContentType => {
            AppError::BadRequest("The form was not sent as a web form.".into())
        }
        other => AppError::BadRequest(format!("The form could not be read ({other}).")),
    }
}
