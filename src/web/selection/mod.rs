//! The administrator's selection of customers (kept in the server-side session) and the bulk
//! deletion it leads to: `ticks.rs` ticks and unticks from the list form, `bulk.rs` shows the
//! confirmation and starts the deletion job. The routes are in `web::configure`.

pub mod bulk;
pub mod ticks;

use crate::domain::group_thousands;
use crate::domain::list_query::{ListQuery, Search};
use crate::domain::selection::{Selection, SelectionSummary};
use crate::web::TypedSession;

/// The counter, trash can and "Clear selection" above the list; swapped in place by htmx.
pub struct SelectionBar {
    pub headline: String,
    pub detail: Option<String>,
    pub empty: bool,
    pub count: i64,
    pub show_selected_href: String,
    pub error: Option<String>,
    /// The selection's version: the browser never swaps in a bar older than the one it shows.
    pub version: u64,
}

impl SelectionBar {
    pub fn new(summary: &SelectionSummary, error: Option<String>) -> Self {
        Self {
            headline: summary.headline(),
            detail: summary.detail(),
            empty: summary.selected == 0,
            count: summary.selected,
            show_selected_href: "/people/customers?selected=1".into(),
            error,
            version: 0,
        }
    }

    pub fn at(mut self, version: u64) -> Self {
        self.version = version;
        self
    }
}

/// "1,234 customers" for the menu's "All (N)".
pub fn all_label(count: i64) -> String {
    format!("All ({})", group_thousands(count))
}

/// The list a selection came from: with "All", its search and filters.
pub fn list_of(selection: &Selection) -> ListQuery {
    match &selection.all {
        Some(all) => ListQuery {
            search: Search::parse(&all.search),
            filters: all.filters.clone(),
            ..ListQuery::default()
        },
        None => ListQuery::default(),
    }
}

/// Where to go back to from the selection: the list page it was last changed on (its search,
/// filters, sort and page size), else [`list_of`]'s first page.
pub fn list_href(session: &TypedSession, selection: &Selection) -> String {
    session.list().unwrap_or_else(|| {
        format!("/people/customers{}", list_of(selection).href_for_page(1))
            .trim_end_matches('?')
            .to_owned()
    })
}
