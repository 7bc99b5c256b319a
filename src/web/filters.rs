//! How dates and numbers are written on pages: plain functions for view code, and the same as
//! askama filters (`{{ at|local_time }}`, `{{ n|thousands }}`) for templates.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::domain::group_thousands;

/// "3 Feb 2025".
pub fn day(at: &NaiveDateTime) -> String {
    let mut text = String::with_capacity(12);
    write_day(&mut text, at);
    text
}

/// "3 Feb 2025, 14:05 UTC".
pub fn day_and_time(at: &NaiveDateTime) -> String {
    let mut text = String::with_capacity(24);
    write_day_and_time(&mut text, at);
    text
}

/// "2025-02-03T14:05:00Z", for `<time datetime>`.
pub fn iso(at: &NaiveDateTime) -> String {
    let mut text = String::with_capacity(20);
    write_iso(&mut text, at);
    text
}

/// A moment as `<time datetime>`: written in UTC ("3 Feb 2025, 14:05 UTC", or the day alone
/// without `with_time`), which `static/app.js` rewrites in the browser's time zone, relative
/// where it helps ("3 days ago", "in 2 hours"), with the full date and time on hover.
pub fn time_tag(at: &NaiveDateTime, with_time: bool) -> String {
    let mut tag = String::with_capacity(72);
    tag.push_str(r#"<time datetime=""#);
    write_iso(&mut tag, at);
    if with_time {
        tag.push_str(r#"" data-time>"#);
        write_day_and_time(&mut tag, at);
    } else {
        tag.push_str(r#"">"#);
        write_day(&mut tag, at);
    }
    tag.push_str("</time>");
    tag
}

// Written field by field: chrono's `format` parses its pattern on every call, and a list page
// writes 50 dates (a sixth of page 1's instructions, measured with callgrind).
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn write_day(out: &mut String, at: &NaiveDateTime) {
    let day = at.day();
    if day >= 10 {
        out.push(digit(day / 10));
    }
    out.push(digit(day % 10));
    out.push(' ');
    out.push_str(MONTHS[at.month0() as usize]);
    out.push(' ');
    write_year(out, at.year());
}

fn write_day_and_time(out: &mut String, at: &NaiveDateTime) {
    write_day(out, at);
    out.push_str(", ");
    write_two(out, at.hour());
    out.push(':');
    write_two(out, at.minute());
    out.push_str(" UTC");
}

fn write_iso(out: &mut String, at: &NaiveDateTime) {
    write_year(out, at.year());
    out.push('-');
    write_two(out, at.month());
    out.push('-');
    write_two(out, at.day());
    out.push('T');
    write_two(out, at.hour());
    out.push(':');
    write_two(out, at.minute());
    out.push(':');
    write_two(out, at.second());
    out.push('Z');
}

/// Four digits, as chrono's `%Y` (which signs years outside 0 to 9999).
fn write_year(out: &mut String, year: i32) {
    match u32::try_from(year) {
        Ok(year) if year <= 9999 => {
            write_two(out, year / 100);
            write_two(out, year % 100);
        }
        // Writing to a String cannot fail.
        _ => drop(write!(out, "{year:+05}")),
    }
}

/// Two digits, `0` to `99`.
fn write_two(out: &mut String, n: u32) {
    out.push(digit(n / 10));
    out.push(digit(n % 10));
}

fn digit(n: u32) -> char {
    char::from(b'0' + (n % 10) as u8)
}

/// The filters templates use; a template module brings them in with `use crate::web::filters`.
#[askama::filter_fn]
pub fn thousands(value: &i64, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(group_thousands(*value))
}

/// `{{ at|local_time }}`: [`time_tag`] with the time of day. Only digits, letters and the tag
/// itself are written, so it is safe as HTML.
#[askama::filter_fn]
pub fn local_time(
    at: &NaiveDateTime,
    _: &dyn askama::Values,
) -> askama::Result<askama::filters::Safe<String>> {
    Ok(askama::filters::Safe(time_tag(at, true)))
}

/// `{{ at|local_day }}`: [`time_tag`], the day alone.
#[askama::filter_fn]
pub fn local_day(
    at: &NaiveDateTime,
    _: &dyn askama::Values,
) -> askama::Result<askama::filters::Safe<String>> {
    Ok(askama::filters::Safe(time_tag(at, false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_is_a_time_tag_in_utc() {
        let at = chrono::NaiveDate::from_ymd_opt(2025, 2, 3)
            .unwrap()
            .and_hms_opt(14, 5, 0)
            .unwrap();
        assert_eq!(
            time_tag(&at, true),
            r#"<time datetime="2025-02-03T14:05:00Z" data-time>3 Feb 2025, 14:05 UTC</time>"#
        );
        assert_eq!(
            time_tag(&at, false),
            r#"<time datetime="2025-02-03T14:05:00Z">3 Feb 2025</time>"#
        );
    }

    /// Written field by field, as chrono writes them from its patterns, over years 1 to 9999.
    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let mut at = chrono::NaiveDate::from_ymd_opt(1, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let last = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
            .unwrap()
            .and_hms_opt(23, 59, 59)
            .unwrap();
        let step = chrono::Duration::seconds(86_400 * 37 + 3_600 * 5 + 60 * 7 + 11);
        let mut checked = 0;
        while at <= last {
            assert_eq!(day(&at), at.format("%-d %b %Y").to_string());
            assert_eq!(
                day_and_time(&at),
                at.format("%-d %b %Y, %H:%M UTC").to_string()
            );
            assert_eq!(iso(&at), at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            at += step;
            checked += 1;
        }
        assert_eq!(iso(&last), "9999-12-31T23:59:59Z");
        for year in [-1, 10_000] {
            let at = chrono::NaiveDate::from_ymd_opt(year, 3, 4)
                .unwrap()
                .and_hms_opt(5, 6, 7)
                .unwrap();
            assert_eq!(iso(&at), at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            assert_eq!(day(&at), at.format("%-d %b %Y").to_string());
        }
        assert_eq!(day_and_time(&last), "31 Dec 9999, 23:59 UTC");
        assert!(checked > 90_000, "{checked}");
    }
}
