//! `customer-desk delete`: the list's criteria as flags. Without `--yes` it says what would be
//! deleted (the bulk confirmation's numbers) and changes nothing; with `--yes` it starts the
//! same kind of deletion job as the confirmation and works it here (or follows a serving
//! instance's worker that took it), with a progress bar. Ctrl-C asks the job to stop after its
//! current batch, as the Stop deletion button does; a second Ctrl-C quits at once (the batch
//! in progress is rolled back, whole).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use customer_desk::db::{self, DatabaseUrl, DbConn};
use customer_desk::deletion::{self, Actor};
use customer_desk::domain::deletion_counts::names_summary;
use customer_desk::domain::filters::{Criteria, Filters};
use customer_desk::domain::group_thousands;
use customer_desk::domain::list_query::Search;
use customer_desk::domain::selection::Selection;
use customer_desk::jobs::{self, JobId, Step, WorkerSettings};
use customer_desk::state::AppState;
use customer_desk::tokens::random_token;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args, Debug)]
pub struct DeleteArgs {
    /// Words every customer must match (name, email or organisation), as the list's search.
    #[arg(long, default_value = "")]
    search: String,
    /// Exactly this organisation (case-insensitive).
    #[arg(long)]
    organisation: Option<String>,
    /// Any organisation but this one (case-insensitive).
    #[arg(long)]
    organisation_not: Option<String>,
    /// Created strictly after this day (YYYY-MM-DD, UTC).
    #[arg(long)]
    created_after: Option<String>,
    /// Created strictly before this day (YYYY-MM-DD, UTC).
    #[arg(long)]
    created_before: Option<String>,
    /// Last active (creation, tickets, messages, chats) strictly before this day (YYYY-MM-DD).
    #[arg(long)]
    active_before: Option<String>,
    /// none (no tickets at all), open (at least one open ticket) or no_open (no open ticket).
    #[arg(long)]
    tickets: Option<String>,
    /// Leave out (keep) the customers who have an open ticket when the deletion starts.
    #[arg(long)]
    skip_open_tickets: bool,
    /// Without any search or filter, delete every customer (refused otherwise).
    #[arg(long)]
    all_customers: bool,
    /// Delete them. Without it, only say what would be deleted.
    #[arg(long)]
    yes: bool,
    /// Customers deleted per transaction.
    #[arg(long, env = "DELETION_BATCH_SIZE", default_value_t = 500)]
    batch_size: i64,
}

impl DeleteArgs {
    /// The criteria the flags name, exactly as the list would read them from its address; a
    /// value the list would ignore with a note is an error here (a deletion must not widen).
    fn criteria(&self) -> anyhow::Result<Criteria> {
        let flags = [
            ("organisation", &self.organisation),
            ("organisation_not", &self.organisation_not),
            ("created_after", &self.created_after),
            ("created_before", &self.created_before),
            ("active_before", &self.active_before),
            ("tickets", &self.tickets),
        ];
        let pairs: Vec<(String, String)> = flags
            .iter()
            .filter_map(|(key, value)| value.as_ref().map(|v| (key.to_string(), v.clone())))
            .collect();
        let (filters, notes) = Filters::from_pairs(&pairs);
        if !notes.is_empty() {
            bail!(
                "{}\nNothing was deleted: correct the value and run again.",
                notes.join("\n")
            );
        }
        let criteria = Criteria::new(Search::parse(&self.search), filters);
        if criteria.is_empty() && !self.all_customers {
            bail!(
                "no search or filter given: that would be every customer. Pass --all-customers \
                 if that is what you mean."
            );
        }
        Ok(criteria)
    }
}

/// Who runs this: the operating-system user, for the deletion record.
fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|name| !name.is_empty() && !name.chars().any(char::is_control))
        // SAFETY: getuid cannot fail and touches no memory.
        .unwrap_or_else(|| format!("uid {}", unsafe { libc::getuid() }))
}

pub fn run(url: &DatabaseUrl, args: DeleteArgs) -> anyhow::Result<()> {
    let criteria = args.criteria()?;
    let pool = db::connect_pool(url, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    let mut selection = Selection::default();
    selection.select_all_matching(&criteria, &[]);
    let preview = deletion::preview_bulk(&mut conn, &selection, args.skip_open_tickets)?;
    let counts = &preview.confirmed.counts;
    let described = match criteria.describe() {
        d if d.is_empty() => "every customer".to_owned(),
        d => d,
    };
    println!("Matching: {described}");
    if counts.customers == 0 {
        println!("No customers match: nothing to delete.");
        return Ok(());
    }
    println!(
        "{} {}: {}",
        if args.yes { "Deleting" } else { "Would delete" },
        customer_desk::domain::plural(counts.customers, "customer", "customers"),
        names_summary(&preview.names, counts.customers)
    );
    println!("With them: {}", counts.associated_data());
    if args.skip_open_tickets {
        println!(
            "Kept: {} with open tickets.",
            customer_desk::domain::plural(preview.confirmed.kept, "customer", "customers")
        );
    }
    if !args.yes {
        println!("Nothing was deleted. Run again with --yes to delete them.");
        return Ok(());
    }
    // From here Ctrl-C asks for a stop instead of killing the process.
    let interrupted = ctrl_c_flag()?;
    let actor = Actor::command_line(&os_user());
    let state = AppState::default();
    let job = jobs::start(
        &mut conn,
        &state,
        &selection,
        args.skip_open_tickets,
        &preview.confirmed,
        &random_token(16),
        &actor,
    )
    .map_err(|error| match error {
        jobs::StartError::Database(error) => anyhow::Error::from(error),
        other => anyhow::anyhow!("not started: {other}"),
    })?;
    println!("Deletion job #{} started by {}.", job.0, actor.name);
    let settings = WorkerSettings {
        batch_size: args.batch_size.clamp(1, 5_000),
        ..Default::default()
    };
    work(
        &mut conn,
        &state,
        job,
        &settings,
        counts.customers,
        &interrupted,
    )?;
    let done = jobs::find(&mut conn, job)?.context("the job disappeared")?;
    if !done.is_done() {
        // Stopped (Ctrl-C or Stop deletion): an outcome to report, not a crash.
        let added = jobs::added_after_confirmation(&mut conn, job)?;
        eprintln!("Deletion job #{}: {}", job.0, done.summary(&added));
        std::process::exit(1);
    }
    println!(
        "Deleted {}{} (job #{}, in {:.1} s).",
        customer_desk::domain::plural(done.customers, "customer", "customers"),
        done.counts()
            .listed()
            .map(|l| format!(" with {l}"))
            .unwrap_or_default(),
        job.0,
        done.seconds_taken().unwrap_or_default()
    );
    if done.already_gone() > 0 {
        println!(
            "{} had been deleted by someone else meanwhile.",
            group_thousands(done.already_gone())
        );
    }
    Ok(())
}

/// Works the job here, batch by batch; when a serving instance's worker holds it, follows its
/// progress until it is done (taking it over if that worker's lease runs out).
pub(super) fn work(
    conn: &mut DbConn,
    state: &AppState,
    job: JobId,
    settings: &WorkerSettings,
    total: i64,
    interrupted: &AtomicBool,
) -> anyhow::Result<()> {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} deleting [{bar:40}] {human_pos}/{human_len} customers, {per_sec}, {eta} left",
        )?
        .progress_chars("=> "),
    );
    let owner = format!("cli-{}-{}", std::process::id(), random_token(6));
    let mut stop_asked = false;
    let mut stop_if_interrupted = |conn: &mut DbConn| -> anyhow::Result<()> {
        if interrupted.load(Ordering::Relaxed) && !stop_asked {
            stop_asked = true;
            bar.suspend(|| {
                eprintln!("Stopping after the current batch (Ctrl-C again quits at once)…")
            });
            jobs::request_stop(conn, job, "command line (Ctrl-C)")?;
        }
        Ok(())
    };
    loop {
        stop_if_interrupted(conn)?;
        let current = jobs::find(conn, job)?.context("the job disappeared")?;
        bar.set_position(current.processed as u64);
        if current.is_finished() {
            bar.finish_and_clear();
            return Ok(());
        }
        if jobs::claim_job(conn, job, &owner, settings.lease)? {
            // Ours until it is finished or another worker takes it over.
            // The next batch after a stop request ends the job as stopped.
            while let Step::Progressed { processed } =
                jobs::run_batch(conn, state, job, &owner, settings)?
            {
                bar.set_position(processed as u64);
                stop_if_interrupted(conn)?;
            }
            continue;
        }
        // Another worker holds it: watch.
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Set by the first Ctrl-C (the process keeps running so that the batch in progress commits and
/// the stop is recorded); a second Ctrl-C ends the process as usual.
pub(super) fn ctrl_c_flag() -> anyhow::Result<Arc<AtomicBool>> {
    use signal_hook::consts::SIGINT;
    let interrupted = Arc::new(AtomicBool::new(false));
    // Registered first, so that it sees the flag as the previous press left it.
    signal_hook::flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&interrupted))?;
    signal_hook::flag::register(SIGINT, Arc::clone(&interrupted))?;
    Ok(interrupted)
}
