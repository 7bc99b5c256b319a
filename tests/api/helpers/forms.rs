//! Reading forms out of pages as a browser would: parsed as HTML (with `scraper`), so attribute
//! order, quoting and whitespace in the templates do not matter, and values come back unescaped.

use scraper::{ElementRef, Html, Selector};

use super::{Browser, Page};

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e}"))
}

/// The first element matching `css` in the document.
fn first<'a>(document: &'a Html, css: &str) -> Option<ElementRef<'a>> {
    document.select(&selector(css)).next()
}

/// The value of the first input named `name` inside `form` (`""` when it has no value).
pub fn input_value(form: ElementRef<'_>, name: &str) -> Option<String> {
    form.select(&selector(&format!(r#"input[name="{name}"]"#)))
        .next()
        .map(|input| input.value().attr("value").unwrap_or_default().to_owned())
}

/// The CSRF token of the first form on the page that carries one.
pub(super) fn csrf_token_of(body: &str) -> Option<String> {
    let document = Html::parse_document(body);
    first(&document, r#"input[name="csrf_token"]"#)
        .map(|input| input.value().attr("value").unwrap_or_default().to_owned())
}

/// The customers list's selection form as a browser without JavaScript would submit it.
#[derive(Debug, Clone)]
pub struct ListForm {
    pub fields: Vec<(String, String)>,
    /// Row checkboxes on the page, and whether each is ticked.
    pub rows: Vec<(i64, bool)>,
}

impl ListForm {
    pub fn from_page(page: &Page) -> Self {
        let document = Html::parse_document(&page.body);
        let form =
            first(&document, "form#selection-form").expect("the page has the selection form");
        let mut fields: Vec<(String, String)> = ["csrf_token", "q", "return_to", "page_ids"]
            .iter()
            .map(|name| {
                (
                    name.to_string(),
                    input_value(form, name).unwrap_or_default(),
                )
            })
            .collect();
        // The list's filters, carried as hidden fields when set.
        for name in customer_desk::domain::filters::PARAMS {
            if let Some(value) = input_value(form, name) {
                fields.push((name.to_string(), value));
            }
        }
        let rows = form
            .select(&selector(r#"input.row-check[name="ids"]"#))
            .map(|input| {
                let input = input.value();
                let id = input
                    .attr("value")
                    .and_then(|v| v.parse().ok())
                    .expect("a row checkbox carries its customer id");
                (id, input.attr("checked").is_some())
            })
            .collect();
        Self { fields, rows }
    }

    pub fn ids(&self) -> Vec<i64> {
        self.rows.iter().map(|(id, _)| *id).collect()
    }

    pub fn ticked(&self) -> Vec<i64> {
        self.rows
            .iter()
            .filter(|(_, t)| *t)
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn tick(&mut self, id: i64, on: bool) -> &mut Self {
        let row = self
            .rows
            .iter_mut()
            .find(|(r, _)| *r == id)
            .expect("row on the page");
        row.1 = on;
        self
    }

    /// Submits with the given submit button (`("action", "all")`, `("goto", "?page=2")`, …).
    pub async fn submit(&self, browser: &Browser, button: Option<(&str, &str)>) -> Page {
        let mut fields = self.fields.clone();
        fields.extend(
            self.ticked()
                .iter()
                .map(|id| ("ids".to_owned(), id.to_string())),
        );
        if let Some((name, value)) = button {
            fields.push((name.to_owned(), value.to_owned()));
        }
        browser
            .post_fields("/people/customers/selection", &fields)
            .await
    }
}

/// The hidden fields of the bulk confirmation form on a page.
pub fn bulk_confirmation_fields(page: &Page) -> Vec<(String, String)> {
    confirmation_fields(page, "/people/customers/selection/delete")
}

/// The hidden fields of a confirmation form posting to `action` (the bulk confirmation's, or a
/// retention rule's activation): every hidden input, as a browser submits them.
pub fn confirmation_fields(page: &Page, action: &str) -> Vec<(String, String)> {
    let document = Html::parse_document(&page.body);
    let form = first(&document, &format!(r#"form[action="{action}"]"#))
        .unwrap_or_else(|| panic!("the page has a form posting to {action}:\n{}", page.body));
    let fields: Vec<(String, String)> = form
        .select(&selector(r#"input[type="hidden"]"#))
        .filter_map(|input| {
            let input = input.value();
            Some((
                input.attr("name")?.to_owned(),
                input.attr("value").unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    for needed in ["csrf_token", "token", "count", "digest"] {
        assert!(
            fields.iter().any(|(name, _)| name == needed),
            "hidden field {needed}"
        );
    }
    fields
}

/// The page's flash message: its text (whitespace collapsed) and the address of its link, if
/// it has one.
pub fn flash_of(page: &Page) -> Option<(String, Option<String>)> {
    let document = Html::parse_document(&page.body);
    let flash = first(&document, "main > .flash")?;
    let text = flash.text().collect::<String>();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let link = flash
        .select(&selector("a[href]"))
        .next()
        .and_then(|a| a.value().attr("href"))
        .map(str::to_owned);
    Some((text, link))
}
