//! Slow-query log through Diesel's instrumentation: every connection times its queries and logs
//! those over [`SLOW_QUERY`] at WARN, with the SQL but never its bound values (a search holds a
//! person's name), inside the request's span (so with its request id).

use std::time::{Duration, Instant};

use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};

/// A query slower than this is logged.
pub const SLOW_QUERY: Duration = Duration::from_millis(250);

#[derive(Default)]
struct SlowQueryLog {
    started: Option<Instant>,
}

impl Instrumentation for SlowQueryLog {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.started = Some(Instant::now()),
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let Some(took) = self.started.take().map(|started| started.elapsed()) else {
                    return;
                };
                if took >= SLOW_QUERY {
                    let text = query.to_string();
                    let sql = without_binds(&text);
                    tracing::warn!(
                        ms = took.as_secs_f64() * 1000.0,
                        failed = error.is_some(),
                        sql = %sql.chars().take(2_000).collect::<String>(),
                        "slow query"
                    );
                }
            }
            _ => {}
        }
    }
}

/// Every connection opened from now on logs its slow queries.
pub fn log_slow_queries() {
    if let Err(error) = set_default_instrumentation(|| Some(Box::new(SlowQueryLog::default()))) {
        tracing::warn!(%error, "could not set up the slow-query log");
    }
}

/// The SQL of a query as Diesel prints it, without the bound values it appends.
fn without_binds(printed: &str) -> &str {
    printed.split(" -- binds:").next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_values_are_left_out() {
        assert_eq!(
            without_binds(
                "SELECT * FROM customers WHERE email = ? -- binds: [\"ada@example.com\"]"
            ),
            "SELECT * FROM customers WHERE email = ?"
        );
        assert_eq!(without_binds("SELECT 1"), "SELECT 1");
    }
}
