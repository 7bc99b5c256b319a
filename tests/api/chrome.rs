//! A real headless Chromium driven over WebDriver (chromedriver), for the browser tests.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::sync::{Mutex, MutexGuard};

/// One browser at a time: the machine has two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

pub const ENTER: char = '\u{E007}';
pub const TAB: char = '\u{E004}';
pub const ESCAPE: char = '\u{E00C}';
pub const SHIFT: char = '\u{E008}';

pub struct Chrome {
    pub client: Client,
    driver: Child,
    profile: std::path::PathBuf,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn find(env: &str, default: &str) -> Option<String> {
    let path = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    std::path::Path::new(&path).exists().then_some(path)
}

/// Starts chromedriver and a headless Chromium (JavaScript on or off). `None` (the test is
/// skipped, and counted in the line printed at exit) when they are not installed, except under CI, where that is a failure.
pub async fn chrome(javascript: bool) -> Option<Chrome> {
    chrome_in(javascript, None).await
}

/// [`chrome`] with JavaScript, in the time zone `zone` (an IANA name such as
/// "Pacific/Auckland") instead of the machine's.
pub async fn chrome_in_time_zone(zone: &str) -> Option<Chrome> {
    chrome_in(true, Some(zone)).await
}

async fn chrome_in(javascript: bool, zone: Option<&str>) -> Option<Chrome> {
    let turn = ONE_AT_A_TIME.lock().await;
    let driver_path = find("CHROMEDRIVER", "/usr/bin/chromedriver");
    let browser_path = find("CHROME_BIN", "/usr/bin/chromium");
    let (Some(driver_path), Some(browser_path)) = (driver_path, browser_path) else {
        if crate::helpers::skips::in_ci() {
            panic!("CI=true but chromium or chromedriver is missing: browser tests must run in CI");
        }
        crate::helpers::skips::skip(crate::helpers::skips::Skip::Browser);
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut driver = Command::new(driver_path);
    if let Some(zone) = zone {
        // Chromium, started by chromedriver, inherits it.
        driver.env("TZ", zone);
    }
    let driver = driver
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = std::env::temp_dir().join(format!("cd-chrome-{}-{port}", std::process::id()));
    let mut options = serde_json::json!({
        "binary": browser_path,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--no-first-run", "--disable-dev-shm-usage", "--disable-component-update",
            "--disable-sync", "--window-size=1280,900",
            format!("--user-data-dir={}", profile.display()),
        ],
    });
    if !javascript {
        options["prefs"] = serde_json::json!({
            "profile.managed_default_content_settings.javascript": 2
        });
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let url = format!("http://127.0.0.1:{port}");
    let mut last_error = None;
    for _ in 0..100 {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Some(Chrome {
                    client,
                    driver,
                    profile,
                    _turn: turn,
                })
            }
            Err(error) => {
                last_error = Some(error.to_string());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("could not start Chromium through chromedriver: {last_error:?}");
}

impl Chrome {
    /// Presses keys on whatever has the focus, as a person would.
    pub async fn press(&self, keys: &str) {
        let mut actions = KeyActions::new("keyboard".into());
        for key in keys.chars() {
            actions = actions
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        self.client.perform_actions(actions).await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
    }

    /// Shift held down while pressing `key`.
    pub async fn shift(&self, key: char) {
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: SHIFT })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: SHIFT });
        self.client.perform_actions(actions).await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
    }

    /// Resizes the window so that the page's viewport is `width` × `height` CSS pixels.
    pub async fn viewport(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        // The window's frame (if any) takes some of it: grow the window by the difference.
        let inner = self
            .js("return [window.innerWidth, window.innerHeight]")
            .await;
        let (w, h) = (
            inner[0].as_u64().unwrap() as u32,
            inner[1].as_u64().unwrap() as u32,
        );
        if (w, h) != (width, height) {
            self.client
                .set_window_size(2 * width - w, 2 * height - h)
                .await
                .unwrap();
        }
        let inner = self.js("return window.innerWidth").await;
        assert_eq!(inner.as_u64(), Some(u64::from(width)), "viewport width");
    }

    /// How far the page scrolls sideways (0 when it fits the viewport).
    pub async fn overflow(&self) -> i64 {
        self.js("return document.documentElement.scrollWidth - window.innerWidth")
            .await
            .as_i64()
            .unwrap()
    }

    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until the script returns true.
    pub async fn wait_for(&self, what: &str, script: &str) {
        for _ in 0..200 {
            if self.js(script).await == serde_json::Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let body = self.js("return document.body.innerText").await;
        panic!("timed out waiting for {what}; page text:\n{body}");
    }

    pub async fn wait_for_text(&self, text: &str) {
        let script = format!(
            "return document.body.innerText.includes({})",
            serde_json::to_string(text).unwrap()
        );
        self.wait_for(text, &script).await;
    }

    /// The id (or text, without an id) of the focused element.
    pub async fn focused(&self) -> String {
        self.js("var e = document.activeElement; return e.id || e.textContent.trim()")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no element {css}"))
            .click()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
    }

    /// Serious and critical accessibility violations on the page, by axe-core.
    pub async fn axe_violations(&self) -> Vec<String> {
        const AXE: &str = include_str!("../vendor/axe.min.js");
        let script = format!(
            "{AXE}\n;var done = arguments[arguments.length - 1];\
             axe.run(document, {{ resultTypes: ['violations'] }}).then(function (r) {{\
               done(r.violations.filter(function (v) {{ return v.impact === 'serious' || v.impact === 'critical'; }})\
                 .map(function (v) {{ return v.impact + ' ' + v.id + ': ' + v.help + ' at ' +\
                   v.nodes.map(function (n) {{ return n.target.join(' '); }}).join(', '); }}));\
             }});"
        );
        let result = self.client.execute_async(&script, vec![]).await.unwrap();
        result
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    /// Saves a screenshot to docs/screenshots when UPDATE_SCREENSHOTS=1.
    pub async fn screenshot(&self, name: &str) {
        if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let png = self.client.screenshot().await.unwrap();
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/screenshots");
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
        }
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

pub async fn sign_in(chrome: &Chrome, base: &str, email: &str, password: &str) {
    chrome.client.goto(&format!("{base}/login")).await.unwrap();
    // The email field has the focus: type, Tab, type, Enter, as a person would.
    assert_eq!(chrome.focused().await, "login-email");
    chrome.press(email).await;
    chrome.press(&TAB.to_string()).await;
    chrome.press(password).await;
    chrome.press(&ENTER.to_string()).await;
    chrome
        .wait_for(
            "the list",
            "return location.pathname === '/people/customers'",
        )
        .await;
}
