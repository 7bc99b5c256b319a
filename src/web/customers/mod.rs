//! People › Customers, one file per screen: the list, a profile, the add and edit form, and
//! single deletion. The routes are in `web::configure`.

pub mod delete;
pub mod form;
pub mod list;
pub mod profile;

use super::AppError;

fn not_found() -> AppError {
    AppError::not_found("There is no customer with this id. It may have been deleted.")
}
