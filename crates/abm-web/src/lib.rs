//! abm over HTTP (`abm serve`): the REST API under `/api/v1` with the OpenAPI document
//! generated from the handlers, users signed in with a password (argon2) or an API token, and
//! the HTML interface, and first-party tracking (the snippet, the collect endpoint, signed
//! email links, personalization) with its collector.
//!
//! Invariants: the web holds no rule of its own (the core decides, the engine acts) and no
//! state a second node would need (sessions and tokens live in the database); every route
//! names the roles it allows; every write goes through the same engine action as the CLI, so
//! it is all-or-nothing and audited the same way.

pub mod account_api;
pub mod api;
pub mod auth;
pub mod chart;
pub mod collect;
pub mod html;
pub mod ingest;
pub mod plays_api;
pub mod problem;
pub mod reports_api;
mod state;
pub mod track;
pub mod webhook;

pub use state::{AppState, StartError, WebSettings};

use axum::Router;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

/// The OpenAPI document's frame; the paths come from the handlers.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "abm API", description = "The account-based marketing engine's REST API. Authenticate with `Authorization: Bearer TOKEN` (`abm token create EMAIL`)."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The largest request body any route accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole application: API, OpenAPI document, pages.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api::routes())
        .split_for_parts();
    let openapi = std::sync::Arc::new(openapi);
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let openapi = std::sync::Arc::clone(&openapi);
                async move { axum::Json((*openapi).clone()) }
            }),
        )
        .merge(html::routes())
        .merge(track::routes())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .with_state(state)
}

/// [`serve`] with owned arguments, for `tokio::spawn`.
pub async fn serve_owned(bind: String, state: AppState) -> std::io::Result<()> {
    serve(&bind, state).await
}

/// Serves until Ctrl-C.
pub async fn serve(bind: &str, state: AppState) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
