//! Building and running the server. `Application::build` binds its listener (port 0 in tests),
//! exposes the port, and runs until stopped: SIGTERM and Ctrl-C stop accepting connections and
//! let in-flight requests finish (up to `shutdown_timeout_secs`).
//!
//! The stop is in two steps, so that a load balancer in front loses nothing (tests/cluster/):
//! first the listening socket is shut, so new connections are refused at once and the balancer
//! sends them to another node (POSTs included: they were never sent); the workers keep running
//! for [`DRAIN`], so every connection accepted just before is read and answered. Only then is the
//! server told to stop gracefully. Stopping it at once (actix's own signal handling) closed
//! connections that were accepted but not yet handed to a worker, without an answer.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
pub use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpServer, web};
use anyhow::Context;
use cit_core::{Actor, Email, Password, PlatformAction, authorize_platform};
use cit_store::{ConnectSettings, NewUser, Store};

use crate::clock::{Clock, SystemClock};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::routes;
use crate::settings::Settings;
use crate::state::AppState;

/// How long the workers go on after the listening socket is shut, for the connections accepted
/// just before it.
const DRAIN: Duration = Duration::from_millis(300);

pub struct Application {
    port: u16,
    server: Server,
    /// The listening socket (a duplicate of the server's), shut on SIGTERM.
    listening: socket2::Socket,
    state: Arc<AppState>,
    scheduler: Option<tokio::task::JoinHandle<()>>,
    /// The outbox worker and the retention job.
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(
        &settings.database_url(),
        &ConnectSettings {
            max_connections: settings.db_max_connections,
            acquire_timeout: Duration::from_secs(settings.db_acquire_timeout_secs.max(1)),
            replica_url: settings.database_replica_url.as_ref().map(|u| u.expose().to_owned()),
            ..ConnectSettings::default()
        },
    )
    .await
    .with_context(|| format!("cannot open the database at {}", settings.database_url_redacted()))?;
    let applied = store.migrate().await.context("cannot apply the database migrations")?;
    if applied > 0 {
        tracing::info!(applied, "applied database migrations");
    }
    // Start-up indexing crosses tenants: the server itself does it, with its own capability.
    let access = authorize_platform(&Actor::System, PlatformAction::IndexSearch)?;
    let indexed = store.index_missing(&access).await.context("cannot build the search index")?;
    if indexed > 0 {
        tracing::info!(indexed, "indexed entries for search");
    }
    Ok(store)
}

/// Creates the first platform admin from `CIT_ADMIN_EMAIL` / `CIT_ADMIN_PASSWORD` when there is
/// no user at all.
pub async fn bootstrap_admin(state: &AppState) -> anyhow::Result<()> {
    if state.store.count_users().await? > 0 {
        return Ok(());
    }
    let (Some(email), Some(password)) = (&state.settings.admin_email, &state.settings.admin_password) else {
        tracing::warn!(
            "there are no users yet: set CIT_ADMIN_EMAIL and CIT_ADMIN_PASSWORD, or run `cit user create --platform-admin`"
        );
        return Ok(());
    };
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("CIT_ADMIN_EMAIL: {e}"))?;
    let password = Password::parse(password.expose()).map_err(|e| anyhow::anyhow!("CIT_ADMIN_PASSWORD: {e}"))?;
    let access = authorize_platform(&Actor::System, PlatformAction::ManageUsers)?;
    let password_hash = state.passwords.hash(&password).await?;
    state
        .store
        .create_user(
            &access,
            NewUser { email: email.clone(), name: "Platform admin".into(), password_hash, platform_admin: true },
        )
        .await?;
    tracing::info!(%email, "created the first platform admin");
    Ok(())
}

fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest { code: "invalid_query", detail: err.to_string() }.into()
}

fn path_error(_: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound("resource").into()
}

/// Mounts every route on an actix `App`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use routes::*;
    cfg.app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(ops::openapi)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(tenants::create_tenant)
        .service(tenants::list_tenants)
        .service(tenants::get_tenant)
        .service(tenants::update_tenant)
        .service(tenants::create_user)
        .service(tenants::profile)
        .service(tenant_jobs::export)
        .service(tenant_jobs::import)
        .service(tenant_jobs::list)
        .service(tenant_jobs::get_one)
        .service(tenant_jobs::archive)
        .service(tenant_jobs::remove)
        .service(members::list)
        .service(members::add)
        .service(members::change_role)
        .service(members::remove)
        .service(members::audit)
        .service(tokens::list)
        .service(tokens::create)
        .service(tokens::revoke)
        .service(webhooks::list)
        .service(webhooks::create)
        .service(webhooks::get_one)
        .service(webhooks::update)
        .service(webhooks::remove)
        .service(webhooks::deliveries)
        .service(webhooks::redeliver)
        .service(content_types::list)
        .service(content_types::versions)
        .service(content_types::get_one)
        .service(content_types::put_one)
        .service(content_types::delete_one)
        .service(search::search)
        .service(forms::list)
        .service(forms::get_one)
        .service(forms::submit)
        .service(forms::by_secret)
        .service(forms::reply_by_secret)
        .service(events::registration_info)
        .service(events::register)
        .service(events::by_secret)
        .service(events::cancel)
        .service(events::list_csv)
        .service(events::list)
        .service(events::invite)
        .service(newsletter::lists)
        .service(newsletter::subscribers)
        .service(newsletter::subscribe)
        .service(newsletter::list_form)
        .service(newsletter::put_list)
        .service(newsletter::confirm)
        .service(newsletter::confirmation)
        .service(newsletter::unsubscribe_view)
        .service(newsletter::unsubscribe)
        .service(newsletter::create_campaign)
        .service(newsletter::campaign)
        .service(newsletter::send)
        .service(surveys::list)
        .service(surveys::responses_csv)
        .service(surveys::responses_xlsx)
        .service(surveys::get_one)
        .service(surveys::put_one)
        .service(surveys::by_link)
        .service(surveys::save)
        .service(surveys::form)
        .service(surveys::answer)
        .service(surveys::invite)
        .service(surveys::invitations)
        .service(surveys::get_results)
        .service(surveys::all_profiles)
        .service(surveys::chart)
        .service(tickets::list)
        .service(tickets::export_csv)
        .service(tickets::get_one)
        .service(tickets::update)
        .service(tickets::add_message)
        .service(tickets::submissions)
        .service(tickets::submission)
        .service(attachments::download)
        .service(media::upload)
        .service(media::list)
        .service(media::file)
        .service(media::uses)
        .service(media::update)
        .service(media::get_one)
        .service(media::remove)
        .service(entries::list)
        .service(entries::create)
        .service(entries::revisions)
        .service(entries::diff)
        .service(entries::restore)
        .service(entries::get_one)
        .service(entries::update)
        .service(entries::remove)
        .service(crate::graphql::http::post)
        .service(crate::graphql::http::get)
        .service(crate::graphql::http::asset)
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")),
        );
}

/// Marks `GET` and `HEAD` requests as reads that may go to the read replica (when there is one):
/// anything else reads the primary, so a write reads back what it wrote.
async fn replica_scope(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let read = matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
    cit_store::replica::may_lag(read, next.call(req)).await
}

/// SIGTERM or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl Application {
    /// Opens the database, then builds the server on `settings.listen`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = open_store(&settings).await?;
        Self::build_with_store(settings, store).await
    }

    pub async fn build_with_store(settings: Settings, store: Store) -> anyhow::Result<Self> {
        Self::build_with(settings, store, Arc::new(SystemClock)).await
    }

    /// The server on an open store, with the given clock (tests pass a manual one).
    pub async fn build_with(settings: Settings, store: Store, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(&settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let listening = socket2::Socket::from(listener.try_clone().context("cannot duplicate the listening socket")?);
        let workers = if settings.workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            settings.workers
        };
        let shutdown = settings.shutdown_timeout_secs;
        let interval = settings.scheduler_interval_secs;
        let state = AppState::new(store, settings, Metrics::new()?, clock)?;
        bootstrap_admin(&state).await?;
        let data = web::Data::from(state.clone());
        let replica = state.store.has_replica();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .wrap(from_fn(crate::read_cache::middleware))
                .wrap(actix_web::middleware::Condition::new(replica, from_fn(replica_scope)))
                .wrap(from_fn(crate::metrics::observe))
                .configure(configure)
                .default_service(web::to(crate::route_table::fallback))
        })
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(shutdown)
        .client_request_timeout(Duration::from_secs(30))
        .listen(listener)?
        .run();
        let scheduler = (interval > 0).then(|| {
            let state = state.clone();
            crate::background::every(Duration::from_secs(interval), "scheduler step", move || {
                let state = state.clone();
                async move { state.run_scheduler_once().await.map(drop) }
            })
        });
        let mut background = Vec::new();
        background.extend(crate::mail::worker::spawn(state.clone())?);
        background.extend(crate::requests::retention::spawn(state.clone()));
        background.extend(crate::webhooks::worker::spawn(state.clone()));
        background.extend(crate::portable::jobs::spawn(state.clone()));
        Ok(Self { port, server, listening, state, scheduler, background })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// A handle to stop the server gracefully from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or Ctrl-C (then drains, see the module's header) or until stopped
    /// through [`Self::handle`].
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let listening = self.listening;
        let drain = tokio::spawn(async move {
            stop_signal().await;
            tracing::info!("stopping: no new connections, finishing the requests in flight");
            // Linux refuses new connections to a listening socket shut for reading.
            if let Err(e) = listening.shutdown(std::net::Shutdown::Read) {
                tracing::warn!(error = %e, "cannot shut the listening socket; stopping at once");
            } else {
                tokio::time::sleep(DRAIN).await;
            }
            handle.stop(true).await;
        });
        let result = self.server.await;
        drain.abort();
        if let Some(s) = self.scheduler {
            s.abort();
        }
        for task in self.background {
            task.abort();
        }
        result
    }
}
