//! Commands of the binary beyond serving: each parses its flags and calls the library.

pub mod delete;
pub mod retention;
mod ops;

pub use ops::*;
