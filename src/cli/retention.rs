//! `customer-desk retention list` and `customer-desk retention run [--rule NAME] [--dry-run]`,
//! for operators who prefer cron to the built-in schedule. A run here is the same run as the
//! scheduler's (the rule's lease, its safety limit, an ordinary deletion job); the command then
//! works its deletion jobs here as `customer-desk delete` does (or follows a serving instance's
//! worker that took them), so that it ends when the deleting has.

use std::fmt::Write;
use std::time::Duration;

use anyhow::Context;
use customer_desk::db::{self, DatabaseUrl, DbPool};
use customer_desk::domain::ids::JobId;
use customer_desk::domain::retention::RuleState;
use customer_desk::domain::{group_thousands, plural};
use customer_desk::jobs::{self, WorkerSettings};
use customer_desk::retention::run::{self, today, RunOutcome};
use customer_desk::retention::{find_by_name, list, scheduler, Rule};
use customer_desk::state::AppState;
use customer_desk::tokens::random_token;

#[derive(clap::Subcommand)]
pub enum RetentionCommand {
    /// Every rule: its criteria, state, who it matches now and its last run.
    List,
    /// Run every active rule now (or the one named), whatever the interval, and wait for its
    /// deletion; exits with status 2 when a rule paused or was not active.
    Run {
        /// The rule's name (case-insensitive).
        #[arg(long)]
        rule: Option<String>,
        /// Only say what each rule would delete now; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Customers deleted per transaction.
        #[arg(long, env = "DELETION_BATCH_SIZE", default_value_t = 500)]
        batch_size: i64,
    },
}

pub fn run(url: &DatabaseUrl, command: RetentionCommand) -> anyhow::Result<()> {
    let pool = db::connect_pool(url, 2)?;
    db::run_migrations(&mut *pool.get()?)?;
    match command {
        RetentionCommand::List => print!("{}", list_rules(&pool)?),
        RetentionCommand::Run {
            rule,
            dry_run,
            batch_size,
        } => {
            let worker = WorkerSettings {
                batch_size: batch_size.clamp(1, 5_000),
                ..Default::default()
            };
            let (report, refused) = run_rules(&pool, rule.as_deref(), dry_run, &worker)?;
            print!("{report}");
            if refused {
                std::process::exit(2);
            }
        }
    }
    Ok(())
}

/// One paragraph per rule: name, state, who it matches now, its last run.
fn list_rules(pool: &DbPool) -> anyhow::Result<String> {
    let mut conn = pool.get()?;
    let rules = list(&mut conn)?;
    if rules.is_empty() {
        return Ok("No retention rules.\n".into());
    }
    let mut out = String::new();
    for rule in rules {
        let matching = run::matching_now(&mut conn, &rule, today())?;
        writeln!(out, "{} [{}]", rule.name, rule.state.as_str())?;
        writeln!(out, "  {}", rule.criteria.describe())?;
        writeln!(
            out,
            "  matches now: {} (safety limit: {})",
            plural(matching, "customer", "customers"),
            rule.limit.describe()
        )?;
        if let Some(reason) = &rule.paused_reason {
            writeln!(out, "  paused: {reason}")?;
        }
        writeln!(out, "  last run: {}", last_run(&mut conn, &rule)?)?;
    }
    Ok(out)
}

fn last_run(conn: &mut customer_desk::db::DbConn, rule: &Rule) -> anyhow::Result<String> {
    let Some(at) = rule.last_run_at else {
        return Ok("never".into());
    };
    let at = at.format("%Y-%m-%d %H:%M UTC");
    Ok(match rule.last_job {
        None => format!("{at}, nobody to delete"),
        Some(job) => match jobs::find(conn, job)? {
            Some(job) if job.is_done() => format!(
                "{at}, deleted {}",
                plural(job.customers, "customer", "customers")
            ),
            Some(job) if job.is_finished() => format!(
                "{at}, stopped after deleting {} of {}",
                group_thousands(job.customers),
                group_thousands(job.total)
            ),
            Some(job) => format!(
                "{at}, deleting: {} of {}",
                group_thousands(job.processed),
                group_thousands(job.total)
            ),
            None => format!("{at}"),
        },
    })
}

/// Runs the named rule, or every active rule, now (whatever the interval); with `dry_run`, only
/// says what each would delete. Returns the report and whether a rule paused or was refused
/// (for the exit status).
fn run_rules(
    pool: &DbPool,
    rule: Option<&str>,
    dry_run: bool,
    worker: &WorkerSettings,
) -> anyhow::Result<(String, bool)> {
    let state = AppState::default();
    let owner = format!("cli-{}-{}", std::process::id(), random_token(6));
    let mut conn = pool.get()?;
    let rules: Vec<Rule> = match rule {
        Some(name) => vec![find_by_name(&mut conn, name)?
            .with_context(|| format!("there is no retention rule named “{name}”"))?],
        None if dry_run => list(&mut conn)?,
        None => list(&mut conn)?
            .into_iter()
            .filter(|rule| rule.state == RuleState::Active)
            .collect(),
    };
    let mut out = String::new();
    let mut refused = false;
    let mut started: Vec<(JobId, i64)> = Vec::new();
    if rules.is_empty() {
        writeln!(out, "No active retention rules.")?;
    }
    for rule in rules {
        let outcome = if dry_run {
            run::run_rule(&mut conn, &state, &rule, today(), true)?
        } else if run::claim(
            &mut conn,
            rule.id,
            &owner,
            worker.lease.max(Duration::from_secs(60)),
            None,
        )? {
            let outcome = run::run_rule(&mut conn, &state, &rule, today(), false);
            run::release(&mut conn, rule.id, &owner)?;
            outcome?
        } else if rule.state == RuleState::Active {
            writeln!(
                out,
                "{}: another instance is running it now; not run.",
                rule.name
            )?;
            continue;
        } else {
            RunOutcome::NotActive(rule.state)
        };
        scheduler::log(&rule.name, &outcome);
        match &outcome {
            RunOutcome::Started { job, customers } => {
                started.push((*job, *customers));
                writeln!(
                    out,
                    "{}: deleting {} (deletion {job}).",
                    rule.name,
                    plural(*customers, "customer", "customers")
                )?;
            }
            RunOutcome::NothingToDelete => writeln!(out, "{}: nobody to delete.", rule.name)?,
            RunOutcome::Paused { reason } => {
                refused = true;
                writeln!(out, "{}: paused. {reason}", rule.name)?;
            }
            RunOutcome::StillRunning { job } => writeln!(
                out,
                "{}: its last run (deletion {job}) is still deleting; not run.",
                rule.name
            )?,
            RunOutcome::WouldDelete(preview) => {
                let counts = &preview.bulk.confirmed.counts;
                write!(
                    out,
                    "{} [{}]: would delete {}",
                    rule.name,
                    rule.state.as_str(),
                    plural(counts.customers, "customer", "customers")
                )?;
                if counts.has_associated_data() {
                    write!(out, " with {}", counts.associated_data())?;
                }
                writeln!(out, " (last active before {}).", preview.active_before)?;
                if let Some(reason) = &preview.over_limit {
                    writeln!(out, "  A run now would pause instead: {reason}")?;
                }
            }
            RunOutcome::NotActive(state) => {
                refused = true;
                writeln!(
                    out,
                    "{}: {}; an administrator activates it (or confirms its paused run) at \
                     /people/customers/retention. Not run.",
                    rule.name,
                    state.as_str()
                )?;
            }
        }
    }
    // Ctrl-C stops the run in progress after its batch, as in `delete`.
    let interrupted = super::delete::ctrl_c_flag()?;
    for (job, customers) in started {
        super::delete::work(&mut conn, &state, job, worker, customers, &interrupted)?;
        if let Some(job) = jobs::find(&mut conn, job)? {
            writeln!(
                out,
                "Deletion {}: {} deleted.",
                job.id,
                plural(job.customers, "customer", "customers")
            )?;
        }
    }
    Ok((out, refused))
}
