//! The deletion history, a bulk deletion's progress, and stopping it (administrators only).

use actix_web::{web, Either, HttpRequest};
use askama::Template;
use askama_web::WebTemplate;

use actix_web::HttpResponse;

use super::auth::Admin;
use super::filters;
use super::{is_htmx, see_other, with_db, AppError, Flash, Layout, TypedSession};
use crate::db::DbPool;
use crate::deletion::{self, HistoryEntry};
use crate::domain::deletion_counts::DeletionCounts;
use crate::domain::{first_value, plural};
use crate::jobs::{self, Job, JobId};

pub const HISTORY_PAGE_SIZE: i64 = 50;

/// What a job's page shows, in full or as the polled fragment.
pub struct JobView {
    job: Job,
    progress_text: String,
    /// How it ended, once finished.
    summary: String,
    kept: Option<String>,
    already_gone: Option<String>,
    stopping: Option<String>,
    /// The backup written before it started (`serve --backup-before-bulk`).
    backup_file: Option<String>,
}

impl JobView {
    fn new(job: Job, added: &DeletionCounts, backup_file: Option<String>) -> Self {
        Self {
            backup_file,
            progress_text: job.progress_text(),
            summary: job.summary(added),
            kept: job.kept_text(),
            already_gone: job.already_gone_text(),
            stopping: job.stopping_text(),
            job,
        }
    }

    fn total_text(&self) -> String {
        plural(self.job.total, "customer", "customers")
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/job.html")]
pub struct JobPageTemplate {
    layout: Layout,
    view: JobView,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/job_progress.html")]
pub struct JobFragmentTemplate {
    view: JobView,
}

async fn job_view(pool: &web::Data<DbPool>, raw_id: &str) -> Result<JobView, AppError> {
    let id = JobId(super::parse_id(raw_id, "deletion")?);
    let (job, added, backup_file) = with_db(pool, move |conn| {
        Ok::<_, AppError>((
            jobs::find(conn, id)?,
            jobs::added_after_confirmation(conn, id)?,
            crate::backup::before_bulk::file_of(conn, id)?,
        ))
    })
    .await?;
    let job = job.ok_or_else(|| AppError::not_found("There is no such deletion."))?;
    Ok(JobView::new(job, &added, backup_file))
}

/// A bulk deletion's progress: polled by htmx, refreshed by a meta tag without JavaScript, and
/// its summary once done or stopped.
pub async fn progress(
    _admin: Admin,
    request: HttpRequest,
    layout: Layout,
    pool: web::Data<DbPool>,
    job: web::Path<String>,
) -> Result<Either<JobFragmentTemplate, JobPageTemplate>, AppError> {
    let view = job_view(&pool, &job).await?;
    if is_htmx(&request) {
        return Ok(Either::Left(JobFragmentTemplate { view }));
    }
    Ok(Either::Right(JobPageTemplate { layout, view }))
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/stop_page.html")]
pub struct StopPageTemplate {
    layout: Layout,
    view: JobView,
    csrf_token: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/stop_dialog.html")]
pub struct StopDialogTemplate {
    view: JobView,
    csrf_token: String,
}

/// "Stop this deletion?": a `<dialog>` for htmx, a page otherwise.
pub async fn confirm_stop(
    _admin: Admin,
    request: HttpRequest,
    layout: Layout,
    pool: web::Data<DbPool>,
    job: web::Path<String>,
) -> Result<Either<StopDialogTemplate, StopPageTemplate>, AppError> {
    let view = job_view(&pool, &job).await?;
    let csrf_token = layout.csrf_token.clone();
    if is_htmx(&request) {
        return Ok(Either::Left(StopDialogTemplate { view, csrf_token }));
    }
    Ok(Either::Right(StopPageTemplate {
        layout,
        view,
        csrf_token,
    }))
}

/// Stops the job after its current batch (or at once, when no worker holds it), and goes back to
/// its page, which says what happened. Stopping again, or a finished job, changes nothing.
pub async fn stop(
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    session: TypedSession,
    job: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = JobId(super::parse_id(&job, "deletion")?);
    let by = admin.name.clone();
    let outcome = with_db(&pool, move |conn| jobs::request_stop(conn, id, &by))
        .await?
        .ok_or_else(|| AppError::not_found("There is no such deletion."))?;
    tracing::info!(job = id.0, ?outcome, "deletion stop requested");
    session.set_flash(Flash::success(outcome.message()));
    Ok(see_other(&format!("/people/customers/deletions/{id}")))
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/deletions.html")]
pub struct HistoryTemplate {
    layout: Layout,
    entries: Vec<HistoryEntry>,
    range_text: String,
    previous_href: Option<String>,
    next_href: Option<String>,
}

pub async fn history(
    _admin: Admin,
    request: HttpRequest,
    layout: Layout,
    pool: web::Data<DbPool>,
) -> Result<HistoryTemplate, AppError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    let page = first_value(&pairs, "page")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(1);
    let (pagination, entries) = with_db(&pool, move |conn| {
        deletion::history(conn, page, HISTORY_PAGE_SIZE)
    })
    .await?;
    Ok(HistoryTemplate {
        layout,
        entries,
        range_text: pagination.range_text("No deletions yet"),
        previous_href: pagination.previous().map(|p| format!("?page={p}")),
        next_href: pagination.next().map(|p| format!("?page={p}")),
    })
}
