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

    /// "All 12,345 matching “acme”, No tickets selected, 3 excluded", or with customers picked
    /// outside the criteria "201 matching “Acme” and 6 others"; nothing for a plain selection.
    pub fn detail(&self) -> Option<String> {
        let (criteria, matching) = self.all.as_ref()?;
        let matching = crate::domain::group_thousands(*matching);
        let mut text = match (criteria.is_empty(), self.picked > 0) {
            (true, false) => format!("All {matching} customers selected"),
            (false, false) => format!("All {matching} matching {criteria} selected"),
            (true, true) => format!("All {matching} customers"),
            (false, true) => format!("{matching} matching {criteria}"),
        };
        if self.excluded > 0 {
            text.push_str(&format!(
                ", {} excluded",
                crate::domain::group_thousands(self.excluded as i64)
            ));
        }
        if self.picked > 0 {
            text.push_str(&format!(
                "{} and {} {}",
                if self.excluded > 0 { "," } else { "" },
                crate::domain::group_thousands(self.picked as i64),
                if self.picked == 1 { "other" } else { "others" }
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

    /// Every customer matching the criteria, in place of whatever was selected, except the
    /// picks in `outside` (the caller's: those of `ids` that do not match them), which stay.
    pub fn select_all_matching(&mut self, criteria: &Criteria, outside: &[i64]) {
        self.all = Some(AllMatching {
            search: criteria.search.as_str().to_owned(),
            filters: criteria.filters.clone(),
            excluded: BTreeSet::new(),
        });
        self.ids.retain(|id| outside.contains(id));
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
mod tests;
