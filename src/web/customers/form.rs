//! Adding and editing a customer: one form, sent back filled in with 422 when refused.

use actix_web::http::StatusCode;
use actix_web::{web, Either, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::not_found;
use crate::customers::{self, Customer, CustomerSaveError as SaveError};
use crate::db::DbPool;
use crate::domain::customer_form::{self, CustomerForm, FieldErrors, ValidCustomer};
use crate::domain::full_name;
use crate::state::AppState;
use crate::web::{
    parse_customer_id, see_other, with_conn_writing, with_db, with_db_writing, AppError, Flash,
    Layout, TypedSession,
};

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

#[derive(Template, WebTemplate)]
#[template(path = "customers/form.html")]
pub struct FormTemplate {
    layout: Layout,
    heading: String,
    action: String,
    cancel_href: String,
    delete_id: Option<i64>,
    fields: Vec<FieldView>,
    errors: FieldErrors,
}

/// A redirect after saving, or the form again with what to correct.
type Saved = Either<HttpResponse, (FormTemplate, StatusCode)>;

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
fn refused(template: FormTemplate) -> Saved {
    Either::Right((template, StatusCode::UNPROCESSABLE_ENTITY))
}

/// Back to the profile, with the message naming the customer.
fn saved(session: &TypedSession, id: i64, verb: &str, valid: &ValidCustomer) -> Saved {
    let name = full_name(valid.first_name(), valid.last_name());
    session.set_flash(Flash::success(format!("{verb} {name}.")).naming(name));
    Either::Left(see_other(&format!("/people/customers/{id}")))
}

pub async fn new_form(layout: Layout) -> FormTemplate {
    new_form_template(layout, &CustomerForm::default(), FieldErrors::default())
}

pub async fn create(
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: TypedSession,
    layout: Layout,
    form: web::Form<CustomerForm>,
) -> Result<Saved, AppError> {
    let form = form.into_inner();
    let valid = match form.validate() {
        Ok(valid) => valid,
        Err(errors) => return Ok(refused(new_form_template(layout, &form, errors))),
    };
    let for_db = valid.clone();
    let turns = state.write_turns.clone();
    match with_conn_writing(&pool, turns, move |conn| {
        customers::create(conn, &state, &for_db)
    })
    .await?
    {
        Ok(id) => Ok(saved(&session, id, "Added", &valid)),
        Err(SaveError::Invalid(errors)) => Ok(refused(new_form_template(layout, &form, errors))),
        Err(SaveError::NotFound) => Err(not_found()),
        Err(SaveError::Database(error)) => Err(error.into()),
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

pub async fn edit_form(
    pool: web::Data<DbPool>,
    layout: Layout,
    id: web::Path<String>,
) -> Result<FormTemplate, AppError> {
    let id = parse_customer_id(&id)?;
    let customer = with_db(&pool, move |conn| customers::find(conn, id))
        .await?
        .ok_or_else(not_found)?;
    Ok(edit_form_template(
        layout,
        id,
        customer.full_name(),
        &form_from(&customer),
        FieldErrors::default(),
    ))
}

pub async fn update(
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: TypedSession,
    layout: Layout,
    id: web::Path<String>,
    form: web::Form<CustomerForm>,
) -> Result<Saved, AppError> {
    let id = parse_customer_id(&id)?;
    let form = form.into_inner();
    let valid = form.validate();
    let checked = valid.clone();
    let turns = state.write_turns.clone();
    // Load the stored name for the heading, and save when the form is valid.
    let (stored, saved_now) = with_db_writing(&pool, turns, move |conn| {
        let stored = customers::find(conn, id)?;
        let saved = match (&stored, &checked) {
            (Some(_), Ok(valid)) => Some(customers::update(conn, &state, id, valid)),
            _ => None,
        };
        Ok::<_, AppError>((stored, saved))
    })
    .await?;
    let stored = stored.ok_or_else(not_found)?;
    let errors = match (valid, saved_now) {
        (Err(errors), _) => errors,
        (Ok(valid), Some(Ok(()))) => return Ok(saved(&session, id, "Saved", &valid)),
        (Ok(_), Some(Err(SaveError::Invalid(errors)))) => errors,
        (Ok(_), Some(Err(SaveError::NotFound)) | None) => return Err(not_found()),
        (Ok(_), Some(Err(SaveError::Database(error)))) => return Err(error.into()),
    };
    Ok(refused(edit_form_template(
        layout,
        id,
        stored.full_name(),
        &form,
        errors,
    )))
}
