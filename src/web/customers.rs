//! People › Customers: list, profile, add, edit and single deletion.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::auth::Admin;
use super::selection::{self, SelectionBar};
use super::{
    html, is_htmx, parse_customer_id, render, see_other, with_db, AppError, Flash, Layout,
};
use crate::customers::{self, Customer, CustomerSaveError};
use crate::db::DbPool;
use crate::deletion::{self, Actor, DeleteError, SinglePreview};
use crate::domain::customer_form::{self, CustomerForm, FieldErrors};
use crate::domain::deletion_counts::DeletionCounts;
use crate::domain::group_thousands;
use crate::domain::list_query::{ListQuery, PageLink, SortOrder, PAGE_SIZES};
use crate::domain::selection::PageState;
use crate::jobs::Job;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/people/customers").route(web::get().to(list)))
        .service(
            web::resource("/people/customers/new")
                .route(web::get().to(new_form))
                .route(web::post().to(create)),
        )
        .service(web::resource("/people/customers/{id}").route(web::get().to(profile)))
        .service(
            web::resource("/people/customers/{id}/edit")
                .route(web::get().to(edit_form))
                .route(web::post().to(update)),
        )
        .service(
            web::resource("/people/customers/{id}/delete")
                .route(web::get().to(confirm_delete))
                .route(web::post().to(delete)),
        );
}

fn day(at: &NaiveDateTime) -> String {
    at.format("%-d %b %Y").to_string()
}

fn day_and_time(at: &NaiveDateTime) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

// ---------------------------------------------------------------------------------------------
// List

struct RowView {
    id: i64,
    selected: bool,
    name: String,
    email: String,
    organisation: String,
    tickets: i64,
    created: String,
    created_iso: String,
}

struct PageLinkView {
    number: Option<i64>,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "customers/list.html")]
struct ListTemplate {
    layout: Layout,
    is_admin: bool,
    bar: SelectionBar,
    page_state: PageState,
    all_label: String,
    return_to: String,
    page_ids: String,
    jobs: Vec<Job>,
    query: ListQuery,
    sort_options: [SortOrder; 4],
    page_sizes: [i64; 3],
    range_text: String,
    rows: Vec<RowView>,
    pages: Vec<PageLinkView>,
    previous_href: Option<String>,
    next_href: Option<String>,
}

impl ListTemplate {
    fn n(&self, value: &i64) -> String {
        group_thousands(*value)
    }
}

async fn list(
    request: HttpRequest,
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: Session,
    layout: Layout,
) -> Result<HttpResponse, AppError> {
    // Decoded leniently: invalid UTF-8 becomes U+FFFD and bad values fall back to defaults.
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    let mut query = ListQuery::from_pairs(&pairs);
    let is_admin = layout.is_admin();
    // Only administrators select; for agents "Show selected" means nothing.
    query.only_selected &= is_admin;
    let selection = is_admin.then(|| selection::load(&session));
    let for_db = query.clone();
    let screen = with_db(&pool, move |conn| {
        customers::list_screen(conn, &for_db, selection.as_ref(), &state.caches)
    })
    .await??;
    let customers::ListScreen {
        page,
        selected_on_page,
        summary,
        all_count,
        jobs,
    } = screen;
    let p = page.pagination;
    let range_text = if p.total == 0 {
        "No customers".to_owned()
    } else {
        format!(
            "{}–{} of {}",
            group_thousands(p.first_row()),
            group_thousands(p.last_row()),
            group_thousands(p.total)
        )
    };
    let pages = p
        .links()
        .into_iter()
        .map(|link| match link {
            PageLink::Page(n) => PageLinkView {
                number: Some(n),
                href: query.href_for_page(n),
                current: n == p.page,
            },
            PageLink::Gap => PageLinkView {
                number: None,
                href: String::new(),
                current: false,
            },
        })
        .collect();
    let rows: Vec<RowView> = page
        .rows
        .into_iter()
        .map(|row| RowView {
            id: row.customer.id,
            selected: selected_on_page.contains(&row.customer.id),
            name: row.customer.full_name(),
            created: day(&row.customer.created_at),
            created_iso: row
                .customer
                .created_at
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
            email: row.customer.email,
            organisation: row.customer.organisation,
            tickets: row.tickets,
        })
        .collect();
    let page_ids = rows
        .iter()
        .map(|r| r.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let template = ListTemplate {
        is_admin,
        bar: SelectionBar::new(&summary, None),
        page_state: PageState::of(rows.iter().map(|r| r.selected)),
        all_label: selection::all_label(all_count),
        return_to: query.href_for_page(p.page),
        page_ids,
        jobs,
        layout,
        sort_options: SortOrder::ALL,
        page_sizes: PAGE_SIZES,
        range_text,
        rows,
        pages,
        previous_href: p.previous().map(|n| query.href_for_page(n)),
        next_href: p.next().map(|n| query.href_for_page(n)),
        query,
    };
    Ok(html(render(&template)?))
}

// ---------------------------------------------------------------------------------------------
// Profile

struct TicketView {
    subject: String,
    status: String,
    status_label: &'static str,
    in_trash: bool,
    messages: i64,
    created: String,
}

struct ChatView {
    started: String,
    messages: i64,
}

struct NoteView {
    body: String,
    created: String,
}

#[derive(Template)]
#[template(path = "customers/profile.html")]
struct ProfileTemplate {
    layout: Layout,
    customer: Customer,
    created: String,
    updated: String,
    ticket_count: i64,
    tickets_in_trash: i64,
    tickets: Vec<TicketView>,
    chat_count: i64,
    chats: Vec<ChatView>,
    note_count: i64,
    notes: Vec<NoteView>,
}

fn status_label(status: &str) -> &'static str {
    match status {
        "active" => "Active",
        "waiting" => "Waiting",
        "on_hold" => "On hold",
        "solved" => "Solved",
        "closed" => "Closed",
        _ => "Unknown",
    }
}

async fn profile(
    pool: web::Data<DbPool>,
    layout: Layout,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_customer_id(&id)?;
    let profile = with_db(&pool, move |conn| customers::profile(conn, id))
        .await??
        .ok_or_else(not_found)?;
    let template = ProfileTemplate {
        layout,
        created: day_and_time(&profile.customer.created_at),
        updated: day_and_time(&profile.customer.updated_at),
        customer: profile.customer,
        ticket_count: profile.ticket_count,
        tickets_in_trash: profile.tickets_in_trash,
        tickets: profile
            .tickets
            .into_iter()
            .map(|t| TicketView {
                status_label: status_label(&t.status),
                status: t.status,
                subject: t.subject,
                in_trash: t.in_trash,
                messages: t.messages,
                created: day(&t.created_at),
            })
            .collect(),
        chat_count: profile.chat_count,
        chats: profile
            .chats
            .into_iter()
            .map(|c| ChatView {
                started: day_and_time(&c.started_at),
                messages: c.messages,
            })
            .collect(),
        note_count: profile.note_count,
        notes: profile
            .notes
            .into_iter()
            .map(|n| NoteView {
                body: n.body,
                created: day_and_time(&n.created_at),
            })
            .collect(),
    };
    Ok(html(render(&template)?))
}

fn not_found() -> AppError {
    AppError::NotFound("There is no customer with this id. It may have been deleted.".into())
}

// ---------------------------------------------------------------------------------------------
// Add and edit

struct FieldView {
    name: &'static str,
    label: &'static str,
    input_type: &'static str,
    autocomplete: &'static str,
    required: bool,
    max_chars: usize,
    value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "customers/form.html")]
struct FormTemplate {
    layout: Layout,
    heading: String,
    action: String,
    cancel_href: String,
    delete_id: Option<i64>,
    fields: Vec<FieldView>,
    errors: FieldErrors,
}

fn field_views(form: &CustomerForm, errors: &FieldErrors) -> Vec<FieldView> {
    customer_form::FIELDS
        .iter()
        .map(|spec| FieldView {
            name: spec.name,
            label: spec.label,
            input_type: spec.input_type,
            autocomplete: "off",
            required: spec.required,
            max_chars: spec.max_chars,
            value: form.value(spec.name).to_owned(),
            error: errors.get(spec.name).map(str::to_owned),
        })
        .collect()
}

fn new_form_template(layout: Layout, form: &CustomerForm, errors: FieldErrors) -> FormTemplate {
    FormTemplate {
        layout,
        heading: "Add customer".into(),
        action: "/people/customers/new".into(),
        cancel_href: "/people/customers".into(),
        delete_id: None,
        fields: field_views(form, &errors),
        errors,
    }
}

fn edit_form_template(
    layout: Layout,
    id: i64,
    name: String,
    form: &CustomerForm,
    errors: FieldErrors,
) -> FormTemplate {
    let is_admin = layout.is_admin();
    FormTemplate {
        layout,
        heading: format!("Edit {name}"),
        action: format!("/people/customers/{id}/edit"),
        cancel_href: format!("/people/customers/{id}"),
        // Agents never see a deletion control.
        delete_id: is_admin.then_some(id),
        fields: field_views(form, &errors),
        errors,
    }
}

/// A form with errors comes back filled in, with 422 so that tools see it was refused.
fn refused(template: &FormTemplate) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::UnprocessableEntity()
        .content_type("text/html; charset=utf-8")
        .body(render(template)?))
}

async fn new_form(layout: Layout) -> Result<HttpResponse, AppError> {
    let template = new_form_template(layout, &CustomerForm::default(), FieldErrors::default());
    Ok(html(render(&template)?))
}

async fn create(
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: Session,
    layout: Layout,
    form: web::Form<CustomerForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let valid = match form.validate() {
        Ok(valid) => valid,
        Err(errors) => return refused(&new_form_template(layout, &form, errors)),
    };
    let name = format!("{} {}", valid.first_name, valid.last_name);
    let saved = with_db(&pool, move |conn| customers::create(conn, &state, &valid)).await?;
    match saved {
        Ok(id) => {
            Flash::success(format!("Added {name}."))
                .naming(name)
                .set(&session);
            Ok(see_other(&format!("/people/customers/{id}")))
        }
        Err(CustomerSaveError::Invalid(errors)) => {
            refused(&new_form_template(layout, &form, errors))
        }
        Err(CustomerSaveError::NotFound) => Err(not_found()),
        Err(CustomerSaveError::Database(error)) => Err(error.into()),
    }
}

fn form_from(customer: &Customer) -> CustomerForm {
    CustomerForm {
        first_name: customer.first_name.clone(),
        last_name: customer.last_name.clone(),
        email: customer.email.clone(),
        phone: customer.phone.clone(),
        organisation: customer.organisation.clone(),
        job_title: customer.job_title.clone(),
    }
}

async fn edit_form(
    pool: web::Data<DbPool>,
    layout: Layout,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_customer_id(&id)?;
    let customer = with_db(&pool, move |conn| customers::find(conn, id))
        .await??
        .ok_or_else(not_found)?;
    let template = edit_form_template(
        layout,
        id,
        customer.full_name(),
        &form_from(&customer),
        FieldErrors::default(),
    );
    Ok(html(render(&template)?))
}

async fn update(
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: Session,
    layout: Layout,
    id: web::Path<String>,
    form: web::Form<CustomerForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_customer_id(&id)?;
    let form = form.into_inner();
    let valid = form.validate();
    let checked = valid.clone();
    // Load the stored name for the heading, and save when the form is valid.
    let (stored, saved) = with_db(&pool, move |conn| {
        let stored = customers::find(conn, id)?;
        let saved = match (&stored, &checked) {
            (Some(_), Ok(valid)) => Some(customers::update(conn, &state, id, valid)),
            _ => None,
        };
        Ok::<_, AppError>((stored, saved))
    })
    .await??;
    let stored = stored.ok_or_else(not_found)?;
    let errors = match (valid, saved) {
        (Err(errors), _) => errors,
        (Ok(valid), Some(Ok(()))) => {
            let name = format!("{} {}", valid.first_name, valid.last_name);
            Flash::success(format!("Saved {name}."))
                .naming(name)
                .set(&session);
            return Ok(see_other(&format!("/people/customers/{id}")));
        }
        (Ok(_), Some(Err(CustomerSaveError::Invalid(errors)))) => errors,
        (Ok(_), Some(Err(CustomerSaveError::NotFound)) | None) => return Err(not_found()),
        (Ok(_), Some(Err(CustomerSaveError::Database(error)))) => return Err(error.into()),
    };
    refused(&edit_form_template(
        layout,
        id,
        stored.full_name(),
        &form,
        errors,
    ))
}

// ---------------------------------------------------------------------------------------------
// Single deletion

#[derive(Template)]
#[template(path = "customers/delete_page.html")]
struct DeletePageTemplate {
    csrf_token: String,
    layout: Layout,
    preview: SinglePreview,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "customers/delete_dialog.html")]
struct DeleteDialogTemplate {
    csrf_token: String,
    preview: SinglePreview,
    notice: Option<String>,
}

/// The same confirmation as a `<dialog>` fragment for htmx or as a full page without it.
fn confirmation(
    request: &HttpRequest,
    layout: Layout,
    preview: SinglePreview,
    notice: Option<String>,
) -> Result<String, AppError> {
    let csrf_token = layout.csrf_token.clone();
    if is_htmx(request) {
        render(&DeleteDialogTemplate {
            csrf_token,
            preview,
            notice,
        })
    } else {
        render(&DeletePageTemplate {
            csrf_token,
            layout,
            preview,
            notice,
        })
    }
}

async fn confirm_delete(
    _admin: Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    layout: Layout,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_customer_id(&id)?;
    let preview = match with_db(&pool, move |conn| deletion::preview_single(conn, id)).await? {
        Ok(preview) => preview,
        Err(DeleteError::NotFound) => return Err(not_found()),
        Err(error) => return Err(AppError::Internal(error.into())),
    };
    Ok(html(confirmation(&request, layout, preview, None)?))
}

/// What the confirmation showed, sent back with the form so that nothing else is deleted.
#[derive(Debug, Deserialize)]
struct ConfirmedCounts {
    tickets: i64,
    tickets_in_trash: i64,
    chats: i64,
    notes: i64,
}

// Extractors, one per argument: what the handler needs from the request and the app.
#[allow(clippy::too_many_arguments)]
async fn delete(
    Admin(admin): Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: Session,
    layout: Layout,
    id: web::Path<String>,
    confirmed: web::Form<ConfirmedCounts>,
) -> Result<HttpResponse, AppError> {
    let id = parse_customer_id(&id)?;
    let confirmed = DeletionCounts {
        customers: 1,
        tickets: confirmed.tickets,
        tickets_in_trash: confirmed.tickets_in_trash,
        chats: confirmed.chats,
        notes: confirmed.notes,
    };
    let actor = Actor {
        id: admin.id,
        name: admin.name,
    };
    let outcome = with_db(&pool, move |conn| {
        deletion::delete_single(conn, &state, id, Some(confirmed), &actor)
    })
    .await?;
    match outcome {
        Ok(deleted) => {
            Flash::success(format!(
                "Deleted {} with {}.",
                deleted.customer.full(),
                deleted.counts.associated_data()
            ))
            .naming(deleted.customer.full())
            .set(&session);
            Ok(see_other("/people/customers"))
        }
        Err(DeleteError::NotFound) => Err(AppError::AlreadyDeleted),
        Err(DeleteError::Changed(preview)) => {
            let notice = format!(
                "{}'s data changed since this confirmation was opened, so nothing was deleted. \
                 Check the new numbers below.",
                preview.customer.full()
            );
            Ok(HttpResponse::Conflict()
                .content_type("text/html; charset=utf-8")
                .body(confirmation(&request, layout, preview, Some(notice))?))
        }
        Err(DeleteError::Database(error)) => Err(error.into()),
    }
}
