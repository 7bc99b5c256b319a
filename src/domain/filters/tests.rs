//! Unit tests of the filters and criteria.

use super::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn day(raw: &str) -> NaiveDate {
    parse_day(raw).unwrap()
}

#[test]
fn every_filter_parses_and_writes_back() {
    let (filters, notes) = Filters::from_pairs(&pairs(&[
        ("organisation", "  Acme   Ltd "),
        ("organisation_not", "Globex"),
        ("created_after", "2024-01-31"),
        ("created_before", "2025-02-01"),
        ("active_before", "2025-06-30"),
        ("tickets", "no_open"),
    ]));
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(filters.organisation.as_deref(), Some("Acme Ltd"));
    assert_eq!(filters.organisation_not.as_deref(), Some("Globex"));
    assert_eq!(filters.tickets, Some(TicketsFilter::NoOpen));
    let written: Vec<(String, String)> = filters
        .to_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(Filters::from_pairs(&written), (filters.clone(), Vec::new()));
    assert_eq!(filters.chips().len(), 6);
    assert!(filters.depends_on_activity());
}

#[test]
fn days_are_strict_and_bounds_are_day_starts() {
    assert_eq!(parse_day("2025-02-29"), None);
    assert_eq!(parse_day("2025-2-1"), None);
    assert_eq!(parse_day("2025-02-01T00:00"), None);
    assert_eq!(parse_day("+2025-02-01"), None);
    assert_eq!(parse_day("２０２５-02-01"), None);
    let filters = Filters {
        created_after: Some(day("2024-12-31")),
        created_before: Some(day("2025-01-10")),
        active_before: Some(day("2023-03-01")),
        ..Default::default()
    };
    assert_eq!(
        filters.created_from().unwrap().to_string(),
        "2025-01-01 00:00:00"
    );
    assert_eq!(
        filters.created_until().unwrap().to_string(),
        "2025-01-10 00:00:00"
    );
    assert_eq!(
        filters.active_until().unwrap().to_string(),
        "2023-03-01 00:00:00"
    );
    // The last day there is has no next day: no bound rather than a panic.
    let last = Filters {
        created_after: Some(NaiveDate::MAX),
        ..Default::default()
    };
    assert_eq!(last.created_from(), None);
}

#[test]
fn invalid_values_are_ignored_with_a_note() {
    let long = "9".repeat(10_000);
    let (filters, notes) = Filters::from_pairs(&pairs(&[
        ("created_after", "yesterday"),
        ("active_before", &long),
        ("tickets", "some"),
        ("created_before", ""),
        ("organisation", "   "),
    ]));
    assert!(filters.is_empty());
    assert_eq!(notes.len(), 3);
    assert!(notes[0].contains("yesterday") && notes[0].contains("Created after"));
    assert!(notes[1].chars().count() < 140, "a long value is shortened");
    assert!(notes[2].contains("some"));
}

#[test]
fn organisation_is_bounded() {
    let long = "é".repeat(10_000);
    let (filters, _) = Filters::from_pairs(&pairs(&[("organisation", &long)]));
    assert_eq!(
        filters.organisation.unwrap().chars().count(),
        MAX_ORGANISATION_CHARS
    );
}

#[test]
fn criteria_tell_apart_and_describe() {
    let plain = Criteria::default();
    assert!(plain.is_empty());
    assert_eq!(plain.describe(), "");
    let filtered = Criteria::new(
        Search::parse("acme"),
        Filters {
            tickets: Some(TicketsFilter::None),
            ..Default::default()
        },
    );
    assert_eq!(filtered.describe(), "“acme”, No tickets");
    assert_ne!(
        filtered.cache_key(),
        Criteria::new(Search::parse("acme"), Filters::default()).cache_key()
    );
    // A search cannot pose as filters in the key.
    assert_ne!(
        Criteria::new(Search::parse("tickets=none"), Filters::default()).cache_key(),
        filtered.cache_key()
    );
}

#[test]
fn filters_round_trip_through_the_session() {
    let filters = Filters {
        organisation: Some("Acme".into()),
        active_before: Some(day("2024-05-01")),
        tickets: Some(TicketsFilter::Open),
        ..Default::default()
    };
    let json = serde_json::to_string(&filters).unwrap();
    assert_eq!(serde_json::from_str::<Filters>(&json).unwrap(), filters);
    assert_eq!(
        serde_json::from_str::<Filters>("{}").unwrap(),
        Filters::default()
    );
}

#[test]
fn far_dates_and_invisible_organisations_are_ignored_with_a_note() {
    let (filters, notes) = Filters::from_pairs(&pairs(&[
        ("created_after", "9999-12-31"),
        ("organisation_not", "Wonka Retail\u{200B}"),
        ("organisation", "Cafe\u{301} Noir"),
    ]));
    assert_eq!(filters.created_after, None);
    assert_eq!(filters.organisation_not, None);
    assert_eq!(filters.organisation.as_deref(), Some("Café Noir"));
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(
        parse_day("9998-12-31"),
        NaiveDate::from_ymd_opt(9998, 12, 31)
    );
}
