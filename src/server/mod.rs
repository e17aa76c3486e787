//! Starting and stopping the server.

pub mod listener;
mod log_line;
mod logging;

use std::sync::Arc;
use std::time::Duration;

use crate::api::{app, AppState};
use crate::assistant::Assistants;
use crate::auth::{
    bootstrap_admin, BootstrapError, PasswordError, Passwords, Throttle, ThrottlePolicy,
};
use crate::config::{AuthConfig, Config, ConfigError};
use crate::store::{Store, StoreError};
use listener::ConnectionLimits;

/// Why the server could not start, or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Passwords(#[from] PasswordError),
    #[error(transparent)]
    FirstAdmin(#[from] BootstrapError),
    /// The language model's settings.
    #[error("{0}")]
    Llm(String),
    #[error("cannot serve on {bind}: {source}")]
    Listen {
        bind: String,
        source: std::io::Error,
    },
}

pub async fn serve(config: Config) -> Result<(), ServerError> {
    // Kept to the end, so that the last lines are written before the process ends.
    let _log = logging::init_logging();
    let location = config.database.location()?;
    let store = Store::open(location, &config.database).await?;
    let passwords = Passwords::new(&config.auth)?;
    bootstrap_admin(&store, &passwords, &config).await?;
    let state = app_state(&config, store.clone(), passwords)?;
    let token_purge = tokio::spawn(
        store
            .clone()
            .purge_expired_tokens_forever(token_purge_interval(&config.auth)),
    );
    let cannot_serve = |source| ServerError::Listen {
        bind: config.server.bind.clone(),
        source,
    };
    let shutdown = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(&config.server.bind)
        .await
        .map_err(cannot_serve)?;
    tracing::info!(
        bind = %config.server.bind,
        database = %location,
        "adthread listening"
    );
    let limits = ConnectionLimits {
        max_connections: config.server.max_connections,
        header_read_timeout: Duration::from_secs(config.server.header_read_timeout_secs),
    };
    let generation = state.assistants.start_generation();
    let served = listener::serve(listener, app(state), limits, shutdown).await;
    token_purge.abort();
    generation.stop().await;
    store.close();
    tracing::info!("adthread stopped");
    served.map_err(cannot_serve)
}

/// What the handlers share, built from the configuration around an open store.
pub fn app_state(
    config: &Config,
    store: Store,
    passwords: Passwords,
) -> Result<AppState, ServerError> {
    Ok(AppState {
        assistants: Arc::new(
            Assistants::new(store.clone(), &config.llm).map_err(ServerError::Llm)?,
        ),
        throttle: Arc::new(Throttle::new(
            ThrottlePolicy::from_config(&config.auth),
            store.shared_coordination(),
        )),
        store,
        config: Arc::new(config.clone()),
        passwords,
    })
}

/// Once per token lifetime, at most an hour apart: the token table then holds at most about two
/// lifetimes' worth of sign-ins (25 hours' with the default lifetime of a day).
fn token_purge_interval(auth: &AuthConfig) -> Duration {
    Duration::from_secs(auth.token_lifetime_secs.clamp(1, 3600))
}

/// Completes on SIGINT or SIGTERM. The handlers are installed here, before the listener takes
/// its first connection: installed on the future's first poll instead, a SIGTERM that came
/// right after the first answer (the accept loop not yet polled again) killed the process.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).expect("SIGINT handler"),
            signal(SignalKind::terminate()).expect("SIGTERM handler"),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = signals;
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    }
}
