//! The customers list: search, sort, pages (deferred joins, or a slice of a cached listing),
//! ticket counts, "show selected".

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::criteria::criteria_filter_planned;
use super::listings::Listings;
use super::search::{
    among_given, selection_filter, CustomerFilter, SearchPlan, EACH_ROW_UP_TO,
    WALK_SORT_INDEX_ABOVE,
};
use super::Backend;
use crate::cache::{CountCache, ListCaches, OrderCache};
use crate::db::{in_customer_ids, on_own_connection, DbConn, Dialect, Moment};
use crate::domain::filters::Criteria;
use crate::domain::list_query::{ListQuery, Pagination, Search, SortOrder};
use crate::domain::selection::Selection;
use crate::schema::customers;

/// One row of the customers list: what the list shows of a customer, no more (each column
/// read is a value decoded and often a string allocated, 50 times a page).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customers)]
#[diesel(check_for_backend(Backend))]
pub struct ListRow {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub organisation: String,
    #[diesel(deserialize_as = Moment)]
    pub created_at: NaiveDateTime,
    /// Tickets, as kept on the customer (`domain/related.rs`).
    #[diesel(column_name = ticket_count)]
    pub tickets: i64,
}

pub struct ListPage {
    pub pagination: Pagination,
    pub rows: Vec<ListRow>,
}

/// The list's rows: the criteria (search and filters), and with `only` just the customers it
/// holds ("Show selected").
pub(super) fn listed(
    criteria: &Criteria,
    only: Option<&Selection>,
    dialect: Dialect,
) -> customers::BoxedQuery<'static, Backend> {
    listed_planned(criteria, only, dialect, SearchPlan::FromIndex)
}

pub(super) fn listed_planned(
    criteria: &Criteria,
    only: Option<&Selection>,
    dialect: Dialect,
    plan: SearchPlan,
) -> customers::BoxedQuery<'static, Backend> {
    let query = customers::table
        .into_boxed()
        .filter(criteria_filter_planned(criteria, dialect, plan));
    match only {
        // The selection's own "All" search is listed from the index: it may hold anyone.
        Some(selection) => query.filter(selection_filter(selection, dialect)),
        None => query,
    }
}

/// The number of customers matching the criteria: from a kept listing of them (exact: writes
/// keep it so), else from the count cache. Criteria that depend on activity or tickets
/// (written outside the customers table, also by other systems) have no kept listing; their
/// large totals come from the count cache too, so that a list of half a million inactive
/// customers is not counted again on every page: such a total shows another system's writes
/// up to [`CountCache::TTL`] late (this instance's own writes at once). What a deletion
/// confirms is always counted afresh (`deletion::preview`).
pub fn matching(conn: &mut DbConn, criteria: &Criteria, caches: &ListCaches) -> QueryResult<i64> {
    let key = criteria.cache_key();
    if cacheable(criteria) {
        if let Some(total) = caches.orders.total(&key, &mut Listings { conn })? {
            return Ok(total);
        }
    }
    caches.counts.total(&key, || count_matching(conn, criteria))
}

/// Whether a page of these criteria may read every customer (so that it should wait for its
/// turn, `state::UncachedLists`): a tickets filter (its pages check tickets customer by
/// customer), or an activity filter whose total is not kept.
pub fn may_read_every_customer(criteria: &Criteria, caches: &ListCaches) -> bool {
    criteria.filters.tickets.is_some()
        || (criteria.filters.depends_on_activity() && !caches.counts.kept(&criteria.cache_key()))
}

/// Whether a listing or a total of these criteria may come from the list caches: not when
/// who matches can change without a write to customers through this instance.
fn cacheable(criteria: &Criteria) -> bool {
    !criteria.filters.depends_on_activity()
}

pub fn count_matching(conn: &mut DbConn, criteria: &Criteria) -> QueryResult<i64> {
    listed(criteria, None, Dialect::of(conn))
        .select(count_star())
        .get_result(conn)
}

/// From this many rows in, a page of the plain list is read from an [`OrderCache`] snapshot
/// rather than by walking the sort index up to its offset.
pub const SNAPSHOT_FROM_OFFSET: i64 = 1_000;

pub fn list(
    conn: &mut DbConn,
    query: &ListQuery,
    only: Option<&Selection>,
    caches: &ListCaches,
) -> QueryResult<ListPage> {
    let dialect = Dialect::of(conn);
    let mut criteria = query.criteria();
    let key = (criteria.cache_key(), query.sort);
    let from_listing = only.is_none() && cacheable(&criteria);
    let held = from_listing && caches.orders.holds(&key);
    // "Show selected" of a few picked customers, searched: those the criteria hold are found
    // first (in copies of their search text, `search_copies.rs`), and the page is of them.
    let few_picked = only.filter(|selection| {
        selection.all.is_none()
            && selection.ids.len() <= EACH_ROW_UP_TO
            && !criteria.search.is_empty()
    });
    let narrowed;
    let only = match few_picked {
        Some(selection) => {
            let picked: Vec<i64> = selection.ids.iter().copied().collect();
            let matched = among_given(conn, &picked, &criteria.search, |conn, plan| {
                listed_planned(&criteria, None, dialect, plan)
                    .filter(in_customer_ids(&picked, dialect))
                    .select(customers::id)
                    .load::<i64>(conn)
            })?;
            narrowed = Selection {
                ids: matched.into_iter().collect(),
                ..Selection::default()
            };
            criteria.search = Search::default();
            Some(&narrowed)
        }
        None => only,
    };
    let total = match only {
        _ if held => 0, // the listing's length is the total
        None => matching(conn, &criteria, caches)?,
        Some(_) => listed_planned(&criteria, only, dialect, SearchPlan::FromIndex)
            .select(count_star())
            .get_result(conn)?,
    };
    let mut pagination = Pagination::new(total, query.page, query.per_page);
    let many_matches = !query.search.is_empty() && total > WALK_SORT_INDEX_ABOVE;
    // Many matches, or deep in the list: read the page from the listing in order, so that its
    // cost does not grow with the number of matches or the depth, and its total is exact.
    let ids: Vec<i64> = if held || (from_listing && reads_from_listing(total, pagination.offset()))
    {
        let listing = caches.orders.ids(key, &mut Listings { conn })?;
        pagination = Pagination::new(listing.len() as i64, query.page, query.per_page);
        listing.page(pagination.offset() as usize, pagination.per_page as usize)
    } else {
        // Deferred join: find the page's ids first (an index-only walk over the sort index,
        // or the search's or a filter's index and a sort of what it finds), then fetch just
        // those rows.
        let rows = started_at_the_filters_day(
            listed_planned(
                &criteria,
                only,
                dialect,
                // Customers picked one by one, more than are checked in copies: the search's
                // matches listed, as before.
                if only.is_some_and(|selection| selection.all.is_none()) {
                    SearchPlan::FromIndex
                } else {
                    SearchPlan::for_sorted(many_matches)
                },
            ),
            &criteria,
            query.sort,
        );
        if sort_after_filtering(&criteria, total, dialect) {
            ordered_after_filtering(rows, query.sort, dialect)
        } else {
            ordered(rows, query.sort)
        }
        .select(customers::id)
        .limit(pagination.per_page)
        .offset(pagination.offset())
        .load(conn)?
    };
    page_rows(conn, pagination, ids)
}

/// Whether a page of the plain list (no "show selected") is read from an [`OrderCache`]
/// listing: when the total is more than is counted on every page (the listing then keeps it
/// exact through writes), or deep in the list; unless the listing is too big to keep (it would
/// be dropped as soon as built, and rebuilt by every page).
fn reads_from_listing(total: i64, offset: i64) -> bool {
    total <= OrderCache::MAX_IDS as i64
        && (total > CountCache::EXACT_UP_TO || offset >= SNAPSHOT_FROM_OFFSET)
}

/// Whether a page's customers are better found through the search's or a filter's index and
/// then sorted, rather than by walking the sort index checking each customer. Walking costs the
/// customers passed before the page is full, so few matches mean walking nearly the whole
/// table; sorting costs the matches (about 0.4 µs each). Each planner misjudges one case:
/// SQLite has no statistics of how many customers a date range holds (0.3 s at 1,000,000 for a
/// few thousand inactive ones), and PostgreSQL misjudges how many a word beginning matches
/// (`q=an`: 580 ms at 100 k for none). SQLite's search plans itself
/// (`search::search_filter_planned`).
fn sort_after_filtering(criteria: &Criteria, total: i64, dialect: Dialect) -> bool {
    match dialect {
        Dialect::Sqlite => {
            criteria.search.is_empty()
                && !criteria.filters.is_empty()
                && total <= SORT_AFTER_FILTERING_UP_TO
        }
        Dialect::Postgres => !criteria.search.is_empty() && total <= WALK_SORT_INDEX_ABOVE,
    }
}

/// Up to this many matches, sorting them is cheaper than walking past the others.
const SORT_AFTER_FILTERING_UP_TO: i64 = 10_000;

/// Customers inactive since a day were created before it (migration
/// `2026-12-02-000001_activity_follows_creation` keeps last activity at or after creation):
/// said explicitly when the page is sorted by creation, so that the walk of the creation index
/// starts at that day instead of passing every customer created since (the matches all sit at
/// one end of that index: 0.15 s at 1,000,000 for half of them, newest first). The rows are
/// the same.
fn started_at_the_filters_day(
    rows: customers::BoxedQuery<'static, Backend>,
    criteria: &Criteria,
    sort: SortOrder,
) -> customers::BoxedQuery<'static, Backend> {
    match criteria.filters.active_until() {
        Some(until) if matches!(sort, SortOrder::Created | SortOrder::CreatedAsc) => {
            rows.filter(customers::created_at.lt(until))
        }
        _ => rows,
    }
}

/// [`ordered`], but never by walking the sort index: the first key is an expression of the
/// column (the same values, the same collation), which no index provides in order (SQLite's
/// unary `+`; on PostgreSQL an operation that changes nothing).
fn ordered_after_filtering(
    rows: customers::BoxedQuery<'static, Backend>,
    sort: SortOrder,
    dialect: Dialect,
) -> customers::BoxedQuery<'static, Backend> {
    let (last_name, created_at) = match dialect {
        Dialect::Sqlite => ("+customers.last_name", "+customers.created_at"),
        Dialect::Postgres => (
            "(customers.last_name || '')",
            "(customers.created_at + interval '0 seconds')",
        ),
    };
    let last_name = || sql::<Text>(last_name);
    let created_at = || sql::<Timestamp>(created_at);
    match sort {
        SortOrder::Name => rows.order((
            last_name().asc(),
            customers::first_name.asc(),
            customers::id.asc(),
        )),
        SortOrder::NameDesc => rows.order((
            last_name().desc(),
            customers::first_name.desc(),
            customers::id.desc(),
        )),
        SortOrder::Created => rows.order((created_at().desc(), customers::id.desc())),
        SortOrder::CreatedAsc => rows.order((created_at().asc(), customers::id.asc())),
    }
}

pub(super) fn ordered(
    rows: customers::BoxedQuery<'static, Backend>,
    sort: SortOrder,
) -> customers::BoxedQuery<'static, Backend> {
    match sort {
        SortOrder::Name => rows.order((
            customers::last_name.asc(),
            customers::first_name.asc(),
            customers::id.asc(),
        )),
        SortOrder::NameDesc => rows.order((
            customers::last_name.desc(),
            customers::first_name.desc(),
            customers::id.desc(),
        )),
        SortOrder::Created => rows.order((customers::created_at.desc(), customers::id.desc())),
        SortOrder::CreatedAsc => rows.order((customers::created_at.asc(), customers::id.asc())),
    }
}

/// The rows of a page whose ids (in order) are known, each with its tickets (as kept on the
/// customer: trashed ones too).
fn page_rows(conn: &mut DbConn, pagination: Pagination, ids: Vec<i64>) -> QueryResult<ListPage> {
    let dialect = Dialect::of(conn);
    let mut rows: Vec<ListRow> = on_own_connection!(conn, |own| customers::table
        .filter(in_customer_ids(&ids, dialect))
        .select(ListRow::as_select())
        .load(own))?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(ListPage { pagination, rows })
}

/// Of these ids, the ones the filter holds.
pub fn ids_where(conn: &mut DbConn, ids: &[i64], filter: CustomerFilter) -> QueryResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let dialect = Dialect::of(conn);
    customers::table
        .into_boxed()
        .filter(in_customer_ids(ids, dialect))
        .filter(filter)
        .select(customers::id)
        .load(conn)
}

/// The first few names of the customers the filter holds, by name.
pub fn names_where(
    conn: &mut DbConn,
    filter: CustomerFilter,
    limit: i64,
) -> QueryResult<Vec<String>> {
    let rows: Vec<(String, String, String)> = ordered(
        customers::table.into_boxed().filter(filter),
        SortOrder::Name,
    )
    .limit(limit)
    .select((
        customers::first_name,
        customers::last_name,
        customers::email,
    ))
    .load(conn)?;
    // With the email, so that two customers of one name can be told apart.
    Ok(rows
        .into_iter()
        .map(|(first, last, email)| {
            format!("{} <{email}>", crate::domain::full_name(&first, &last))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_or_deep_listings_are_read_from_a_snapshot_unless_too_big_to_keep() {
        assert!(
            !reads_from_listing(CountCache::EXACT_UP_TO, 0),
            "a small list"
        );
        assert!(reads_from_listing(100_000, 0), "page 1 of a big list");
        assert!(reads_from_listing(CountCache::EXACT_UP_TO + 1, 0));
        let too_big = OrderCache::MAX_IDS as i64 + 1;
        assert!(!reads_from_listing(too_big, 75_000));
    }

    #[test]
    fn few_matches_are_sorted_after_filtering() {
        use crate::domain::filters::Filters;
        use crate::domain::list_query::Search;
        let pairs = [("active_before".to_owned(), "2020-12-01".to_owned())];
        let inactive = Criteria::new(Search::default(), Filters::from_pairs(&pairs).0);
        let sqlite = Dialect::Sqlite;
        assert!(sort_after_filtering(&inactive, 5_000, sqlite));
        assert!(!sort_after_filtering(&inactive, 500_000, sqlite));
        let searched = Criteria::new(Search::parse("acme"), inactive.filters.clone());
        assert!(
            !sort_after_filtering(&searched, 10, sqlite),
            "SQLite's search plans itself"
        );
        assert!(!sort_after_filtering(&Criteria::default(), 10, sqlite));
        // PostgreSQL: a search with few matches (its planner misjudges word beginnings).
        let postgres = Dialect::Postgres;
        assert!(sort_after_filtering(&searched, 10, postgres));
        assert!(!sort_after_filtering(&searched, 50_000, postgres));
        assert!(!sort_after_filtering(&inactive, 10, postgres));
    }
}
