//! Commands of the binary beyond serving: each parses its flags and calls the library.

pub mod delete;
pub mod logging;
mod ops;
pub mod retention;

pub use ops::*;
