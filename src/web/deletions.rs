//! The deletion history (administrators only).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::auth::Admin;
use super::{html, is_htmx, render, with_db, AppError, Layout};
use crate::db::DbPool;
use crate::deletion::{self, HistoryEntry};
use crate::domain::{group_thousands, plural};
use crate::jobs::{self, Job};

pub const HISTORY_PAGE_SIZE: i64 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/people/customers/deletions").route(web::get().to(history)))
        .service(web::resource("/people/customers/deletions/{job}").route(web::get().to(progress)));
}

#[derive(Template)]
#[template(path = "customers/job.html")]
struct JobPageTemplate {
    layout: Layout,
    job: Job,
    total_text: String,
    progress_text: String,
    summary: String,
    already_gone: String,
}

#[derive(Template)]
#[template(path = "customers/job_progress.html")]
struct JobFragmentTemplate {
    job: Job,
    total_text: String,
    progress_text: String,
    summary: String,
    already_gone: String,
}

/// A bulk deletion's progress: polled by htmx, refreshed by a meta tag without JavaScript, and
/// its summary once done.
async fn progress(
    _admin: Admin,
    request: HttpRequest,
    layout: Layout,
    pool: web::Data<DbPool>,
    job: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = super::parse_id(&job, "deletion")?;
    let (job, added) = with_db(&pool, move |conn| {
        Ok::<_, AppError>((
            jobs::find(conn, id)?,
            jobs::added_after_confirmation(conn, id)?,
        ))
    })
    .await??;
    let job = job.ok_or_else(|| AppError::NotFound("There is no such deletion.".into()))?;
    let total_text = plural(job.total, "customer", "customers");
    let progress_text = format!(
        "{} of {} deleted",
        group_thousands(job.processed),
        total_text
    );
    let including = added
        .listed()
        .map(|added| format!(", including {added} created after the confirmation"))
        .unwrap_or_default();
    let summary = format!(
        "Deleted {} with {} in {:.1} s{including}.",
        plural(job.customers, "customer", "customers"),
        job.counts().associated_data(),
        job.seconds_taken().unwrap_or_default()
    );
    let already_gone = format!(
        "{} of the selected customers had already been deleted (by someone else) and were skipped.",
        group_thousands(job.already_gone())
    );
    if is_htmx(&request) {
        return Ok(html(render(&JobFragmentTemplate {
            job,
            total_text,
            progress_text,
            summary,
            already_gone,
        })?));
    }
    Ok(html(render(&JobPageTemplate {
        layout,
        job,
        total_text,
        progress_text,
        summary,
        already_gone,
    })?))
}

#[derive(Template)]
#[template(path = "customers/deletions.html")]
struct HistoryTemplate {
    layout: Layout,
    entries: Vec<HistoryEntry>,
    range_text: String,
    previous_href: Option<String>,
    next_href: Option<String>,
}

impl HistoryTemplate {
    fn when(&self, entry: &HistoryEntry) -> String {
        entry.created_at.format("%-d %b %Y, %H:%M UTC").to_string()
    }

    fn how(&self, entry: &HistoryEntry) -> &'static str {
        entry.kind.label()
    }

    fn who<'a>(&self, entry: &'a HistoryEntry) -> &'a str {
        if entry.actor_name.is_empty() {
            "(unknown)"
        } else {
            &entry.actor_name
        }
    }

    fn n(&self, value: &i64) -> String {
        group_thousands(*value)
    }
}

async fn history(
    _admin: Admin,
    request: HttpRequest,
    layout: Layout,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    let page = pairs
        .iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .unwrap_or(1);
    let (pagination, entries) = with_db(&pool, move |conn| {
        deletion::history(conn, page, HISTORY_PAGE_SIZE)
    })
    .await??;
    let range_text = if pagination.total == 0 {
        "No deletions yet".to_owned()
    } else {
        format!(
            "{}–{} of {}",
            group_thousands(pagination.first_row()),
            group_thousands(pagination.last_row()),
            group_thousands(pagination.total)
        )
    };
    let template = HistoryTemplate {
        layout,
        entries,
        range_text,
        previous_href: pagination.previous().map(|p| format!("?page={p}")),
        next_href: pagination.next().map(|p| format!("?page={p}")),
    };
    Ok(html(render(&template)?))
}
