//! Unit tests of `list_query`.

use super::*;

#[test]
fn range_text() {
    assert_eq!(Pagination::new(0, 1, 50).range_text("None"), "None");
    assert_eq!(
        Pagination::new(12345, 2, 50).range_text("None"),
        "51–100 of 12,345"
    );
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn invalid_parameters_fall_back() {
    let q = ListQuery::from_pairs(&pairs(&[
        ("page", "abc"),
        ("per_page", "100000"),
        ("sort", "DROP TABLE"),
    ]));
    assert_eq!(q, ListQuery::default());
    let q = ListQuery::from_pairs(&pairs(&[("page", "0")]));
    assert_eq!(q.page, 1);
    let q = ListQuery::from_pairs(&pairs(&[("page", "-5"), ("per_page", "25")]));
    assert_eq!((q.page, q.per_page), (1, 25));
    let q = ListQuery::from_pairs(&pairs(&[("page", "99999999999999999999999")]));
    assert_eq!(q.page, 1);
}

#[test]
fn first_of_repeated_keys_wins() {
    let q = ListQuery::from_pairs(&pairs(&[("sort", "created"), ("sort", "name")]));
    assert_eq!(q.sort, SortOrder::Created);
}

#[test]
fn search_is_normalised_and_bounded() {
    assert_eq!(
        Search::parse("  ada \t lovelace \n").as_str(),
        "ada lovelace"
    );
    let long = "x".repeat(10_000);
    assert_eq!(
        Search::parse(&long).as_str().chars().count(),
        MAX_SEARCH_CHARS
    );
    let many = "a b c d e f g h i j";
    assert_eq!(Search::parse(many).words().len(), MAX_SEARCH_WORDS);
    assert_eq!(
        Search::parse("Ada LOVELACE").words(),
        vec!["ada", "lovelace"]
    );
    // A cut in the middle of multi-byte characters stays valid UTF-8.
    let accents = "é".repeat(300);
    assert_eq!(
        Search::parse(&accents).as_str().chars().count(),
        MAX_SEARCH_CHARS
    );
}

#[test]
fn like_patterns_escape_wildcards() {
    assert_eq!(Search::like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    assert_eq!(Search::like_pattern("o'brien\""), "%o'brien\"%");
}

#[test]
fn hrefs_keep_the_query_and_leave_defaults_out() {
    let q = ListQuery {
        search: Search::parse("acme & co"),
        sort: SortOrder::Created,
        page: 3,
        per_page: 25,
        only_selected: false,
        ..Default::default()
    };
    assert_eq!(
        q.href_for_page(4),
        "?q=acme+%26+co&sort=created&per_page=25&page=4"
    );
    assert_eq!(ListQuery::default().href_for_page(1), "?");
    let round_trip: Vec<(String, String)> =
        serde_urlencoded::from_str(&q.href_for_page(4)[1..]).unwrap();
    let parsed = ListQuery::from_pairs(&round_trip);
    assert_eq!(parsed.search, q.search);
    assert_eq!(parsed.page, 4);
}

#[test]
fn filters_survive_every_link() {
    let q = ListQuery::from_pairs(&pairs(&[
        ("q", "bob"),
        ("organisation", "Acme"),
        ("tickets", "open"),
        ("active_before", "nope"),
        ("sort", "created"),
    ]));
    assert_eq!(q.filter_notes.len(), 1);
    let href = q.href_for_page(2);
    assert_eq!(
        href,
        "?q=bob&organisation=Acme&tickets=open&sort=created&page=2"
    );
    let round_trip: Vec<(String, String)> = serde_urlencoded::from_str(&href[1..]).unwrap();
    let parsed = ListQuery::from_pairs(&round_trip);
    assert_eq!(parsed.criteria(), q.criteria());
    assert!(parsed.filter_notes.is_empty());
    assert_eq!(
        q.href_without("organisation"),
        "?q=bob&tickets=open&sort=created"
    );
}

#[test]
fn pagination_clamps_and_counts_rows() {
    let p = Pagination::new(12_345, 1, 50);
    assert_eq!((p.first_row(), p.last_row(), p.last_page()), (1, 50, 247));
    let p = Pagination::new(12_345, 9_999, 50);
    assert_eq!((p.page, p.first_row(), p.last_row()), (247, 12_301, 12_345));
    assert_eq!(p.next(), None);
    assert_eq!(p.previous(), Some(246));
    let empty = Pagination::new(0, 3, 50);
    assert_eq!((empty.page, empty.first_row(), empty.last_row()), (1, 0, 0));
    assert_eq!(empty.links(), vec![PageLink::Page(1)]);
}

#[test]
fn page_links_have_gaps() {
    use PageLink::*;
    let p = Pagination::new(12_345, 6, 50);
    assert_eq!(
        p.links(),
        vec![
            Page(1),
            Gap,
            Page(4),
            Page(5),
            Page(6),
            Page(7),
            Page(8),
            Gap,
            Page(247)
        ]
    );
    let p = Pagination::new(150, 2, 50);
    assert_eq!(p.links(), vec![Page(1), Page(2), Page(3)]);
    let p = Pagination::new(12_345, 247, 50);
    assert_eq!(
        p.links(),
        vec![Page(1), Gap, Page(245), Page(246), Page(247)]
    );
}
