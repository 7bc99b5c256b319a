//! Sign-in and sign-out.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::auth::{safe_next, sign_in, sign_out};
use super::{render, see_other, with_db, AppError, Flash, Layout};
use crate::accounts::{self, SignInError};
use crate::db::DbPool;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(web::get().to(login_form))
            .route(web::post().to(login)),
    )
    .service(web::resource("/logout").route(web::post().to(logout)));
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    layout: Layout,
    email: String,
    next: String,
    error: Option<String>,
    signed_out: bool,
}

fn pairs(request: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(request.query_string()).unwrap_or_default()
}

fn query_value(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

async fn login_form(request: HttpRequest, layout: Layout) -> Result<HttpResponse, AppError> {
    if layout.user.is_some() {
        return Ok(see_other("/people/customers"));
    }
    let pairs = pairs(&request);
    let next = query_value(&pairs, "next")
        .filter(|n| safe_next(n).is_some())
        .unwrap_or_default();
    let template = LoginTemplate {
        layout,
        email: String::new(),
        next,
        error: None,
        signed_out: query_value(&pairs, "signed_out").is_some(),
    };
    Ok(super::html(render(&template)?))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    pool: web::Data<DbPool>,
    session: Session,
    layout: Layout,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let LoginForm {
        email,
        password,
        next,
    } = form.into_inner();
    let checked_email = email.clone();
    let outcome = with_db(&pool, move |conn| {
        accounts::authenticate(conn, &checked_email, &password)
    })
    .await?;
    let (status, error) = match outcome {
        Ok(agent) => {
            sign_in(&session, &agent)?;
            tracing::info!(agent = agent.id, "signed in");
            Flash::success(format!("Signed in as {}.", agent.name)).set(&session);
            let target = safe_next(&next).unwrap_or("/people/customers");
            return Ok(see_other(target));
        }
        Err(SignInError::Invalid) => (
            actix_web::http::StatusCode::UNAUTHORIZED,
            "That email and password don't match an account. Check both and try again.".to_owned(),
        ),
        Err(SignInError::Throttled {
            retry_after_minutes,
        }) => (
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins for this email. For your security, sign-in is paused: \
                 try again in {retry_after_minutes} minute{}.",
                if retry_after_minutes == 1 { "" } else { "s" }
            ),
        ),
        Err(SignInError::Database(error)) => return Err(error.into()),
    };
    let template = LoginTemplate {
        layout,
        email,
        next: safe_next(&next).unwrap_or_default().to_owned(),
        error: Some(error),
        signed_out: false,
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(render(&template)?))
}

async fn logout(session: Session) -> HttpResponse {
    sign_out(&session);
    see_other("/login?signed_out=1")
}
