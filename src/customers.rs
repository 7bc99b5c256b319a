//! Customers in the database: the list with search, sort and pages; one customer's profile; add
//! and edit. Knows nothing of HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, not, sql};
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::db::{lower, now, write_transaction, DbConn, Dialect};
use crate::domain::customer_form::{FieldErrors, ValidCustomer};
use crate::domain::list_query::{ListQuery, Pagination, Search, SortOrder};
use crate::domain::selection::{Selection, SelectionSummary};
use crate::lock;
use crate::order_cache::{customers_changed, OrderCache};
use crate::schema::{
    chat_conversations, chat_messages, customers, notes, ticket_messages, tickets,
};

type Backend = <DbConn as Connection>::Backend;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customers)]
pub struct Customer {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub organisation: String,
    pub job_title: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Customer {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// One row of the customers list.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub customer: Customer,
    pub tickets: i64,
}

pub struct ListPage {
    pub pagination: Pagination,
    pub rows: Vec<ListRow>,
}

/// A condition on customers, over any query source that has the customers' columns (the table
/// itself, or a join of tickets, chats or notes to it).
pub type Filter<QS> = Box<dyn BoxableExpression<QS, Backend, SqlType = Bool>>;
pub type CustomerFilter = Filter<customers::table>;

/// What the search looks in, as PostgreSQL's trigram index has it (migrations/postgres,
/// `customers_search_trgm_idx`): the expression must stay the same for the index to be used.
const PG_SEARCH_TEXT: &str = "lower(customers.first_name || ' ' || customers.last_name || ' ' || \
     customers.email || ' ' || customers.organisation)";
/// The SQLite trigram table (migrations/sqlite) finds words of at least this many characters.
const TRIGRAM: usize = 3;

/// Every word must appear in the first name, last name, email or organisation
/// (case-insensitively). The fields are joined by spaces and words have none, so a word never
/// matches across two fields. Each backend answers from its trigram index; words too short for
/// it are matched by scanning.
pub fn search_filter<QS: 'static>(search: &Search, dialect: Dialect) -> Filter<QS>
where
    customers::id: SelectableExpression<QS>,
    customers::first_name: SelectableExpression<QS>,
    customers::last_name: SelectableExpression<QS>,
    customers::email: SelectableExpression<QS>,
    customers::organisation: SelectableExpression<QS>,
{
    search_filter_planned(search, dialect, false)
}

/// Above this many matches, a page of search results walks the sort index and checks each
/// customer against the search (stopping after the page), rather than fetching and sorting
/// every match. PostgreSQL's planner makes that choice itself; SQLite's is told.
pub const WALK_SORT_INDEX_ABOVE: i64 = 2_000;

/// `walk_sort_index`: on SQLite, keep the trigram table from driving the query (the `+`
/// makes `customers.id` unusable as an index key), so that the sort index does.
fn search_filter_planned<QS: 'static>(
    search: &Search,
    dialect: Dialect,
    walk_sort_index: bool,
) -> Filter<QS>
where
    customers::id: SelectableExpression<QS>,
    customers::first_name: SelectableExpression<QS>,
    customers::last_name: SelectableExpression<QS>,
    customers::email: SelectableExpression<QS>,
    customers::organisation: SelectableExpression<QS>,
{
    let words = search.words();
    let mut filter: Filter<QS> = Box::new(true.into_sql::<Bool>());
    let and = |filter: Filter<QS>, next: Filter<QS>| -> Filter<QS> { Box::new(filter.and(next)) };
    match dialect {
        Dialect::Postgres => {
            for word in &words {
                let word_matches = sql::<Text>(PG_SEARCH_TEXT)
                    .like(Search::like_pattern(word))
                    .escape('\\');
                filter = and(filter, Box::new(word_matches));
            }
        }
        Dialect::Sqlite => {
            let (indexed, short): (Vec<&String>, Vec<&String>) =
                words.iter().partition(|w| w.chars().count() >= TRIGRAM);
            if !indexed.is_empty() {
                // FTS5 phrases, quoted (a quote doubled): "acme" AND "bob".
                let query = indexed
                    .iter()
                    .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let in_index = sql::<Bool>(if walk_sort_index {
                    "+customers.id IN (SELECT rowid FROM customer_search WHERE customer_search MATCH "
                } else {
                    "customers.id IN (SELECT rowid FROM customer_search WHERE customer_search MATCH "
                })
                .bind::<Text, _>(query)
                .sql(")");
                filter = and(filter, Box::new(in_index));
            }
            for word in short {
                let pattern = Search::like_pattern(word);
                let word_matches = lower(customers::first_name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(customers::last_name)
                        .like(pattern.clone())
                        .escape('\\'))
                    .or(lower(customers::email).like(pattern.clone()).escape('\\'))
                    .or(lower(customers::organisation).like(pattern).escape('\\'));
                filter = and(filter, Box::new(word_matches));
            }
        }
    }
    filter
}

/// The customers a selection holds, as one SQL condition: (matching the "All" search and not
/// excluded) or ticked one by one.
pub fn selection_filter<QS: 'static>(selection: &Selection, dialect: Dialect) -> Filter<QS>
where
    customers::id: SelectableExpression<QS>,
    customers::first_name: SelectableExpression<QS>,
    customers::last_name: SelectableExpression<QS>,
    customers::email: SelectableExpression<QS>,
    customers::organisation: SelectableExpression<QS>,
{
    selection_filter_planned(selection, dialect, false)
}

/// The selection's condition, planned as [`search_filter_planned`] for reading it in sort order.
pub fn selection_filter_planned<QS: 'static>(
    selection: &Selection,
    dialect: Dialect,
    walk_sort_index: bool,
) -> Filter<QS>
where
    customers::id: SelectableExpression<QS>,
    customers::first_name: SelectableExpression<QS>,
    customers::last_name: SelectableExpression<QS>,
    customers::email: SelectableExpression<QS>,
    customers::organisation: SelectableExpression<QS>,
{
    let all: Option<Filter<QS>> = selection.all.as_ref().map(|all| {
        let matching =
            search_filter_planned::<QS>(&Search::parse(&all.search), dialect, walk_sort_index);
        if all.excluded.is_empty() {
            matching
        } else {
            let excluded: Vec<i64> = all.excluded.iter().copied().collect();
            Box::new(matching.and(not(customers::id.eq_any(excluded)))) as Filter<QS>
        }
    });
    let picked: Option<Filter<QS>> = (!selection.ids.is_empty()).then(|| {
        let ids: Vec<i64> = selection.ids.iter().copied().collect();
        Box::new(customers::id.eq_any(ids)) as Filter<QS>
    });
    match (all, picked) {
        (Some(all), Some(picked)) => Box::new(all.or(picked)),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => Box::new(false.into_sql::<Bool>()),
    }
}

/// Totals of large results, kept briefly: on a big table, exact counting is what a list page
/// costs most. Totals up to [`CountCache::EXACT_UP_TO`] are always counted; larger ones may lag
/// up to [`CountCache::TTL`] behind (a little more while one request recounts and the others
/// keep the last total). Shared by the whole instance.
#[derive(Debug, Default)]
pub struct CountCache {
    entries: Mutex<HashMap<String, Arc<CountEntry>>>,
}

#[derive(Debug, Default)]
struct CountEntry {
    cached: Mutex<Option<CachedCount>>,
    /// Held by the one request counting a search that has no total yet: on a cold start, 20
    /// requests for the same big list must not each count a million rows.
    counting: Mutex<()>,
}

#[derive(Debug, Clone, Copy)]
struct CachedCount {
    count: i64,
    counted: Instant,
    recounting: bool,
}

impl CountCache {
    pub const EXACT_UP_TO: i64 = 1_000;
    pub const TTL: Duration = Duration::from_secs(5);
    const MAX_ENTRIES: usize = 1_000;

    /// The number of customers matching the search, from the cache when fresh.
    pub fn matching(&self, conn: &mut DbConn, search: &Search) -> QueryResult<i64> {
        let entry = self.entry(search.as_str());
        let stale = {
            let mut cached = lock(&entry.cached);
            match cached.as_mut() {
                Some(c) if c.counted.elapsed() < Self::TTL || c.recounting => return Ok(c.count),
                Some(c) => {
                    // This request recounts; the others keep the last total meanwhile.
                    c.recounting = true;
                    true
                }
                None => false,
            }
        };
        let _counting = if stale {
            None
        } else {
            let guard = lock(&entry.counting);
            if let Some(c) = *lock(&entry.cached) {
                return Ok(c.count); // counted while this request waited
            }
            Some(guard)
        };
        let counted = count_matching(conn, search);
        let mut cached = lock(&entry.cached);
        *cached = match &counted {
            Ok(count) if *count > Self::EXACT_UP_TO => Some(CachedCount {
                count: *count,
                counted: Instant::now(),
                recounting: false,
            }),
            _ => None,
        };
        counted
    }

    fn entry(&self, search: &str) -> Arc<CountEntry> {
        let mut entries = lock(&self.entries);
        if let Some(entry) = entries.get(search) {
            return entry.clone();
        }
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, entry| {
                Arc::strong_count(entry) > 1
                    || lock(&entry.cached).is_some_and(|c| c.counted.elapsed() < Self::TTL)
            });
        }
        let entry = Arc::new(CountEntry::default());
        if entries.len() < Self::MAX_ENTRIES {
            entries.insert(search.to_owned(), entry.clone());
        }
        entry
    }
}

/// The list's rows: the search, and with `only` just the customers it holds ("Show selected").
fn listed(
    search: &Search,
    only: Option<&Selection>,
    dialect: Dialect,
) -> customers::BoxedQuery<'static, Backend> {
    listed_planned(search, only, dialect, false)
}

fn listed_planned(
    search: &Search,
    only: Option<&Selection>,
    dialect: Dialect,
    walk_sort_index: bool,
) -> customers::BoxedQuery<'static, Backend> {
    let query = customers::table
        .into_boxed()
        .filter(search_filter_planned::<customers::table>(
            search,
            dialect,
            walk_sort_index,
        ));
    match only {
        Some(selection) => query.filter(selection_filter::<customers::table>(selection, dialect)),
        None => query,
    }
}

pub fn count_matching(conn: &mut DbConn, search: &Search) -> QueryResult<i64> {
    listed(search, None, Dialect::of(conn))
        .select(count_star())
        .get_result(conn)
}

/// From this many rows in, a page of the plain list is read from an [`OrderCache`] snapshot
/// rather than by walking the sort index up to its offset.
pub const SNAPSHOT_FROM_OFFSET: i64 = 1_000;

/// The list caches a page is read with, shared by the whole instance.
#[derive(Debug, Default)]
pub struct ListCaches {
    pub counts: CountCache,
    pub orders: OrderCache,
}

pub fn list(
    conn: &mut DbConn,
    query: &ListQuery,
    only: Option<&Selection>,
    caches: &ListCaches,
) -> QueryResult<ListPage> {
    let dialect = Dialect::of(conn);
    let key = (query.search.as_str().to_owned(), query.sort);
    let held = only.is_none() && caches.orders.holds(&key);
    let total = match only {
        _ if held => 0, // the listing's length is the total
        None => caches.counts.matching(conn, &query.search)?,
        Some(_) => listed(&query.search, only, dialect)
            .select(count_star())
            .get_result(conn)?,
    };
    let mut pagination = Pagination::new(total, query.page, query.per_page);
    let many_matches = !query.search.is_empty() && total > WALK_SORT_INDEX_ABOVE;
    // Many matches, or deep in the list: read the page from the listing in order, so that its
    // cost does not grow with the number of matches or the depth.
    let ids: Vec<i64> = if held
        || (only.is_none() && reads_from_listing(total, many_matches, pagination.offset()))
    {
        let listing = caches.orders.ids(key, || {
            ordered(listed(&query.search, None, dialect), query.sort)
                .select(customers::id)
                .load::<i64>(conn)
        })?;
        pagination = Pagination::new(listing.len() as i64, query.page, query.per_page);
        listing
            .iter()
            .skip(pagination.offset() as usize)
            .take(pagination.per_page as usize)
            .copied()
            .collect()
    } else {
        // Deferred join: find the page's ids first (an index-only walk over the sort index),
        // then fetch just those rows.
        ordered(
            listed_planned(&query.search, only, dialect, many_matches),
            query.sort,
        )
        .select(customers::id)
        .limit(pagination.per_page)
        .offset(pagination.offset())
        .load(conn)?
    };
    page_rows(conn, pagination, ids)
}

/// Whether a page of the plain list (no "show selected") is read from an [`OrderCache`]
/// snapshot: with many matches or deep in the list, unless the listing is too big to keep (it
/// would be dropped as soon as built, and rebuilt by every page).
fn reads_from_listing(total: i64, many_matches: bool, offset: i64) -> bool {
    total <= OrderCache::MAX_IDS as i64 && (many_matches || offset >= SNAPSHOT_FROM_OFFSET)
}

fn ordered(
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

/// The rows of a page whose ids (in order) are known.
fn page_rows(conn: &mut DbConn, pagination: Pagination, ids: Vec<i64>) -> QueryResult<ListPage> {
    let mut page: Vec<Customer> = customers::table
        .filter(customers::id.eq_any(&ids))
        .select(Customer::as_select())
        .load(conn)?;
    page.sort_by_key(|c| ids.iter().position(|id| *id == c.id));
    let ticket_counts: Vec<(i64, i64)> = tickets::table
        .filter(tickets::customer_id.eq_any(&ids))
        .group_by(tickets::customer_id)
        .select((tickets::customer_id, count_star()))
        .load(conn)?;
    let rows = page
        .into_iter()
        .map(|customer| {
            let tickets = count_for(&ticket_counts, customer.id);
            ListRow { customer, tickets }
        })
        .collect();
    Ok(ListPage { pagination, rows })
}

/// The counter's numbers for a selection. With "All", the matching total comes from the cache
/// and the rest from primary-key lookups, so a big "All" costs no scan per page view.
pub fn summarize(
    conn: &mut DbConn,
    selection: &Selection,
    counts: &CountCache,
) -> QueryResult<SelectionSummary> {
    if selection.is_empty() {
        return Ok(SelectionSummary::default());
    }
    let picked: Vec<i64> = selection.ids.iter().copied().collect();
    let Some(all) = &selection.all else {
        let selected = ids_where(conn, &picked, Box::new(true.into_sql::<Bool>()))?.len() as i64;
        return Ok(SelectionSummary {
            selected,
            picked: picked.len(),
            ..Default::default()
        });
    };
    let search = Search::parse(&all.search);
    let matching = counts.matching(conn, &search)?;
    let excluded: Vec<i64> = all.excluded.iter().copied().collect();
    let excluded_matching =
        ids_where(conn, &excluded, search_filter(&search, Dialect::of(conn)))?.len() as i64;
    let picked_outside = ids_where(
        conn,
        &picked,
        Box::new(not(search_filter(&search, Dialect::of(conn)))),
    )?
    .len() as i64;
    Ok(SelectionSummary {
        selected: matching - excluded_matching + picked_outside,
        all: Some((search.as_str().to_owned(), matching)),
        excluded: excluded.len(),
        picked: picked.len(),
    })
}

/// Of these ids, the ones the filter holds.
pub fn ids_where(conn: &mut DbConn, ids: &[i64], filter: CustomerFilter) -> QueryResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    customers::table
        .into_boxed()
        .filter(customers::id.eq_any(ids.to_vec()))
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
    let rows: Vec<(String, String)> = ordered(
        customers::table.into_boxed().filter(filter),
        SortOrder::Name,
    )
    .limit(limit)
    .select((customers::first_name, customers::last_name))
    .load(conn)?;
    Ok(rows.into_iter().map(|(f, l)| format!("{f} {l}")).collect())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Customer>> {
    customers::table
        .find(id)
        .select(Customer::as_select())
        .first(conn)
        .optional()
}

/// How many of a customer's tickets, chats and notes a profile shows; the counts are exact.
pub const PROFILE_ITEMS_SHOWN: i64 = 50;

#[derive(Debug, Clone)]
pub struct TicketSummary {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub in_trash: bool,
    pub created_at: NaiveDateTime,
    pub messages: i64,
}

#[derive(Debug, Clone)]
pub struct ChatSummary {
    pub id: i64,
    pub started_at: NaiveDateTime,
    pub messages: i64,
}

#[derive(Debug, Clone, Queryable)]
pub struct NoteSummary {
    pub id: i64,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub struct Profile {
    pub customer: Customer,
    pub ticket_count: i64,
    pub tickets_in_trash: i64,
    pub tickets: Vec<TicketSummary>,
    pub chat_count: i64,
    pub chats: Vec<ChatSummary>,
    pub note_count: i64,
    pub notes: Vec<NoteSummary>,
}

pub fn profile(conn: &mut DbConn, id: i64) -> QueryResult<Option<Profile>> {
    let Some(customer) = find(conn, id)? else {
        return Ok(None);
    };
    let ticket_count = tickets::table
        .filter(tickets::customer_id.eq(id))
        .count()
        .get_result(conn)?;
    let tickets_in_trash = tickets::table
        .filter(tickets::customer_id.eq(id))
        .filter(tickets::trashed_at.is_not_null())
        .count()
        .get_result(conn)?;
    let ticket_rows: Vec<(i64, String, String, Option<NaiveDateTime>, NaiveDateTime)> =
        tickets::table
            .filter(tickets::customer_id.eq(id))
            .order((tickets::created_at.desc(), tickets::id.desc()))
            .limit(PROFILE_ITEMS_SHOWN)
            .select((
                tickets::id,
                tickets::subject,
                tickets::status,
                tickets::trashed_at,
                tickets::created_at,
            ))
            .load(conn)?;
    let ticket_ids: Vec<i64> = ticket_rows.iter().map(|t| t.0).collect();
    let message_counts: Vec<(i64, i64)> = ticket_messages::table
        .filter(ticket_messages::ticket_id.eq_any(&ticket_ids))
        .group_by(ticket_messages::ticket_id)
        .select((ticket_messages::ticket_id, count_star()))
        .load(conn)?;
    let tickets = ticket_rows
        .into_iter()
        .map(
            |(id, subject, status, trashed_at, created_at)| TicketSummary {
                id,
                subject,
                status,
                in_trash: trashed_at.is_some(),
                created_at,
                messages: count_for(&message_counts, id),
            },
        )
        .collect();

    let chat_count = chat_conversations::table
        .filter(chat_conversations::customer_id.eq(id))
        .count()
        .get_result(conn)?;
    let chat_rows: Vec<(i64, NaiveDateTime)> = chat_conversations::table
        .filter(chat_conversations::customer_id.eq(id))
        .order((
            chat_conversations::started_at.desc(),
            chat_conversations::id.desc(),
        ))
        .limit(PROFILE_ITEMS_SHOWN)
        .select((chat_conversations::id, chat_conversations::started_at))
        .load(conn)?;
    let chat_ids: Vec<i64> = chat_rows.iter().map(|c| c.0).collect();
    let chat_message_counts: Vec<(i64, i64)> = chat_messages::table
        .filter(chat_messages::conversation_id.eq_any(&chat_ids))
        .group_by(chat_messages::conversation_id)
        .select((chat_messages::conversation_id, count_star()))
        .load(conn)?;
    let chats = chat_rows
        .into_iter()
        .map(|(id, started_at)| ChatSummary {
            id,
            started_at,
            messages: count_for(&chat_message_counts, id),
        })
        .collect();

    let note_count = notes::table
        .filter(notes::customer_id.eq(id))
        .count()
        .get_result(conn)?;
    let notes = notes::table
        .filter(notes::customer_id.eq(id))
        .order((notes::created_at.desc(), notes::id.desc()))
        .limit(PROFILE_ITEMS_SHOWN)
        .select((notes::id, notes::body, notes::created_at))
        .load(conn)?;

    Ok(Some(Profile {
        customer,
        ticket_count,
        tickets_in_trash,
        tickets,
        chat_count,
        chats,
        note_count,
        notes,
    }))
}

fn count_for(counts: &[(i64, i64)], id: i64) -> i64 {
    counts
        .iter()
        .find(|(key, _)| *key == id)
        .map_or(0, |(_, n)| *n)
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the form has errors")]
    Invalid(FieldErrors),
    #[error("no such customer")]
    NotFound,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

const EMAIL_TAKEN: &str = "Another customer already has this email address.";

fn email_taken(conn: &mut DbConn, email: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut query = customers::table
        .filter(lower(customers::email).eq(email.to_lowercase()))
        .select(customers::id)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(customers::id.ne(id));
    }
    Ok(query.first::<i64>(conn).optional()?.is_some())
}

/// The unique index on lower(email) is the last word when two saves race past the check.
fn unique_violation_to_form_error(error: diesel::result::Error) -> SaveError {
    match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => {
            let mut errors = FieldErrors::default();
            errors.add("email", EMAIL_TAKEN);
            SaveError::Invalid(errors)
        }
        other => SaveError::Database(other),
    }
}

fn email_taken_error() -> SaveError {
    let mut errors = FieldErrors::default();
    errors.add("email", EMAIL_TAKEN);
    SaveError::Invalid(errors)
}

#[derive(Insertable)]
#[diesel(table_name = customers)]
struct NewCustomerRow<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    phone: &'a str,
    organisation: &'a str,
    job_title: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

pub fn create(conn: &mut DbConn, customer: &ValidCustomer) -> Result<i64, SaveError> {
    let now = now();
    let id = write_transaction(conn, |conn| {
        if email_taken(conn, &customer.email, None)? {
            return Err(email_taken_error());
        }
        diesel::insert_into(customers::table)
            .values(NewCustomerRow {
                first_name: &customer.first_name,
                last_name: &customer.last_name,
                email: &customer.email,
                phone: &customer.phone,
                organisation: &customer.organisation,
                job_title: &customer.job_title,
                created_at: now,
                updated_at: now,
            })
            .returning(customers::id)
            .get_result(conn)
            .map_err(unique_violation_to_form_error)
    })?;
    customers_changed();
    Ok(id)
}

pub fn update(conn: &mut DbConn, id: i64, customer: &ValidCustomer) -> Result<(), SaveError> {
    write_transaction(conn, |conn| {
        if find(conn, id)?.is_none() {
            return Err(SaveError::NotFound);
        }
        if email_taken(conn, &customer.email, Some(id))? {
            return Err(email_taken_error());
        }
        diesel::update(customers::table.find(id))
            .set((
                customers::first_name.eq(&customer.first_name),
                customers::last_name.eq(&customer.last_name),
                customers::email.eq(&customer.email),
                customers::phone.eq(&customer.phone),
                customers::organisation.eq(&customer.organisation),
                customers::job_title.eq(&customer.job_title),
                customers::updated_at.eq(now()),
            ))
            .execute(conn)
            .map_err(unique_violation_to_form_error)?;
        Ok(())
    })?;
    customers_changed();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_or_deep_listings_are_read_from_a_snapshot_unless_too_big_to_keep() {
        assert!(
            !reads_from_listing(100_000, false, 0),
            "page 1 of the plain list"
        );
        assert!(!reads_from_listing(
            100_000,
            false,
            SNAPSHOT_FROM_OFFSET - 50
        ));
        assert!(reads_from_listing(100_000, false, SNAPSHOT_FROM_OFFSET));
        assert!(
            reads_from_listing(100_000, true, 0),
            "page 1 of many matches"
        );
        let too_big = OrderCache::MAX_IDS as i64 + 1;
        assert!(!reads_from_listing(too_big, true, 75_000));
    }
}
