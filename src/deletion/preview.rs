//! What a confirmation shows before anything is deleted, for one customer or a selection: who,
//! and what goes with them. Knows nothing of HTTP.

use diesel::connection::DefaultLoadingMode;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::{counts_for, related_of, DeleteError, RelatedSums};
use crate::customers::{
    names_where, open_ticket_exists, selection_filter, selection_filter_planned, SearchPlan,
    WALK_SORT_INDEX_ABOVE,
};
use crate::db::{DbConn, Dialect};
use crate::domain::deletion_counts::DeletionCounts;
use crate::domain::ids::CustomerId;
use crate::domain::selection::Selection;
use crate::jobs::confirmation::{candidates, summed, to_delete, unfinished_jobs, Confirmed};
use crate::schema::customers;

/// Who is about to be deleted; only what the confirmation shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerName {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    /// Shown beside the name, so that two customers of one name can be told apart.
    pub email: String,
}

impl CustomerName {
    pub fn full(&self) -> String {
        crate::domain::full_name(&self.first_name, &self.last_name)
    }
}

/// What a confirmation shows before anything is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinglePreview {
    pub customer: CustomerName,
    pub counts: DeletionCounts,
}

fn name_of(conn: &mut DbConn, id: i64) -> QueryResult<Option<CustomerName>> {
    customers::table
        .find(id)
        .select((
            customers::id,
            customers::first_name,
            customers::last_name,
            customers::email,
        ))
        .first::<(i64, String, String, String)>(conn)
        .optional()
        .map(|row| {
            row.map(|(id, first_name, last_name, email)| CustomerName {
                id,
                first_name,
                last_name,
                email,
            })
        })
}

pub fn preview_single(conn: &mut DbConn, id: CustomerId) -> Result<SinglePreview, DeleteError> {
    let customer = name_of(conn, id.0)?.ok_or(DeleteError::NotFound)?;
    let counts = counts_for(conn, &[id.0])?;
    Ok(SinglePreview { customer, counts })
}

/// What the bulk confirmation shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPreview {
    /// The customers to delete (without those kept for an open ticket, when skipping them).
    pub confirmed: Confirmed,
    /// The first few names of the customers to delete, by name.
    pub names: Vec<String>,
    pub skip_open_tickets: bool,
}

impl BulkPreview {
    /// Customers selected, before any were kept for an open ticket.
    pub fn selected(&self) -> i64 {
        self.confirmed.customers() + self.confirmed.kept
    }
}

/// The confirmation's numbers: what goes with the selection (one pass of index-only counts),
/// the digest of its ids, and the first names. With `skip_open_tickets`, customers with an open
/// ticket are counted as kept and left out of the rest.
pub fn preview_bulk(
    conn: &mut DbConn,
    selection: &Selection,
    skip_open_tickets: bool,
) -> QueryResult<BulkPreview> {
    let dialect = Dialect::of(conn);
    let busy = unfinished_jobs(conn)?;
    // Whether each customer is kept: only asked of the database when skipping.
    let kept = if skip_open_tickets {
        open_ticket_exists(dialect)
    } else {
        "1 = 0".to_owned()
    };
    // One pass in id order: every customer with what goes with it, hashed and summed as it is
    // read, so that the counts shown always belong to the digest sent.
    let confirmed = summed(
        customers::table
            .filter(candidates(selection_filter(selection, dialect), &busy))
            .order(customers::id.asc())
            .select((customers::id, related_of(), sql::<Bool>(&kept)))
            .load_iter::<(i64, RelatedSums, bool), DefaultLoadingMode>(conn)?,
    )?;
    let count = confirmed.customers();
    let walk = count > WALK_SORT_INDEX_ABOVE;
    let names = names_where(
        conn,
        to_delete(
            selection_filter_planned(selection, dialect, SearchPlan::for_sorted(walk)),
            &busy,
            skip_open_tickets,
            dialect,
        ),
        3,
    )?;
    Ok(BulkPreview {
        confirmed,
        names,
        skip_open_tickets,
    })
}
