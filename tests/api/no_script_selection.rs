//! The list's selection in a browser without JavaScript (the UX review): boxes ticked on a list
//! of one page reach the confirmation through Delete, which the server never disables; Enter in
//! a box presses the form's default button, which saves the boxes and nothing more; Cancel and
//! a finished deletion go back to the list the boxes were ticked on, filters and sort included.

use scraper::{Html, Selector};

use crate::helpers::{spawn_app, Backend, ListForm, Page};
use crate::on_both_backends;
use crate::small_deletion::confirm_and_finish;

on_both_backends!(ticked_boxes_of_one_page_are_deleted_and_the_list_is_kept);

fn first<'a>(page: &'a Html, css: &str) -> scraper::ElementRef<'a> {
    page.select(&Selector::parse(css).unwrap())
        .next()
        .unwrap_or_else(|| panic!("no {css}"))
}

fn attribute(page: &Page, css: &str, name: &str) -> Option<String> {
    let document = Html::parse_document(&page.body);
    first(&document, css).value().attr(name).map(str::to_owned)
}

async fn ticked_boxes_of_one_page_are_deleted_and_the_list_is_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 0..3 {
        app.add_customer(
            "Kept",
            &format!("Acme{n}"),
            &format!("k{n}@acme.example"),
            "Acme",
        )
        .await;
    }
    app.add_customer("Other", "Person", "o@globex.example", "Globex")
        .await;
    let list = "/people/customers?organisation=acme&sort=created";
    let page = app.get(list).await;
    page.assert_status(200);
    // Nothing selected yet: Delete is still a button that works without JavaScript.
    assert_eq!(
        attribute(&page, "#selection-bar button.trash", "disabled"),
        None
    );
    // What Enter in a box presses: the first submit button of the form, "save".
    assert_eq!(
        attribute(&page, "form#selection-form button[type=submit]", "value").as_deref(),
        Some("save")
    );

    // Two boxes ticked, then Enter: saved, back on the same list.
    let mut form = ListForm::from_page(&page);
    let ids = form.ids();
    assert_eq!(ids.len(), 3);
    form.tick(ids[0], true).tick(ids[1], true);
    let saved = form.submit(&app.admin, Some(("action", "save"))).await;
    saved.assert_status(303);
    let back = saved.location.clone().unwrap();
    assert!(
        back.contains("organisation=acme") && back.contains("sort=created"),
        "{back}"
    );
    assert_eq!(
        ListForm::from_page(&app.get(&back).await).ticked(),
        ids[..2]
    );

    // Delete: the confirmation of those two, whose Cancel goes back to the filtered list.
    let page = app.get(list).await;
    let deleting = ListForm::from_page(&page)
        .submit(&app.admin, Some(("action", "delete")))
        .await;
    deleting.assert_status(303);
    let confirmation = app.get(deleting.location.as_deref().unwrap()).await;
    confirmation
        .assert_status(200)
        .assert_contains("Permanently delete 2 customers?");
    assert_eq!(
        attribute(&confirmation, "a[data-close-dialog]", "href").as_deref(),
        Some(back.as_str()),
        "Cancel goes back to the list the boxes were ticked on"
    );

    // Confirmed: deleted in the request, and back on the filtered list with the flash.
    let finished = confirm_and_finish(&app).await;
    assert_eq!(finished.list, back);
    let rest = ListForm::from_page(&app.get(list).await);
    assert_eq!(rest.ids(), vec![ids[2]]);
    assert_eq!(app.row_counts().await.customers, 2);
}
