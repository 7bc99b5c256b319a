//! The list form's POST: saves the page's boxes, then applies the control that was used.

use actix_web::{web, Either, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::bulk::{bulk_confirmation, BulkNotice, BulkPage};
use super::SelectionBar;
use crate::customers;
use crate::db::DbPool;
use crate::domain::filters::{Criteria, Filters};
use crate::domain::first_value;
use crate::domain::list_query::{ListQuery, Search};
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::customers::list::show_selected_href;
use crate::web::{is_htmx, see_other, with_db, AppError, Flash, Layout, TypedSession};

/// Rows a page can have (the largest page size): a longer list is not from our form.
const MAX_PAGE_ROWS: usize = 100;

#[derive(Template, WebTemplate)]
#[template(path = "customers/selection_bar.html")]
pub struct SelectionBarTemplate {
    bar: SelectionBar,
}

/// A local list address to go back to: only a query string of the list.
fn list_address(query: &str) -> String {
    match query.starts_with('?') {
        true => crate::web::local_address::or_fallback(&format!("/people/customers{query}")),
        false => crate::web::local_address::FALLBACK.to_owned(),
    }
}

/// The list a `return_to` query string stands for.
fn list_query(return_to: &str) -> ListQuery {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(return_to.trim_start_matches('?')).unwrap_or_default();
    ListQuery::from_pairs(&pairs)
}

/// The control of the list form that was used (its `action` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Keep the page's boxes as they are (also a page link or the default).
    Save,
    /// One row's box changed (with JavaScript): set only that customer, as its box is now.
    Tick,
    /// Tick every row of the page.
    PageAll,
    /// Untick every row of the page.
    PageNone,
    /// Select everything matching the search.
    All,
    /// Empty the selection ("none" from the menu, "clear" from the bar).
    Clear,
    /// Save the boxes and open the bulk confirmation.
    Delete,
}

impl Action {
    /// Anything unknown (`save`, `goto`) keeps the boxes as they are.
    fn parse(value: &str) -> Self {
        match value {
            "page_all" => Self::PageAll,
            "page_none" => Self::PageNone,
            "all" => Self::All,
            "none" | "clear" => Self::Clear,
            "delete" => Self::Delete,
            "tick" => Self::Tick,
            _ => Self::Save,
        }
    }
}

/// The list form: the page's boxes, and which control was used.
struct SelectionForm {
    action: Action,
    ticked: Vec<i64>,
    page: Vec<i64>,
    /// With `Tick`: the row whose box changed (one of the page's).
    tick: Option<i64>,
    /// The list's criteria (its search and filters, as hidden fields): what "All" selects.
    criteria: Criteria,
    return_to: String,
    goto: Option<String>,
}

impl SelectionForm {
    fn parse(pairs: &[(String, String)]) -> Result<Self, AppError> {
        let get = |key: &str| first_value(pairs, key);
        let page: Vec<i64> = get("page_ids")
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.trim().parse::<i64>())
            .collect::<Result<_, _>>()
            .map_err(|_| AppError::BadRequest("The list form's rows could not be read.".into()))?;
        if page.len() > MAX_PAGE_ROWS {
            return Err(AppError::BadRequest(
                "The list form has too many rows.".into(),
            ));
        }
        let ticked: Vec<i64> = pairs
            .iter()
            .filter(|(k, _)| k == "ids")
            .filter_map(|(_, v)| v.parse::<i64>().ok())
            .filter(|id| page.contains(id))
            .collect();
        let action = Action::parse(get("action").unwrap_or("save"));
        let tick = match action {
            Action::Tick => Some(
                get("tick")
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    .filter(|id| page.contains(id))
                    .ok_or_else(|| {
                        AppError::BadRequest("The ticked row is not one of the list's.".into())
                    })?,
            ),
            _ => None,
        };
        Ok(Self {
            action,
            tick,
            ticked,
            page,
            criteria: Criteria::new(
                Search::parse(get("q").unwrap_or("")),
                Filters::from_pairs(pairs).0,
            ),
            return_to: get("return_to").unwrap_or("?").to_owned(),
            goto: get("goto").map(str::to_owned),
        })
    }
}

/// What the list form's POST answers: a redirect (or htmx's refresh), the bar, or for htmx's
/// "delete" the confirmation.
type Updated = Either<HttpResponse, Either<SelectionBarTemplate, BulkPage>>;

/// POST from the list: saves the page's boxes, then applies the control that was used. Without
/// JavaScript every control (page links too) submits this form, so moving on never loses ticks.
// Extractors, one per argument: what the handler needs from the request and the app.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    _admin: Admin,
    request: HttpRequest,
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: TypedSession,
    layout: Layout,
    form: web::Form<Vec<(String, String)>>,
) -> Result<Updated, AppError> {
    let form = SelectionForm::parse(&form)?;
    let mut selection = session.selection();
    // Whether each row of the page matches the "All" criteria decides how a tick is kept.
    let in_scope: Vec<i64> = match &selection.all {
        Some(all) => {
            let criteria = all.criteria();
            let page = form.page.clone();
            with_db(&pool, move |conn| {
                customers::matching_among(conn, &page, &criteria)
            })
            .await?
        }
        None => Vec::new(),
    };
    // "All" keeps the customers picked before that its criteria do not cover.
    let picked_outside: Vec<i64> = match form.action {
        Action::All if !selection.ids.is_empty() => {
            let picked: Vec<i64> = selection.ids.iter().copied().collect();
            let criteria = form.criteria.clone();
            let inside = with_db(&pool, move |conn| {
                customers::matching_among(conn, &picked, &criteria)
            })
            .await?;
            selection
                .ids
                .iter()
                .copied()
                .filter(|id| !inside.contains(id))
                .collect()
        }
        _ => Vec::new(),
    };
    let rows = |selected: &dyn Fn(i64) -> bool| -> Vec<(i64, bool, bool)> {
        form.page
            .iter()
            .map(|&id| (id, in_scope.contains(&id), selected(id)))
            .collect()
    };
    let changed = match form.action {
        Action::PageAll => selection.set_rows(&rows(&|_| true)),
        Action::PageNone => selection.set_rows(&rows(&|_| false)),
        Action::All => {
            selection.select_all_matching(&form.criteria, &picked_outside);
            Ok(())
        }
        Action::Clear => {
            selection.clear();
            Ok(())
        }
        // A change of one box, merged into the newest saved selection: requests that overlap or
        // arrive out of order cannot undo each other's ticks.
        Action::Tick => match form.tick {
            Some(id) => selection.set(id, in_scope.contains(&id), form.ticked.contains(&id)),
            None => Ok(()),
        },
        Action::Save | Action::Delete => selection.set_rows(&rows(&|id| form.ticked.contains(&id))),
    };
    let error = changed.err().map(|e| e.to_string());
    if error.is_none() {
        session.set_selection(&selection)?;
        session.set_list(&list_address(&form.return_to));
    }

    if form.action == Action::Delete && error.is_none() {
        if is_htmx(&request) {
            let page =
                bulk_confirmation(&request, &pool, layout, &selection, false, BulkNotice::None)
                    .await?;
            return Ok(Either::Right(Either::Right(page)));
        }
        return Ok(Either::Left(see_other(
            "/people/customers/selection/delete",
        )));
    }
    let htmx = is_htmx(&request);
    if let (true, Some(error)) = (htmx, &error) {
        // The boxes on the page no longer show the truth: reload with the message.
        session.set_flash(Flash::error(error.clone()));
        return Ok(Either::Left(
            HttpResponse::Ok()
                .insert_header(("HX-Refresh", "true"))
                .finish(),
        ));
    }
    // A tick answers with the counter; the other controls go on to the redirect below, which
    // htmx follows and whose list region it swaps in place.
    if htmx && form.action == Action::Tick {
        let version = selection.version;
        let summary = with_db(&pool, move |conn| {
            customers::summarize(conn, &selection, &state.caches)
        })
        .await?;
        let mut bar = SelectionBar::new(&summary, None).at(version);
        bar.show_selected_href = show_selected_href(&list_query(&form.return_to));
        return Ok(Either::Right(Either::Left(SelectionBarTemplate { bar })));
    }
    if let Some(error) = error {
        session.set_flash(Flash::error(error));
    }
    // A page link of the form was the submit button: go there, with the boxes saved.
    let target = match &form.goto {
        Some(goto) => list_address(goto),
        None => list_address(&form.return_to),
    };
    Ok(Either::Left(see_other(&target)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions() {
        assert_eq!(Action::parse("page_all"), Action::PageAll);
        assert_eq!(Action::parse("none"), Action::Clear);
        assert_eq!(Action::parse("clear"), Action::Clear);
        assert_eq!(Action::parse("goto"), Action::Save);
        assert_eq!(Action::parse("delete"), Action::Delete);
        assert_eq!(Action::parse("tick"), Action::Tick);
    }
}
