//! Builds the HTTP server: middleware, routes and shared state. Used by `serve` and by the tests'
//! `spawn_app`, so both run exactly the same application.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_session::SessionMiddleware;
use actix_web::cookie::{time, Key, SameSite};
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{from_fn, DefaultHeaders, ErrorHandlers};
use actix_web::{web, App, HttpServer};

use crate::db::{DbPool, WriteTurns};
use crate::jobs::{Worker, WorkerSettings};
use crate::maintenance::{Health, Maintenance, MaintenanceSettings, Purger};
use crate::passwords::PasswordChecker;
use crate::retention::{RetentionSettings, Scheduler};
use crate::session_store::DbSessionStore;
use crate::state::AppState;
use crate::web::error::{render_plain_errors, ErrorPage};
use crate::web::login_guard::LoginGuard;
pub use crate::web::login_guard::SignInSettings;
use crate::web::{self as routes, auth, failures, input_check, AppError};
use tracing_actix_web::TracingLogger;

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
    /// The health probe and, on SQLite, the WAL bound.
    pub maintenance: MaintenanceSettings,
    /// How often retention rules run, and whether this instance runs them.
    pub retention: RetentionSettings,
    /// On SQLite, the writers' line and connections (`WriteTurns::connect`); `None` on
    /// PostgreSQL.
    pub write_turns: Option<WriteTurns>,
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
    // The caches, the worker's wake-up signal, the count of arrivals and the writers' line:
    // one per instance.
    let state = web::Data::new(AppState::serving(settings.write_turns.clone()));
    let store = DbSessionStore::new(pool.clone(), settings.write_turns.clone());
    let worker = Worker::spawn(
        pool.clone(),
        settings.worker.clone(),
        state.clone().into_inner(),
    );
    let health = web::Data::new(Health::new(settings.maintenance.stale_after));
    let maintenance = Maintenance::spawn(
        pool.clone(),
        settings.maintenance.clone(),
        health.clone().into_inner(),
        state.clone().into_inner(),
    );
    let purger = Purger::spawn(pool.clone());
    let retention = Scheduler::spawn(
        pool.clone(),
        settings.retention.clone(),
        state.clone().into_inner(),
    );
    let pool = web::Data::new(pool);
    let shared = state.clone();
    // Shared by all HTTP workers: one set of password checking threads, one per-address limit.
    let checker = web::Data::new(PasswordChecker::start(settings.sign_in.checker));
    let guard = web::Data::new(LoginGuard::new(
        &settings.session_key,
        settings.secure_cookies,
        &settings.sign_in,
    ));
    let retention_settings = web::Data::new(settings.retention.clone());
    // The bulk submit works a deletion of one batch itself, as this worker would.
    let worker_settings = web::Data::new(settings.worker.clone());
    let turns = web::Data::new(routes::session_turns::SessionTurns::default());
    let flash_cookies = web::Data::new(routes::flash_cookie::FlashCookies {
        key: settings.session_key.clone(),
        secure: settings.secure_cookies,
    });
    let workers = settings.workers;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .app_data(shared.clone())
            .app_data(checker.clone())
            .app_data(guard.clone())
            .app_data(retention_settings.clone())
            .app_data(worker_settings.clone())
            .app_data(turns.clone())
            .app_data(flash_cookies.clone())
            .app_data(
                web::FormConfig::default()
                    .limit(MAX_FORM_BYTES)
                    .error_handler(|error, _| form_error(error).into()),
            )
            .app_data(web::PayloadConfig::default().limit(MAX_FORM_BYTES))
            // Listed innermost first. A request passes, outermost first: request id and span →
            // request metrics → request log → security and cache headers → readable error pages
            // for error responses → error pages for errors → refusal of malformed text → no cookies
            // for static files and /healthz → session turns → session → sign-in → error pages
            // with the signed-in header → CSRF → HEAD as GET → routing and the handler.
            .wrap(from_fn(failures::head_as_get))
            .wrap(from_fn(auth::verify_csrf))
            .wrap(from_fn(failures::error_pages_signed_in))
            .wrap(from_fn(auth::require_sign_in))
            .wrap(
                SessionMiddleware::builder(store.clone(), settings.session_key.clone())
                    .cookie_name(routes::session_turns::SESSION_COOKIE.into())
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
            // The one-time message, in its own cookie (not a session write).
            .wrap(from_fn(routes::flash_cookie::carry))
            // A session's POSTs take turns, so that none saves over another's change.
            .wrap(from_fn(routes::session_turns::one_at_a_time))
            // Outside the turns: they parse the cookies, and actix keeps what was parsed.
            .wrap(from_fn(auth::skip_session_for_assets))
            .wrap(from_fn(input_check::reject_bad_text))
            .wrap(from_fn(failures::error_pages))
            .wrap(ErrorHandlers::new().default_handler(render_plain_errors))
            // Floods of sign-ins from one address stop here, before anything costly.
            .wrap(from_fn(routes::login_flood::refuse_over_limit))
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::REFERRER_POLICY, "same-origin"))
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    // Pages and fragments show customer data: never kept by a browser or proxy.
                    // Static assets set their own Cache-Control, which DefaultHeaders keeps.
                    .add((header::CACHE_CONTROL, "no-store")),
            )
            .wrap(from_fn(failures::log_request))
            .wrap(from_fn(crate::telemetry::record_request))
            .wrap(from_fn(routes::arrivals::count_arrivals))
            .wrap(TracingLogger::<failures::RequestSpan>::new())
            .app_data(health.clone())
            .configure(routes::configure)
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
        maintenance,
        purger,
        retention,
        state: state.into_inner(),
    })
}

/// A started instance: the HTTP server (a future that ends when it has stopped), the
/// deletion worker, which stops after its current batch when this handle is dropped, the
/// maintenance thread (health probe, WAL checkpoints) and the purger of expired sessions and
/// throttling windows, and the retention scheduler, which stop when their handles are dropped,
/// and the instance's state
/// (for writes made outside its requests: they must reach its caches and its worker).
pub struct Running {
    pub server: Server,
    pub worker: Worker,
    pub maintenance: Maintenance,
    pub purger: Purger,
    pub retention: Scheduler,
    pub state: Arc<AppState>,
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
