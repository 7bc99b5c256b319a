//! Activating a rule, or confirming the run that paused it: a confirmation built like the bulk
//! one (who it would delete now, with what goes with them, a few names, "I understand the
//! consequences"), whose submit starts that run with exactly what was shown and makes the rule
//! active. 422 without the checkbox, 409 with the new numbers when anything changed.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, Either, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::{no_such_rule, parse_rule_id, RULES};
use crate::db::DbPool;
use crate::deletion::Actor;
use crate::domain::deletion_counts::{names_summary, DeletionCounts};
use crate::domain::plural;
use crate::domain::retention::RuleState;
use crate::jobs::Confirmed;
use crate::retention::run::{activation_preview, today, Confirmation};
use crate::retention::{self, ConfirmError, RetentionSettings, Rule, RulePreview};
use crate::state::AppState;
use crate::tokens::random_token;
use crate::web::auth::Admin;
use crate::web::{see_other, with_conn, with_db, AppError, Flash, Layout, TypedSession};

/// Everything the confirmation shows and sends back.
#[derive(Template, WebTemplate)]
#[template(path = "retention/activate.html")]
pub struct ActivateTemplate {
    layout: Layout,
    rule_id: i64,
    title: String,
    criteria: String,
    paused_reason: Option<String>,
    active_before: String,
    would_delete: String,
    associated: String,
    has_associated: bool,
    names: String,
    over_limit: Option<String>,
    schedule: String,
    token: String,
    version: i64,
    confirmed: Confirmed,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

/// Why the confirmation is shown (again): its status and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    First,
    Changed,
    NotUnderstood,
}

/// "every day", or the interval this instance runs rules at ("every 5 minutes").
fn every(interval: Duration) -> String {
    match (interval.as_secs() / 60).max(1) {
        1440 => "every day".into(),
        m if m % 1440 == 0 => format!("every {} days", m / 1440),
        60 => "every hour".into(),
        m if m % 60 == 0 => format!("every {} hours", m / 60),
        1 => "every minute".into(),
        m => format!("every {m} minutes"),
    }
}

fn template(
    layout: Layout,
    rule: Rule,
    preview: RulePreview,
    interval: Duration,
    why: Why,
) -> (ActivateTemplate, StatusCode) {
    let counts = preview.bulk.confirmed.counts;
    let title = match rule.state {
        RuleState::Paused => format!("Confirm the paused run of {}?", rule.name),
        _ => format!("Activate {}?", rule.name),
    };
    let status = match why {
        Why::First => StatusCode::OK,
        Why::Changed => StatusCode::CONFLICT,
        Why::NotUnderstood => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let page = ActivateTemplate {
        title,
        rule_id: rule.id,
        criteria: rule.criteria.describe(),
        paused_reason: rule.paused_reason.clone(),
        active_before: preview.active_before.format("%Y-%m-%d").to_string(),
        would_delete: plural(counts.customers, "customer", "customers"),
        associated: counts.associated_data(),
        has_associated: counts.has_associated_data(),
        names: names_summary(&preview.bulk.names, counts.customers),
        over_limit: preview.over_limit.clone(),
        schedule: every(interval),
        token: random_token(16),
        version: rule.version,
        confirmed: preview.bulk.confirmed,
        notice: (why == Why::Changed).then_some(
            "The rule or who it matches changed since this confirmation was opened, so \
             nothing was activated or deleted. Check the new numbers below.",
        ),
        error: (why == Why::NotUnderstood)
            .then_some("Tick “I understand the consequences” to activate. Nothing was changed."),
        layout,
    };
    (page, status)
}

type Shown = Either<HttpResponse, (ActivateTemplate, StatusCode)>;

async fn confirmation(
    pool: &web::Data<DbPool>,
    settings: &web::Data<RetentionSettings>,
    layout: Layout,
    id: i64,
    why: Why,
) -> Result<Shown, AppError> {
    let found = with_db(pool, move |conn| activation_preview(conn, id, today())).await?;
    let (rule, preview) = found.ok_or_else(no_such_rule)?;
    if rule.state == RuleState::Active && why == Why::First {
        return Ok(Either::Left(see_other(RULES)));
    }
    Ok(Either::Right(template(
        layout,
        rule,
        preview,
        settings.interval,
        why,
    )))
}

pub async fn confirm(
    _admin: Admin,
    pool: web::Data<DbPool>,
    settings: web::Data<RetentionSettings>,
    layout: Layout,
    rule: web::Path<String>,
) -> Result<Shown, AppError> {
    let id = parse_rule_id(&rule)?;
    confirmation(&pool, &settings, layout, id, Why::First).await
}

/// What the confirmation showed, sent back with it.
#[derive(Debug, Deserialize)]
pub struct ActivateSubmit {
    token: String,
    version: i64,
    count: i64,
    digest: String,
    tickets: i64,
    tickets_in_trash: i64,
    chats: i64,
    notes: i64,
    #[serde(default)]
    understood: Option<String>,
}

impl ActivateSubmit {
    fn confirmed(&self) -> Option<Confirmed> {
        let well_formed_token = !self.token.is_empty()
            && self.token.len() <= 64
            && self.token.bytes().all(|b| b.is_ascii_hexdigit());
        well_formed_token.then_some(())?;
        Some(Confirmed {
            digest: Confirmed::parse_digest(&self.digest)?,
            counts: DeletionCounts {
                customers: self.count,
                tickets: self.tickets,
                tickets_in_trash: self.tickets_in_trash,
                chats: self.chats,
                notes: self.notes,
            },
            // A rule's filters leave out customers with open tickets; none are "kept" on top.
            kept: 0,
        })
    }
}

// Extractors, one per argument: what the handler needs from the request and the app.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    settings: web::Data<RetentionSettings>,
    session: TypedSession,
    layout: Layout,
    rule: web::Path<String>,
    form: web::Form<ActivateSubmit>,
) -> Result<Shown, AppError> {
    let id = parse_rule_id(&rule)?;
    let form = form.into_inner();
    let confirmed = form
        .confirmed()
        .ok_or_else(|| AppError::BadRequest("The confirmation could not be read.".into()))?;
    if form.understood.as_deref() != Some("yes") {
        return confirmation(&pool, &settings, layout, id, Why::NotUnderstood).await;
    }
    let actor = Actor::from(admin);
    let (version, token) = (form.version, form.token);
    let for_db = confirmed.clone();
    let outcome = with_conn(&pool, move |conn| {
        retention::confirm_run(conn, &state, id, version, &for_db, &token, &actor)
            .map(|done| (done, retention::find(conn, id)))
    })
    .await?;
    match outcome {
        Ok((done, rule)) => {
            let name = rule?.map(|rule| rule.name).unwrap_or_default();
            let text = match done {
                Confirmation::Started(job) => {
                    tracing::info!(rule = name, job = job.0, "retention rule activated");
                    format!(
                        "Activated {name}: deleting {} now.",
                        plural(confirmed.customers(), "customer", "customers")
                    )
                }
                Confirmation::NothingToDelete => {
                    tracing::info!(rule = name, "retention rule activated");
                    format!("Activated {name}: nobody matches it now.")
                }
                Confirmation::AlreadyActive => format!("{name} was active already."),
            };
            session.set_flash(Flash::success(text).naming(name));
            Ok(Either::Left(see_other(RULES)))
        }
        Err(ConfirmError::NotFound) => Err(no_such_rule()),
        Err(ConfirmError::Changed) => {
            confirmation(&pool, &settings, layout, id, Why::Changed).await
        }
        Err(ConfirmError::Database(error)) => Err(error.into()),
    }
}
