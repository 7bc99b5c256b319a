//! The list caches of an app instance: totals of large searches ([`CountCache`]) and big
//! listings in order ([`OrderCache`]), both built on one single-flight core, and how many of a
//! selection's picked customers exist ([`PickedCounts`]). Pure: they know
//! nothing of HTTP or SQL.

mod chunked;
pub mod count;
mod held;
pub mod order;
mod picked;
pub mod reconcile;
mod single_flight;

pub use chunked::ChunkedIds;
pub use count::CountCache;
pub use order::{ListingKey, OrderCache};
pub use picked::PickedCounts;

/// The list caches a page is read with, shared by the whole instance (in `AppState`).
#[derive(Debug, Default)]
pub struct ListCaches {
    pub counts: CountCache,
    pub orders: OrderCache,
    pub picked: PickedCounts,
}
