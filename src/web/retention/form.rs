//! Adding and editing a retention rule: one form, sent back filled in with 422 and messages
//! when refused (a bad number of months, an empty or taken name, an organisation nobody has).

use actix_web::http::StatusCode;
use actix_web::{web, Either, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::{no_such_rule, parse_rule_id, RULES};
use crate::db::DbPool;
use crate::domain::retention::{RuleErrors, RuleForm, RuleState, MAX_RULE_NAME_CHARS};
use crate::retention::{self, Edited, RuleSaveError};
use crate::web::auth::Admin;
use crate::web::{see_other, with_conn, with_db, AppError, Flash, Layout, TypedSession};

#[derive(Template, WebTemplate)]
#[template(path = "retention/form.html")]
pub struct RuleFormTemplate {
    layout: Layout,
    heading: String,
    action: String,
    form: RuleForm,
    errors: RuleErrors,
    /// Editing an active or paused rule: changing its criteria deactivates it.
    was_active: bool,
    max_name_chars: usize,
}

impl RuleFormTemplate {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

type Saved = Either<HttpResponse, (RuleFormTemplate, StatusCode)>;

fn new_template(layout: Layout, form: RuleForm, errors: RuleErrors) -> RuleFormTemplate {
    RuleFormTemplate {
        layout,
        heading: "Add retention rule".into(),
        action: format!("{RULES}/new"),
        form,
        errors,
        was_active: false,
        max_name_chars: MAX_RULE_NAME_CHARS,
    }
}

fn edit_template(
    layout: Layout,
    id: i64,
    name: &str,
    state: RuleState,
    form: RuleForm,
    errors: RuleErrors,
) -> RuleFormTemplate {
    RuleFormTemplate {
        layout,
        heading: format!("Edit {name}"),
        action: format!("{RULES}/{id}/edit"),
        form,
        errors,
        was_active: state != RuleState::Inactive,
        max_name_chars: MAX_RULE_NAME_CHARS,
    }
}

fn refused(template: RuleFormTemplate) -> Saved {
    Either::Right((template, StatusCode::UNPROCESSABLE_ENTITY))
}

fn saved(session: &TypedSession, text: String, name: &str) -> Saved {
    session.set_flash(Flash::success(text).naming(name));
    Either::Left(see_other(RULES))
}

pub async fn new_form(_admin: Admin, layout: Layout) -> RuleFormTemplate {
    new_template(layout, RuleForm::default(), RuleErrors::default())
}

pub async fn create(
    _admin: Admin,
    pool: web::Data<DbPool>,
    session: TypedSession,
    layout: Layout,
    form: web::Form<RuleForm>,
) -> Result<Saved, AppError> {
    let form = form.into_inner();
    let valid = match form.validate() {
        Ok(valid) => valid,
        Err(errors) => return Ok(refused(new_template(layout, form, errors))),
    };
    let for_db = valid.clone();
    match with_conn(&pool, move |conn| retention::create(conn, &for_db)).await? {
        Ok(_) => {
            tracing::info!(rule = valid.name(), "retention rule added");
            let text = format!(
                "Added {}. It is inactive: activate it to start deleting.",
                valid.name()
            );
            Ok(saved(&session, text, valid.name()))
        }
        Err(RuleSaveError::Invalid(errors)) => Ok(refused(new_template(layout, form, errors))),
        Err(RuleSaveError::NotFound) => Err(no_such_rule()),
        Err(RuleSaveError::Database(error)) => Err(error.into()),
    }
}

pub async fn edit_form(
    _admin: Admin,
    pool: web::Data<DbPool>,
    layout: Layout,
    rule: web::Path<String>,
) -> Result<RuleFormTemplate, AppError> {
    let id = parse_rule_id(&rule)?;
    let rule = with_db(&pool, move |conn| retention::find(conn, id))
        .await?
        .ok_or_else(no_such_rule)?;
    let form = RuleForm::of(&rule.name, &rule.criteria, rule.limit);
    Ok(edit_template(
        layout,
        id,
        &rule.name,
        rule.state,
        form,
        RuleErrors::default(),
    ))
}

pub async fn update(
    _admin: Admin,
    pool: web::Data<DbPool>,
    session: TypedSession,
    layout: Layout,
    rule: web::Path<String>,
    form: web::Form<RuleForm>,
) -> Result<Saved, AppError> {
    let id = parse_rule_id(&rule)?;
    let form = form.into_inner();
    let valid = form.validate();
    let checked = valid.clone();
    let (stored, saved_now) = with_db(&pool, move |conn| {
        let stored = retention::find(conn, id)?;
        let saved = match (&stored, &checked) {
            (Some(_), Ok(valid)) => Some(retention::update(conn, id, valid)),
            _ => None,
        };
        Ok::<_, AppError>((stored, saved))
    })
    .await?;
    let stored = stored.ok_or_else(no_such_rule)?;
    let errors = match (valid, saved_now) {
        (Err(errors), _) => errors,
        (Ok(valid), Some(Ok(edited))) => {
            tracing::info!(rule = valid.name(), ?edited, "retention rule edited");
            let text = match edited {
                Edited::Saved => format!("Saved {}.", valid.name()),
                Edited::Deactivated => format!(
                    "Saved {}. Its criteria changed, so it is inactive until you activate it \
                     again.",
                    valid.name()
                ),
            };
            return Ok(saved(&session, text, valid.name()));
        }
        (Ok(_), Some(Err(RuleSaveError::Invalid(errors)))) => errors,
        (Ok(_), Some(Err(RuleSaveError::NotFound)) | None) => return Err(no_such_rule()),
        (Ok(_), Some(Err(RuleSaveError::Database(error)))) => return Err(error.into()),
    };
    Ok(refused(edit_template(
        layout,
        id,
        &stored.name,
        stored.state,
        form,
        errors,
    )))
}
