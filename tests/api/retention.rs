//! Retention rules' pages: administrators only, the form and its messages, activation behind
//! a confirmation whose checkbox the server checks, deactivation, and edits that deactivate.

use customer_desk::accounts::Role;
use customer_desk::domain::retention::RuleState;

use crate::helpers::retention::{activate, matching_href, months_ago, rule_fields};
use crate::helpers::{spawn_app, Backend, Related, PASSWORD};
use crate::on_both_backends;

const RULES: &str = "/people/customers/retention";
const AGENT_EMAIL: &str = "alan.agent@desk.example";

on_both_backends!(
    agents_get_403_see_no_link_and_change_nothing,
    requests_without_csrf_change_nothing,
    bad_input_comes_back_in_the_form_with_messages,
    a_rule_is_saved_inactive_and_listed_with_its_criteria,
    activation_needs_the_checkbox_ticked_on_the_server,
    editing_an_active_rules_criteria_deactivates_it,
);

async fn agents_get_403_see_no_link_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_customer("Ada", "Lovelace", "ada@example.com", "Acme")
        .await;
    let rule = app.add_rule("Quiet two years", &[]).await;
    app.create_account("Alan Agent", AGENT_EMAIL, Role::Agent)
        .await;
    let agent = app.sign_in(AGENT_EMAIL, PASSWORD).await;

    let list = agent.get("/people/customers").await;
    list.assert_status(200).assert_lacks(RULES);
    app.get("/people/customers")
        .await
        .assert_contains(r#"href="/people/customers/retention""#);

    for path in [
        RULES.to_owned(),
        format!("{RULES}/new"),
        format!("{RULES}/{}/edit", rule.id),
        format!("{RULES}/{}/activate", rule.id),
    ] {
        agent.get(&path).await.assert_status(403);
    }
    let posts = [
        (format!("{RULES}/new"), rule_fields("Agent's rule", &[])),
        (
            format!("{RULES}/{}/edit", rule.id),
            rule_fields("Renamed", &[("inactive_months", "1")]),
        ),
        (
            format!("{RULES}/{}/activate", rule.id),
            vec![
                ("token", "ab"),
                ("version", "1"),
                ("count", "1"),
                ("digest", "00"),
                ("tickets", "0"),
                ("tickets_in_trash", "0"),
                ("chats", "0"),
                ("notes", "0"),
                ("understood", "yes"),
            ],
        ),
        (format!("{RULES}/{}/deactivate", rule.id), vec![]),
    ];
    for (path, fields) in &posts {
        agent.post_form(path, fields).await.assert_status(403);
    }
    assert_eq!(app.rule_count().await, 1);
    let unchanged = app.rule("Quiet two years").await.unwrap();
    assert_eq!(unchanged, rule);
    assert_eq!(app.job_count().await, 0);
    assert_eq!(app.row_counts().await.customers, 1);
}

async fn requests_without_csrf_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "Acme")
        .await;
    app.set_last_active(ada, months_ago(30)).await;
    let rule = app.add_rule("Quiet", &[]).await;

    let fields = rule_fields("Forged", &[]);
    app.admin
        .post_form_as_is(&format!("{RULES}/new"), &fields)
        .await
        .assert_status(403);
    // The activation form as the page has it, without its token.
    let path = format!("{RULES}/{}/activate", rule.id);
    let confirmation = app.get(&path).await;
    let mut form: Vec<(String, String)> = crate::helpers::confirmation_fields(&confirmation, &path)
        .into_iter()
        .filter(|(name, _)| name != "csrf_token")
        .collect();
    form.push(("understood".into(), "yes".into()));
    app.admin.post_fields(&path, &form).await.assert_status(403);
    app.admin
        .post_form_as_is(&format!("{RULES}/{}/deactivate", rule.id), &[])
        .await
        .assert_status(403);

    assert_eq!(app.rule_count().await, 1);
    assert_eq!(app.rule("Quiet").await.unwrap().state, RuleState::Inactive);
    assert_eq!(app.job_count().await, 0);
    assert_eq!(app.row_counts().await.customers, 1);
}

async fn bad_input_comes_back_in_the_form_with_messages(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_customer("Ada", "Lovelace", "ada@example.com", "Acme")
        .await;
    app.add_rule("Taken", &[]).await;
    let long = "n".repeat(10_000);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            rule_fields("Negative", &[("inactive_months", "-3")]),
            "Inactive for must be at least 1 month",
        ),
        (
            rule_fields("Zero", &[("inactive_months", "0")]),
            "Inactive for must be at least 1 month",
        ),
        (
            rule_fields("Words", &[("inactive_months", "two years")]),
            "Enter a whole number",
        ),
        (rule_fields("  ", &[]), "Name is required."),
        (
            rule_fields(&long, &[]),
            "Name can be at most 100 characters.",
        ),
        (
            rule_fields("taken", &[]),
            "A rule named “taken” exists already",
        ),
        (
            rule_fields("Nobody", &[("organisation", "Initech")]),
            "No customer has the organisation “Initech”",
        ),
        (
            rule_fields(
                "Nobody else",
                &[
                    ("organisation", "Initech"),
                    ("organisation_match", "is_not"),
                ],
            ),
            "No customer has the organisation “Initech”",
        ),
        (
            rule_fields("Bad day", &[("created_before", "2024-02-30")]),
            "Created before must be a date",
        ),
        (
            rule_fields("Bad limit", &[("max_percent", "0")]),
            "between 1 and 100",
        ),
    ];
    for (fields, message) in cases {
        let page = app.post_form(&format!("{RULES}/new"), &fields).await;
        page.assert_status(422).assert_contains(message);
        // What was typed comes back (the months as typed).
        let months = fields
            .iter()
            .find(|(k, _)| *k == "inactive_months")
            .unwrap()
            .1;
        page.assert_contains(&format!(r#"value="{months}""#));
    }
    // An organisation is compared as the filters compare it: case-insensitively.
    app.post_form(
        &format!("{RULES}/new"),
        &rule_fields("Acme quiet", &[("organisation", "ACME")]),
    )
    .await
    .assert_status(303);
    // A control character never reaches the form: the request is refused whole.
    app.post_form(&format!("{RULES}/new"), &rule_fields("a\u{1}b", &[]))
        .await
        .assert_status(400);
    assert_eq!(app.rule_count().await, 2);
}

async fn a_rule_is_saved_inactive_and_listed_with_its_criteria(backend: Backend) {
    let app = spawn_app(backend).await;
    let old = app
        .add_customer("Old", "Timer", "old@example.com", "Globex")
        .await;
    app.set_last_active(old, months_ago(30)).await;
    app.add_customer("New", "Comer", "new@example.com", "Globex")
        .await;
    let rule = app
        .add_rule(
            "Globex quiet",
            &[
                ("inactive_months", "24"),
                ("organisation", "Globex"),
                ("created_before", "2099-01-01"),
            ],
        )
        .await;
    assert_eq!(rule.state, RuleState::Inactive);
    assert!(rule.criteria.keep_open_tickets, "on by default");
    assert_eq!(app.job_count().await, 0, "saving deletes nothing");

    let list = app.get(RULES).await;
    list.assert_status(200)
        .assert_contains("Globex quiet")
        .assert_contains("Inactive")
        .assert_contains(
            "Inactive for at least 24 months, organisation is “Globex”, created before \
             2099-01-01, keeps customers with open tickets",
        )
        .assert_contains("1 customer")
        .assert_contains("10,000 customers or 100 % of all")
        .assert_contains("Never");
    // "Matches now" links to the customer list with the same filters.
    let active_before = (customer_desk::db::now().date())
        .checked_sub_months(chrono::Months::new(24))
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        matching_href(&list, rule.id),
        format!(
            "/people/customers?organisation=Globex&created_before=2099-01-01\
             &active_before={active_before}&tickets=no_open"
        )
    );
    // The new form keeps open tickets by default.
    app.get(&format!("{RULES}/new"))
        .await
        .assert_status(200)
        .assert_contains(r#"name="keep_open_tickets" type="checkbox" value="yes" checked"#);
}

async fn activation_needs_the_checkbox_ticked_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut quiet = Vec::new();
    for n in 0..3 {
        let id = app
            .add_customer_with(
                "Quiet",
                &format!("Person{n}"),
                Related {
                    tickets: 1,
                    trashed_tickets: 1,
                    chats: 1,
                    notes: 2,
                    ..Default::default()
                },
            )
            .await;
        app.set_last_active(id, months_ago(20)).await;
        quiet.push(id);
    }
    let rule = app.add_rule("Quiet", &[]).await;
    let before = app.row_counts().await;

    let (confirmation, refused) = activate(&app.admin, rule.id, false).await;
    confirmation
        .assert_contains("It would permanently delete 3 customers now")
        .assert_contains("3 tickets (3 in the trash), 3 live chat conversations and 6 notes")
        // Names with their emails, as the bulk confirmation shows them.
        .assert_contains("Quiet Person0 &#60;quiet.person0.")
        .assert_contains("&#62;, Quiet Person1 &#60;quiet.person1.")
        .assert_contains("&#62; and Quiet Person2 &#60;quiet.person2.")
        .assert_contains("From now on, customers who match will be deleted every day")
        .assert_contains("I understand the consequences")
        .assert_contains("Activate rule");
    refused
        .assert_status(422)
        .assert_contains("Tick “I understand the consequences” to activate");
    assert_eq!(app.rule("Quiet").await.unwrap().state, RuleState::Inactive);
    assert_eq!(app.job_count().await, 0);
    assert_eq!(app.row_counts().await, before);

    // Two tabs of the confirmation; the first submitted activates and starts the run.
    let path = format!("{RULES}/{}/activate", rule.id);
    let mut tabs = Vec::new();
    for _ in 0..2 {
        let page = app.get(&path).await;
        let mut fields = crate::helpers::confirmation_fields(&page, &path);
        fields.push(("understood".into(), "yes".into()));
        tabs.push(fields);
    }
    app.admin
        .post_fields(&path, &tabs[0])
        .await
        .assert_status(303);
    let rule = app.rule("Quiet").await.unwrap();
    assert_eq!(rule.state, RuleState::Active);
    let job = rule.last_job.expect("the first run started");
    // The same form again, or the other tab: no second run.
    app.admin
        .post_fields(&path, &tabs[0])
        .await
        .assert_status(303);
    app.admin
        .post_fields(&path, &tabs[1])
        .await
        .assert_status(303);
    assert_eq!(app.job_count().await, 1);
    app.get(RULES).await.assert_contains("was active already");
    app.wait_for_job(job.0).await;
    for id in quiet {
        assert_eq!(app.row_counts_of(id).await.customers, 0);
    }
    assert_eq!(app.row_counts().await.customers, 0);
    assert_eq!(app.inconsistent_rows().await, 0);
    app.get(RULES).await.assert_contains("deleted 3 customers");
}

async fn editing_an_active_rules_criteria_deactivates_it(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_customer("Ada", "Lovelace", "ada@example.com", "Acme")
        .await;
    let rule = app.add_rule("Quiet", &[]).await;
    let (_, activated) = activate(&app.admin, rule.id, true).await;
    activated.assert_status(303);
    assert_eq!(app.rule("Quiet").await.unwrap().state, RuleState::Active);

    // A new name or limit keeps it active.
    let edit = format!("{RULES}/{}/edit", rule.id);
    app.post_form(
        &edit,
        &rule_fields("Quiet ones", &[("max_customers", "50")]),
    )
    .await
    .assert_status(303);
    let renamed = app.rule("Quiet ones").await.unwrap();
    assert_eq!(renamed.state, RuleState::Active);
    assert_eq!(renamed.limit.max_customers, 50);

    // New criteria: inactive until confirmed again.
    app.get(&edit)
        .await
        .assert_contains("Changing this rule's criteria deactivates it");
    app.post_form(
        &edit,
        &rule_fields(
            "Quiet ones",
            &[("max_customers", "50"), ("inactive_months", "6")],
        ),
    )
    .await
    .assert_status(303);
    let edited = app.rule("Quiet ones").await.unwrap();
    assert_eq!(edited.state, RuleState::Inactive);
    assert_eq!(edited.criteria.inactive_months, 6);
    app.get(RULES)
        .await
        .assert_contains("Its criteria changed, so it is inactive until you activate it again");

    // A confirmation opened before an edit is refused after it (409), and changes nothing.
    let path = format!("{RULES}/{}/activate", rule.id);
    let confirmation = app.get(&path).await;
    let mut fields = crate::helpers::confirmation_fields(&confirmation, &path);
    fields.push(("understood".into(), "yes".into()));
    app.post_form(
        &edit,
        &rule_fields("Quiet ones", &[("inactive_months", "7")]),
    )
    .await
    .assert_status(303);
    app.admin
        .post_fields(&path, &fields)
        .await
        .assert_status(409)
        .assert_contains("nothing was activated or deleted");
    assert_eq!(
        app.rule("Quiet ones").await.unwrap().state,
        RuleState::Inactive
    );

    // Deactivation takes effect at once.
    activate(&app.admin, rule.id, true)
        .await
        .1
        .assert_status(303);
    app.post_form(&format!("{RULES}/{}/deactivate", rule.id), &[])
        .await
        .assert_status(303);
    assert_eq!(
        app.rule("Quiet ones").await.unwrap().state,
        RuleState::Inactive
    );
}
