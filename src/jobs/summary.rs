//! How a job's progress and outcome are worded: the same sentences on the progress page and
//! from the command line.

use super::Job;
use crate::domain::deletion_counts::DeletionCounts;
use crate::domain::{group_thousands, plural};

impl Job {
    /// "4,000 of 12,345 customers deleted"
    pub fn progress_text(&self) -> String {
        format!(
            "{} of {} deleted",
            group_thousands(self.processed),
            plural(self.total, "customer", "customers")
        )
    }

    /// How it ended, once finished: "Deleted 12,345 customers with … in 3.2 s." or "Stopped:
    /// 4,000 of 12,345 customers deleted; 8,345 kept. Deleted with them: …". `added`: what
    /// arrived for the job's customers after the confirmation (and went with them).
    pub fn summary(&self, added: &DeletionCounts) -> String {
        let including = added
            .listed()
            .map(|added| format!(", including {added} created after the confirmation"))
            .unwrap_or_default();
        if self.is_stopped() {
            return format!(
                "Stopped: {} of {} deleted; {} kept. Deleted with them: {}{including}.",
                group_thousands(self.customers),
                plural(self.total, "customer", "customers"),
                group_thousands(self.not_reached()),
                self.counts().associated_data(),
            );
        }
        let mut text = format!(
            "Deleted {} with {} in {:.1} s{including}.",
            plural(self.customers, "customer", "customers"),
            self.counts().associated_data(),
            self.seconds_taken().unwrap_or_default()
        );
        if let Some(late) = self.late_stop_text() {
            text.push(' ');
            text.push_str(&late);
        }
        text
    }

    /// "Ada asked to stop during the last batch: nobody was left to keep.", for a job that
    /// finished although a stop was asked for (the page said "Stopping" until it ended).
    pub fn late_stop_text(&self) -> Option<String> {
        (self.is_finished() && !self.is_stopped() && self.stop_requested_at.is_some()).then(|| {
            format!(
                "{} asked to stop during the last batch: nobody was left to keep.",
                self.stop_requested_by.as_deref().unwrap_or("Someone")
            )
        })
    }

    /// A job finished as soon as it was confirmed, in one message: "Deleted 3 customers with 6
    /// tickets, 3 live chat conversations and 3 notes.", then what was kept or already gone.
    pub fn finished_text(&self, added: &DeletionCounts) -> String {
        let including = added
            .listed()
            .map(|added| format!(", including {added} created after the confirmation"))
            .unwrap_or_default();
        let mut text = format!(
            "Deleted {} with {}{including}.",
            plural(self.customers, "customer", "customers"),
            self.counts().associated_data(),
        );
        for more in [self.kept_text(), self.already_gone_text()]
            .into_iter()
            .flatten()
        {
            text.push(' ');
            text.push_str(&more);
        }
        text
    }

    /// "340 customers with open tickets were kept.", if any were.
    pub fn kept_text(&self) -> Option<String> {
        (self.kept_open_tickets > 0).then(|| {
            format!(
                "{} with open tickets {} kept.",
                plural(self.kept_open_tickets, "customer", "customers"),
                if self.kept_open_tickets == 1 {
                    "was"
                } else {
                    "were"
                }
            )
        })
    }

    /// "3 of the selected customers had already been deleted …", if any were.
    pub fn already_gone_text(&self) -> Option<String> {
        let gone = self.already_gone();
        (gone > 0).then(|| {
            format!(
                "{} of the selected customers had already been deleted (by someone else) and \
                 {} skipped.",
                group_thousands(gone),
                if gone == 1 { "was" } else { "were" }
            )
        })
    }

    /// "Stop requested by Ada Admin: the deletion ends after its current batch.", while stopping.
    pub fn stopping_text(&self) -> Option<String> {
        self.is_stopping().then(|| {
            format!(
                "Stop requested by {}: the deletion ends after its current batch.",
                self.stop_requested_by.as_deref().unwrap_or("someone")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{JobId, JobStatus};
    use super::*;

    fn job(status: JobStatus) -> Job {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        Job {
            id: JobId(1),
            created_at: at,
            actor_name: "Ada".into(),
            status,
            total: 12_345,
            processed: 4_000,
            customers: 4_000,
            tickets: 8_000,
            chats: 0,
            notes: 1,
            finished_at: Some(at + chrono::TimeDelta::seconds(3)),
            kept_open_tickets: 340,
            stop_requested_at: Some(at),
            stop_requested_by: Some("Ada".into()),
        }
    }

    #[test]
    fn a_stopped_job_says_how_many_were_deleted_and_kept() {
        let stopped = job(JobStatus::Stopped);
        assert_eq!(
            stopped.summary(&DeletionCounts::default()),
            "Stopped: 4,000 of 12,345 customers deleted; 8,345 kept. Deleted with them: \
             8,000 tickets, 0 live chat conversations and 1 note."
        );
        assert_eq!(
            stopped.kept_text().as_deref(),
            Some("340 customers with open tickets were kept.")
        );
        assert_eq!(stopped.stopping_text(), None);
        assert!(!stopped.can_stop());
    }

    #[test]
    fn a_job_finished_at_once_says_what_went_and_what_was_kept() {
        let done = Job {
            total: 4,
            processed: 4,
            customers: 3,
            tickets: 6,
            chats: 3,
            notes: 1,
            kept_open_tickets: 1,
            ..job(JobStatus::Done)
        };
        let added = DeletionCounts {
            tickets: 1,
            ..DeletionCounts::default()
        };
        assert_eq!(
            done.finished_text(&added),
            "Deleted 3 customers with 6 tickets, 3 live chat conversations and 1 note, \
             including 1 ticket created after the confirmation. 1 customer with open tickets \
             was kept. 1 of the selected customers had already been deleted (by someone else) \
             and was skipped."
        );
    }

    #[test]
    fn a_job_that_ended_although_asked_to_stop_says_why() {
        let done = Job {
            processed: 12_345,
            customers: 12_345,
            ..job(JobStatus::Done)
        };
        assert_eq!(
            done.summary(&DeletionCounts::default()),
            "Deleted 12,345 customers with 8,000 tickets, 0 live chat conversations and 1 note \
             in 3.0 s. Ada asked to stop during the last batch: nobody was left to keep."
        );
        let undisturbed = Job {
            stop_requested_at: None,
            ..done
        };
        assert_eq!(undisturbed.late_stop_text(), None);
    }

    #[test]
    fn a_running_job_asked_to_stop_says_so() {
        let stopping = job(JobStatus::Running);
        assert!(stopping.is_stopping());
        assert!(!stopping.can_stop());
        assert_eq!(
            stopping.stopping_text().as_deref(),
            Some("Stop requested by Ada: the deletion ends after its current batch.")
        );
        assert_eq!(
            stopping.progress_text(),
            "4,000 of 12,345 customers deleted"
        );
        let running = Job {
            stop_requested_at: None,
            ..job(JobStatus::Running)
        };
        assert!(running.can_stop());
    }
}
