//! What goes with a customer: every table whose rows are deleted with one, declared once (as
//! Django admin's Collector knows the related objects of a model). The counts a confirmation
//! shows, the order in which rows are deleted, the wording and the orphan checks all come from
//! [`RELATED`]. A new related table is one entry here plus its migrations (and, if it is to be
//! shown, a count in [`DeletionCounts`](super::deletion_counts::DeletionCounts), its columns in
//! the records, and its count kept on the customer by triggers: migration
//! `2026-12-03-000001_kept_related_counts`).

/// Which count of `DeletionCounts` a table's rows add to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Tickets,
    Chats,
    Notes,
}

/// How the rows of a table are named to the administrator.
#[derive(Debug)]
pub struct Shown {
    pub count: Counted,
    pub one: &'static str,
    pub many: &'static str,
    /// The column of `customers` that keeps how many such rows a customer has (kept by the
    /// table's triggers, never by the app): what a confirmation reads.
    pub kept_in: &'static str,
    /// A nullable column that is set while a row is in the trash: such rows are counted apart
    /// ("7 tickets (2 in the trash)"), and deleted all the same.
    pub trash: Option<Trash>,
}

/// How rows in the trash are told apart, and where their count is kept.
#[derive(Debug)]
pub struct Trash {
    /// Set while the row is in the trash.
    pub column: &'static str,
    /// The column of `customers` that keeps how many of the customer's rows are in the trash.
    pub kept_in: &'static str,
}

/// A table whose rows go with a customer.
#[derive(Debug)]
pub struct RelatedTable {
    pub table: &'static str,
    /// The column holding the parent row's id (the foreign key, `ON DELETE CASCADE`).
    pub key: &'static str,
    /// The parent: `None` for the customer, or the table of an entry declared before this one.
    pub parent: Option<&'static str>,
    /// `None`: the rows go with their parent without being counted on their own (messages).
    pub shown: Option<Shown>,
}

pub const RELATED: &[RelatedTable] = &[
    RelatedTable {
        table: "tickets",
        key: "customer_id",
        parent: None,
        shown: Some(Shown {
            count: Counted::Tickets,
            one: "ticket",
            many: "tickets",
            kept_in: "ticket_count",
            trash: Some(Trash {
                column: "trashed_at",
                kept_in: "trashed_ticket_count",
            }),
        }),
    },
    RelatedTable {
        table: "ticket_messages",
        key: "ticket_id",
        parent: Some("tickets"),
        shown: None,
    },
    RelatedTable {
        table: "chat_conversations",
        key: "customer_id",
        parent: None,
        shown: Some(Shown {
            count: Counted::Chats,
            one: "live chat conversation",
            many: "live chat conversations",
            kept_in: "chat_count",
            trash: None,
        }),
    },
    RelatedTable {
        table: "chat_messages",
        key: "conversation_id",
        parent: Some("chat_conversations"),
        shown: None,
    },
    RelatedTable {
        table: "notes",
        key: "customer_id",
        parent: None,
        shown: Some(Shown {
            count: Counted::Notes,
            one: "note",
            many: "notes",
            kept_in: "note_count",
            trash: None,
        }),
    },
];

/// The entry of a table.
pub fn entry(table: &str) -> &'static RelatedTable {
    RELATED
        .iter()
        .find(|entry| entry.table == table)
        .unwrap_or_else(|| panic!("{table} is not declared in RELATED"))
}

/// The entry shown with this count.
pub fn shown(count: Counted) -> (&'static RelatedTable, &'static Shown) {
    RELATED
        .iter()
        .find_map(|entry| {
            entry
                .shown
                .as_ref()
                .filter(|shown| shown.count == count)
                .map(|shown| (entry, shown))
        })
        .unwrap_or_else(|| panic!("no related table is counted as {count:?}"))
}

/// How many parents up a table is from the customer (1: directly under it).
fn depth(entry: &RelatedTable) -> usize {
    match entry.parent {
        None => 1,
        Some(parent) => 1 + depth(self::entry(parent)),
    }
}

/// The tables in an order that deletes children before their parents.
pub fn delete_order() -> Vec<&'static RelatedTable> {
    let mut order: Vec<&RelatedTable> = RELATED.iter().collect();
    // Stable: among equals, the declared order.
    order.sort_by_key(|entry| std::cmp::Reverse(depth(entry)));
    order
}

/// SQL: the rows of `entry` that belong to the customers whose ids are `customer_ids` (an SQL
/// list or subquery, such as `(1, 2, 3)`), through its parents.
pub fn rows_of_customers_sql(entry: &RelatedTable, customer_ids: &str) -> String {
    match entry.parent {
        None => format!("{} IN {customer_ids}", entry.key),
        Some(parent) => format!(
            "{} IN (SELECT id FROM {parent} WHERE {})",
            entry.key,
            rows_of_customers_sql(self::entry(parent), customer_ids)
        ),
    }
}

/// SQL over `customers`: how many rows of a shown table this customer has (only those in the
/// trash, with `in_trash`), as kept on the customer.
pub fn kept_count_sql(shown: &Shown, in_trash: bool) -> String {
    match (in_trash, &shown.trash) {
        (false, _) => format!("customers.{}", shown.kept_in),
        (true, Some(trash)) => format!("customers.{}", trash.kept_in),
        (true, None) => "CAST(0 AS BIGINT)".to_owned(),
    }
}

/// SQL over `customers`: how many rows of a table directly under the customer this customer
/// has (only in the trash, with `in_trash`), counted in the table (index-only with an index on
/// (key, trash column)): what is deleted with one customer or a batch, checked under its lock.
pub fn count_per_customer_sql(entry: &RelatedTable, in_trash: bool) -> String {
    assert!(
        entry.parent.is_none(),
        "counted per customer: direct children only"
    );
    let trash = match (
        in_trash,
        entry.shown.as_ref().and_then(|s| s.trash.as_ref()),
    ) {
        (true, Some(trash)) => format!(" AND {}.{} IS NOT NULL", entry.table, trash.column),
        (true, None) => " AND 1 = 0".to_owned(),
        (false, _) => String::new(),
    };
    format!(
        "(SELECT COUNT(*) FROM {table} WHERE {table}.{key} = customers.id{trash})",
        table = entry.table,
        key = entry.key
    )
}

/// The kept columns of `customers` with the count each must equal: `(column, count SQL)` for
/// every shown table, and its trash.
pub fn kept_columns() -> Vec<(&'static str, String)> {
    RELATED
        .iter()
        .filter_map(|entry| entry.shown.as_ref().map(|shown| (entry, shown)))
        .flat_map(|(entry, shown)| {
            let trash = shown
                .trash
                .as_ref()
                .map(|trash| (trash.kept_in, count_per_customer_sql(entry, true)));
            std::iter::once((shown.kept_in, count_per_customer_sql(entry, false))).chain(trash)
        })
        .collect()
}

/// SQL: the customers whose kept `column` differs from `count` (there must be none).
pub fn miscounted_sql(column: &str, count: &str) -> String {
    format!("SELECT customers.id FROM customers WHERE customers.{column} <> {count}")
}

/// SQL: sets the kept `column` to `count` where they differ.
pub fn recount_sql(column: &str, count: &str) -> String {
    format!("UPDATE customers SET {column} = {count} WHERE {column} <> {count}")
}

/// SQL: rows of a table whose parent row does not exist (there must be none).
pub fn orphans_sql(entry: &RelatedTable) -> String {
    let parent = entry.parent.unwrap_or("customers");
    format!(
        "SELECT COUNT(*) FROM {table} WHERE NOT EXISTS \
         (SELECT 1 FROM {parent} WHERE {parent}.id = {table}.{key})",
        table = entry.table,
        key = entry.key
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_deleted_before_their_parents() {
        let order: Vec<&str> = delete_order().iter().map(|e| e.table).collect();
        for entry in RELATED {
            if let Some(parent) = entry.parent {
                let child = order.iter().position(|t| *t == entry.table).unwrap();
                let parent = order.iter().position(|t| *t == parent).unwrap();
                assert!(child < parent, "{order:?}");
            }
        }
        assert_eq!(order.len(), RELATED.len());
    }

    #[test]
    fn parents_are_declared_before_their_children() {
        for (n, entry) in RELATED.iter().enumerate() {
            if let Some(parent) = entry.parent {
                assert!(RELATED[..n].iter().any(|e| e.table == parent));
            }
        }
    }

    #[test]
    fn rows_are_found_through_their_parents() {
        assert_eq!(
            rows_of_customers_sql(entry("ticket_messages"), "(1, 2)"),
            "ticket_id IN (SELECT id FROM tickets WHERE customer_id IN (1, 2))"
        );
        assert_eq!(
            count_per_customer_sql(entry("tickets"), true),
            "(SELECT COUNT(*) FROM tickets WHERE tickets.customer_id = customers.id \
             AND tickets.trashed_at IS NOT NULL)"
        );
        let kept: Vec<&str> = kept_columns().iter().map(|(column, _)| *column).collect();
        assert_eq!(
            kept,
            [
                "ticket_count",
                "trashed_ticket_count",
                "chat_count",
                "note_count"
            ]
        );
        assert_eq!(
            kept_count_sql(shown(Counted::Chats).1, true),
            "CAST(0 AS BIGINT)"
        );
        assert_eq!(shown(Counted::Notes).0.table, "notes");
    }
}
