//! The instance's retention scheduler: a thread that, every little while, runs the active
//! rules whose last run is an interval old. Any number of instances can run one: a rule's lease
//! (`run::claim`) lets exactly one of them start each run.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use super::run::{run_due, RunOutcome};
use crate::db::DbPool;
use crate::state::AppState;
use crate::tokens::random_token;

#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// Whether this instance runs rules at all.
    pub enabled: bool,
    /// Each active rule runs once per interval (`serve --retention-interval`; 1 minute at least).
    pub interval: Duration,
    /// How often the scheduler looks for rules due.
    pub poll: Duration,
    /// How long a rule stays with an instance that started a run and then stopped answering.
    pub lease: Duration,
}

impl RetentionSettings {
    pub const MIN_INTERVAL: Duration = Duration::from_secs(60);

    /// `24h`, `90m`, `1m`, `3600s`, `1d`: at least a minute.
    pub fn parse_interval(raw: &str) -> Result<Duration, String> {
        let raw = raw.trim();
        let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
        let (number, unit) = raw.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("“{raw}” is not an interval such as 24h, 90m or 1m"))?;
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(format!("“{raw}”: the unit is s, m, h or d (such as 24h)")),
        };
        let interval = Duration::from_secs(number.saturating_mul(seconds));
        if interval < Self::MIN_INTERVAL {
            return Err("the retention interval is at least 1 minute (1m)".into());
        }
        Ok(interval)
    }

    /// The settings for an interval (at least [`Self::MIN_INTERVAL`]): looked at ten times per
    /// interval, at most once a minute.
    pub fn every(interval: Duration) -> Self {
        let interval = interval.max(Self::MIN_INTERVAL);
        Self {
            enabled: true,
            interval,
            poll: (interval / 10).clamp(Duration::from_secs(1), Duration::from_secs(60)),
            lease: Duration::from_secs(120),
        }
    }
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self::every(Duration::from_secs(24 * 60 * 60))
    }
}

/// Stops (and waits for its thread) when dropped.
pub struct Scheduler {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Scheduler {
    pub fn spawn(pool: DbPool, settings: RetentionSettings, state: Arc<AppState>) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        if !settings.enabled {
            return Self {
                stop: Some(stop),
                thread: None,
            };
        }
        let owner = format!("{}-{}", std::process::id(), random_token(6));
        let thread = std::thread::Builder::new()
            .name("retention".into())
            .spawn(move || loop {
                match stopped.recv_timeout(settings.poll) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                tick(&pool, &state, &owner, &settings);
            })
            .expect("start the retention scheduler thread");
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

fn tick(pool: &DbPool, state: &AppState, owner: &str, settings: &RetentionSettings) {
    let ran = pool
        .get()
        .map_err(anyhow::Error::from)
        .and_then(|mut conn| {
            Ok(run_due(
                &mut conn,
                state,
                owner,
                Some(settings.interval),
                settings.lease,
            )?)
        });
    match ran {
        Ok(outcomes) => {
            for (rule, outcome) in outcomes {
                log(&rule, &outcome);
            }
        }
        Err(error) => tracing::warn!(error = format!("{error:#}"), "retention run failed"),
    }
}

/// One line per run; rule names are the administrators' words, not customer data.
pub fn log(rule: &str, outcome: &RunOutcome) {
    match outcome {
        RunOutcome::Started { job, customers } => {
            tracing::info!(
                rule,
                job = job.0,
                customers,
                "retention rule started a deletion"
            )
        }
        RunOutcome::Paused { reason } => {
            tracing::warn!(rule, reason, "retention rule paused by its safety limit")
        }
        RunOutcome::StillRunning { job } => {
            tracing::info!(
                rule,
                job = job.0,
                "retention rule's last run is still deleting"
            )
        }
        RunOutcome::NothingToDelete => tracing::debug!(rule, "retention rule: nobody to delete"),
        RunOutcome::WouldDelete(_) | RunOutcome::NotActive(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_a_number_and_a_unit_of_at_least_a_minute() {
        let parse = RetentionSettings::parse_interval;
        assert_eq!(parse("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("90m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse("2d"), Ok(Duration::from_secs(172_800)));
        for bad in ["59s", "0m", "", "h", "24", "1.5h", "-1h", "24 h", "1w"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let every_minute = RetentionSettings::every(Duration::from_secs(60));
        assert_eq!(every_minute.poll, Duration::from_secs(6));
        assert_eq!(RetentionSettings::default().poll, Duration::from_secs(60));
    }
}
