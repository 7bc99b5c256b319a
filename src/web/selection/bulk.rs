//! Bulk deletion of the selection: the confirmation (a `<dialog>` for htmx, a page without it)
//! and its submit, which starts the deletion job or shows the confirmation again with 409 (new
//! numbers) or 422 (the consequences were not acknowledged).

use actix_web::http::StatusCode;
use actix_web::{web, Either, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::{list_href, list_of};
use crate::db::DbPool;
use crate::deletion::Actor;
use crate::deletion::{self, BulkPreview};
use crate::domain::deletion_counts::{names_summary, DeletionCounts};
use crate::domain::selection::Selection;
use crate::domain::{first_value, group_thousands, plural};
use crate::jobs::{self, Confirmed, JobId, StartError, Started, WorkerSettings};
use crate::state::AppState;
use crate::tokens::random_token;
use crate::web::auth::Admin;
use crate::web::customers::list::show_selected_href;
use crate::web::error::ErrorPage;
use crate::web::{
    is_htmx, see_other, with_conn_writing, with_db, AppError, Flash, Layout, TypedSession,
};

#[derive(Template, WebTemplate)]
#[template(path = "customers/bulk_delete_page.html")]
pub struct BulkPageTemplate {
    layout: Layout,
    confirm: BulkConfirmation,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/bulk_delete_dialog.html")]
pub struct BulkDialogTemplate {
    confirm: BulkConfirmation,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/nothing_to_delete_dialog.html")]
pub struct NothingDialogTemplate {
    text: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/already_deleted.html")]
pub struct AlreadyDeletedTemplate {
    layout: Layout,
    by_job: Option<JobId>,
}

/// The confirmation (or "nothing to delete"), as a dialog or a page, with its status.
pub type BulkPage = (
    Either<Either<NothingDialogTemplate, ErrorPage>, Either<BulkDialogTemplate, BulkPageTemplate>>,
    StatusCode,
);

/// Why the confirmation is shown again, if it is: this decides its message and its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkNotice {
    /// First shown: 200.
    None,
    /// The selection or its customers changed since it was shown: 409 with the new numbers.
    Changed,
    /// Submitted without "I understand the consequences": 422.
    NotUnderstood,
}

impl BulkNotice {
    fn status(self) -> StatusCode {
        match self {
            Self::None => StatusCode::OK,
            Self::Changed => StatusCode::CONFLICT,
            Self::NotUnderstood => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn notice(self) -> Option<String> {
        (self == Self::Changed).then(|| {
            "The selection changed since this confirmation was opened (customers were added, \
             edited or deleted, or the selection itself changed), so nothing was deleted. Check \
             the new numbers below."
                .to_owned()
        })
    }

    fn error(self) -> Option<String> {
        (self == Self::NotUnderstood).then(|| {
            "Tick “I understand the consequences” to delete. Nothing was deleted.".to_owned()
        })
    }
}

/// Everything the bulk confirmation shows and sends back.
pub struct BulkConfirmation {
    csrf_token: String,
    title: String,
    /// "Skip customers with open tickets" is ticked: the numbers are those of the reduced set.
    skip_open_tickets: bool,
    /// "12,000 selected; 340 have open tickets and will be kept", when skipping.
    kept_text: Option<String>,
    /// Every selected customer is kept: there is nothing to delete.
    all_kept: bool,
    associated: String,
    has_associated: bool,
    names: String,
    token: String,
    version: u64,
    /// Sent back with the form: exactly what was shown.
    confirmed: Confirmed,
    notice: Option<String>,
    error: Option<String>,
    /// Cancel: the list the selection came from (with "All", its search and filters).
    list_href: String,
    /// Review selection: that list, showing only the selection.
    review_href: String,
}

impl BulkConfirmation {
    fn new(
        layout: &Layout,
        preview: &BulkPreview,
        selection: &Selection,
        why: BulkNotice,
        list_href: String,
    ) -> Self {
        let kept = preview.confirmed.kept;
        let list = list_of(selection);
        let version = selection.version;
        Self {
            list_href,
            review_href: show_selected_href(&list),
            csrf_token: layout.csrf_token.clone(),
            title: format!(
                "Permanently delete {}?",
                plural(preview.confirmed.customers(), "customer", "customers")
            ),
            skip_open_tickets: preview.skip_open_tickets,
            kept_text: preview.skip_open_tickets.then(|| {
                format!(
                    "{} selected; {} open tickets and will be kept.",
                    group_thousands(preview.selected()),
                    match kept {
                        1 => "1 has".to_owned(),
                        kept => format!("{} have", group_thousands(kept)),
                    }
                )
            }),
            all_kept: preview.confirmed.customers() == 0,
            associated: preview.confirmed.counts.associated_data(),
            has_associated: preview.confirmed.counts.has_associated_data(),
            names: names_summary(&preview.names, preview.confirmed.customers()),
            token: random_token(16),
            version,
            confirmed: preview.confirmed.clone(),
            notice: why.notice(),
            error: why.error(),
        }
    }
}

/// The confirmation for the current selection (less the customers with open tickets, when
/// `skip_open_tickets`): a `<dialog>` for htmx, a page otherwise; an empty selection sends the
/// administrator back to the list.
pub async fn bulk_confirmation(
    request: &HttpRequest,
    pool: &web::Data<DbPool>,
    layout: Layout,
    selection: &Selection,
    skip_open_tickets: bool,
    why: BulkNotice,
) -> Result<BulkPage, AppError> {
    let for_db = selection.clone();
    let preview = with_db(pool, move |conn| {
        deletion::preview_bulk(conn, &for_db, skip_open_tickets)
    })
    .await?;
    let status = why.status();
    if preview.selected() == 0 {
        let text = "Nothing is selected: tick the customers to delete first.";
        if is_htmx(request) {
            let dialog = NothingDialogTemplate { text };
            return Ok((Either::Left(Either::Left(dialog)), StatusCode::OK));
        }
        let page = ErrorPage {
            layout,
            status: status.as_u16(),
            title: "Nothing to delete".into(),
            message: text.into(),
        };
        return Ok((Either::Left(Either::Right(page)), status));
    }
    let back = list_href(&TypedSession::of(request), selection);
    let confirm = BulkConfirmation::new(&layout, &preview, selection, why, back);
    let shown = if is_htmx(request) {
        Either::Left(BulkDialogTemplate { confirm })
    } else {
        Either::Right(BulkPageTemplate { layout, confirm })
    };
    Ok((Either::Right(shown), status))
}

/// `GET …/selection/delete[?skip_open_tickets=yes]`: the confirmation, counted with or without
/// the customers who have open tickets (the checkbox recounts through this, in place with htmx).
pub async fn confirm(
    _admin: Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    session: TypedSession,
    layout: Layout,
) -> Result<BulkPage, AppError> {
    let selection = session.selection();
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    let skip = is_yes(first_value(&pairs, "skip_open_tickets"));
    bulk_confirmation(&request, &pool, layout, &selection, skip, BulkNotice::None).await
}

fn is_yes(value: Option<&str>) -> bool {
    value == Some("yes")
}

/// What the confirmation showed, sent back with it.
#[derive(Debug, Deserialize)]
pub struct BulkSubmit {
    token: String,
    version: u64,
    count: i64,
    digest: String,
    tickets: i64,
    tickets_in_trash: i64,
    chats: i64,
    notes: i64,
    /// Customers kept for an open ticket, as shown (absent: none).
    #[serde(default)]
    kept: i64,
    /// Whether the numbers shown skip customers with open tickets ("yes" or "no").
    #[serde(default)]
    counted_skip_open_tickets: Option<String>,
    /// The checkbox "Skip customers with open tickets", as the administrator left it.
    #[serde(default)]
    skip_open_tickets: Option<String>,
    /// The "Recount" button (without JavaScript): show the numbers again, delete nothing.
    #[serde(default)]
    recount: Option<String>,
    #[serde(default)]
    understood: Option<String>,
}

impl BulkSubmit {
    fn confirmed(&self) -> Option<Confirmed> {
        Some(Confirmed {
            digest: Confirmed::parse_digest(&self.digest)?,
            counts: DeletionCounts {
                customers: self.count,
                tickets: self.tickets,
                tickets_in_trash: self.tickets_in_trash,
                chats: self.chats,
                notes: self.notes,
            },
            kept: self.kept,
        })
    }
}

/// Where a submit goes: the list with what was deleted (a deletion of one batch, finished in
/// the request), the job's page, the confirmation again, or "already deleted" (409).
type Submitted = Either<HttpResponse, Either<BulkPage, (AlreadyDeletedTemplate, StatusCode)>>;

fn job_page(job: JobId) -> Submitted {
    Either::Left(see_other(&format!("/people/customers/deletions/{job}")))
}

fn shown_again(page: BulkPage) -> Submitted {
    Either::Right(Either::Left(page))
}

/// The selection is done with once its deletion started (or was found already done).
fn clear(session: &TypedSession, selection: &Selection) -> Result<(), AppError> {
    let mut cleared = selection.clone();
    cleared.clear();
    session.set_selection(&cleared)
}

/// Every confirmed customer is gone or being deleted (a second tab of a confirmation already
/// submitted): no job, no record; the page links the deletion that took them.
fn already_deleted(layout: Layout, by_job: Option<JobId>) -> Submitted {
    let page = AlreadyDeletedTemplate { layout, by_job };
    Either::Right(Either::Right((page, StatusCode::CONFLICT)))
}

// Extractors, one per argument: what the handler needs from the request and the app.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    Admin(admin): Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    worker: web::Data<WorkerSettings>,
    session: TypedSession,
    layout: Layout,
    form: web::Form<BulkSubmit>,
) -> Result<Submitted, AppError> {
    let form = form.into_inner();
    let well_formed_token = !form.token.is_empty()
        && form.token.len() <= 64
        && form.token.bytes().all(|b| b.is_ascii_hexdigit());
    let Some(confirmed) = form.confirmed().filter(|_| well_formed_token) else {
        return Err(AppError::BadRequest(
            "The confirmation could not be read.".into(),
        ));
    };
    // A replayed or double-submitted confirmation: show the job it started.
    let token = form.token.clone();
    let digest = confirmed.digest.clone();
    let (replayed, same_set) = with_db(&pool, move |conn| {
        Ok::<_, AppError>((
            jobs::job_for_token(conn, &token)?,
            jobs::job_for_digest(conn, &digest, None)?,
        ))
    })
    .await?;
    if let Some(job) = replayed {
        return Ok(job_page(job));
    }
    // Another tab of this confirmation was submitted first: its customers are gone.
    if let Some(job) = same_set {
        return Ok(already_deleted(layout, Some(job)));
    }
    let selection = session.selection();
    let skip = is_yes(form.skip_open_tickets.as_deref());
    let again = |layout, why| bulk_confirmation(&request, &pool, layout, &selection, skip, why);
    // "Recount", or the checkbox changed since the numbers were counted: the numbers shown were
    // not those of what would be deleted, so show the right ones and delete nothing.
    if form.recount.is_some() || skip != is_yes(form.counted_skip_open_tickets.as_deref()) {
        return Ok(shown_again(again(layout, BulkNotice::None).await?));
    }
    if form.understood.as_deref() != Some("yes") {
        return Ok(shown_again(again(layout, BulkNotice::NotUnderstood).await?));
    }
    if selection.version != form.version {
        return Ok(shown_again(again(layout, BulkNotice::Changed).await?));
    }
    let actor = Actor::from(admin);
    let for_db = selection.clone();
    let token = form.token;
    let confirmed_for_db = confirmed.clone();
    // A deletion of one batch is worked here, on the blocking pool; a larger one is queued.
    let turns = state.write_turns.clone();
    let started = with_conn_writing(&pool, turns, move |conn| {
        jobs::start_and_finish(
            conn,
            &state,
            &worker,
            &for_db,
            skip,
            &confirmed_for_db,
            &token,
            &actor,
        )
    })
    .await?;
    match started {
        Ok(Started::Finished { job, summary }) => {
            clear(&session, &selection)?;
            tracing::info!(
                job = job.0,
                customers = confirmed.customers(),
                "bulk deletion finished in the request"
            );
            session.set_flash(
                Flash::success(summary)
                    .linking(format!("/people/customers/deletions/{job}"), "View details"),
            );
            Ok(Either::Left(see_other(&list_href(&session, &selection))))
        }
        Ok(Started::InBackground(job)) => {
            clear(&session, &selection)?;
            tracing::info!(
                job = job.0,
                customers = confirmed.customers(),
                "bulk deletion started"
            );
            Ok(job_page(job))
        }
        Err(StartError::AlreadyDeleted { by_job }) => {
            clear(&session, &selection)?;
            Ok(already_deleted(layout, by_job))
        }
        Err(StartError::Changed | StartError::Empty) => {
            Ok(shown_again(again(layout, BulkNotice::Changed).await?))
        }
        Err(StartError::Database(error)) => Err(error.into()),
    }
}
