//! Integration tests: the real app over HTTP, like a browser without JavaScript, on SQLite and
//! PostgreSQL (TEST_POSTGRES_URL, else a throwaway server; see helpers/postgres.rs).

mod helpers;
mod in_place;
mod instances;

mod access;
mod backup_before_bulk;
mod bad_input;
mod browser;
mod bulk_confirmation;
mod bulk_deletion;
mod chrome;
mod crash;
mod customer_forms;
mod customers_list;
mod deletion_jobs;
mod deletion_rules;
mod exact_confirmation;
mod exact_pages;
mod filters;
mod filters_deletion;
mod local_times;
mod observability;
mod operations;
mod page_frame;
mod profile;
mod responsive;
mod retention;
mod retention_browser;
mod retention_jobs;
mod retention_runs;
mod screenshots;
mod search_plan;
mod seeding;
mod sessionless;
mod sessions;
mod short_search;
mod sign_in;
mod sign_in_limits;
mod single_deletion;
mod skip_open_tickets;
mod small_deletion;
mod stop_deletion;
mod takeover;
mod text_input;
mod tick_bursts;
