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
    app.delete_customer(brian).await;
    assert_eq!(total(&app, "br").await, "none");
    let added = app
        .add_customer("Anton", "Zed", "anton@z.example", "Zed")
        .await;
    assert!(added > 0);
    assert_eq!(total(&app, "an").await, "3");
}

/// An FTS5 index's structure record (id 10 of its `_data` table: a 4-byte cookie, then the
/// numbers of levels and of segments as varints, one byte each below 128) and its `usermerge`.
async fn fts5_shape(app: &TestApp, index: &'static str) -> (u8, u8, i64) {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Block {
        #[diesel(sql_type = diesel::sql_types::Binary)]
        block: Vec<u8>,
    }
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        v: i64,
    }
    app.db(move |conn| {
        let block = diesel::sql_query(format!("SELECT block FROM {index}_data WHERE id = 10"))
            .get_result::<Block>(conn)
            .unwrap()
            .block;
        let usermerge = diesel::sql_query(format!(
            "SELECT v FROM {index}_config WHERE k = 'usermerge'"
        ))
        .get_result::<Setting>(conn)
        .unwrap()
        .v;
        (block[4], block[5], usermerge)
    })
    .await
}

/// SQLite: the maintenance thread's merging of the search indexes (`search_merge.rs`) leaves
/// every search finding the same customers, ends with nothing to merge, and keeps the indexes
/// small however many writes come between its steps (a negative 'merge' after each write added
/// levels until FTS5 called the table corrupt).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_search_indexes_find_the_same_customers() {
    use crate::helpers::{spawn_signed_in_with_options, TestOptions};
    use customer_desk::maintenance::MaintenanceSettings;
    use customer_desk::search_merge::SearchMerger;
    use std::sync::{Arc, Mutex};

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
    let merger = Arc::new(Mutex::new(SearchMerger::default()));
    let step = |merger: Arc<Mutex<SearchMerger>>| {
        app.db(move |conn| merger.lock().unwrap().step(conn).unwrap())
    };
    let mut steps = 0;
    while !step(merger.clone()).await {
        steps += 1;
        assert!(steps < 50, "still merging after {steps} steps");
    }
    assert!(steps >= 1, "the indexes had segments to merge");
    // Found with nothing to merge: the next step has nothing to do either.
    assert!(step(merger.clone()).await);
    let mut after = Vec::new();
    for q in searches {
        after.push(total(&app, q).await);
    }
    assert_eq!(after, before);
    assert_eq!(before[3], "41");

    // A step after every write, as the maintenance thread takes under steady edits, then
    // steps until there is nothing to merge: with usermerge 2 no level then holds two segments.
    for n in 0..300 {
        app.add_customer(
            &format!("Zed{n}"),
            "Quill",
            &format!("zed{n}@q.example"),
            "",
        )
        .await;
        step(merger.clone()).await;
    }
    let mut steps = 0;
    while !step(merger.clone()).await {
        steps += 1;
        assert!(steps < 50, "still merging after {steps} steps");
    }
    for index in ["customer_search", "customer_words"] {
        let (levels, segments, usermerge) = fts5_shape(&app, index).await;
        assert_eq!(usermerge, 2, "{index}");
        // 0x80 and over: a varint of two bytes, hundreds of levels.
        assert!(levels <= 20, "{index}: levels byte {levels:#x}");
        assert!(
            segments <= levels,
            "{index}: {segments} segments on {levels} levels"
        );
    }
    assert_eq!(total(&app, "quill").await, "300");
    assert_eq!(total(&app, "ze").await, "300");
    assert_eq!(total(&app, "smith").await, "41");
}
