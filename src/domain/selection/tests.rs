//! Unit tests of `selection`.

use super::*;

fn criteria(search: &str) -> Criteria {
    Criteria::new(Search::parse(search), Filters::default())
}

#[test]
fn all_keeps_the_filters_and_old_sessions_still_read() {
    let mut s = Selection::default();
    let filtered = Criteria::new(
        Search::parse("acme"),
        Filters {
            organisation: Some("Acme".into()),
            ..Default::default()
        },
    );
    s.select_all_matching(&filtered, &[]);
    assert_eq!(s.all.as_ref().unwrap().criteria(), filtered);
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<Selection>(&json).unwrap(), s);
    // A session written before filters existed: "All" without filters.
    let old = r#"{"all":{"search":"acme","excluded":[]},"ids":[],"version":1}"#;
    let old: Selection = serde_json::from_str(old).unwrap();
    assert_eq!(old.all.unwrap().criteria(), criteria("acme"));
}

#[test]
fn explicit_ticks() {
    let mut s = Selection::default();
    assert!(s.is_empty());
    s.set(3, false, true).unwrap();
    s.set(5, false, true).unwrap();
    s.set(3, false, false).unwrap();
    assert!(s.contains(5, false));
    assert!(!s.contains(3, false));
    assert_eq!(s.version, 3);
    // Setting what is already so changes nothing, not even the version.
    s.set(5, false, true).unwrap();
    assert_eq!(s.version, 3);
}

#[test]
fn all_matching_with_exclusions_and_extras() {
    let mut s = Selection::default();
    s.set(99, false, true).unwrap();
    s.select_all_matching(&criteria("acme"), &[]);
    assert!(s.ids.is_empty(), "All replaces the selection");
    assert!(s.contains(1, true));
    assert!(!s.contains(2, false));
    s.set(1, true, false).unwrap();
    assert!(!s.contains(1, true));
    assert_eq!(s.all.as_ref().unwrap().excluded.len(), 1);
    // A customer outside the search can be added.
    s.set(2, false, true).unwrap();
    assert!(s.contains(2, false));
    s.clear();
    assert!(s.is_empty());
}

#[test]
fn caps_refuse_without_changing_anything() {
    let mut s = Selection::default();
    let rows: Vec<(i64, bool, bool)> = (0..MAX_EXPLICIT as i64)
        .map(|id| (id, false, true))
        .collect();
    s.set_rows(&rows).unwrap();
    let before = s.clone();
    assert_eq!(s.set(-1, false, true), Err(SelectionError::TooManyIds));
    assert_eq!(s, before);
    // A page that would cross the cap changes nothing at all.
    let mut t = Selection::default();
    t.set_rows(&rows[..MAX_EXPLICIT - 1]).unwrap();
    let before = t.clone();
    assert!(t.set_rows(&[(-1, false, true), (-2, false, true)]).is_err());
    assert_eq!(t, before);
    // Unticking is always possible.
    assert!(s.set(0, false, false).is_ok());
}

#[test]
fn summaries_read_well() {
    let plain = SelectionSummary {
        selected: 1234,
        ..Default::default()
    };
    assert_eq!(plain.headline(), "1,234 selected");
    assert_eq!(plain.detail(), None);
    let all = SelectionSummary {
        selected: 12_342,
        all: Some(("“acme”".into(), 12_345)),
        excluded: 3,
        picked: 0,
    };
    assert_eq!(
        all.detail().unwrap(),
        "All 12,345 matching “acme” selected, 3 excluded"
    );
    let everyone = SelectionSummary {
        selected: 10,
        all: Some((String::new(), 10)),
        ..Default::default()
    };
    assert_eq!(everyone.detail().unwrap(), "All 10 customers selected");
    let with_picks = SelectionSummary {
        selected: 207,
        all: Some(("“Acme”".into(), 201)),
        excluded: 0,
        picked: 6,
    };
    assert_eq!(
        with_picks.detail().unwrap(),
        "201 matching “Acme” and 6 others"
    );
    let both = SelectionSummary {
        excluded: 2,
        picked: 1,
        ..with_picks
    };
    assert_eq!(
        both.detail().unwrap(),
        "201 matching “Acme”, 2 excluded, and 1 other"
    );
}

#[test]
fn all_keeps_the_picks_outside_its_search() {
    let mut s = Selection::default();
    for id in [1, 2, 3] {
        s.set(id, false, true).unwrap();
    }
    // 1 and 2 do not match the search, 3 does (the caller asked the database).
    s.select_all_matching(&criteria("acme"), &[1, 2]);
    assert_eq!(s.ids, BTreeSet::from([1, 2]));
    assert!(s.contains(1, false) && s.contains(3, true) && s.contains(99, true));
}

#[test]
fn page_states() {
    assert_eq!(PageState::of([true, true]), PageState::Checked);
    assert_eq!(PageState::of([true, false]), PageState::Mixed);
    assert_eq!(PageState::of([false, false]), PageState::Unchecked);
    assert_eq!(PageState::of([]), PageState::Unchecked);
    assert_eq!(PageState::Mixed.aria(), "mixed");
}

mod properties {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::super::*;

    /// A universe of customers 0..UNIVERSE, each matching the "All" search or not.
    const UNIVERSE: i64 = 24;

    #[derive(Debug, Clone)]
    enum Op {
        Set(i64, bool),
        Page(Vec<i64>, bool),
        All,
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..UNIVERSE, any::<bool>()).prop_map(|(id, on)| Op::Set(id, on)),
            2 => (proptest::collection::vec(0..UNIVERSE, 0..8), any::<bool>())
                .prop_map(|(ids, on)| Op::Page(ids, on)),
            1 => Just(Op::All),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        /// The compact selection behaves exactly like a plain set of ids.
        #[test]
        fn matches_a_naive_set(
            matches in proptest::collection::vec(any::<bool>(), UNIVERSE as usize),
            ops in proptest::collection::vec(op(), 0..40),
        ) {
            let mut selection = Selection::default();
            let mut naive: HashSet<i64> = HashSet::new();
            for op in ops {
                let version = selection.version;
                let before = naive.clone();
                match op {
                    Op::Set(id, on) => {
                        selection.set(id, matches[id as usize], on).unwrap();
                        if on { naive.insert(id); } else { naive.remove(&id); }
                    }
                    Op::Page(ids, on) => {
                        let rows: Vec<(i64, bool, bool)> =
                            ids.iter().map(|&id| (id, matches[id as usize], on)).collect();
                        selection.set_rows(&rows).unwrap();
                        for id in ids {
                            if on { naive.insert(id); } else { naive.remove(&id); }
                        }
                    }
                    Op::All => {
                        selection.select_all_matching(
                            &Criteria::new(Search::parse("s"), Filters::default()),
                            &[],
                        );
                        naive = (0..UNIVERSE).filter(|&id| matches[id as usize]).collect();
                    }
                    Op::Clear => {
                        selection.clear();
                        naive.clear();
                    }
                }
                for id in 0..UNIVERSE {
                    prop_assert_eq!(
                        selection.contains(id, matches[id as usize]),
                        naive.contains(&id),
                        "customer {}", id
                    );
                }
                let count = (0..UNIVERSE)
                    .filter(|&id| selection.contains(id, matches[id as usize]))
                    .count();
                prop_assert_eq!(count, naive.len());
                prop_assert_eq!(selection.is_empty(), selection.all.is_none() && selection.ids.is_empty());
                // The version moves whenever the selected set moved.
                if naive != before {
                    prop_assert!(selection.version > version);
                }
                let page: Vec<bool> = (0..8).map(|id| naive.contains(&id)).collect();
                let expected = if page.iter().all(|&b| b) {
                    PageState::Checked
                } else if page.iter().any(|&b| b) {
                    PageState::Mixed
                } else {
                    PageState::Unchecked
                };
                prop_assert_eq!(
                    PageState::of((0..8).map(|id| selection.contains(id, matches[id as usize]))),
                    expected
                );
            }
        }
    }
}
