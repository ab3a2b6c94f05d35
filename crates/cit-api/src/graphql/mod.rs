//! GraphQL at `/api/v1/t/{tenant}/graphql`: a typed schema per tenant, generated from its content
//! types with async-graphql's dynamic schema (see [`schema`] for its shape), cached per tenant
//! and rebuilt when a type changes (requests in flight finish on the schema they started with).
//! References, translations and revisions are loaded in batches, so the number of SQL statements
//! of a query does not grow with the entries it returns. Queries are checked before they run
//! ([`limits`]); resolvers answer with the REST API's permissions, validation and error codes.

mod context;
mod errors;
pub mod http;
pub mod limits;
mod mutate;
mod plan;
mod query;
mod requests;
mod schema;
mod search;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_graphql::dynamic::{DynamicRequestExt, FieldValue};
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response, ServerError, Variables};
use chrono::{DateTime, Utc};
use cit_core::content::ContentType;
use cit_core::{Action, TenantId, authorize};
use cit_store::StoredType;

pub use schema::{TenantSchema, build};

use self::context::ReqCtx;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

/// The SDL of a tenant with these content types (`cit graphql-sdl` prints the CIT preset's).
pub fn sdl(types: &[ContentType]) -> anyhow::Result<String> {
    let schema = build(types).map_err(|e| anyhow::anyhow!("the GraphQL schema does not build: {e}"))?;
    let mut sdl = schema.sdl();
    if !sdl.ends_with('\n') {
        sdl.push('\n');
    }
    Ok(sdl)
}

/// What a schema was built from: each type's api id, version and last change.
type Key = Vec<(String, i32, DateTime<Utc>)>;

/// The schema of each tenant, for as long as its content types stay the same.
#[derive(Default)]
pub struct SchemaCache {
    tenants: RwLock<HashMap<TenantId, (Key, Arc<TenantSchema>)>>,
}

impl SchemaCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The schema for `types`: the cached one when they have not changed, else a new one,
    /// which replaces it (holders of the old one keep it until they are done).
    pub fn schema(&self, tenant: &TenantId, types: &[StoredType]) -> ApiResult<Arc<TenantSchema>> {
        let key: Key = types.iter().map(|t| (t.ct.id.to_string(), t.version, t.updated_at)).collect();
        {
            let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
            if let Some((k, schema)) = tenants.get(tenant)
                && *k == key
            {
                return Ok(schema.clone());
            }
        }
        let cts: Vec<ContentType> = types.iter().map(|t| t.ct.clone()).collect();
        let schema = Arc::new(build(&cts).map_err(|e| ApiError::internal(anyhow::anyhow!("GraphQL schema: {e}")))?);
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        tenants.insert(tenant.clone(), (key, schema.clone()));
        Ok(schema)
    }
}

/// One GraphQL request as received.
#[derive(Debug, Clone, Default)]
pub(crate) struct Incoming {
    pub query: String,
    pub variables: Option<serde_json::Value>,
    pub operation_name: Option<String>,
}

/// A request that is not for this method.
#[derive(Debug)]
pub(crate) struct MutationOverGet;

/// A tenant's schema and the caller's context there, for the requests of one HTTP call.
pub(crate) struct Runner {
    schema: Arc<TenantSchema>,
    pub rc: Arc<ReqCtx>,
}

fn refused(code: &'static str, message: impl Into<String>) -> Response {
    let mut e = ServerError::new(message, None);
    e.extensions.get_or_insert_with(Default::default).set("code", code);
    Response::from_errors(vec![e])
}

impl Runner {
    /// Finds the tenant, checks that the caller may read it (401/403/404 as REST answers), and
    /// takes the schema of its current content types.
    pub async fn new(state: &AppState, auth: &Auth, tenant: &str) -> ApiResult<Self> {
        let (tenant, actor) = state.tenant_actor(auth, tenant).await?;
        let read = authorize(&actor, tenant.facts(), Action::ReadPublished)?;
        let types = state.store.scoped(&read).content_types().await?;
        let schema = state.graphql.schema(&tenant.id, &types)?;
        let rc = ReqCtx::new(state.store.clone(), tenant, actor, read, state.clock.clone());
        Ok(Self { schema, rc })
    }

    /// Checks and runs one request. `get` refuses mutations.
    pub async fn run(&self, incoming: Incoming, get: bool) -> Result<Response, MutationOverGet> {
        if let Err(r) = limits::prescan(&incoming.query) {
            return Ok(refused(r.code, r.message));
        }
        let doc = match async_graphql::parser::parse_query(&incoming.query) {
            Ok(doc) => doc,
            Err(e) => {
                let mut e = ServerError::from(e);
                e.extensions.get_or_insert_with(Default::default).set("code", "GRAPHQL_PARSE_FAILED");
                return Ok(Response::from_errors(vec![e]));
            }
        };
        let variables = match incoming.variables {
            None | Some(serde_json::Value::Null) => Variables::default(),
            Some(v @ serde_json::Value::Object(_)) => Variables::from_json(v),
            Some(_) => return Ok(refused("BAD_REQUEST", "`variables` must be an object")),
        };
        let analysis = match limits::analyze(
            &doc,
            incoming.operation_name.as_deref(),
            &variables,
            self.schema.schema.registry(),
            &self.schema.plan,
        ) {
            Ok(a) => a,
            Err(r) => return Ok(refused(r.code, r.message)),
        };
        if get && analysis.operation == Some(OperationType::Mutation) {
            return Err(MutationOverGet);
        }
        let mut request = Request::new(incoming.query).variables(variables);
        if let Some(name) = incoming.operation_name {
            request = request.operation_name(name);
        }
        request.set_parsed_query(doc);
        let mut response = self.schema.schema.execute(request.root_value(FieldValue::owned_any(self.rc.clone()))).await;
        let before_execution = response.data == async_graphql::Value::Null;
        for e in &mut response.errors {
            let ext = e.extensions.get_or_insert_with(Default::default);
            if ext.get("code").is_none() {
                ext.set("code", if before_execution { "GRAPHQL_VALIDATION_FAILED" } else { "internal" });
            }
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use cit_core::content::SchemaFile;

    fn stored(toml: &str, version: i32) -> Vec<StoredType> {
        SchemaFile::parse_toml(toml)
            .unwrap()
            .content_types()
            .unwrap()
            .into_iter()
            .map(|ct| StoredType { ct, version, updated_at: DateTime::<Utc>::MIN_UTC })
            .collect()
    }

    const V1: &str = "[types.notizia]\nsingular = \"Notizia\"\nplural = \"Notizie\"\nfields = [{ name = \"title\", kind = \"string\", label = \"Titolo\" }]\n";
    const V2: &str = "[types.notizia]\nsingular = \"Notizia\"\nplural = \"Notizie\"\nfields = [{ name = \"title\", kind = \"string\", label = \"Titolo\" }, { name = \"subtitle\", kind = \"string\", label = \"Sottotitolo\" }]\n";

    #[test]
    fn the_cache_rebuilds_on_a_new_version_and_old_schemas_live_on() {
        let cache = SchemaCache::new();
        let lecce = TenantId::parse("lecce").unwrap();
        let genova = TenantId::parse("genova").unwrap();
        let first = cache.schema(&lecce, &stored(V1, 1)).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.schema(&lecce, &stored(V1, 1)).unwrap()));
        let other = cache.schema(&genova, &stored(V1, 1)).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        let second = cache.schema(&lecce, &stored(V2, 2)).unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(second.sdl().contains("subtitle: String"));
        // whoever still holds the first one (a request in flight) keeps a working schema
        assert!(!first.sdl().contains("subtitle"));
        assert!(first.sdl().contains("notiziaList"));
        assert!(Arc::ptr_eq(&second, &cache.schema(&lecce, &stored(V2, 2)).unwrap()));
    }

    #[test]
    fn a_tenant_without_types_has_a_valid_schema() {
        let sdl = sdl(&[]).unwrap();
        assert!(sdl.contains("tenant: Tenant!"));
        assert!(!sdl.contains("type Mutation"));
    }
}
