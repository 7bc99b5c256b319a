//! The administrator's selection of customers (kept in the server-side session) and the bulk
//! deletion it leads to: tick and untick, the confirmation, and starting the deletion job.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::auth::Admin;
use super::{html, is_htmx, render, see_other, with_db, AppError, Flash, Layout};
use crate::customers;
use crate::db::DbPool;
use crate::deletion::Actor;
use crate::domain::deletion_counts::names_summary;
use crate::domain::deletion_counts::DeletionCounts;
use crate::domain::list_query::Search;
use crate::domain::selection::{Selection, SelectionSummary};
use crate::domain::{group_thousands, plural};
use crate::jobs::{self, BulkPreview, Confirmed, StartError};
use crate::state::AppState;
use crate::tokens::random_token;

const SELECTION_KEY: &str = "selection";
/// Rows a page can have (the largest page size): a longer list is not from our form.
const MAX_PAGE_ROWS: usize = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/people/customers/selection").route(web::post().to(update)))
        .service(
            web::resource("/people/customers/selection/delete")
                .route(web::get().to(confirm))
                .route(web::post().to(submit)),
        );
}

pub fn load(session: &Session) -> Selection {
    session
        .get::<Selection>(SELECTION_KEY)
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn store(session: &Session, selection: &Selection) -> Result<(), AppError> {
    session
        .insert(SELECTION_KEY, selection)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot store the selection: {e}")))
}

/// The counter, trash can and "Clear selection" above the list; swapped in place by htmx.
pub struct SelectionBar {
    pub headline: String,
    pub detail: Option<String>,
    pub empty: bool,
    pub count: i64,
    pub show_selected_href: String,
    pub error: Option<String>,
}

impl SelectionBar {
    pub fn new(summary: &SelectionSummary, error: Option<String>) -> Self {
        Self {
            headline: summary.headline(),
            detail: summary.detail(),
            empty: summary.selected == 0,
            count: summary.selected,
            show_selected_href: "/people/customers?selected=1".into(),
            error,
        }
    }
}

#[derive(Template)]
#[template(path = "customers/selection_bar.html")]
struct SelectionBarTemplate {
    bar: SelectionBar,
}

/// A local list address to go back to: only a query string of the list.
fn list_address(query: &str) -> String {
    match query.starts_with('?') {
        true => super::local_address::or_fallback(&format!("/people/customers{query}")),
        false => super::local_address::FALLBACK.to_owned(),
    }
}

/// The list form: the page's boxes, and which control was used.
struct SelectionForm {
    action: String,
    ticked: Vec<i64>,
    page: Vec<i64>,
    search: Search,
    return_to: String,
    goto: Option<String>,
}

impl SelectionForm {
    fn parse(pairs: &[(String, String)]) -> Result<Self, AppError> {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let page: Vec<i64> = get("page_ids")
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.trim().parse::<i64>())
            .collect::<Result<_, _>>()
            .map_err(|_| AppError::BadRequest("The list form's rows could not be read.".into()))?;
        if page.len() > MAX_PAGE_ROWS {
            return Err(AppError::BadRequest(
                "The list form has too many rows.".into(),
            ));
        }
        let ticked: Vec<i64> = pairs
            .iter()
            .filter(|(k, _)| k == "ids")
            .filter_map(|(_, v)| v.parse::<i64>().ok())
            .filter(|id| page.contains(id))
            .collect();
        Ok(Self {
            action: get("action").unwrap_or("save").to_owned(),
            ticked,
            page,
            search: Search::parse(get("q").unwrap_or("")),
            return_to: get("return_to").unwrap_or("?").to_owned(),
            goto: get("goto").map(str::to_owned),
        })
    }
}

/// POST from the list: saves the page's boxes, then applies the control that was used. Without
/// JavaScript every control (page links too) submits this form, so moving on never loses ticks.
async fn update(
    _admin: Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: Session,
    layout: Layout,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = SelectionForm::parse(&form)?;
    let mut selection = load(&session);
    // Whether each row of the page matches the "All" search decides how a tick is kept.
    let in_scope: Vec<i64> = match &selection.all {
        Some(all) => {
            let search = Search::parse(&all.search);
            let page = form.page.clone();
            with_db(&pool, move |conn| {
                customers::matching_among(conn, &page, &search)
            })
            .await??
        }
        None => Vec::new(),
    };
    let rows = |selected: &dyn Fn(i64) -> bool| -> Vec<(i64, bool, bool)> {
        form.page
            .iter()
            .map(|&id| (id, in_scope.contains(&id), selected(id)))
            .collect()
    };
    let changed = match form.action.as_str() {
        "page_all" => selection.set_rows(&rows(&|_| true)),
        "page_none" => selection.set_rows(&rows(&|_| false)),
        "all" => {
            selection.select_all_matching(form.search.as_str());
            Ok(())
        }
        "none" | "clear" => {
            selection.clear();
            Ok(())
        }
        // save, delete, goto: the page's boxes as they are.
        _ => selection.set_rows(&rows(&|id| form.ticked.contains(&id))),
    };
    let error = changed.err().map(|e| e.to_string());
    if error.is_none() {
        store(&session, &selection)?;
    }

    if form.action == "delete" && error.is_none() {
        if is_htmx(&request) {
            return bulk_confirmation(&request, &pool, layout, &selection, None, None).await;
        }
        return Ok(see_other("/people/customers/selection/delete"));
    }
    if is_htmx(&request) {
        if let Some(error) = error {
            // The boxes on the page no longer show the truth: reload with the message.
            Flash::error(error).set(&session);
            return Ok(HttpResponse::Ok()
                .insert_header(("HX-Refresh", "true"))
                .finish());
        }
        let summary = with_db(&pool, move |conn| {
            customers::summarize(conn, &selection, &state.caches)
        })
        .await??;
        let bar = SelectionBar::new(&summary, None);
        return Ok(html(render(&SelectionBarTemplate { bar })?));
    }
    if let Some(error) = error {
        Flash::error(error).set(&session);
    }
    // A page link of the form was the submit button: go there, with the boxes saved.
    let target = match &form.goto {
        Some(goto) => list_address(goto),
        None => list_address(&form.return_to),
    };
    Ok(see_other(&target))
}

#[derive(Template)]
#[template(path = "customers/bulk_delete_page.html")]
struct BulkPageTemplate {
    layout: Layout,
    confirm: BulkConfirmation,
}

#[derive(Template)]
#[template(path = "customers/bulk_delete_dialog.html")]
struct BulkDialogTemplate {
    confirm: BulkConfirmation,
}

/// Everything the bulk confirmation shows and sends back.
struct BulkConfirmation {
    csrf_token: String,
    title: String,
    associated: String,
    has_associated: bool,
    names: String,
    token: String,
    version: u64,
    /// Sent back with the form: exactly what was shown.
    confirmed: Confirmed,
    notice: Option<String>,
    error: Option<String>,
}

impl BulkConfirmation {
    fn new(
        layout: &Layout,
        preview: &BulkPreview,
        version: u64,
        notice: Option<String>,
        error: Option<String>,
    ) -> Self {
        Self {
            csrf_token: layout.csrf_token.clone(),
            title: format!(
                "Permanently delete {}?",
                plural(preview.confirmed.customers(), "customer", "customers")
            ),
            associated: preview.confirmed.counts.associated_data(),
            has_associated: preview.confirmed.counts.has_associated_data(),
            names: names_summary(&preview.names, preview.confirmed.customers()),
            token: random_token(16),
            version,
            confirmed: preview.confirmed.clone(),
            notice,
            error,
        }
    }
}

/// The confirmation for the current selection: a `<dialog>` for htmx, a page otherwise; an
/// empty selection sends the administrator back to the list.
async fn bulk_confirmation(
    request: &HttpRequest,
    pool: &web::Data<DbPool>,
    layout: Layout,
    selection: &Selection,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let for_db = selection.clone();
    let preview = with_db(pool, move |conn| jobs::preview(conn, &for_db)).await??;
    let status = if notice.is_some() {
        actix_web::http::StatusCode::CONFLICT
    } else if error.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    if preview.confirmed.customers() == 0 {
        let text = "Nothing is selected: tick the customers to delete first.";
        if is_htmx(request) {
            let dialog = format!(
                "<dialog class=\"confirm\" data-modal aria-labelledby=\"nothing-title\">\
                 <h1 id=\"nothing-title\">Nothing to delete</h1><p>{text}</p>\
                 <div class=\"confirm-actions\"><a class=\"button\" href=\"/people/customers\" \
                 data-close-dialog autofocus>OK</a></div></dialog>"
            );
            return Ok(html(dialog));
        }
        return Ok(HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(render(&super::error::ErrorPage {
                layout,
                status: status.as_u16(),
                title: "Nothing to delete".into(),
                message: text.into(),
            })?));
    }
    let confirm = BulkConfirmation::new(&layout, &preview, selection.version, notice, error);
    let body = if is_htmx(request) {
        render(&BulkDialogTemplate { confirm })?
    } else {
        render(&BulkPageTemplate { layout, confirm })?
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

async fn confirm(
    _admin: Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    session: Session,
    layout: Layout,
) -> Result<HttpResponse, AppError> {
    let selection = load(&session);
    bulk_confirmation(&request, &pool, layout, &selection, None, None).await
}

/// What the confirmation showed, sent back with it.
#[derive(Debug, Deserialize)]
struct BulkSubmit {
    token: String,
    version: u64,
    count: i64,
    digest: String,
    tickets: i64,
    tickets_in_trash: i64,
    chats: i64,
    notes: i64,
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
        })
    }
}

async fn submit(
    Admin(admin): Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: Session,
    layout: Layout,
    form: web::Form<BulkSubmit>,
) -> Result<HttpResponse, AppError> {
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
    .await??;
    if let Some(job) = replayed {
        return Ok(see_other(&format!("/people/customers/deletions/{job}")));
    }
    // Another tab of this confirmation was submitted first: its customers are gone.
    if let Some(job) = same_set {
        return already_deleted(layout, Some(job));
    }
    let selection = load(&session);
    if form.understood.as_deref() != Some("yes") {
        let error = "Tick “I understand the consequences” to delete. Nothing was deleted.".into();
        return bulk_confirmation(&request, &pool, layout, &selection, None, Some(error)).await;
    }
    let changed_notice = "The selection changed since this confirmation was opened (customers \
        were added, edited or deleted, or the selection itself changed), so nothing was deleted. \
        Check the new numbers below.";
    if selection.version != form.version {
        let notice = Some(changed_notice.to_owned());
        return bulk_confirmation(&request, &pool, layout, &selection, notice, None).await;
    }
    let actor = Actor {
        id: admin.id,
        name: admin.name,
    };
    let for_db = selection.clone();
    let token = form.token;
    let confirmed_for_db = confirmed.clone();
    let started = with_db(&pool, move |conn| {
        jobs::start(conn, &state, &for_db, &confirmed_for_db, &token, &actor)
    })
    .await?;
    match started {
        Ok(job) => {
            let mut cleared = selection;
            cleared.clear();
            store(&session, &cleared)?;
            tracing::info!(
                job,
                customers = confirmed.customers(),
                "bulk deletion started"
            );
            Ok(see_other(&format!("/people/customers/deletions/{job}")))
        }
        Err(StartError::AlreadyDeleted { by_job }) => {
            let mut cleared = selection;
            cleared.clear();
            store(&session, &cleared)?;
            already_deleted(layout, by_job)
        }
        Err(StartError::Changed | StartError::Empty) => {
            let notice = Some(changed_notice.to_owned());
            bulk_confirmation(&request, &pool, layout, &selection, notice, None).await
        }
        Err(StartError::Database(error)) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "customers/already_deleted.html")]
struct AlreadyDeletedTemplate {
    layout: Layout,
    by_job: Option<i64>,
}

/// Every confirmed customer is gone or being deleted (a second tab of a confirmation already
/// submitted): no job, no record; the page links the deletion that took them.
fn already_deleted(layout: Layout, by_job: Option<i64>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Conflict()
        .content_type("text/html; charset=utf-8")
        .body(render(&AlreadyDeletedTemplate { layout, by_job })?))
}

/// "1,234 customers" for the menu's "All (N)".
pub fn all_label(count: i64) -> String {
    format!("All ({})", group_thousands(count))
}
