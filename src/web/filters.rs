//! How dates and numbers are written on pages: plain functions for view code, and the same as
//! askama filters (`{{ at|local_time }}`, `{{ n|thousands }}`) for templates.

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

/// A moment as `<time datetime>`: written in UTC ("3 Feb 2025, 14:05 UTC", or the day alone
/// without `with_time`), which `static/app.js` rewrites in the browser's time zone, relative
/// where it helps ("3 days ago", "in 2 hours"), with the full date and time on hover.
pub fn time_tag(at: &NaiveDateTime, with_time: bool) -> String {
    let (marker, text) = if with_time {
        (" data-time", day_and_time(at))
    } else {
        ("", day(at))
    };
    format!(r#"<time datetime="{}"{marker}>{text}</time>"#, iso(at))
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
}
