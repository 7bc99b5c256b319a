//! Retention rules in the database: saving them (with the checks that need the database: a
//! unique name, an organisation some customer has), their state, and their runs ([`run`]) on a
//! schedule ([`scheduler`]). A run is an ordinary bulk deletion job. Knows nothing of HTTP.

pub mod run;
pub mod scheduler;
pub mod screen;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::{lower, now, write_transaction, DbConn};
use crate::domain::ids::JobId;
use crate::domain::retention::{
    OrganisationMatch, RuleCriteria, RuleErrors, RuleState, SafetyLimit, ValidRule,
};
use crate::schema::{customers, retention_rules, retention_runs};

pub use run::{confirm_run, preview, run_rule, ConfirmError, RulePreview, RunOutcome};
pub use scheduler::{RetentionSettings, Scheduler};
pub use screen::{rules_screen, RuleSummary};

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub criteria: RuleCriteria,
    pub limit: SafetyLimit,
    pub state: RuleState,
    /// Why it paused, while paused.
    pub paused_reason: Option<String>,
    /// Bumped by every edit: a confirmation shown for an older version is refused.
    pub version: i64,
    /// The administrator who last activated it (its runs' actor id).
    pub activated_by: Option<i64>,
    pub updated_at: NaiveDateTime,
    pub last_run_at: Option<NaiveDateTime>,
    /// The deletion job of its last run (none when that run found nobody to delete).
    pub last_job: Option<JobId>,
}

impl Rule {
    /// Who runs deletions in its name: "Retention rule: NAME" (the history's "Who").
    pub fn actor_name(&self) -> String {
        actor_name(&self.name)
    }
}

pub fn actor_name(rule: &str) -> String {
    format!("Retention rule: {rule}")
}

type RuleRow = (
    (i64, String, i32, Option<String>, Option<String>),
    (Option<NaiveDateTime>, bool, i64, i32, String),
    (Option<String>, i64, Option<i64>, NaiveDateTime),
    (Option<NaiveDateTime>, Option<i64>),
);

type RuleColumns = (
    (
        retention_rules::id,
        retention_rules::name,
        retention_rules::inactive_months,
        retention_rules::organisation,
        retention_rules::organisation_not,
    ),
    (
        retention_rules::created_before,
        retention_rules::keep_open_tickets,
        retention_rules::max_customers,
        retention_rules::max_percent,
        retention_rules::state,
    ),
    (
        retention_rules::paused_reason,
        retention_rules::version,
        retention_rules::activated_by,
        retention_rules::updated_at,
    ),
    (retention_runs::last_run_at, retention_runs::last_job_id),
);

const COLUMNS: RuleColumns = (
    (
        retention_rules::id,
        retention_rules::name,
        retention_rules::inactive_months,
        retention_rules::organisation,
        retention_rules::organisation_not,
    ),
    (
        retention_rules::created_before,
        retention_rules::keep_open_tickets,
        retention_rules::max_customers,
        retention_rules::max_percent,
        retention_rules::state,
    ),
    (
        retention_rules::paused_reason,
        retention_rules::version,
        retention_rules::activated_by,
        retention_rules::updated_at,
    ),
    (retention_runs::last_run_at, retention_runs::last_job_id),
);

fn rule_of(row: RuleRow) -> QueryResult<Rule> {
    let (
        (id, name, months, organisation, organisation_not),
        (created_before, keep_open_tickets, max_customers, max_percent, state),
        (paused_reason, version, activated_by, updated_at),
        (last_run_at, last_job),
    ) = row;
    let organisation = match (organisation, organisation_not) {
        (Some(name), _) => Some(OrganisationMatch {
            name,
            negated: false,
        }),
        (None, Some(name)) => Some(OrganisationMatch {
            name,
            negated: true,
        }),
        (None, None) => None,
    };
    let state = RuleState::try_from(state)
        .map_err(|e| diesel::result::Error::DeserializationError(e.into()))?;
    Ok(Rule {
        id,
        name,
        criteria: RuleCriteria {
            inactive_months: u32::try_from(months).unwrap_or(1),
            organisation,
            created_before: created_before.map(|at| at.date()),
            keep_open_tickets,
        },
        limit: SafetyLimit {
            max_customers,
            max_percent,
        },
        state,
        paused_reason,
        version,
        activated_by,
        updated_at,
        last_run_at,
        last_job: last_job.map(JobId),
    })
}

/// Every rule, by name.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Rule>> {
    retention_rules::table
        .inner_join(retention_runs::table)
        .order((lower(retention_rules::name), retention_rules::id))
        .select(COLUMNS)
        .load::<RuleRow>(conn)?
        .into_iter()
        .map(rule_of)
        .collect()
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Rule>> {
    retention_rules::table
        .inner_join(retention_runs::table)
        .filter(retention_rules::id.eq(id))
        .select(COLUMNS)
        .first::<RuleRow>(conn)
        .optional()?
        .map(rule_of)
        .transpose()
}

/// The rule of this name, case-insensitively.
pub fn find_by_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<Rule>> {
    retention_rules::table
        .inner_join(retention_runs::table)
        .filter(lower(retention_rules::name).eq(lower(name.to_owned())))
        .select(COLUMNS)
        .first::<RuleRow>(conn)
        .optional()?
        .map(rule_of)
        .transpose()
}

#[derive(Debug, thiserror::Error)]
pub enum RuleSaveError {
    /// What the form has to say (a name taken, an organisation nobody has).
    #[error("the rule is not valid")]
    Invalid(RuleErrors),
    #[error("no such rule")]
    NotFound,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// What an edit did to the rule's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edited {
    Saved,
    /// The criteria of an active or paused rule changed: it is inactive until confirmed again.
    Deactivated,
}

/// The checks that need the database: the name is not another rule's, and the organisation is
/// some customer's (a typing mistake would otherwise match nobody, or everybody with "is not").
fn checked(conn: &mut DbConn, rule: &ValidRule, except: Option<i64>) -> Result<(), RuleSaveError> {
    let mut errors = RuleErrors::default();
    let taken: Option<i64> = retention_rules::table
        .filter(lower(retention_rules::name).eq(lower(rule.name().to_owned())))
        .filter(retention_rules::id.ne(except.unwrap_or(0)))
        .select(retention_rules::id)
        .first(conn)
        .optional()?;
    if taken.is_some() {
        errors.add(
            "name",
            format!(
                "A rule named “{}” exists already: choose another name.",
                rule.name()
            ),
        );
    }
    if let Some(organisation) = &rule.criteria().organisation {
        let someone: Option<i64> = customers::table
            .filter(lower(customers::organisation).eq(lower(organisation.name.clone())))
            .select(customers::id)
            .first(conn)
            .optional()?;
        if someone.is_none() {
            errors.add(
                "organisation",
                format!(
                    "No customer has the organisation “{}”: check the spelling.",
                    organisation.name
                ),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RuleSaveError::Invalid(errors))
    }
}

fn day_start(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).expect("midnight exists")
}

fn organisation_columns(criteria: &RuleCriteria) -> (Option<String>, Option<String>) {
    match &criteria.organisation {
        Some(OrganisationMatch {
            name,
            negated: false,
        }) => (Some(name.clone()), None),
        Some(OrganisationMatch {
            name,
            negated: true,
        }) => (None, Some(name.clone())),
        None => (None, None),
    }
}

/// A name taken by a concurrent save: the same message as the check's.
fn name_taken(error: diesel::result::Error, rule: &ValidRule) -> RuleSaveError {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            let mut errors = RuleErrors::default();
            errors.add(
                "name",
                format!(
                    "A rule named “{}” exists already: choose another name.",
                    rule.name()
                ),
            );
            RuleSaveError::Invalid(errors)
        }
        other => other.into(),
    }
}

/// Saves a new rule, inactive.
pub fn create(conn: &mut DbConn, rule: &ValidRule) -> Result<i64, RuleSaveError> {
    write_transaction(conn, |conn| {
        checked(conn, rule, None)?;
        let criteria = rule.criteria();
        let (organisation, organisation_not) = organisation_columns(criteria);
        let at = now();
        let id = diesel::insert_into(retention_rules::table)
            .values((
                retention_rules::name.eq(rule.name()),
                retention_rules::inactive_months.eq(criteria.inactive_months as i32),
                retention_rules::organisation.eq(organisation),
                retention_rules::organisation_not.eq(organisation_not),
                retention_rules::created_before.eq(criteria.created_before.map(day_start)),
                retention_rules::keep_open_tickets.eq(criteria.keep_open_tickets),
                retention_rules::max_customers.eq(rule.limit().max_customers),
                retention_rules::max_percent.eq(rule.limit().max_percent),
                retention_rules::state.eq(RuleState::Inactive.as_str()),
                retention_rules::created_at.eq(at),
                retention_rules::updated_at.eq(at),
            ))
            .returning(retention_rules::id)
            .get_result(conn)
            .map_err(|error| name_taken(error, rule))?;
        diesel::insert_into(retention_runs::table)
            .values(retention_runs::rule_id.eq(id))
            .execute(conn)?;
        Ok(id)
    })
}

/// Saves an edit. Changed criteria make an active or paused rule inactive: what its
/// activation confirmed is no longer what it would delete.
pub fn update(conn: &mut DbConn, id: i64, rule: &ValidRule) -> Result<Edited, RuleSaveError> {
    write_transaction(conn, |conn| {
        let stored = find(conn, id)?.ok_or(RuleSaveError::NotFound)?;
        checked(conn, rule, Some(id))?;
        let criteria = rule.criteria();
        let deactivated = stored.state != RuleState::Inactive && stored.criteria != *criteria;
        let state = if deactivated {
            RuleState::Inactive
        } else {
            stored.state
        };
        let (organisation, organisation_not) = organisation_columns(criteria);
        diesel::update(retention_rules::table.find(id))
            .set((
                retention_rules::name.eq(rule.name()),
                retention_rules::inactive_months.eq(criteria.inactive_months as i32),
                retention_rules::organisation.eq(organisation),
                retention_rules::organisation_not.eq(organisation_not),
                retention_rules::created_before.eq(criteria.created_before.map(day_start)),
                retention_rules::keep_open_tickets.eq(criteria.keep_open_tickets),
                retention_rules::max_customers.eq(rule.limit().max_customers),
                retention_rules::max_percent.eq(rule.limit().max_percent),
                retention_rules::state.eq(state.as_str()),
                retention_rules::version.eq(retention_rules::version + 1),
                retention_rules::updated_at.eq(now()),
            ))
            .execute(conn)
            .map_err(|error| name_taken(error, rule))?;
        if deactivated {
            diesel::update(retention_rules::table.find(id))
                .set(retention_rules::paused_reason.eq(None::<String>))
                .execute(conn)?;
        }
        Ok(if deactivated {
            Edited::Deactivated
        } else {
            Edited::Saved
        })
    })
}

/// Makes a rule inactive at once (a run already started goes on: Stop deletion stops it).
/// `None` if there is no such rule.
pub fn deactivate(conn: &mut DbConn, id: i64) -> QueryResult<Option<Rule>> {
    let changed = diesel::update(retention_rules::table.find(id))
        .set((
            retention_rules::state.eq(RuleState::Inactive.as_str()),
            retention_rules::paused_reason.eq(None::<String>),
            retention_rules::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    find(conn, id)
}
