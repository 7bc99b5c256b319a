//! `Browser`: a cookie-keeping HTTP client that carries the CSRF token like a browser without
//! JavaScript, and `Page`, a response read whole.

use std::sync::{Arc, Mutex};

use reqwest::cookie::{CookieStore, Jar};

use super::forms::csrf_token_of;

/// A browser without JavaScript: a cookie jar, no automatic redirects, and the CSRF token of the
/// last page it saw, which it puts in the forms it posts (as a browser submitting that page's
/// form would).
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    base: String,
    csrf: Mutex<Option<String>>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        Self {
            client,
            jar,
            base: base.to_owned(),
            csrf: Mutex::new(None),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The session cookie's value, if any.
    pub fn session_cookie(&self) -> Option<String> {
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix("desk_session="))
            .map(str::to_owned)
    }

    fn remember_csrf(&self, page: &Page) {
        if let Some(token) = csrf_token_of(&page.body) {
            *self.csrf.lock().unwrap() = Some(token);
        }
    }

    pub fn forget_csrf(&self) {
        *self.csrf.lock().unwrap() = None;
    }

    pub async fn csrf_token(&self) -> String {
        if let Some(token) = self.csrf.lock().unwrap().clone() {
            return token;
        }
        let page = self.get("/people/customers").await;
        if let Some(token) = csrf_token_of(&page.body) {
            return token;
        }
        let login = self.get("/login").await;
        csrf_token_of(&login.body).expect("the sign-in page has a CSRF token")
    }

    pub async fn get(&self, path: &str) -> Page {
        let page = read(self.client.get(self.url(path)).send().await.unwrap()).await;
        self.remember_csrf(&page);
        page
    }

    pub async fn get_htmx(&self, path: &str) -> Page {
        read(
            self.client
                .get(self.url(path))
                .header("HX-Request", "true")
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts the form with this session's CSRF token added.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().await;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf_token", &token));
        self.post_form_as_is(path, &fields).await
    }

    /// Posts exactly these fields: no CSRF token unless given.
    pub async fn post_form_as_is(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let page = read(
            self.client
                .post(self.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).unwrap())
                .send()
                .await
                .unwrap(),
        )
        .await;
        self.remember_csrf(&page);
        page
    }

    /// Posts exactly these owned fields, e.g. a form read from a page with
    /// [`super::bulk_confirmation_fields`] (which carries that page's CSRF token).
    pub async fn post_fields(&self, path: &str, form: &[(String, String)]) -> Page {
        let fields: Vec<(&str, &str)> =
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.post_form_as_is(path, &fields).await
    }

    /// Posts a raw body with the CSRF token in the header, as htmx does.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let token = self.csrf_token().await;
        read(
            self.client
                .post(self.url(path))
                .header("content-type", content_type)
                .header("X-CSRF-Token", token)
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

/// A response read whole.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body:\n{}",
            self.body
        );
        self
    }

    pub fn assert_contains(&self, text: &str) -> &Self {
        assert!(
            self.body.contains(text),
            "expected {text:?} in the page; body:\n{}",
            self.body
        );
        self
    }

    pub fn assert_lacks(&self, text: &str) -> &Self {
        assert!(
            !self.body.contains(text),
            "did not expect {text:?} in the page; body:\n{}",
            self.body
        );
        self
    }

    /// A redirect to the sign-in page.
    pub fn assert_sign_in_redirect(&self) -> &Self {
        assert_eq!(
            self.status, 303,
            "expected a redirect; body:\n{}",
            self.body
        );
        let location = self.location.as_deref().unwrap_or_default();
        assert!(location.starts_with("/login"), "redirected to {location}");
        self
    }
}

async fn read(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.text().await.unwrap();
    Page {
        status,
        location,
        headers,
        body,
    }
}

/// Sends `GET path` exactly as written, over a plain TCP connection: no URL normalisation (an
/// HTTP client would resolve `/static/../x` to `/x` before sending). Returns status and body.
pub async fn raw_get(address: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = address
        .strip_prefix("http://")
        .expect("an http:// address")
        .to_owned();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&host).expect("connect to the app");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    })
    .await
    .unwrap()
}
