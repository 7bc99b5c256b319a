//! Customer Desk: the People › Customers area of a help desk.

pub mod accounts;
pub mod backup;
pub mod cache;
pub mod customers;
pub mod db;
pub mod deletion;
pub mod domain;
pub mod jobs;
pub mod login_throttle;
pub mod maintenance;
pub mod memory;
pub mod pacing;
pub mod passwords;
pub mod retention;
pub mod schema;
pub mod search_merge;
pub mod seed;
pub mod session_store;
pub mod slow_queries;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tokens;
pub mod web;

/// Locks a mutex even if a holder panicked: what this crate keeps behind mutexes (caches, a
/// counter) is written by single assignments, so a poisoned lock still guards valid data.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
