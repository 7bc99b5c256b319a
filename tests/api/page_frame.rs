//! What frames every page: the icon (public, so that browsers asking for /favicon.ico before
//! signing in get it), the header of a signed-in person kept on error pages, no breadcrumb for
//! signed-out visitors, and no caching of anything that shows customers.

use crate::helpers::{spawn_app, Backend, Browser, ADMIN_NAME};
use crate::on_both_backends;

on_both_backends!(icon_header_and_error_pages);

async fn icon_header_and_error_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let visitor = Browser::new(&app.address);
    for path in ["/favicon.ico", "/static/icon.svg"] {
        let icon = visitor.get(path).await;
        icon.assert_status(200);
        assert_eq!(icon.headers["content-type"], "image/svg+xml", "{path}");
        assert!(icon.body.starts_with("<svg"), "{path}");
    }
    // Anonymous: the sign-in page links the icon and shows no breadcrumb.
    let login = visitor.get("/login").await;
    login
        .assert_status(200)
        .assert_contains(r#"rel="icon" href="/static/icon.svg""#);
    login.assert_lacks("Breadcrumb");
    // An anonymous 404 has no account area either.
    let missing = visitor.get("/favicon.png").await;
    missing.assert_lacks("Sign out");

    // Signed in: pages link the icon, and error pages keep the header.
    let list = app.get("/people/customers").await;
    list.assert_contains(r#"rel="icon""#)
        .assert_contains("Breadcrumb");
    assert_eq!(list.headers["cache-control"], "no-store");
    for (path, status) in [
        ("/people/customers/999999999", 404),
        ("/people/customers/abc", 400),
        ("/no/such/page", 404),
    ] {
        let page = app.get(path).await;
        page.assert_status(status)
            .assert_contains("Sign out")
            .assert_contains(ADMIN_NAME)
            .assert_contains("Deletion history")
            .assert_contains(r#"rel="icon""#);
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
    }
}
