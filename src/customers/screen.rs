//! What the customers screens ask of the database, one question per request: a handler calls
//! one of these once (one trip to the blocking pool, one connection) and never builds a
//! condition or works a cache itself.

use diesel::dsl::not;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::criteria::criteria_filter_planned;
use super::list::{ids_where, list, matching, ListPage};
use super::search::{among_given, selection_filter_planned};
use crate::cache::ListCaches;
use crate::db::{in_transaction, DbConn, Dialect};
use crate::domain::filters::Criteria;
use crate::domain::list_query::ListQuery;
use crate::domain::selection::{Selection, SelectionSummary};
use crate::jobs::{self, Job};

/// Everything the customers list shows.
pub struct ListScreen {
    pub page: ListPage,
    /// The customers of the page that the selection holds (ticked).
    pub selected_on_page: Vec<i64>,
    /// The selection counter's numbers.
    pub summary: SelectionSummary,
    /// How many customers match the criteria (search and filters): the "All (N)" of the
    /// selection menu.
    pub all_count: i64,
    /// Deletion jobs not finished yet.
    pub jobs: Vec<Job>,
}

/// The list page for `query`, and for an administrator (who has a `selection`; agents do not
/// select) what the selection makes of it. With `query.only_selected`, the page lists only the
/// customers the selection holds.
pub fn list_screen(
    conn: &mut DbConn,
    query: &ListQuery,
    selection: Option<&Selection>,
    caches: &ListCaches,
) -> QueryResult<ListScreen> {
    let only = selection.filter(|_| query.only_selected);
    let page = list(conn, query, only, caches)?;
    let Some(selection) = selection else {
        return Ok(ListScreen {
            page,
            selected_on_page: Vec::new(),
            summary: SelectionSummary::default(),
            all_count: 0,
            jobs: Vec::new(),
        });
    };
    let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    let selected_on_page = selected_among(conn, &ids, selection)?;
    let summary = summarize(conn, selection, caches)?;
    let all_count = if query.only_selected {
        matching(conn, &query.criteria(), caches)?
    } else {
        page.pagination.total
    };
    let jobs = jobs::active(conn)?;
    Ok(ListScreen {
        page,
        selected_on_page,
        summary,
        all_count,
        jobs,
    })
}

/// Of these ids, the customers the selection holds.
pub fn selected_among(
    conn: &mut DbConn,
    ids: &[i64],
    selection: &Selection,
) -> QueryResult<Vec<i64>> {
    if selection.is_empty() {
        return Ok(Vec::new());
    }
    let dialect = Dialect::of(conn);
    let search = selection.all.as_ref().map(|all| all.criteria().search);
    among_given(conn, ids, &search.unwrap_or_default(), |conn, plan| {
        ids_where(
            conn,
            ids,
            selection_filter_planned(selection, dialect, plan),
        )
    })
}

/// Of these ids, the customers the criteria hold.
pub fn matching_among(
    conn: &mut DbConn,
    ids: &[i64],
    criteria: &Criteria,
) -> QueryResult<Vec<i64>> {
    let dialect = Dialect::of(conn);
    among_given(conn, ids, &criteria.search, |conn, plan| {
        ids_where(conn, ids, criteria_filter_planned(criteria, dialect, plan))
    })
}

/// The counter's numbers for a selection. With "All", the matching total comes from the cache
/// and the rest from primary-key lookups, so a big "All" costs no scan per page view.
pub fn summarize(
    conn: &mut DbConn,
    selection: &Selection,
    caches: &ListCaches,
) -> QueryResult<SelectionSummary> {
    if selection.is_empty() {
        return Ok(SelectionSummary::default());
    }
    let picked: Vec<i64> = selection.ids.iter().copied().collect();
    let Some(all) = &selection.all else {
        // A count kept between page views, exact where it is used (cache/picked.rs); inside a
        // transaction begun earlier, the query could see an older state than a kept count's.
        let fresh_statement = !in_transaction(conn)?;
        let mut count = || {
            ids_where(conn, &picked, Box::new(true.into_sql::<Bool>())).map(|ids| ids.len() as i64)
        };
        let selected = if fresh_statement {
            caches.picked.count(&picked, &caches.orders, count)?
        } else {
            count()?
        };
        return Ok(SelectionSummary {
            selected,
            picked: picked.len(),
            ..Default::default()
        });
    };
    let criteria = all.criteria();
    let matching = matching(conn, &criteria, caches)?;
    let excluded: Vec<i64> = all.excluded.iter().copied().collect();
    let dialect = Dialect::of(conn);
    let excluded_matching = among_given(conn, &excluded, &criteria.search, |conn, plan| {
        ids_where(
            conn,
            &excluded,
            criteria_filter_planned(&criteria, dialect, plan),
        )
    })?
    .len() as i64;
    let picked_outside = among_given(conn, &picked, &criteria.search, |conn, plan| {
        ids_where(
            conn,
            &picked,
            Box::new(not(criteria_filter_planned(&criteria, dialect, plan))),
        )
    })?
    .len() as i64;
    Ok(SelectionSummary {
        selected: matching - excluded_matching + picked_outside,
        all: Some((criteria.describe(), matching)),
        excluded: excluded.len(),
        picked: picked.len(),
    })
}
