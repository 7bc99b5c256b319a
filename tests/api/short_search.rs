//! Search words of one or two characters match the beginning of a word (a name, a part of the
//! email, the organisation) from each backend's word index, and follow every write.

use crate::helpers::{spawn_app, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    short_words_match_word_beginnings,
    short_words_follow_edits_and_deletions,
);

async fn total(app: &TestApp, q: &str) -> String {
    let page = app.get(&format!("/people/customers?q={q}")).await;
    page.assert_status(200);
    if page.body.contains("No customers match") {
        return "none".into();
    }
    let start = page.body.find(" of ").expect("a total") + 4;
    page.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .collect()
}

async fn four_customers(app: &TestApp) -> i64 {
    app.add_customer("Ana", "Lopez", "ana.lopez@mira.example", "Acme")
        .await;
    let brian = app
        .add_customer("Brian", "Anderson", "brian@x.example", "Globex")
        .await;
    app.add_customer("Dana", "Smith", "dana@andes.example", "Initech")
        .await;
    app.add_customer("Zoë", "Åberg", "zoe@post.example", "Umbrella")
        .await;
    brian
}

async fn short_words_match_word_beginnings(backend: Backend) {
    let app = spawn_app(backend).await;
    four_customers(&app).await;
    // "an": Ana (first name), Anderson (last name), Dana (her email's "andes"); not "Dana" by
    // its middle.
    assert_eq!(total(&app, "an").await, "3");
    assert_eq!(total(&app, "AN").await, "3");
    let page = app.get("/people/customers?q=an").await;
    page.assert_contains("Ana Lopez")
        .assert_contains("Brian Anderson")
        .assert_contains("Dana Smith")
        .assert_lacks("Åberg");
    // One letter: a word beginning with it; "å" is not "a".
    assert_eq!(total(&app, "a").await, "3");
    assert_eq!(total(&app, "%C3%85").await, "1", "Å finds Åberg");
    // Inside a word is not the beginning of one: "mi" is in Smith but begins only "mira".
    app.get("/people/customers?q=mi")
        .await
        .assert_contains("Ana Lopez")
        .assert_lacks("Dana Smith");
    assert_eq!(total(&app, "zo").await, "1");
    assert_eq!(total(&app, "xy").await, "none");
    // Short words combine with each other and with long ones.
    assert_eq!(total(&app, "an+d").await, "1", "Dana: andes, dana");
    assert_eq!(total(&app, "an+glob").await, "1");
    assert_eq!(total(&app, "an+initech").await, "1");
    // Punctuation is not part of a word: "o'" is "o"; "%" alone adds nothing.
    assert_eq!(total(&app, "l%27").await, "1", "Lopez");
    assert_eq!(total(&app, "%25").await, "4");
}

async fn short_words_follow_edits_and_deletions(backend: Backend) {
    let app = spawn_app(backend).await;
    let brian = four_customers(&app).await;
    assert_eq!(total(&app, "an").await, "3");
    app.post_form(
        &format!("/people/customers/{brian}/edit"),
        &[
            ("first_name", "Brian"),
            ("last_name", "Brown"),
            ("email", "brian@x.example"),
            ("organisation", "Globex"),
        ],
    )
    .await
    .assert_status(303);
    assert_eq!(total(&app, "an").await, "2");
    assert_eq!(total(&app, "br").await, "1");
    app.post_form(
        &format!("/people/customers/{brian}/delete"),
        &[
            ("tickets", "0"),
            ("tickets_in_trash", "0"),
            ("chats", "0"),
            ("notes", "0"),
        ],
    )
    .await
    .assert_status(303);
    assert_eq!(total(&app, "br").await, "none");
    let added = app
        .add_customer("Anton", "Zed", "anton@z.example", "Zed")
        .await;
    assert!(added > 0);
    assert_eq!(total(&app, "an").await, "3");
}

/// SQLite: the maintenance thread's merging of the search indexes (`search_merge.rs`) leaves
/// every search finding the same customers, and ends, a step at a time, with nothing to merge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_search_indexes_find_the_same_customers() {
    use crate::helpers::{spawn_signed_in_with_options, TestOptions};
    use customer_desk::maintenance::MaintenanceSettings;
    use customer_desk::search_merge::SearchMerger;

    // The app's own maintenance thread does not run during the test: this one merges.
    let options = TestOptions {
        maintenance: MaintenanceSettings {
            every: std::time::Duration::from_secs(3600),
            ..MaintenanceSettings::default()
        },
        ..TestOptions::default()
    };
    let app = spawn_signed_in_with_options(Backend::Sqlite, options).await;
    four_customers(&app).await;
    // One transaction each: a new small segment in each index each time.
    for n in 0..40 {
        app.add_customer(
            &format!("Andy{n}"),
            "Smithson",
            &format!("andy{n}@x.example"),
            "",
        )
        .await;
    }
    let searches = ["a", "an", "sm", "smith", "andy1", "acme", "zo"];
    let mut before = Vec::new();
    for q in searches {
        before.push(total(&app, q).await);
    }
    let steps = app
        .db(|conn| {
            let mut merger = SearchMerger::default();
            let mut steps = 0;
            while !merger.step(conn).unwrap() {
                steps += 1;
                assert!(steps < 50, "still merging after {steps} steps");
            }
            // Found merged: the next step has nothing to do either.
            assert!(merger.step(conn).unwrap());
            steps
        })
        .await;
    assert!(steps >= 1, "the indexes had segments to merge");
    let mut after = Vec::new();
    for q in searches {
        after.push(total(&app, q).await);
    }
    assert_eq!(after, before);
    assert_eq!(before[3], "41");
}
