//! The list's filters, and with the search its criteria, as SQL conditions on customers. Each
//! is answered from an index: `lower(organisation)`, `(created_at, id)`, `(last_active_at, id)`,
//! and for tickets an `EXISTS` on the partial index of tickets not in the trash
//! (`tickets_customer_open_idx`, migrations `2026-12-01-000001_last_active`).

use diesel::dsl::{not, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::search::{
    has_open_ticket, open_ticket_exists, search_filter_planned, CustomerFilter, SearchPlan,
};
use crate::db::{lower, Dialect};
use crate::domain::filters::{Criteria, Filters, TicketsFilter};
use crate::schema::customers;

/// Who the criteria hold: the search and every filter (AND).
pub fn criteria_filter(criteria: &Criteria, dialect: Dialect) -> CustomerFilter {
    criteria_filter_planned(criteria, dialect, SearchPlan::FromIndex)
}

/// The criteria, their search planned as `plan` says.
pub fn criteria_filter_planned(
    criteria: &Criteria,
    dialect: Dialect,
    plan: SearchPlan,
) -> CustomerFilter {
    let search = search_filter_planned(&criteria.search, dialect, plan);
    if criteria.filters.is_empty() {
        search
    } else {
        Box::new(search.and(filters_filter(&criteria.filters, dialect)))
    }
}

/// Every filter that is set, as one condition (`true` when none is).
pub fn filters_filter(filters: &Filters, dialect: Dialect) -> CustomerFilter {
    let mut filter: CustomerFilter = Box::new(true.into_sql::<Bool>());
    let and = |filter: CustomerFilter, next: CustomerFilter| -> CustomerFilter {
        Box::new(filter.and(next))
    };
    // Both sides through the database's own lower(), so that the comparison is the one its
    // index on lower(organisation) holds (SQLite lowers ASCII only).
    if let Some(name) = &filters.organisation {
        let same = lower(customers::organisation).eq(lower(name.clone().into_sql::<Text>()));
        filter = and(filter, Box::new(same));
    }
    if let Some(name) = &filters.organisation_not {
        let other = lower(customers::organisation).ne(lower(name.clone().into_sql::<Text>()));
        filter = and(filter, Box::new(other));
    }
    if let Some(from) = filters.created_from() {
        filter = and(filter, Box::new(customers::created_at.ge(from)));
    }
    if let Some(until) = filters.created_until() {
        filter = and(filter, Box::new(customers::created_at.lt(until)));
    }
    if let Some(until) = filters.active_until() {
        filter = and(filter, Box::new(customers::last_active_at.lt(until)));
    }
    if let Some(tickets) = filters.tickets {
        let condition: CustomerFilter = match tickets {
            TicketsFilter::None => Box::new(not(sql::<Bool>(
                "EXISTS (SELECT 1 FROM tickets WHERE tickets.customer_id = customers.id)",
            ))),
            TicketsFilter::Open => has_open_ticket(dialect),
            TicketsFilter::NoOpen => Box::new(not(sql::<Bool>(&open_ticket_exists(dialect)))),
        };
        filter = and(filter, condition);
    }
    filter
}
