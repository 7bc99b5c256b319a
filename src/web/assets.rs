//! The static files, compiled into the binary so that it runs from anywhere on its own.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::error::ErrorPage;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../static/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/app.js"),
    },
    Asset {
        name: "dialogs.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/dialogs.js"),
    },
    Asset {
        name: "selection.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/selection.js"),
    },
    Asset {
        name: "list.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/list.js"),
    },
    Asset {
        name: "menu.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/menu.js"),
    },
    Asset {
        name: "keyboard.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/keyboard.js"),
    },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/htmx.min.js"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../../static/icon.svg"),
    },
];

/// Changes whenever any asset changes, so browsers revalidate after an upgrade.
fn etag(asset: &Asset) -> String {
    // FNV-1a: tiny, stable across builds, good enough to tell versions apart.
    let mut hash: u64 = 0xcbf29ce484222325;
    for byte in asset.body.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    format!("\"{hash:016x}\"")
}

pub async fn asset(request: HttpRequest, file: web::Path<String>) -> HttpResponse {
    serve(&request, file.as_str())
}

/// `/favicon.ico`, which browsers ask for on their own: the icon (public, like `/static`).
pub async fn favicon(request: HttpRequest) -> HttpResponse {
    serve(&request, "icon.svg")
}

fn serve(request: &HttpRequest, file: &str) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return ErrorPage::for_status(actix_web::http::StatusCode::NOT_FOUND, None).response();
    };
    let tag = etag(asset);
    let fresh = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == tag);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        return response.finish();
    }
    response.content_type(asset.content_type).body(asset.body)
}
