//! Deleting one customer: the confirmation (a `<dialog>` for htmx, a page without it) and the
//! deletion, refused with 409 and the new numbers when anything changed since.

use actix_web::http::StatusCode;
use actix_web::{web, Either, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::not_found;
use crate::db::DbPool;
use crate::deletion::{self, Actor, DeleteError, SinglePreview};
use crate::domain::deletion_counts::DeletionCounts;
use crate::domain::ids::CustomerId;
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::{
    is_htmx, parse_customer_id, see_other, with_conn, with_conn_writing, AppError, Flash, Layout,
    TypedSession,
};

#[derive(Template, WebTemplate)]
#[template(path = "customers/delete_page.html")]
pub struct DeletePageTemplate {
    csrf_token: String,
    layout: Layout,
    preview: SinglePreview,
    notice: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/delete_dialog.html")]
pub struct DeleteDialogTemplate {
    csrf_token: String,
    preview: SinglePreview,
    notice: Option<String>,
}

type Confirmation = Either<DeleteDialogTemplate, DeletePageTemplate>;

/// The same confirmation as a `<dialog>` fragment for htmx or as a full page without it.
fn confirmation(
    request: &HttpRequest,
    layout: Layout,
    preview: SinglePreview,
    notice: Option<String>,
) -> Confirmation {
    let csrf_token = layout.csrf_token.clone();
    if is_htmx(request) {
        Either::Left(DeleteDialogTemplate {
            csrf_token,
            preview,
            notice,
        })
    } else {
        Either::Right(DeletePageTemplate {
            csrf_token,
            layout,
            preview,
            notice,
        })
    }
}

pub async fn confirm_delete(
    _admin: Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    layout: Layout,
    id: web::Path<String>,
) -> Result<Confirmation, AppError> {
    let id = CustomerId(parse_customer_id(&id)?);
    let preview = match with_conn(&pool, move |conn| deletion::preview_single(conn, id)).await? {
        Ok(preview) => preview,
        Err(DeleteError::NotFound) => return Err(not_found()),
        Err(error) => return Err(AppError::Internal(error.into())),
    };
    Ok(confirmation(&request, layout, preview, None))
}

/// What the confirmation showed, sent back with the form so that nothing else is deleted.
#[derive(Debug, Deserialize)]
pub struct ConfirmedCounts {
    tickets: i64,
    tickets_in_trash: i64,
    chats: i64,
    notes: i64,
}

// Extractors, one per argument: what the handler needs from the request and the app.
#[allow(clippy::too_many_arguments)]
pub async fn delete(
    Admin(admin): Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: TypedSession,
    layout: Layout,
    id: web::Path<String>,
    confirmed: web::Form<ConfirmedCounts>,
) -> Result<Either<HttpResponse, (Confirmation, StatusCode)>, AppError> {
    let id = CustomerId(parse_customer_id(&id)?);
    let confirmed = DeletionCounts {
        customers: 1,
        tickets: confirmed.tickets,
        tickets_in_trash: confirmed.tickets_in_trash,
        chats: confirmed.chats,
        notes: confirmed.notes,
    };
    let actor = Actor::from(admin);
    let turns = state.write_turns.clone();
    let outcome = with_conn_writing(&pool, turns, move |conn| {
        deletion::delete_single(conn, &state, id, Some(confirmed), &actor)
    })
    .await?;
    match outcome {
        Ok(deleted) => {
            let name = deleted.customer.full();
            session.set_flash(
                Flash::success(format!(
                    "Deleted {name} with {}.",
                    deleted.counts.associated_data()
                ))
                .naming(name),
            );
            Ok(Either::Left(see_other("/people/customers")))
        }
        Err(DeleteError::NotFound) => Err(AppError::already_deleted()),
        Err(DeleteError::Changed(preview)) => {
            let notice = format!(
                "{}'s data changed since this confirmation was opened, so nothing was deleted. \
                 Check the new numbers below.",
                preview.customer.full()
            );
            let page = confirmation(&request, layout, preview, Some(notice));
            Ok(Either::Right((page, StatusCode::CONFLICT)))
        }
        Err(DeleteError::Database(error)) => Err(error.into()),
    }
}
