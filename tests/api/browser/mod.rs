//! In a real headless Chromium: the keyboard map, the dialogs, the no-JavaScript path, and
//! accessibility checked by axe-core. SQLite is enough here: what is tested is the browser side.

mod accessibility;
mod filters;
mod keyboard;
mod no_script;

use crate::chrome::Chrome;
use crate::helpers::{RowCounts, TestApp};

/// The ids of the rows on the page, in order.
pub async fn row_ids(chrome: &Chrome) -> Vec<i64> {
    let ids = chrome
        .js("return Array.from(document.querySelectorAll('#customer-table tbody tr')).map(r => Number(r.dataset.id))")
        .await;
    ids.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

/// Waits until the selection counter shows `text`.
pub async fn selected_text(chrome: &Chrome, text: &str) {
    let script = format!(
        "var c = document.querySelector('.selection-count'); return !!c && c.innerText.includes({})",
        serde_json::to_string(text).unwrap()
    );
    chrome.wait_for(text, &script).await;
}

/// Every row of each of these customers is gone.
pub async fn gone(app: &TestApp, ids: &[i64]) {
    for id in ids {
        assert_eq!(
            app.row_counts_of(*id).await,
            RowCounts::default(),
            "customer {id}"
        );
    }
}
