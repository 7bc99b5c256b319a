use chrono::NaiveDate;
use customer_desk::schema::customers;
use diesel::prelude::*;

use crate::helpers::{raw_get, spawn_app, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    list_shows_totals_and_pages,
    list_searches_name_email_and_organisation,
    list_sorts_by_name_and_created,
    search_treats_wildcards_and_quotes_as_text,
    search_index_follows_edits_and_deletions,
    many_matches_page_like_few,
    root_and_health,
);

/// Customers named "Given{n:03} Family{n:03}" for n in 0..count.
async fn numbered_customers(app: &TestApp, count: usize) {
    for n in 0..count {
        app.add_customer(
            &format!("Given{n:03}"),
            &format!("Family{n:03}"),
            &format!("person{n}@example.com"),
            "Numbered Ltd",
        )
        .await;
    }
}

async fn list_shows_totals_and_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/people/customers")
        .await
        .assert_status(200)
        .assert_contains("There are no customers yet");

    numbered_customers(&app, 60).await;
    let first = app.get("/people/customers").await;
    first
        .assert_status(200)
        .assert_contains("1–50 of 60")
        .assert_contains("Family000")
        .assert_contains("Family049")
        .assert_lacks("Family050")
        // Administrators' page controls submit the selection form (saving its boxes first).
        .assert_contains(r#"name="goto" value="?page=2" data-page="next""#)
        .assert_contains("Add customer");

    app.get("/people/customers?page=2")
        .await
        .assert_contains("51–60 of 60")
        .assert_contains("Family050")
        .assert_contains("Family059")
        .assert_lacks("Family049")
        .assert_contains(r#"value="?page=2" class="page-link" aria-current="page""#);

    let small = app.get("/people/customers?per_page=25&page=3").await;
    small
        .assert_contains("51–60 of 60")
        .assert_contains(r#"value="?per_page=25&#38;page=2" data-page="prev""#);

    // Agents have no selection, so plain links.
    app.create_account(
        "Alan Agent",
        "agent@desk.example",
        customer_desk::accounts::Role::Agent,
    )
    .await;
    let agent = app
        .sign_in("agent@desk.example", crate::helpers::PASSWORD)
        .await;
    agent
        .get("/people/customers?per_page=25&page=3")
        .await
        .assert_contains(r#"href="?per_page=25&#38;page=2" rel="prev""#)
        .assert_lacks("selection-form");

    // A page past the end shows the last page rather than nothing.
    app.get("/people/customers?page=99")
        .await
        .assert_contains("51–60 of 60");
}

async fn list_searches_name_email_and_organisation(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_customer(
        "Ada",
        "Lovelace",
        "ada@engines.example",
        "Analytical Engines",
    )
    .await;
    app.add_customer("Alan", "Turing", "alan@bletchley.example", "Bletchley Park")
        .await;
    app.add_customer("Grace", "Hopper", "grace@navy.example", "Acme Navy")
        .await;
    app.add_customer("Joan", "Clarke", "joan@acme.example", "Bletchley Park")
        .await;

    let by_name = app.get("/people/customers?q=lovelace").await;
    by_name
        .assert_contains("1–1 of 1")
        .assert_contains("Ada Lovelace")
        .assert_lacks("Alan Turing");

    let by_org = app.get("/people/customers?q=BLETCHLEY").await;
    by_org
        .assert_contains("1–2 of 2")
        .assert_contains("Alan Turing")
        .assert_contains("Joan Clarke");

    // "acme" is Grace's organisation and Joan's email domain.
    let by_either = app.get("/people/customers?q=acme").await;
    by_either
        .assert_contains("1–2 of 2")
        .assert_contains("Grace Hopper")
        .assert_contains("Joan Clarke");

    // Every word must match, each in any field.
    app.get("/people/customers?q=alan+bletchley")
        .await
        .assert_contains("1–1 of 1")
        .assert_contains("Alan Turing");

    app.get("/people/customers?q=nobody")
        .await
        .assert_status(200)
        .assert_contains("No customers match “nobody”");
}

async fn list_sorts_by_name_and_created(backend: Backend) {
    let app = spawn_app(backend).await;
    let zed = app.add_customer("Zed", "Zimmer", "z@example.com", "").await;
    let amy = app.add_customer("Amy", "Adams", "a@example.com", "").await;
    let max = app.add_customer("Max", "Miller", "m@example.com", "").await;
    let day = |d| {
        NaiveDate::from_ymd_opt(2025, 1, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    };
    app.set_created(zed, day(3)).await;
    app.set_created(amy, day(1)).await;
    app.set_created(max, day(2)).await;

    let order = |body: &str, names: [&str; 3]| {
        let positions: Vec<usize> = names
            .iter()
            .map(|n| body.find(n).unwrap_or_else(|| panic!("{n} missing")))
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "expected the order {names:?}"
        );
    };
    order(
        &app.get("/people/customers").await.body,
        ["Amy Adams", "Max Miller", "Zed Zimmer"],
    );
    order(
        &app.get("/people/customers?sort=-name").await.body,
        ["Zed Zimmer", "Max Miller", "Amy Adams"],
    );
    order(
        &app.get("/people/customers?sort=created").await.body,
        ["Zed Zimmer", "Max Miller", "Amy Adams"],
    );
    order(
        &app.get("/people/customers?sort=-created").await.body,
        ["Amy Adams", "Max Miller", "Zed Zimmer"],
    );
    // Unknown sort falls back to name.
    order(
        &app.get("/people/customers?sort=password").await.body,
        ["Amy Adams", "Max Miller", "Zed Zimmer"],
    );
}

async fn search_treats_wildcards_and_quotes_as_text(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_customer("Percent", "Person", "pp@example.com", "100% Cotton")
        .await;
    app.add_customer("Under", "Score", "u_s@example.com", "Plain")
        .await;
    app.add_customer("Quote", "O'Brien", "ob@example.com", "Say \"hi\"")
        .await;
    app.add_customer("Other", "Body", "other@example.com", "Nothing special")
        .await;

    // `%` and `_` are not wildcards: each finds only the customer that contains it (words of
    // three characters or more match anywhere; shorter ones begin a word, punctuation aside).
    app.get("/people/customers?q=00%25")
        .await
        .assert_contains("1–1 of 1")
        .assert_contains("Percent Person");
    app.get("/people/customers?q=u_s")
        .await
        .assert_contains("1–1 of 1")
        .assert_contains("Under Score");
    app.get("/people/customers?q=o%27brien")
        .await
        .assert_contains("1–1 of 1")
        .assert_contains("Quote O&#39;Brien");
    app.get("/people/customers?q=%22hi%22")
        .await
        .assert_contains("1–1 of 1");
}

async fn root_and_health(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = app.get("/").await;
    root.assert_status(303);
    assert_eq!(root.location.as_deref(), Some("/people/customers"));
    app.get("/healthz")
        .await
        .assert_status(200)
        .assert_contains("ok");
    let css = app.get("/static/app.css").await;
    css.assert_status(200);
    app.get("/static/htmx.min.js").await.assert_status(200);
    // Every script the layout names is served, as JavaScript (the behaviour is split by concern).
    let page = app.get("/people/customers").await;
    let scripts: Vec<&str> = page
        .body
        .split("<script src=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    for expected in [
        "/static/app.js",
        "/static/dialogs.js",
        "/static/keyboard.js",
    ] {
        assert!(scripts.contains(&expected), "{expected} not in {scripts:?}");
    }
    for src in &scripts {
        let script = app.get(src).await;
        script.assert_status(200);
        let kind = script
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(kind.starts_with("text/javascript"), "{src}: {kind}");
        assert!(script.body.len() > 100, "{src} is empty");
    }
    // Sent as written: an HTTP client would normalise it to /Cargo.toml before sending.
    for path in [
        "/static/../Cargo.toml",
        "/static/..%2fCargo.toml",
        "/static/%2e%2e/Cargo.toml",
    ] {
        let (status, body) = raw_get(&app.address, path).await;
        assert!(
            status == 404 || status == 400,
            "{path} answered {status}; body:\n{body}"
        );
        assert!(!body.contains("[package]"), "{path} served Cargo.toml");
    }
}

/// The search answers from each backend's trigram index (short words by scanning): it must
/// follow every add, edit and deletion, and match in any field, any case.
async fn search_index_follows_edits_and_deletions(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .add_customer("Grace", "Hopper", "grace@navy.example", "Oldco")
        .await;
    app.add_customer("Ada", "Lovelace", "ada@engines.example", "Engines")
        .await;
    for q in ["oldco", "OLDCO", "gra", "hopper", "navy.ex", "gr", "o"] {
        let page = app.get(&format!("/people/customers?q={q}")).await;
        assert!(page.body.contains("Grace Hopper"), "{q} should find Grace");
    }
    app.get("/people/customers?q=ada+engines")
        .await
        .assert_contains("1–1 of 1");
    // A word never matches across two fields ("hopper grace" is two words; "hoppergrace" none).
    app.get("/people/customers?q=hoppergrace")
        .await
        .assert_contains("No customers match");

    app.post_form(
        &format!("/people/customers/{id}/edit"),
        &[
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("email", "grace@navy.example"),
            ("organisation", "Newco"),
        ],
    )
    .await
    .assert_status(303);
    app.get("/people/customers?q=oldco")
        .await
        .assert_contains("No customers match");
    app.get("/people/customers?q=newco")
        .await
        .assert_contains("1–1 of 1");

    app.delete_customer(id).await;
    app.get("/people/customers?q=newco")
        .await
        .assert_contains("No customers match");
    app.get("/people/customers?q=hopper")
        .await
        .assert_contains("No customers match");
}

/// Above WALK_SORT_INDEX_ABOVE matches, SQLite pages through the sort index instead of sorting
/// every match: the pages must be exactly the same as the plain order.
async fn many_matches_page_like_few(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_many_customers(2_600, "Walkco").await;
    app.add_many_customers(40, "Otherco").await;
    let total = customer_desk::customers::WALK_SORT_INDEX_ABOVE + 600;
    assert_eq!(total, 2_600);
    let first = app.get("/people/customers?q=walkco&per_page=100").await;
    first
        .assert_contains("1–100 of 2,600")
        .assert_lacks("Otherco");
    // Last names are "Person1" … "Person2600": in name order, Person1, Person10, Person100, …
    let order = |body: &str| -> Vec<String> {
        // The name links: <a href="/people/customers/N"><span class="avatar" …>MP</span><bdi>Many PersonK</bdi></a>
        body.match_indices("</span><bdi>Many Person")
            .map(|(at, _)| {
                let rest = &body[at + 17..];
                rest[..rest.find('<').unwrap()].to_owned()
            })
            .collect()
    };
    let names = order(&first.body);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names[0], "Person1");
    assert_eq!(names[1], "Person10");
    let last = app
        .get("/people/customers?q=walkco&per_page=100&page=26")
        .await;
    last.assert_contains("2,501–2,600 of 2,600");
    let names = order(&last.body);
    assert_eq!(names.len(), 100);
    assert_eq!(names.last().unwrap(), "Person999");
    // Newest first works the same way.
    app.get("/people/customers?q=walkco&sort=created&page=52")
        .await
        .assert_contains("2,551–2,600 of 2,600");

    // Such listings are kept briefly, but never across a change made through the app: an edit
    // moves a customer at once, a deletion removes one at once.
    let person = |last: &'static str| {
        app.db(move |conn| {
            customers::table
                .filter(customers::last_name.eq(last))
                .filter(customers::organisation.eq("Walkco"))
                .select(customers::id)
                .first::<i64>(conn)
                .unwrap()
        })
    };
    let first_id = person("Person1").await;
    app.post_form(
        &format!("/people/customers/{first_id}/edit"),
        &[
            ("first_name", "Many"),
            ("last_name", "Zz Person1"),
            ("email", "walkco1@many.example"),
            ("organisation", "Walkco"),
        ],
    )
    .await
    .assert_status(303);
    let page = app.get("/people/customers?q=walkco&per_page=100").await;
    // (The flash message names the edited customer: look at the name links only.)
    page.assert_lacks("</span><bdi>Many Zz Person1</bdi></a>");
    assert_eq!(order(&page.body)[0], "Person10");
    app.get("/people/customers?q=walkco&per_page=100&page=26")
        .await
        .assert_contains("</span><bdi>Many Zz Person1</bdi></a>");
    let second_id = person("Person10").await;
    app.delete_customer(second_id).await;
    let page = app.get("/people/customers?q=walkco&per_page=100").await;
    page.assert_contains("1–100 of 2,599");
    assert_eq!(order(&page.body)[0], "Person100");

    // Deep pages of the whole list are read the same way.
    let deep = app.get("/people/customers?per_page=100&page=26").await;
    deep.assert_contains("2,501–2,600 of 2,639");
    assert_eq!(deep.body.matches("</span><bdi>Many ").count(), 100);
    app.get("/people/customers?per_page=100&page=27")
        .await
        .assert_contains("2,601–2,639 of 2,639");
}
