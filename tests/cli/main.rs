//! The command line, run as a user would: migrate, seed and create-user against a fresh SQLite
//! file.

mod delete;
mod helpers;
mod maintenance;
mod retention;
mod setup;
