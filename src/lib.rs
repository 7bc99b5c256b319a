//! Customer Desk: the People › Customers area of a help desk.

pub mod accounts;
pub mod customers;
pub mod db;
pub mod deletion;
pub mod domain;
pub mod jobs;
pub mod order_cache;
pub mod pacing;
pub mod schema;
pub mod seed;
pub mod session_store;
pub mod startup;
pub mod web;
