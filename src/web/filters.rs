//! How dates and numbers are written on pages: plain functions for view code, and the same as
//! askama filters (`{{ at|day_and_time }}`, `{{ n|thousands }}`) for templates.

use chrono::NaiveDateTime;

use crate::domain::group_thousands;

/// "3 Feb 2025".
pub fn day(at: &NaiveDateTime) -> String {
    at.format("%-d %b %Y").to_string()
}

/// "3 Feb 2025, 14:05 UTC".
pub fn day_and_time(at: &NaiveDateTime) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// "2025-02-03T14:05:00Z", for `<time datetime>`.
pub fn iso(at: &NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The filters templates use; a template module brings them in with `use crate::web::filters`.
#[askama::filter_fn]
pub fn thousands(value: &i64, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(group_thousands(*value))
}

#[askama::filter_fn]
pub fn iso_time(at: &NaiveDateTime, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(iso(at))
}

#[askama::filter_fn]
pub fn when(at: &NaiveDateTime, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(day_and_time(at))
}
