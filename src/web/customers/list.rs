//! The customer list: search, sort, pages, and (for administrators) the selection's boxes.

use actix_web::{web, HttpRequest};
use askama::Template;
use askama_web::WebTemplate;

use crate::customers::{self, ListScreen};
use crate::db::DbPool;
use crate::domain::filters::TicketsFilter;
use crate::domain::group_thousands;
use crate::domain::list_query::{ListQuery, PageLink, SortOrder, PAGE_SIZES};
use crate::domain::selection::PageState;
use crate::jobs::Job;
use crate::state::AppState;
use crate::web::filters;
use crate::web::selection::{all_label, SelectionBar};
use crate::web::{with_db, AppError, Layout, TypedSession};

struct RowView {
    id: i64,
    selected: bool,
    name: String,
    /// "AL" for Ada Lovelace, for the avatar.
    initials: String,
    email: String,
    organisation: String,
    tickets: i64,
    created: chrono::NaiveDateTime,
}

/// A filter in use, and the list without it.
struct ChipView {
    label: String,
    remove_href: String,
}

struct PageLinkView {
    number: Option<i64>,
    href: String,
    current: bool,
}

/// The first letter of each name, upper-cased ("?" when both are empty).
fn initials(first: &str, last: &str) -> String {
    let letters: String = [first, last]
        .iter()
        .filter_map(|name| name.trim().chars().next())
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".to_owned()
    } else {
        letters
    }
}

/// A sortable column's header: the link that sorts by it (or reverses it) and its `aria-sort`.
struct SortHeader {
    href: String,
    aria: &'static str,
    mark: &'static str,
}

impl SortHeader {
    /// `ascending`/`descending`: the orders by this column; a click on the header picks the
    /// column's first order, or the other one when the list is already in the first.
    fn new(query: &ListQuery, first: SortOrder, second: SortOrder) -> Self {
        let (aria, mark) = match query.sort {
            s if s == first => (aria_of(first), mark_of(first)),
            s if s == second => (aria_of(second), mark_of(second)),
            _ => ("none", ""),
        };
        let mut target = query.clone();
        target.sort = if query.sort == first { second } else { first };
        Self {
            href: target.href_for_page(1),
            aria,
            mark,
        }
    }
}

fn aria_of(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Name | SortOrder::CreatedAsc => "ascending",
        SortOrder::NameDesc | SortOrder::Created => "descending",
    }
}

fn mark_of(order: SortOrder) -> &'static str {
    match aria_of(order) {
        "ascending" => " ▲",
        _ => " ▼",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/list.html")]
pub struct ListTemplate {
    layout: Layout,
    is_admin: bool,
    bar: SelectionBar,
    page_state: PageState,
    all_label: String,
    return_to: String,
    page_ids: String,
    jobs: Vec<Job>,
    query: ListQuery,
    /// The filters as the list form's hidden fields, so that "All" selects with them.
    filter_pairs: Vec<(&'static str, String)>,
    chips: Vec<ChipView>,
    clear_filters_href: String,
    /// "“acme”, Organisation is “Acme”" for the empty list.
    criteria_text: String,
    filter_organisation: String,
    filter_organisation_not: String,
    filter_created_after: String,
    filter_created_before: String,
    filter_active_before: String,
    tickets_options: [TicketsFilter; 3],
    sort_options: [SortOrder; 4],
    page_sizes: [i64; 3],
    range_text: String,
    rows: Vec<RowView>,
    pages: Vec<PageLinkView>,
    previous_href: Option<String>,
    next_href: Option<String>,
    name_header: SortHeader,
    created_header: SortHeader,
    /// After the whole page is ticked, on a list with more pages: "Select all 12,345 customers".
    select_all_prompt: Option<String>,
}

/// How long a list filtered by activity or tickets waits for its turn before a 503.
const UNCACHED_LIST_PATIENCE: std::time::Duration = std::time::Duration::from_secs(8);

pub async fn list(
    request: HttpRequest,
    pool: web::Data<DbPool>,
    state: web::Data<AppState>,
    session: TypedSession,
    layout: Layout,
) -> Result<ListTemplate, AppError> {
    // Decoded leniently: invalid UTF-8 becomes U+FFFD and bad values fall back to defaults.
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    let mut query = ListQuery::from_pairs(&pairs);
    let is_admin = layout.is_admin();
    // Only administrators select; for agents "Show selected" means nothing.
    query.only_selected &= is_admin;
    let selection = is_admin.then(|| session.selection());
    let version = selection.as_ref().map_or(0, |s| s.version);
    // A list whose page or total may read every customer waits for its turn (one at a time),
    // at most a few seconds.
    let _turn = if customers::may_read_every_customer(&query.criteria(), &state.caches) {
        Some(
            state
                .uncached_lists
                .turn(UNCACHED_LIST_PATIENCE)
                .await
                .ok_or_else(|| {
                    AppError::Busy(
                        "Other lists filtered by activity or tickets are being counted right \
                         now. Try again in a moment, or narrow the list with a search or \
                         another filter."
                            .to_owned(),
                    )
                })?,
        )
    } else {
        None
    };
    let for_db = query.clone();
    let for_db_state = state.clone();
    let ListScreen {
        page,
        selected_on_page,
        summary,
        all_count,
        jobs,
    } = with_db(&pool, move |conn| {
        customers::list_screen(conn, &for_db, selection.as_ref(), &for_db_state.caches)
    })
    .await?;
    let p = page.pagination;
    let pages = p
        .links()
        .into_iter()
        .map(|link| match link {
            PageLink::Page(n) => PageLinkView {
                number: Some(n),
                href: query.href_for_page(n),
                current: n == p.page,
            },
            PageLink::Gap => PageLinkView {
                number: None,
                href: String::new(),
                current: false,
            },
        })
        .collect();
    let rows: Vec<RowView> = page
        .rows
        .into_iter()
        .map(|row| RowView {
            id: row.id,
            selected: selected_on_page.contains(&row.id),
            name: crate::domain::full_name(&row.first_name, &row.last_name),
            initials: initials(&row.first_name, &row.last_name),
            created: row.created_at,
            email: row.email,
            organisation: row.organisation,
            tickets: row.tickets,
        })
        .collect();
    let page_ids = rows
        .iter()
        .map(|r| r.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let page_state = PageState::of(rows.iter().map(|r| r.selected));
    let criteria_text = query.criteria().describe();
    let select_all_prompt = (is_admin
        && page_state == PageState::Checked
        && p.last_page() > 1
        && summary.all.is_none())
    .then(|| match criteria_text.is_empty() {
        true => format!("Select all {} customers", group_thousands(all_count)),
        false => format!(
            "Select all {} matching {criteria_text}",
            group_thousands(all_count)
        ),
    });
    let mut bar = SelectionBar::new(&summary, None).at(version);
    bar.show_selected_href = show_selected_href(&query);
    let chips = query
        .filters
        .chips()
        .into_iter()
        .map(|chip| ChipView {
            remove_href: query.href_without(chip.param),
            label: chip.label,
        })
        .collect();
    let filters = &query.filters;
    let day_field = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    Ok(ListTemplate {
        select_all_prompt,
        is_admin,
        filter_pairs: filters.to_pairs(),
        chips,
        clear_filters_href: ListQuery {
            filters: Default::default(),
            ..query.clone()
        }
        .href_for_page(1),
        criteria_text,
        filter_organisation: filters.organisation.clone().unwrap_or_default(),
        filter_organisation_not: filters.organisation_not.clone().unwrap_or_default(),
        filter_created_after: day_field(filters.created_after),
        filter_created_before: day_field(filters.created_before),
        filter_active_before: day_field(filters.active_before),
        tickets_options: TicketsFilter::ALL,
        bar,
        page_state,
        all_label: all_label(all_count),
        return_to: query.href_for_page(p.page),
        page_ids,
        jobs,
        layout,
        sort_options: SortOrder::ALL,
        page_sizes: PAGE_SIZES,
        range_text: p.range_text("No customers"),
        rows,
        pages,
        previous_href: p.previous().map(|n| query.href_for_page(n)),
        next_href: p.next().map(|n| query.href_for_page(n)),
        name_header: SortHeader::new(&query, SortOrder::Name, SortOrder::NameDesc),
        created_header: SortHeader::new(&query, SortOrder::Created, SortOrder::CreatedAsc),
        query,
    })
}

/// "Show selected" from this list: its first page with only the selection, keeping the search,
/// filters, sort and page size.
pub fn show_selected_href(query: &ListQuery) -> String {
    let selected = ListQuery {
        only_selected: true,
        ..query.clone()
    };
    format!("/people/customers{}", selected.href_for_page(1))
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("Ada", "Lovelace"), "AL");
        assert_eq!(initials("élodie", ""), "É");
        assert_eq!(initials(" ", ""), "?");
    }
}
