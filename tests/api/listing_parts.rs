//! On PostgreSQL a big listing is read in parts (its client library would hold the whole result
//! first): each part starts after the last id of the one before, in the sort's order. The parts
//! must add up to exactly the listing one query reads, ties in every sort column included.

use chrono::NaiveDate;
use customer_desk::cache::reconcile::ListingSource;
use customer_desk::customers::Listings;
use customer_desk::domain::list_query::SortOrder;
use customer_desk::schema::customers;
use diesel::prelude::*;

use crate::helpers::{spawn_app, Backend};
use crate::on_both_backends;

on_both_backends!(a_listing_read_in_parts_is_the_listing_read_at_once);

async fn a_listing_read_in_parts_is_the_listing_read_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    // Few names and three creation times, so that most neighbours tie on all but the id.
    let mut ids = Vec::new();
    for n in 0..36 {
        let first = ["Ann", "Bob", "Cy"][n % 3];
        let last = ["Adams", "Byron", "Young", "Adams"][n % 4];
        let email = format!("{}.{}.{n}@example.com", first, last).to_lowercase();
        ids.push(app.add_customer(first, last, &email, "").await);
    }
    let built = app
        .db(move |conn| {
            for (n, id) in ids.iter().enumerate() {
                let day = NaiveDate::from_ymd_opt(2026, 1, 1 + (n % 3) as u32).unwrap();
                diesel::update(customers::table.find(id))
                    .set(customers::created_at.eq(day.and_hms_opt(9, 0, 0).unwrap()))
                    .execute(conn)
                    .unwrap();
            }
            let mut listings = Listings { conn };
            let mut built = Vec::new();
            for q in ["", "a", "adams"] {
                for sort in [
                    SortOrder::Name,
                    SortOrder::NameDesc,
                    SortOrder::Created,
                    SortOrder::CreatedAsc,
                ] {
                    let key = (format!("{q}\u{0}"), sort);
                    let whole = listings.build(&key).unwrap();
                    for part in [1, 2, 5, 9, whole.len() as i64, whole.len() as i64 + 1] {
                        let parts = listings.built_in_parts(&key, part).unwrap();
                        assert_eq!(parts, whole, "q={q:?} {sort:?}, parts of {part}");
                    }
                    built.push((q, sort, whole));
                }
            }
            built
        })
        .await;
    for (q, sort, whole) in built {
        let expected = match q {
            "" => 36,
            // Words beginning with "a": Ann (12), Adams (18), both (6).
            "a" => 24,
            _ => 18,
        };
        assert_eq!(whole.len(), expected, "q={q:?} {sort:?}");
    }
}
