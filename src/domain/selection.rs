//! Which customers an administrator has selected: pure rules, no HTTP and no database.
//!
//! A selection is explicit ids, or "every customer matching search S" minus excluded ids (plus,
//! once in that mode, ids picked outside S). Selecting all of a million customers therefore
//! costs the same small, constant space as selecting one: the search, never a list of every id.
//!
//! Whether a customer "matches S" is the database's business: the caller says so (`in_scope`)
//! for the rows it shows, and the database resolves the whole set with the same rule
//! (`customers::selection_filter`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::filters::{Criteria, Filters};
use super::list_query::Search;

/// Most customers that can be ticked one by one (and most exclusions from "All"). Beyond that,
/// "All (N)" on a search selects any number at constant cost. 10,000 ids are about 70 KB of
/// session state.
pub const MAX_EXPLICIT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllMatching {
    /// The normalised search ("" for every customer).
    pub search: String,
    /// The list's filters when "All" was chosen: with the search, the criteria.
    #[serde(default)]
    pub filters: Filters,
    /// Matching customers unticked afterwards.
    pub excluded: BTreeSet<i64>,
}

impl AllMatching {
    /// Who "All" stands for: the search and the filters.
    pub fn criteria(&self) -> Criteria {
        Criteria::new(Search::parse(&self.search), self.filters.clone())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    pub all: Option<AllMatching>,
    /// Ticked one by one; with `all`, only customers outside its search.
    pub ids: BTreeSet<i64>,
    /// Changes with every change, so a confirmation can tell it is still looking at the same
    /// selection.
    pub version: u64,
}

/// The header checkbox of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageState {
    Checked,
    Mixed,
    Unchecked,
}

impl PageState {
    pub fn of(selected_flags: impl IntoIterator<Item = bool>) -> Self {
        let (mut any, mut all, mut seen) = (false, true, false);
        for selected in selected_flags {
            seen = true;
            any |= selected;
            all &= selected;
        }
        match (seen, any, all) {
            (true, _, true) => Self::Checked,
            (_, true, _) => Self::Mixed,
            _ => Self::Unchecked,
        }
    }

    /// The value of `aria-checked`.
    pub fn aria(self) -> &'static str {
        match self {
            Self::Checked => "true",
            Self::Mixed => "mixed",
            Self::Unchecked => "false",
        }
    }
}

/// What the database says about a selection, for the counter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SelectionSummary {
    /// Customers selected now (deleted ones drop out).
    pub selected: i64,
    /// With "All": its criteria as words ([`Criteria::describe`]) and how many customers match
    /// them now.
    pub all: Option<(String, i64)>,
    pub excluded: usize,
    /// Picked one by one (outside the search, with "All").
    pub picked: usize,
}

impl SelectionSummary {
    /// "1,234 selected"
    pub fn headline(&self) -> String {
        format!("{} selected", crate::domain::group_thousands(self.selected))
    }

    /// "All 12,345 matching “acme”, No tickets selected, 3 excluded", or nothing for a plain
    /// selection.
    pub fn detail(&self) -> Option<String> {
        let (criteria, matching) = self.all.as_ref()?;
        let matching = crate::domain::group_thousands(*matching);
        let mut text = if criteria.is_empty() {
            format!("All {matching} customers selected")
        } else {
            format!("All {matching} matching {criteria} selected")
        };
        if self.excluded > 0 {
            text.push_str(&format!(
                ", {} excluded",
                crate::domain::group_thousands(self.excluded as i64)
            ));
        }
        if self.picked > 0 {
            text.push_str(&format!(
                ", {} more picked",
                crate::domain::group_thousands(self.picked as i64)
            ));
        }
        Some(text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error(
        "You can tick at most {max} customers one by one. To delete more, search for them and \
         choose “All” from the selection menu.",
        max = crate::domain::group_thousands(MAX_EXPLICIT as i64)
    )]
    TooManyIds,
    #[error(
        "You can untick at most {max} customers from “All”. Narrow the search instead.",
        max = crate::domain::group_thousands(MAX_EXPLICIT as i64)
    )]
    TooManyExclusions,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.all.is_none() && self.ids.is_empty()
    }

    /// Whether a customer is selected; `in_scope`: it matches the "All" search.
    pub fn contains(&self, id: i64, in_scope: bool) -> bool {
        match &self.all {
            Some(all) if in_scope => !all.excluded.contains(&id),
            _ => self.ids.contains(&id),
        }
    }

    /// Ticks or unticks one customer. On error nothing changes.
    pub fn set(&mut self, id: i64, in_scope: bool, selected: bool) -> Result<(), SelectionError> {
        if self.contains(id, in_scope) == selected {
            return Ok(());
        }
        match &mut self.all {
            Some(all) if in_scope => {
                if selected {
                    all.excluded.remove(&id);
                } else {
                    if all.excluded.len() >= MAX_EXPLICIT {
                        return Err(SelectionError::TooManyExclusions);
                    }
                    all.excluded.insert(id);
                }
            }
            _ => {
                if selected {
                    if self.ids.len() >= MAX_EXPLICIT {
                        return Err(SelectionError::TooManyIds);
                    }
                    self.ids.insert(id);
                } else {
                    self.ids.remove(&id);
                }
            }
        }
        self.version += 1;
        Ok(())
    }

    /// Sets each of a page's rows, given as (id, in_scope, selected). All or nothing.
    pub fn set_rows(&mut self, rows: &[(i64, bool, bool)]) -> Result<(), SelectionError> {
        let mut changed = self.clone();
        for &(id, in_scope, selected) in rows {
            changed.set(id, in_scope, selected)?;
        }
        *self = changed;
        Ok(())
    }

    /// Every customer matching the criteria, replacing whatever was selected.
    pub fn select_all_matching(&mut self, criteria: &Criteria) {
        self.all = Some(AllMatching {
            search: criteria.search.as_str().to_owned(),
            filters: criteria.filters.clone(),
            excluded: BTreeSet::new(),
        });
        self.ids.clear();
        self.version += 1;
    }

    pub fn clear(&mut self) {
        if !self.is_empty() {
            self.all = None;
            self.ids.clear();
            self.version += 1;
        }
    }
}

#[cfg(test)]
mod tests {
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
        s.select_all_matching(&filtered);
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
        s.select_all_matching(&criteria("acme"));
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
                            selection.select_all_matching(&Criteria::new(Search::parse("s"), Filters::default()));
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
}
