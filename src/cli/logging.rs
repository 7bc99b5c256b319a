//! The server's and the commands' log: to standard error, text or JSON, without what any client
//! causes at will.

use anyhow::Context;

use super::{LogFormat, LOG_FORMAT};

/// Logs to standard error, filtered by `filter`. actix-http logs every malformed request it
/// cannot parse ("stream error: request parse error", with part of the request) at ERROR from
/// its HTTP/1 dispatcher: anyone can cause that, so those lines are dropped (a client's
/// malformed request is not our error). Our own code logs a refused request at INFO at most.
pub fn init(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .context("--log-level / LOG_LEVEL is not a valid filter")?;
    // What any client causes at will is not logged per request: a malformed request (actix-http's
    // dispatcher logs it as an ERROR), and a session cookie that is forged, signed with an old
    // key or for a session gone (actix-session's middleware, WARN and INFO: a flood of forged
    // cookies wrote a line per request, 20,000 a second).
    let not_client_noise = tracing_subscriber::filter::filter_fn(|meta| {
        let dispatcher = *meta.level() == tracing::Level::ERROR
            && meta.target().starts_with("actix_http::h1::dispatcher");
        let session_cookie = *meta.level() > tracing::Level::ERROR
            && meta.target().starts_with("actix_session::middleware");
        !(meta.is_event() && (dispatcher || session_cookie))
    });
    let json = format == LogFormat::Json;
    LOG_FORMAT.get_or_init(|| format);
    // JSON: the event's fields at the top level, and the request span's (request_id, method,
    // path) under "span".
    let json_layer = json.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(false)
    });
    let text_layer = (!json).then(|| tracing_subscriber::fmt::layer().with_target(false));
    tracing_subscriber::registry()
        .with(
            Layer::and_then(json_layer, text_layer)
                .with_filter(not_client_noise)
                .with_filter(filter),
        )
        .try_init()
        .context("set up logging")?;
    Ok(())
}
