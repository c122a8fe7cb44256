//! The HTTP server of `[web] listen`: `/healthz` for container health checks and `/metrics`
//! for Prometheus. The web front end will live here too.
//!
//! It only reads: the app's health check ([`App::health`]) and the process's metrics
//! ([`crate::metrics`]). It answers nothing else (404), caps nothing it does not need to (no
//! request bodies are read), and stops with the bot.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::App;

/// What the handlers share: the app, and whether this process runs a Discord gateway (then
/// its connection is part of health).
#[derive(Clone, Debug)]
pub struct WebState {
    /// The application.
    pub app: Arc<App>,
    /// Whether the gateway's connection counts (`hotpapers run` does; a bare server not).
    pub has_gateway: bool,
}

/// The routes: `GET /healthz`, `GET /metrics`.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: WebState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds `addr`, with an error that names it.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, std::io::Error> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {addr} ([web] listen): {e}"),
        )
    })
}

/// `200` with the health as JSON, or `503` with the same JSON and its reasons.
async fn healthz(State(state): State<WebState>) -> Response {
    let gateway = state
        .has_gateway
        .then(|| crate::metrics::metrics().gateway_connected());
    let health = state.app.health(gateway).await;
    let code = if health.is_healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(health)).into_response()
}

/// The Prometheus text format.
async fn metrics() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        crate::metrics::metrics().encode(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::config::Config;
    use crate::store::SqliteStore;
    use chrono::TimeZone;

    async fn app() -> Arc<App> {
        let store = SqliteStore::in_memory().await.unwrap();
        let clock = FakeClock::new(chrono::Utc.with_ymd_and_hms(2021, 7, 3, 12, 0, 0).unwrap());
        Arc::new(App::with_store(Config::default(), Arc::new(store), Arc::new(clock)).unwrap())
    }

    async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
        let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    #[tokio::test]
    async fn healthz_and_metrics_answer_and_the_gateway_counts() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = WebState {
            app: app().await,
            has_gateway: true,
        };
        let server = tokio::spawn(serve(listener, state, async {
            let _ = rx.await;
        }));
        crate::metrics::metrics().set_gateway_connected(false);
        let (code, body) = get(addr, "/healthz").await;
        assert_eq!(code, 503, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["gateway_connected"], false);
        assert_eq!(v["store_writable"], true);
        assert_eq!(v["reasons"][0], "the Discord gateway is not connected");
        crate::metrics::metrics().set_gateway_connected(true);
        let (code, body) = get(addr, "/healthz").await;
        assert_eq!(code, 200, "{body}");
        assert!(body.contains(r#""status":"ok""#), "{body}");
        let (code, body) = get(addr, "/metrics").await;
        assert_eq!(code, 200);
        assert!(body.contains("hotpapers_gateway_connected 1"), "{body}");
        let (code, _) = get(addr, "/other").await;
        assert_eq!(code, 404);
        let _ = tx.send(());
        server.await.unwrap().unwrap();
    }
}
