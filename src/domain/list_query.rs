//! The customers list's query: search, sort, page and page size, parsed from whatever the
//! address bar holds. Anything invalid falls back to a sane value; parsing never fails.

use super::filters::{Criteria, Filters};

/// Longest search the list accepts; the rest of a longer one is ignored.
pub const MAX_SEARCH_CHARS: usize = 200;
/// More words than this add nothing but cost: the rest are ignored.
pub const MAX_SEARCH_WORDS: usize = 6;
pub const PAGE_SIZES: [i64; 3] = [25, 50, 100];
pub const DEFAULT_PAGE_SIZE: i64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    /// Last name, then first name, A to Z.
    #[default]
    Name,
    NameDesc,
    /// Newest first.
    Created,
    CreatedAsc,
}

impl SortOrder {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "name" => Some(Self::Name),
            "-name" => Some(Self::NameDesc),
            "created" => Some(Self::Created),
            "-created" => Some(Self::CreatedAsc),
            _ => None,
        }
    }

    pub fn as_param(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::NameDesc => "-name",
            Self::Created => "created",
            Self::CreatedAsc => "-created",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "Name (A–Z)",
            Self::NameDesc => "Name (Z–A)",
            Self::Created => "Newest first",
            Self::CreatedAsc => "Oldest first",
        }
    }

    pub const ALL: [SortOrder; 4] = [Self::Name, Self::NameDesc, Self::Created, Self::CreatedAsc];
}

/// A normalised search: trimmed, whitespace collapsed, bounded in length and words. Each word
/// must match the first name, last name, email or organisation (case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Search {
    text: String,
}

impl Search {
    pub fn parse(raw: &str) -> Self {
        let words: Vec<&str> = raw
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect();
        let mut text = words.join(" ");
        if let Some((cut, _)) = text.char_indices().nth(MAX_SEARCH_CHARS) {
            text.truncate(cut);
            text = text.trim_end().to_owned();
        }
        Self { text }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The words to match, lower-cased.
    pub fn words(&self) -> Vec<String> {
        self.text
            .split(' ')
            .filter(|w| !w.is_empty())
            .take(MAX_SEARCH_WORDS)
            .map(str::to_lowercase)
            .collect()
    }

    /// `%word%` for SQL LIKE with `\` as the escape character, so `%`, `_` and `\` typed by the
    /// user match themselves.
    pub fn like_pattern(word: &str) -> String {
        let mut pattern = String::with_capacity(word.len() + 2);
        pattern.push('%');
        for ch in word.chars() {
            if matches!(ch, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(ch);
        }
        pattern.push('%');
        pattern
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub search: Search,
    /// With the search, the list's criteria ([`ListQuery::criteria`]).
    pub filters: Filters,
    /// What was ignored in the filters' values, for the page to say.
    pub filter_notes: Vec<String>,
    pub sort: SortOrder,
    /// 1-based; may be past the end until [`Pagination::new`] clamps it.
    pub page: i64,
    pub per_page: i64,
    /// "Show selected": only the customers in the administrator's selection.
    pub only_selected: bool,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            search: Search::default(),
            filters: Filters::default(),
            filter_notes: Vec::new(),
            sort: SortOrder::default(),
            page: 1,
            per_page: DEFAULT_PAGE_SIZE,
            only_selected: false,
        }
    }
}

impl ListQuery {
    /// From decoded query-string pairs; the first of repeated keys wins, unknown keys are ignored.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |key: &str| super::first_value(pairs, key);
        let mut query = Self::default();
        if let Some(q) = get("q") {
            query.search = Search::parse(q);
        }
        if let Some(sort) = get("sort").and_then(SortOrder::parse) {
            query.sort = sort;
        }
        if let Some(page) = get("page").and_then(|p| p.trim().parse::<i64>().ok()) {
            query.page = page.max(1);
        }
        if let Some(size) = get("per_page").and_then(|p| p.trim().parse::<i64>().ok()) {
            if PAGE_SIZES.contains(&size) {
                query.per_page = size;
            }
        }
        query.only_selected = get("selected") == Some("1");
        (query.filters, query.filter_notes) = Filters::from_pairs(pairs);
        query
    }

    /// Who the list shows: the search and the filters.
    pub fn criteria(&self) -> Criteria {
        Criteria::new(self.search.clone(), self.filters.clone())
    }

    /// The first page of this list without one filter (a chip's "remove" link).
    pub fn href_without(&self, param: &str) -> String {
        let less = Self {
            filters: self.filters.without(param),
            ..self.clone()
        };
        less.href_for_page(1)
    }

    /// The query string for this query at another page (defaults left out, to keep links short).
    pub fn href_for_page(&self, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.search.is_empty() {
            pairs.push(("q", self.search.as_str().to_owned()));
        }
        pairs.extend(self.filters.to_pairs());
        if self.sort != SortOrder::default() {
            pairs.push(("sort", self.sort.as_param().to_owned()));
        }
        if self.per_page != DEFAULT_PAGE_SIZE {
            pairs.push(("per_page", self.per_page.to_string()));
        }
        if self.only_selected {
            pairs.push(("selected", "1".to_owned()));
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        let encoded = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if encoded.is_empty() {
            "?".to_owned()
        } else {
            format!("?{encoded}")
        }
    }
}

/// Where a page sits in the whole result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// One entry in the row of page links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageLink {
    Page(i64),
    Gap,
}

impl Pagination {
    /// Clamps the requested page into the result: past the end shows the last page.
    pub fn new(total: i64, requested_page: i64, per_page: i64) -> Self {
        let total = total.max(0);
        let per_page = per_page.max(1);
        let last = ((total + per_page - 1) / per_page).max(1);
        Self {
            total,
            page: requested_page.clamp(1, last),
            per_page,
        }
    }

    pub fn last_page(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// 1-based index of the first row shown (0 when there is none).
    pub fn first_row(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            self.offset() + 1
        }
    }

    pub fn last_row(&self) -> i64 {
        (self.offset() + self.per_page).min(self.total)
    }

    /// "1–50 of 12,345", or `empty` when there is nothing at all.
    pub fn range_text(&self, empty: &str) -> String {
        if self.total == 0 {
            return empty.to_owned();
        }
        format!(
            "{}–{} of {}",
            super::group_thousands(self.first_row()),
            super::group_thousands(self.last_row()),
            super::group_thousands(self.total)
        )
    }

    pub fn previous(&self) -> Option<i64> {
        (self.page > 1).then(|| self.page - 1)
    }

    pub fn next(&self) -> Option<i64> {
        (self.page < self.last_page()).then(|| self.page + 1)
    }

    /// First, last, and two either side of the current page, with gaps: 1 … 4 5 6 7 8 … 247.
    pub fn links(&self) -> Vec<PageLink> {
        let last = self.last_page();
        let mut pages: Vec<i64> = (self.page - 2..=self.page + 2)
            .chain([1, last])
            .filter(|p| (1..=last).contains(p))
            .collect();
        pages.sort_unstable();
        pages.dedup();
        let mut links = Vec::with_capacity(pages.len() + 2);
        let mut previous = 0;
        for page in pages {
            if page > previous + 1 {
                links.push(PageLink::Gap);
            }
            links.push(PageLink::Page(page));
            previous = page;
        }
        links
    }
}

#[cfg(test)]
mod tests;
