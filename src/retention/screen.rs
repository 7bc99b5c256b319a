//! What the rules page shows, in one call: each rule with who it matches now and its last run.

use chrono::NaiveDate;
use diesel::QueryResult;

use super::run::matching_now;
use super::{list, Rule};
use crate::db::DbConn;
use crate::jobs::{self, Job};

/// A rule as the rules page lists it.
#[derive(Debug, Clone)]
pub struct RuleSummary {
    pub rule: Rule,
    /// How many customers a run would delete now.
    pub matching: i64,
    /// The deletion job of its last run, if that run deleted anyone.
    pub last_job: Option<Job>,
}

pub fn rules_screen(conn: &mut DbConn, today: NaiveDate) -> QueryResult<Vec<RuleSummary>> {
    list(conn)?
        .into_iter()
        .map(|rule| {
            let matching = matching_now(conn, &rule, today)?;
            let last_job = match rule.last_job {
                Some(job) => jobs::find(conn, job)?,
                None => None,
            };
            Ok(RuleSummary {
                rule,
                matching,
                last_job,
            })
        })
        .collect()
}
