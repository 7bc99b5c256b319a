//! The deletion history (administrators only).

use actix_web::{web, Either, HttpRequest};
use askama::Template;
use askama_web::WebTemplate;

use super::auth::Admin;
use super::filters;
use super::{is_htmx, with_db, AppError, Layout};
use crate::db::DbPool;
use crate::deletion::{self, HistoryEntry};
use crate::domain::{first_value, group_thousands, plural};
use crate::jobs::{self, Job, JobId};

pub const HISTORY_PAGE_SIZE: i64 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "customers/job.html")]
pub struct JobPageTemplate {
    layout: Layout,
    job: Job,
    total_text: String,
    progress_text: String,
    summary: String,
    already_gone: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/job_progress.html")]
pub struct JobFragmentTemplate {
    job: Job,
    total_text: String,
    progress_text: String,
    summary: String,
    already_gone: String,
}

/// A bulk deletion's progress: polled by htmx, refreshed by a meta tag without JavaScript, and
/// its summary once done.
pub async fn progress(
    _admin: Admin,
    request: HttpRequest,
    layout: Layout,
    pool: web::Data<DbPool>,
    job: web::Path<String>,
) -> Result<Either<JobFragmentTemplate, JobPageTemplate>, AppError> {
    let id = JobId(super::parse_id(&job, "deletion")?);
    let (job, added) = with_db(&pool, move |conn| {
        Ok::<_, AppError>((
            jobs::find(conn, id)?,
            jobs::added_after_confirmation(conn, id)?,
        ))
    })
    .await?;
    let job = job.ok_or_else(|| AppError::not_found("There is no such deletion."))?;
    let total_text = plural(job.total, "customer", "customers");
    let progress_text = format!(
        "{} of {} deleted{}",
        group_thousands(job.processed),
        total_text,
        pace(&job, chrono::Utc::now().naive_utc())
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
        return Ok(Either::Left(JobFragmentTemplate {
            job,
            total_text,
            progress_text,
            summary,
            already_gone,
        }));
    }
    Ok(Either::Right(JobPageTemplate {
        layout,
        job,
        total_text,
        progress_text,
        summary,
        already_gone,
    }))
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

/// " (24%) · 350 a second · about 11 s left" while a deletion runs (nothing before it starts).
fn pace(job: &Job, now: chrono::NaiveDateTime) -> String {
    if job.is_done() || job.total <= 0 || job.processed <= 0 {
        return String::new();
    }
    let percent = job.processed * 100 / job.total;
    let seconds = (now - job.created_at).num_milliseconds().max(1) as f64 / 1000.0;
    let rate = job.processed as f64 / seconds;
    let left = ((job.total - job.processed) as f64 / rate).ceil() as i64;
    let left = match left {
        s if s < 60 => format!("{s} s"),
        s => format!("{} min", (s + 59) / 60),
    };
    format!(
        " ({percent}%) · {} a second · about {left} left",
        group_thousands(rate.round() as i64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobStatus;

    #[test]
    fn pace_reads_well() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let job = Job {
            id: JobId(1),
            created_at: start,
            actor_name: String::new(),
            status: JobStatus::Running,
            total: 10_000,
            processed: 2_500,
            customers: 0,
            tickets: 0,
            chats: 0,
            notes: 0,
            finished_at: None,
        };
        let later = start + chrono::Duration::seconds(5);
        assert_eq!(pace(&job, later), " (25%) · 500 a second · about 15 s left");
        let queued = Job {
            processed: 0,
            ..job
        };
        assert_eq!(pace(&queued, later), "");
    }
}
