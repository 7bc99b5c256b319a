//! Customers in the database. Knows nothing of HTTP.
//!
//! - `search.rs`: the search and the selection as SQL conditions, each backend answering the
//!   search from its trigram index;
//! - `list.rs`: the list (search, sort, deferred-join pages or a slice of a cached listing,
//!   ticket counts, "show selected") and the selection counter's numbers;
//! - `screen.rs`: what a screen asks in one call ([`list_screen`], [`selected_among`],
//!   [`matching_among`]), so that handlers neither build conditions nor work the caches;
//! - `profile.rs`: one customer's profile;
//! - here: [`Customer`], [`find`], [`create`] and [`update`] with case-insensitive email
//!   uniqueness; writes take the [`AppState`], whose list caches they bring up to date;
//! - `listings.rs`: what the list caches ask of the database.
mod criteria;
mod list;
mod listings;
mod profile;
mod screen;
mod search;
mod search_copies;

pub(crate) use search::open_ticket_exists;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{lower, now, on_own_connection, DbConn, Moment};
use crate::domain::customer_form::{FieldErrors, ValidCustomer};
use crate::schema::customers;
use crate::state::AppState;

pub use criteria::{criteria_filter, criteria_filter_planned, filters_filter};
pub use list::{
    count_matching, ids_where, list, matching, may_read_every_customer, names_where, ListPage,
    ListRow, SNAPSHOT_FROM_OFFSET,
};
pub use listings::Listings;
pub use profile::{profile, ChatSummary, NoteSummary, Profile, TicketSummary, PROFILE_ITEMS_SHOWN};
pub use screen::{list_screen, matching_among, selected_among, summarize, ListScreen};
pub use search::{
    has_open_ticket, search_filter, selection_filter, selection_filter_planned, CustomerFilter,
    SearchPlan, EACH_ROW_UP_TO, WALK_SORT_INDEX_ABOVE,
};
pub use search_copies::{among_given, CopiesMade};

type Backend = <DbConn as Connection>::Backend;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customers)]
#[diesel(check_for_backend(Backend))]
pub struct Customer {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub organisation: String,
    pub job_title: String,
    #[diesel(deserialize_as = Moment)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Moment)]
    pub updated_at: NaiveDateTime,
}

impl Customer {
    pub fn full_name(&self) -> String {
        crate::domain::full_name(&self.first_name, &self.last_name)
    }
}

/// Asked by the profile and the edit form: on the backend's own connection (`on_own_connection`).
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Customer>> {
    on_own_connection!(conn, |own| customers::table
        .find(id)
        .select(Customer::as_select())
        .first(own)
        .optional())
}

/// The count for `id` among `(id, count)` pairs; 0 when absent.
fn count_for(counts: &[(i64, i64)], id: i64) -> i64 {
    counts
        .iter()
        .find(|(key, _)| *key == id)
        .map_or(0, |(_, n)| *n)
}

#[derive(Debug, thiserror::Error)]
pub enum CustomerSaveError {
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
fn unique_violation_to_form_error(error: diesel::result::Error) -> CustomerSaveError {
    match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => {
            let mut errors = FieldErrors::default();
            errors.add("email", EMAIL_TAKEN);
            CustomerSaveError::Invalid(errors)
        }
        other => CustomerSaveError::Database(other),
    }
}

fn email_taken_error() -> CustomerSaveError {
    let mut errors = FieldErrors::default();
    errors.add("email", EMAIL_TAKEN);
    CustomerSaveError::Invalid(errors)
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

pub fn create(
    conn: &mut DbConn,
    state: &AppState,
    customer: &ValidCustomer,
) -> Result<i64, CustomerSaveError> {
    let now = now();
    state.write_customers(conn, |conn| {
        if email_taken(conn, customer.email(), None)? {
            return Err(email_taken_error());
        }
        diesel::insert_into(customers::table)
            .values(NewCustomerRow {
                first_name: customer.first_name(),
                last_name: customer.last_name(),
                email: customer.email(),
                phone: customer.phone(),
                organisation: customer.organisation(),
                job_title: customer.job_title(),
                created_at: now,
                updated_at: now,
            })
            .returning(customers::id)
            .get_result(conn)
            .map(|id| (id, vec![id]))
            .map_err(unique_violation_to_form_error)
    })
}

pub fn update(
    conn: &mut DbConn,
    state: &AppState,
    id: i64,
    customer: &ValidCustomer,
) -> Result<(), CustomerSaveError> {
    state.write_customers(conn, |conn| {
        if find(conn, id)?.is_none() {
            return Err(CustomerSaveError::NotFound);
        }
        if email_taken(conn, customer.email(), Some(id))? {
            return Err(email_taken_error());
        }
        diesel::update(customers::table.find(id))
            .set((
                customers::first_name.eq(customer.first_name()),
                customers::last_name.eq(customer.last_name()),
                customers::email.eq(customer.email()),
                customers::phone.eq(customer.phone()),
                customers::organisation.eq(customer.organisation()),
                customers::job_title.eq(customer.job_title()),
                customers::updated_at.eq(now()),
            ))
            .execute(conn)
            .map_err(unique_violation_to_form_error)?;
        Ok(((), vec![id]))
    })
}
