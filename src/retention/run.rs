//! A rule's runs: who it matches on a day, what a run would delete (the confirmation's
//! numbers), the run itself as an ordinary bulk deletion job, the safety limit that pauses it,
//! and the lease that lets one instance at a time run a rule.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::{find, Rule};
use crate::customers::selection_filter;
use crate::db::{now, DbConn, Dialect};
use crate::deletion::{self, Actor, BulkPreview};
use crate::domain::filters::Criteria;
use crate::domain::ids::{AgentId, JobId};
use crate::domain::list_query::Search;
use crate::domain::retention::RuleState;
use crate::domain::selection::Selection;
use crate::jobs::confirmation::{candidates, unfinished_jobs};
use crate::jobs::{self, Confirmed, StartError};
use crate::schema::{customers, retention_rules, retention_runs};
use crate::state::AppState;
use crate::tokens::random_token;

/// The day a run counts months back from: today, UTC.
pub fn today() -> NaiveDate {
    now().date()
}

/// Who the rule matches on `today`, as a selection of "all customers matching" its criteria:
/// the same selection that the list's "All (N)" makes, so the preview, the freeze and the
/// deletion are the bulk deletion's own.
pub fn rule_selection(rule: &Rule, today: NaiveDate) -> Selection {
    let mut selection = Selection::default();
    selection.select_all_matching(
        &Criteria::new(Search::default(), rule.criteria.filters(today)),
        &[],
    );
    selection
}

/// A rule keeps customers with open tickets through its filters (`tickets=no_open`), so that
/// who it matches is exactly what the list shows with the same filters; the bulk deletion's own
/// "skip customers with open tickets" is not used on top.
const NO_SKIP: bool = false;

/// How many customers the rule would delete now (those an unfinished job holds aside).
pub fn matching_now(conn: &mut DbConn, rule: &Rule, today: NaiveDate) -> QueryResult<i64> {
    let busy = unfinished_jobs(conn)?;
    let selection = rule_selection(rule, today);
    customers::table
        .filter(candidates(
            selection_filter(&selection, Dialect::of(conn)),
            &busy,
        ))
        .select(count_star())
        .get_result(conn)
}

/// What a run of the rule would delete now: the bulk confirmation's numbers, and whether they
/// pass the rule's safety limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePreview {
    pub bulk: BulkPreview,
    pub all_customers: i64,
    /// Why a run would pause instead of deleting, if it would.
    pub over_limit: Option<String>,
    pub active_before: NaiveDate,
}

pub fn preview(conn: &mut DbConn, rule: &Rule, today: NaiveDate) -> QueryResult<RulePreview> {
    let bulk = deletion::preview_bulk(conn, &rule_selection(rule, today), NO_SKIP)?;
    let all_customers: i64 = customers::table.select(count_star()).get_result(conn)?;
    Ok(RulePreview {
        over_limit: rule
            .limit
            .exceeded(bulk.confirmed.customers(), all_customers),
        all_customers,
        active_before: rule.criteria.active_before(today),
        bulk,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("no such rule")]
    NotFound,
    /// The rule was edited, or who it matches changed, since the confirmation was shown:
    /// nothing was deleted or activated.
    #[error("the rule or its customers changed since the confirmation")]
    Changed,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// What a confirmed activation (or confirmed paused run) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The rule is active and its first run, exactly what was confirmed, is this job.
    Started(JobId),
    /// The rule is active; nobody matched, so nothing is being deleted now.
    NothingToDelete,
    /// It was active already (another tab's confirmation): nothing more was started.
    AlreadyActive,
}

/// Activates a rule (or lets a paused one run again) after the confirmation: its run now
/// deletes exactly what the confirmation showed (`confirmed`, compared when the set is frozen,
/// as a bulk deletion's), then it runs once per interval. A replayed form finds its job.
pub fn confirm_run(
    conn: &mut DbConn,
    state: &AppState,
    rule_id: i64,
    version: i64,
    confirmed: &Confirmed,
    token: &str,
    admin: &Actor,
) -> Result<Confirmation, ConfirmError> {
    if let Some(job) = jobs::job_for_token(conn, token)? {
        return Ok(Confirmation::Started(job));
    }
    let rule = find(conn, rule_id)?.ok_or(ConfirmError::NotFound)?;
    if rule.version != version {
        return Err(ConfirmError::Changed);
    }
    if rule.state == RuleState::Active {
        return Ok(Confirmation::AlreadyActive);
    }
    let today = today();
    let job = if confirmed.customers() == 0 {
        if matching_now(conn, &rule, today)? != 0 {
            return Err(ConfirmError::Changed);
        }
        None
    } else {
        let actor = Actor {
            id: admin.id,
            name: rule.actor_name(),
        };
        let selection = rule_selection(&rule, today);
        match jobs::start(conn, state, &selection, NO_SKIP, confirmed, token, &actor) {
            Ok(job) => Some(job),
            Err(StartError::Database(error)) => return Err(error.into()),
            Err(_) => return Err(ConfirmError::Changed),
        }
    };
    let activated = diesel::update(
        retention_rules::table
            .find(rule.id)
            .filter(retention_rules::version.eq(version)),
    )
    .set((
        retention_rules::state.eq(RuleState::Active.as_str()),
        retention_rules::paused_reason.eq(None::<String>),
        retention_rules::activated_by.eq(admin.id.map(|id| id.0)),
        retention_rules::updated_at.eq(now()),
    ))
    .execute(conn)?;
    // Edited between the check and now: it stays as the edit left it (the run started is
    // still exactly what was confirmed).
    if activated == 1 {
        ran(conn, &rule, job)?;
    }
    Ok(job.map_or(Confirmation::NothingToDelete, Confirmation::Started))
}

/// What one run of a rule did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Its deletion job started (frozen now), with this many customers.
    Started { job: JobId, customers: i64 },
    /// Nobody matched.
    NothingToDelete,
    /// It would have deleted more than its safety limit: paused, nothing deleted.
    Paused { reason: String },
    /// Its previous run is still deleting: this one waits for the next turn.
    StillRunning { job: JobId },
    /// Only looked (`--dry-run`): what it would delete.
    WouldDelete(Box<RulePreview>),
    /// Inactive or paused rules do not run.
    NotActive(RuleState),
}

/// Runs a rule once, now: freezes who it matches today into a deletion job (worked by the
/// deletion workers like any other), unless that would pass the safety limit, in which case the
/// rule pauses and nothing is deleted. The caller holds the rule's lease ([`claim`]).
pub fn run_rule(
    conn: &mut DbConn,
    state: &AppState,
    rule: &Rule,
    today: NaiveDate,
    dry_run: bool,
) -> QueryResult<RunOutcome> {
    if dry_run {
        return Ok(RunOutcome::WouldDelete(Box::new(preview(
            conn, rule, today,
        )?)));
    }
    if rule.state != RuleState::Active {
        return Ok(RunOutcome::NotActive(rule.state));
    }
    if let Some(job) = rule.last_job {
        if jobs::find(conn, job)?.is_some_and(|job| !job.is_finished()) {
            return Ok(RunOutcome::StillRunning { job });
        }
    }
    // Recorded as the rule, with the id of the administrator who activated it (if they still
    // have an account).
    let actor = Actor {
        id: rule.activated_by.map(AgentId),
        name: rule.actor_name(),
    };
    let selection = rule_selection(rule, today);
    // Who matches can change between the look and the freeze (a customer becomes active): the
    // freeze then refuses, and the run looks again.
    for _ in 0..3 {
        let preview = preview(conn, rule, today)?;
        if let Some(reason) = preview.over_limit {
            pause(conn, rule, &reason)?;
            return Ok(RunOutcome::Paused { reason });
        }
        let confirmed = preview.bulk.confirmed;
        if confirmed.customers() == 0 {
            ran(conn, rule, None)?;
            return Ok(RunOutcome::NothingToDelete);
        }
        match jobs::start(
            conn,
            state,
            &selection,
            NO_SKIP,
            &confirmed,
            &random_token(16),
            &actor,
        ) {
            Ok(job) => {
                ran(conn, rule, Some(job))?;
                return Ok(RunOutcome::Started {
                    job,
                    customers: confirmed.customers(),
                });
            }
            Err(StartError::Database(error)) => return Err(error),
            Err(_) => continue,
        }
    }
    // Still moving after three looks: the next turn tries again.
    Ok(RunOutcome::NothingToDelete)
}

fn pause(conn: &mut DbConn, rule: &Rule, reason: &str) -> QueryResult<()> {
    diesel::update(
        retention_rules::table
            .find(rule.id)
            .filter(retention_rules::state.eq(RuleState::Active.as_str())),
    )
    .set((
        retention_rules::state.eq(RuleState::Paused.as_str()),
        retention_rules::paused_reason.eq(Some(reason)),
    ))
    .execute(conn)
    .map(drop)
}

fn ran(conn: &mut DbConn, rule: &Rule, job: Option<JobId>) -> QueryResult<()> {
    diesel::update(retention_runs::table.find(rule.id))
        .set((
            retention_runs::last_run_at.eq(Some(now())),
            retention_runs::last_job_id.eq(job.map(|job| job.0)),
        ))
        .execute(conn)
        .map(drop)
}

/// Takes the rule's lease for `owner` if it is active, nobody else holds it, and (with
/// `ran_before`) its last run was before that time: of two instances trying at once, one
/// updates the row and the other finds the condition false (on PostgreSQL the second waits for
/// the first's row lock and checks the condition again on the updated row).
pub fn claim(
    conn: &mut DbConn,
    rule: i64,
    owner: &str,
    lease: Duration,
    ran_before: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let at = now();
    let until = at + TimeDelta::milliseconds(lease.as_millis() as i64);
    let active = retention_rules::table
        .filter(retention_rules::state.eq(RuleState::Active.as_str()))
        .select(retention_rules::id);
    let claimable = retention_runs::table
        .filter(retention_runs::rule_id.eq(rule))
        .filter(retention_runs::rule_id.eq_any(active))
        .filter(
            retention_runs::lease_until
                .is_null()
                .or(retention_runs::lease_until.lt(at)),
        );
    let leased = (
        retention_runs::lease_owner.eq(Some(owner)),
        retention_runs::lease_until.eq(Some(until)),
    );
    let claimed = match ran_before {
        Some(before) => diesel::update(
            claimable.filter(
                retention_runs::last_run_at
                    .is_null()
                    .or(retention_runs::last_run_at.le(before)),
            ),
        )
        .set(leased)
        .execute(conn)?,
        None => diesel::update(claimable).set(leased).execute(conn)?,
    };
    Ok(claimed == 1)
}

/// Gives the lease back.
pub fn release(conn: &mut DbConn, rule: i64, owner: &str) -> QueryResult<()> {
    diesel::update(
        retention_runs::table
            .find(rule)
            .filter(retention_runs::lease_owner.eq(owner)),
    )
    .set((
        retention_runs::lease_owner.eq(None::<String>),
        retention_runs::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(drop)
}

/// Runs, under its lease, every active rule whose last run is at least `interval` old (or,
/// without an interval, every active rule, as `customer-desk retention run` does).
pub fn run_due(
    conn: &mut DbConn,
    state: &AppState,
    owner: &str,
    interval: Option<Duration>,
    lease: Duration,
) -> QueryResult<Vec<(String, RunOutcome)>> {
    let ran_before =
        interval.map(|every| now() - TimeDelta::milliseconds(every.as_millis() as i64));
    let mut due = retention_rules::table
        .inner_join(retention_runs::table)
        .filter(retention_rules::state.eq(RuleState::Active.as_str()))
        .select(retention_rules::id)
        .order(retention_rules::id)
        .into_boxed();
    if let Some(before) = ran_before {
        due = due.filter(
            retention_runs::last_run_at
                .is_null()
                .or(retention_runs::last_run_at.le(before)),
        );
    }
    let due: Vec<i64> = due.load(conn)?;
    let mut outcomes = Vec::new();
    for id in due {
        if !claim(conn, id, owner, lease, ran_before)? {
            continue;
        }
        let outcome = match find(conn, id)? {
            Some(rule) => run_rule(conn, state, &rule, today(), false).map(|o| (rule.name, o)),
            None => continue,
        };
        release(conn, id, owner)?;
        outcomes.push(outcome?);
    }
    Ok(outcomes)
}

/// A rule and what its run would delete now, for its activation confirmation.
pub fn activation_preview(
    conn: &mut DbConn,
    rule: i64,
    today: NaiveDate,
) -> QueryResult<Option<(Rule, RulePreview)>> {
    let Some(rule) = find(conn, rule)? else {
        return Ok(None);
    };
    let preview = preview(conn, &rule, today)?;
    Ok(Some((rule, preview)))
}
