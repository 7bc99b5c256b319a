//! The search and the selection as SQL conditions on customers, each backend answering the
//! search from its own trigram index.

use diesel::dsl::{not, sql};
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::criteria::criteria_filter_planned;
use super::search_copies::copy_of;
pub use super::search_copies::{among_given, CopiesMade};
use super::Backend;
use crate::db::{in_customer_ids, Dialect};
use crate::domain::list_query::Search;
use crate::domain::selection::Selection;
use crate::schema::customers;

/// A condition on customers.
pub type CustomerFilter = Box<dyn BoxableExpression<customers::table, Backend, SqlType = Bool>>;

/// What the search looks in, as PostgreSQL's trigram index has it (migrations/postgres,
/// `customers_search_trgm_idx`): the expression must stay the same for the index to be used.
pub(crate) const PG_SEARCH_TEXT: &str =
    "lower(customers.first_name || ' ' || customers.last_name || ' ' || \
     customers.email || ' ' || customers.organisation)";
/// What the word index has (migrations/postgres, `customers_words_idx`): the same text split
/// into words, the email at `@` and `.` too. The expression must stay the same for the index
/// to be used.
pub(crate) const PG_WORDS_TEXT: &str =
    "to_tsvector('simple', translate(lower(customers.first_name || ' ' || \
     customers.last_name || ' ' || customers.email || ' ' || customers.organisation), '@.', '  '))";
/// The trigram indexes find words of at least this many characters; shorter ones are matched
/// as the beginning of a word, through each backend's word index.
pub(crate) const TRIGRAM: usize = 3;

/// Every word must appear in the first name, last name, email or organisation
/// (case-insensitively). The fields are joined by spaces and words have none, so a word never
/// matches across two fields. Each backend answers from its trigram index. A word of one or
/// two characters is too short for it: it matches customers with a word (of a name, the email
/// split at its punctuation, or the organisation) beginning with it, from each backend's word
/// index; its punctuation is ignored (`o'` is `o`, a word of punctuation only adds nothing).
pub fn search_filter(search: &Search, dialect: Dialect) -> CustomerFilter {
    search_filter_planned(search, dialect, SearchPlan::FromIndex)
}

/// Above this many matches, a page of search results walks the sort index and checks each
/// customer against the search (stopping after the page), rather than fetching and sorting
/// every match. PostgreSQL's planner makes that choice itself; SQLite's is told.
pub const WALK_SORT_INDEX_ABOVE: i64 = 2_000;

/// How SQLite is to answer a search (PostgreSQL's planner chooses for itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchPlan {
    /// The word index lists every match, and the query starts from them.
    FromIndex,
    /// The sort index drives the query: the `+` makes `customers.id` unusable as an index key,
    /// so the word index's matches (listed once) only check each customer walked past.
    WalkSortIndex,
    /// A few given customers, checked in copies of their search text, which only
    /// [`among_given`] makes: about 20 microseconds each, with or without a bulk deletion's
    /// leftovers in the search's own indexes. Listing every match instead costs 30-45 ms at
    /// 1,000,000 customers for a broad search (`a`), for each check of a changed customer or
    /// of a page's ids.
    EachRow(CopiesMade),
}

/// Up to this many given customers are checked in copies ([`among_given`]): at most a few
/// milliseconds. More (a selection holds up to 10,000 picked ids) are checked against the
/// list of matches, which a narrow search keeps short.
pub const EACH_ROW_UP_TO: usize = 200;

impl SearchPlan {
    /// The plan for reading matches in sort order (a page, the first names of a confirmation):
    /// walking the sort index when many match.
    pub fn for_sorted(many_matches: bool) -> Self {
        if many_matches {
            Self::WalkSortIndex
        } else {
            Self::FromIndex
        }
    }

    /// `FTS MATCH ?` as a condition on `customers`, planned.
    fn sqlite_match(self, table: &str, query: String) -> CustomerFilter {
        let before = match self {
            Self::FromIndex => {
                format!("customers.id IN (SELECT rowid FROM {table} WHERE {table} MATCH ")
            }
            Self::WalkSortIndex => {
                format!("+customers.id IN (SELECT rowid FROM {table} WHERE {table} MATCH ")
            }
            Self::EachRow(_) => {
                let copy = copy_of(table);
                format!("customers.id IN (SELECT rowid FROM temp.{copy} WHERE {copy} MATCH ")
            }
        };
        Box::new(sql::<Bool>(&before).bind::<Text, _>(query).sql(")"))
    }
}

pub(crate) fn search_filter_planned(
    search: &Search,
    dialect: Dialect,
    plan: SearchPlan,
) -> CustomerFilter {
    let words = search.words();
    let mut filter: CustomerFilter = Box::new(true.into_sql::<Bool>());
    let and = |filter: CustomerFilter, next: CustomerFilter| -> CustomerFilter {
        Box::new(filter.and(next))
    };
    let (indexed, short): (Vec<&String>, Vec<&String>) =
        words.iter().partition(|w| w.chars().count() >= TRIGRAM);
    let prefixes: Vec<String> = short.iter().flat_map(|w| word_prefixes(w)).collect();
    match dialect {
        Dialect::Postgres => {
            if !prefixes.is_empty() {
                // Letters and digits only (word_prefixes), so nothing in it is tsquery syntax.
                let query = prefixes
                    .iter()
                    .map(|p| format!("{p}:*"))
                    .collect::<Vec<_>>()
                    .join(" & ");
                let in_index = sql::<Bool>(PG_WORDS_TEXT)
                    .sql(" @@ to_tsquery('simple', ")
                    .bind::<Text, _>(query)
                    .sql(")");
                filter = and(filter, Box::new(in_index));
            }
            for word in indexed {
                let word_matches = sql::<Text>(PG_SEARCH_TEXT)
                    .like(Search::like_pattern(word))
                    .escape('\\');
                filter = and(filter, Box::new(word_matches));
            }
        }
        Dialect::Sqlite => {
            if !indexed.is_empty() {
                // FTS5 phrases, quoted (a quote doubled): "acme" AND "bob".
                let query = indexed
                    .iter()
                    .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                filter = and(filter, plan.sqlite_match("customer_search", query));
            }
            if !prefixes.is_empty() {
                // FTS5 prefix queries, quoted: "an"* AND "b"*.
                let query = prefixes
                    .iter()
                    .map(|p| format!("\"{p}\"*"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                filter = and(filter, plan.sqlite_match("customer_words", query));
            }
        }
    }
    filter
}

/// The word beginnings a short search word stands for: its runs of letters and digits (`o'`
/// is `o`; `%` is none).
pub fn word_prefixes(word: &str) -> Vec<String> {
    word.split(|c: char| !c.is_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The customer has at least one open ticket (domain/ticket.rs: not in the trash, neither solved
/// nor closed), answered from the partial index `tickets_customer_open_idx` (customer_id, status)
/// WHERE trashed_at IS NULL.
pub fn has_open_ticket(dialect: Dialect) -> CustomerFilter {
    Box::new(sql::<Bool>(&open_ticket_exists(dialect)))
}

/// `EXISTS (…)` over `customers`: the SQL of [`has_open_ticket`], also selectable as a column.
pub(crate) fn open_ticket_exists(dialect: Dialect) -> String {
    let open = crate::domain::ticket::OPEN_TICKET
        .replace("trashed_at", "tickets.trashed_at")
        .replace("status", "tickets.status");
    // SQLite's planner, without statistics, prefers (customer_id, trashed_at) for `trashed_at IS
    // NULL` and then reads each ticket's status: five times slower at 100 k (0.7 s against 0.14 s
    // from a partial index).
    let tickets = match dialect {
        Dialect::Sqlite => "tickets INDEXED BY tickets_customer_open_idx",
        Dialect::Postgres => "tickets",
    };
    format!("EXISTS (SELECT 1 FROM {tickets} WHERE tickets.customer_id = customers.id AND {open})")
}

/// The customers a selection holds, as one SQL condition: (matching the "All" criteria, search
/// and filters, and not excluded) or ticked one by one.
pub fn selection_filter(selection: &Selection, dialect: Dialect) -> CustomerFilter {
    selection_filter_planned(selection, dialect, SearchPlan::FromIndex)
}

/// The selection's condition, its search planned as `plan` says.
pub fn selection_filter_planned(
    selection: &Selection,
    dialect: Dialect,
    plan: SearchPlan,
) -> CustomerFilter {
    let all: Option<CustomerFilter> = selection.all.as_ref().map(|all| {
        let matching = criteria_filter_planned(&all.criteria(), dialect, plan);
        if all.excluded.is_empty() {
            matching
        } else {
            let excluded: Vec<i64> = all.excluded.iter().copied().collect();
            let excluded = in_customer_ids(&excluded, dialect);
            Box::new(matching.and(not(excluded))) as CustomerFilter
        }
    });
    let picked: Option<CustomerFilter> = (!selection.ids.is_empty()).then(|| {
        let ids: Vec<i64> = selection.ids.iter().copied().collect();
        Box::new(in_customer_ids(&ids, dialect)) as CustomerFilter
    });
    match (all, picked) {
        (Some(all), Some(picked)) => Box::new(all.or(picked)),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => Box::new(false.into_sql::<Bool>()),
    }
}
