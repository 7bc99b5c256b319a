//! Arranging and driving retention rules: adding one through its form, activating it through
//! its confirmation, a customer's last activity, the rule as stored.

use chrono::{Months, NaiveDateTime};
use customer_desk::retention::{self, Rule};
use diesel::prelude::*;

use super::{confirmation_fields, Browser, Page, TestApp};

/// `months` months before now (UTC).
pub fn months_ago(months: u32) -> NaiveDateTime {
    customer_desk::db::now()
        .checked_sub_months(Months::new(months))
        .unwrap()
}

/// A rule's form with these fields changed from a plain rule: "inactive for 12 months".
pub fn rule_fields<'a>(name: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("name", name),
        ("inactive_months", "12"),
        ("organisation_match", "is"),
        ("organisation", ""),
        ("created_before", ""),
        ("keep_open_tickets", "yes"),
        ("max_customers", "10000"),
        ("max_percent", "100"),
    ];
    for (key, value) in changes {
        fields.retain(|(k, _)| k != key);
        if !value.is_empty() || *key != "keep_open_tickets" {
            fields.push((key, value));
        }
    }
    fields
}

impl TestApp {
    /// Sets when a customer was created and last active (the column the filters' "last active
    /// before" reads; never before creation, which the database keeps so).
    pub async fn set_last_active(&self, customer: i64, at: NaiveDateTime) {
        let at = at.format("%Y-%m-%d %H:%M:%S").to_string();
        self.db(move |conn| {
            diesel::sql_query(format!(
                "UPDATE customers SET created_at = '{at}', last_active_at = '{at}' WHERE id = {customer}"
            ))
            .execute(conn)
            .unwrap()
        })
        .await;
    }

    /// Adds a rule through its form as the administrator; the rule as stored.
    pub async fn add_rule(&self, name: &str, changes: &[(&str, &str)]) -> Rule {
        let page = self
            .post_form(
                "/people/customers/retention/new",
                &rule_fields(name, changes),
            )
            .await;
        page.assert_status(303);
        self.rule(name).await.expect("the rule was saved")
    }

    pub async fn rule(&self, name: &str) -> Option<Rule> {
        let name = name.to_owned();
        self.db(move |conn| retention::find_by_name(conn, &name).unwrap())
            .await
    }

    pub async fn rule_count(&self) -> i64 {
        use customer_desk::schema::retention_rules;
        self.db(|conn| retention_rules::table.count().get_result(conn).unwrap())
            .await
    }
}

/// Opens a rule's activation confirmation and submits it, ticking "I understand the
/// consequences" when `understood`. Returns the confirmation page and the submit's answer.
pub async fn activate(browser: &Browser, rule: i64, understood: bool) -> (Page, Page) {
    let path = format!("/people/customers/retention/{rule}/activate");
    let confirmation = browser.get(&path).await;
    confirmation.assert_status(200);
    let mut fields = confirmation_fields(&confirmation, &path);
    if understood {
        fields.push(("understood".into(), "yes".into()));
    }
    let submitted = browser.post_fields(&path, &fields).await;
    (confirmation, submitted)
}

/// Where a rule's "Matches now" links on the rules page (the customer list with its filters).
pub fn matching_href(rules_page: &Page, rule: i64) -> String {
    let document = scraper::Html::parse_document(&rules_page.body);
    let link = scraper::Selector::parse(&format!("#rule-{rule} .rule-facts dd a")).unwrap();
    document
        .select(&link)
        .next()
        .and_then(|a| a.value().attr("href"))
        .unwrap_or_else(|| panic!("rule {rule} has a matching link:\n{}", rules_page.body))
        .to_owned()
}
