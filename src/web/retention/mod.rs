//! Retention rules (administrators only): the list of rules, the add and edit form
//! ([`form`]), the activation confirmation ([`activate`]) and deactivation. Handlers parse,
//! make one call into `retention`, and return a template.

pub mod activate;
pub mod form;

use actix_web::{web, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDateTime;

use crate::db::DbPool;
use crate::domain::plural;
use crate::domain::retention::RuleState;
use crate::retention::{self, run::today, RuleSummary};
use crate::web::auth::Admin;
use crate::web::filters;
use crate::web::{parse_id, see_other, with_db, AppError, Flash, Layout, TypedSession};

pub const RULES: &str = "/people/customers/retention";

/// A rule's id from the path: digits only.
pub fn parse_rule_id(raw: &str) -> Result<i64, AppError> {
    parse_id(raw, "retention rule")
}

pub fn no_such_rule() -> AppError {
    AppError::not_found("There is no such retention rule.")
}

/// One row of the rules page.
pub struct RuleRow {
    id: i64,
    name: String,
    criteria: String,
    state: RuleState,
    paused_reason: Option<String>,
    limit: String,
    matching: String,
    /// The customer list with the same filters.
    matching_href: String,
    /// When it last ran, if ever.
    last_run_at: Option<NaiveDateTime>,
    /// What the last run did ("deleted 3 customers"), or "Never".
    last_run: String,
    last_job: Option<i64>,
}

impl RuleRow {
    fn of(summary: RuleSummary) -> Self {
        let RuleSummary {
            rule,
            matching,
            last_job,
        } = summary;
        let pairs = rule.criteria.list_params(today());
        let matching_href = format!(
            "/people/customers?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        );
        // What the last run did; when, beside it as a `<time>`.
        let last_run = match (rule.last_run_at, &last_job) {
            (None, _) => "Never".to_owned(),
            (Some(_), None) => "nobody to delete".to_owned(),
            (Some(_), Some(job)) if job.is_done() => {
                format!("deleted {}", plural(job.customers, "customer", "customers"))
            }
            (Some(_), Some(job)) if job.is_finished() => format!(
                "stopped after deleting {} of {}",
                crate::domain::group_thousands(job.customers),
                plural(job.total, "customer", "customers")
            ),
            (Some(_), Some(job)) => format!(
                "deleting, {} of {} done",
                crate::domain::group_thousands(job.processed),
                plural(job.total, "customer", "customers")
            ),
        };
        Self {
            id: rule.id,
            criteria: rule.criteria.describe(),
            state: rule.state,
            paused_reason: rule.paused_reason.clone(),
            limit: rule.limit.describe(),
            matching: plural(matching, "customer", "customers"),
            matching_href,
            last_run_at: rule.last_run_at,
            last_run,
            last_job: last_job.map(|job| job.id.0),
            name: rule.name,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "retention/list.html")]
pub struct RulesTemplate {
    layout: Layout,
    rules: Vec<RuleRow>,
}

pub async fn list(
    _admin: Admin,
    layout: Layout,
    pool: web::Data<DbPool>,
) -> Result<RulesTemplate, AppError> {
    let rules = with_db(&pool, |conn| retention::rules_screen(conn, today())).await?;
    Ok(RulesTemplate {
        layout,
        rules: rules.into_iter().map(RuleRow::of).collect(),
    })
}

/// Deactivation takes effect at once; a run already deleting goes on (Stop deletion stops it).
pub async fn deactivate(
    _admin: Admin,
    pool: web::Data<DbPool>,
    session: TypedSession,
    rule: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_rule_id(&rule)?;
    let rule = with_db(&pool, move |conn| retention::deactivate(conn, id))
        .await?
        .ok_or_else(no_such_rule)?;
    tracing::info!(rule = rule.name, "retention rule deactivated");
    session.set_flash(
        Flash::success(format!(
            "Deactivated {}: it deletes nothing until activated again.",
            rule.name
        ))
        .naming(rule.name),
    );
    Ok(see_other(RULES))
}
