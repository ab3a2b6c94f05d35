//! The one typed application state every handler receives.

use std::sync::Arc;
use std::time::Duration;

use cit_core::{Action, Actor, PlatformAccess, PlatformAction, TenantAccess, TenantId, authorize, authorize_platform};
use cit_store::changes::Changes;
use cit_store::{Store, Tenant};

use crate::clock::Clock;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::lookups::{Lookups, Ticket};
use crate::metrics::Metrics;
use crate::read_cache::ReadCache;
use crate::security::{Jwt, LoginLimiter, Passwords};
use crate::settings::Settings;

pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    pub jwt: Jwt,
    pub passwords: Passwords,
    pub login_limiter: LoginLimiter,
    pub metrics: Metrics,
    pub clock: Arc<dyn Clock>,
    /// Where media bytes live.
    pub media: Arc<dyn object_store::ObjectStore>,
    /// Where the files attached to submissions live: private, never served by a public URL.
    pub attachments: Arc<dyn object_store::ObjectStore>,
    /// Where the archives of the export and import jobs live (see [`crate::portable`]).
    pub tenant_jobs: Arc<dyn object_store::ObjectStore>,
    /// Each tenant's GraphQL schema, rebuilt when its content types change.
    pub graphql: crate::graphql::SchemaCache,
    /// Answers to public reads, forgotten on every write (see [`crate::read_cache`]).
    pub read_cache: Arc<ReadCache>,
    /// Tenants, tokens, roles and content types as this node last read them (see [`crate::lookups`]).
    pub lookups: Arc<Lookups>,
    /// Tells the other nodes (and this one) what changed.
    pub changes: Changes,
    /// Signs fill tokens and derives ticket secrets.
    pub request_keys: crate::requests::Keys,
    /// Submissions per address and per tenant.
    pub submit_limits: crate::requests::RateLimits,
}

pub type State = actix_web::web::Data<AppState>;

impl AppState {
    pub fn new(store: Store, settings: Settings, metrics: Metrics, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<Self>> {
        let jwt = Jwt::from_settings(&settings)?;
        let passwords = Passwords::new(&settings.password_hashing)?;
        let media = crate::media::open_storage(&settings)?;
        let attachments = crate::requests::attachments::open_storage(&settings)?;
        let tenant_jobs = crate::portable::open_storage(&settings)?;
        let l = &settings.login_limit;
        let login_limiter = LoginLimiter::new(l.per_account, l.per_address, Duration::from_secs(l.window_secs));
        let read_cache = Arc::new(ReadCache::new(settings.cache.enabled, settings.cache.max_bytes));
        let lookups = Arc::new(Lookups::new(settings.cache.lookups));
        let (forget, forget_lookups) = (read_cache.clone(), lookups.clone());
        let lease = Duration::from_millis(settings.cache.lease_ms);
        let changes = Changes::start(&store, lease, move |change| {
            forget.forget(change);
            forget_lookups.forget(change);
        });
        // Everything the store decides by time (expiry at use, timestamps) reads the same clock.
        let store = store.with_clock(clock.clone());
        let request_keys = crate::requests::Keys::derive(&crate::security::signing_key(&settings)?);
        let r = &settings.requests;
        let submit_limits =
            crate::requests::RateLimits::new(r.per_address, r.per_tenant, Duration::from_secs(r.window_secs.max(1)));
        Ok(Arc::new(Self {
            store,
            settings,
            jwt,
            passwords,
            login_limiter,
            metrics,
            clock,
            media,
            attachments,
            tenant_jobs,
            graphql: crate::graphql::SchemaCache::new(),
            read_cache,
            lookups,
            changes,
            request_keys,
            submit_limits,
        }))
    }

    /// Loads the tenant named in the path (404 when missing or malformed) and works out who the
    /// caller is there. Pair with [`cit_core::authorize`] (or use [`AppState::tenant_access`]).
    pub async fn tenant_actor(&self, auth: &Auth, tenant: &str) -> ApiResult<(Arc<Tenant>, Actor)> {
        let id = TenantId::parse(tenant).map_err(|_| ApiError::NotFound("tenant"))?;
        let tenant = self.tenant(&id).await?;
        self.metrics.tenant_exists(tenant.id.as_str());
        let actor = match auth {
            Auth::Anonymous => Actor::Anonymous,
            Auth::User { user, .. } => Actor::User {
                id: user.id,
                platform_admin: user.platform_admin,
                role: self.role_of(&tenant.id, user.id).await?,
            },
            Auth::Token(token) => {
                Actor::Token { id: token.id, tenant: token.tenant.clone(), scopes: token.scopes.clone() }
            }
        };
        Ok((tenant, actor))
    }

    /// What `kept` finds in this node's memory, when the memory may be used now; else what
    /// `load` reads, handed to `keep` to be kept if nothing was forgotten meanwhile.
    async fn remembered<T>(
        &self,
        kept: impl FnOnce(&Lookups) -> Option<T>,
        load: impl Future<Output = ApiResult<T>>,
        keep: impl FnOnce(&Lookups, Ticket, &T),
    ) -> ApiResult<T> {
        let ticket = self.lookups.ticket(self.changes.serving());
        if ticket.is_some()
            && let Some(value) = kept(&self.lookups)
        {
            return Ok(value);
        }
        let value = load.await?;
        if let Some(ticket) = ticket {
            keep(&self.lookups, ticket, &value);
        }
        Ok(value)
    }

    /// The tenant (404 when there is none).
    async fn tenant(&self, id: &TenantId) -> ApiResult<Arc<Tenant>> {
        self.remembered(
            |l| l.tenant(id),
            async { Ok(Arc::new(self.store.tenant(id).await?.ok_or(ApiError::NotFound("tenant"))?)) },
            |l, ticket, tenant| l.keep_tenant(ticket, tenant.clone()),
        )
        .await
    }

    /// The user's role in the tenant.
    async fn role_of(&self, tenant: &TenantId, user: cit_core::UserId) -> ApiResult<Option<cit_core::Role>> {
        self.remembered(
            |l| l.role(tenant, user.0),
            async { Ok(self.store.role_of(&self.authentication()?, tenant, user).await?) },
            |l, ticket, role| l.keep_role(ticket, tenant, user.0, *role),
        )
        .await
    }

    /// The API token of `hash`, if it exists, is not revoked and has not expired (expiry is
    /// checked at every use, kept or not).
    pub async fn api_token(&self, hash: &str) -> ApiResult<Option<cit_store::ApiToken>> {
        self.remembered(
            |l| l.token(hash, self.store.now()).map(Some),
            async { Ok(self.store.api_token_by_hash(&self.authentication()?, hash).await?) },
            |l, ticket, token| {
                if let Some(token) = token {
                    l.keep_token(ticket, hash.to_owned(), token.clone());
                }
            },
        )
        .await
    }

    /// A content type of the tenant `access` is for (404 when there is none), parsed once per
    /// version on this node.
    pub async fn content_type(
        &self,
        access: &TenantAccess,
        api_id: &str,
    ) -> ApiResult<Arc<cit_core::content::ContentType>> {
        self.remembered(
            |l| l.content_type(access.tenant(), api_id),
            async {
                let stored =
                    self.store.scoped(access).content_type(api_id).await?.ok_or(ApiError::NotFound("content type"))?;
                Ok(Arc::new(stored.ct))
            },
            |l, ticket, ct| l.keep_content_type(ticket, access.tenant(), ct.clone()),
        )
        .await
    }

    /// The server's capability to find out who a caller is (an API token by its hash, a user's
    /// memberships): minted here, where the platform itself acts, before any permission check.
    pub fn authentication(&self) -> ApiResult<PlatformAccess> {
        Ok(authorize_platform(&Actor::System, PlatformAction::Authenticate)?)
    }

    /// The tenant, and the caller's permission to do `action` there from `cit_core::authorize`.
    /// The returned access is what the store needs to touch the tenant's rows.
    pub async fn tenant_access(
        &self,
        auth: &Auth,
        tenant: &str,
        action: Action,
    ) -> ApiResult<(Arc<Tenant>, TenantAccess)> {
        let (tenant, actor) = self.tenant_actor(auth, tenant).await?;
        let access = authorize(&actor, tenant.facts(), action)?;
        Ok((tenant, access))
    }

    /// One scheduler step at the clock's current time: publishes due entries, archives expired
    /// ones. Safe to run on several nodes at once: each entry flips once.
    pub async fn run_scheduler_once(&self) -> anyhow::Result<cit_store::ScheduleReport> {
        let access = authorize_platform(&Actor::System, PlatformAction::RunScheduler)?;
        let report = self.store.run_schedule(&access, self.clock.now()).await?;
        if !report.published.is_empty() || !report.unpublished.is_empty() {
            tracing::info!(published = report.published.len(), unpublished = report.unpublished.len(), "scheduler");
        }
        let mut tenants: Vec<&str> =
            report.published.iter().chain(&report.unpublished).map(|(tenant, _, _)| tenant.as_str()).collect();
        tenants.sort_unstable();
        tenants.dedup();
        for tenant in tenants {
            self.changes.announce_content(tenant).await;
        }
        Ok(report)
    }

    pub fn platform_access(&self, auth: &Auth, action: PlatformAction) -> ApiResult<PlatformAccess> {
        let actor = match auth {
            Auth::Anonymous => Actor::Anonymous,
            Auth::User { user, .. } => Actor::User { id: user.id, platform_admin: user.platform_admin, role: None },
            Auth::Token(token) => {
                Actor::Token { id: token.id, tenant: token.tenant.clone(), scopes: token.scopes.clone() }
            }
        };
        Ok(authorize_platform(&actor, action)?)
    }
}
