//! Middleware: counts each request's arrival for the deletion worker's pacing (`pacing.rs`),
//! so that a deletion yields while people are using the desk.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

pub async fn count_arrivals(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = request.app_data::<web::Data<AppState>>() {
        state.arrivals.request_received();
    }
    next.call(request).await
}
