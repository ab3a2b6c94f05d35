//! One request to one partner site, and its way to the API: every document a page reads is
//! fetched here and read into the typed structs of [`crate::api::types`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{SiteError, q};
use crate::api::types::{Argomento, Entry, List, Pagina, SearchResults, TenantProfile};
use crate::api::{ApiError, Fetched};
use crate::server::SiteState;
use crate::theme::Theme;

/// One request to one partner site.
pub struct Ctx {
    pub state: Arc<SiteState>,
    pub theme: Arc<Theme>,
    /// "" when the site is addressed by host name, "/lecce" when by path prefix.
    pub base: String,
    /// Scheme and host the visitor used, e.g. "http://127.0.0.1:8081".
    pub origin: String,
    /// The site path below `base`, starting with "/".
    pub path: String,
    pub query: HashMap<String, String>,
    /// The bearer token of the request's `Authorization` header, when it has one: how the desk
    /// asks for a preview with the editor's own token, server to server, keeping it out of URLs.
    pub bearer: Option<String>,
    /// Set when any answer came from the cache after the API failed.
    pub stale: Cell<bool>,
    /// Answers already fetched during this request.
    pub seen: RefCell<HashMap<String, Fetched>>,
    /// Until when every answer this page used is fresh: how long the page may be kept.
    pub fresh_until: Cell<Option<Instant>>,
}

/// An entry key (slug or id) as the API accepts it; anything else cannot name an entry.
fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 200 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Ctx {
    async fn fetch(&self, path: &str, query: Vec<(String, String)>, token: Option<&str>) -> Result<Fetched, ApiError> {
        let url = self.state.api.url(path, &query)?;
        // The same document asked twice in one request (the layout and the page both need the
        // profile and the page tree) is fetched once.
        let key = token.is_none().then(|| url.to_string());
        if let Some(hit) = key.as_ref().and_then(|k| self.seen.borrow().get(k).cloned()) {
            return Ok(hit);
        }
        let fetched = self.state.api.get(url, token).await?;
        if fetched.stale {
            self.stale.set(true);
        }
        let until = self.fresh_until.get().map_or(fetched.fresh_until, |u| u.min(fetched.fresh_until));
        self.fresh_until.set(Some(until));
        if let Some(k) = key {
            self.seen.borrow_mut().insert(k, fetched.clone());
        }
        Ok(fetched)
    }

    fn tenant_path(&self, rest: &str) -> String {
        format!("api/v1/t/{}/{rest}", self.theme.tenant)
    }

    /// The tenant's public profile; 404 when the API has no such tenant.
    pub async fn profile(&self) -> Result<TenantProfile, SiteError> {
        let path = format!("api/v1/t/{}", self.theme.tenant);
        let body = self.fetch(&path, Vec::new(), None).await?.body;
        Ok(serde_json::from_value((*body).clone()).unwrap_or_default())
    }

    /// Entries of a type. A type the tenant does not have is an empty list (a new partner
    /// whose content model is not applied yet still gets a site).
    pub async fn list<D: DeserializeOwned + Default>(
        &self,
        ty: &str,
        query: Vec<(String, String)>,
    ) -> Result<List<Entry<D>>, SiteError> {
        match self.fetch(&self.tenant_path(&format!("entries/{ty}")), query, None).await {
            Ok(f) => Ok(List::from_value(&f.body)),
            Err(ApiError::NotFound) => Ok(List::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// One entry by slug (or id), with reference fields expanded.
    pub async fn entry<D: DeserializeOwned + Default>(
        &self,
        ty: &str,
        key: &str,
        expand: &str,
    ) -> Result<Entry<D>, SiteError> {
        if !valid_key(key) {
            return Err(SiteError::NotFound);
        }
        let query = if expand.is_empty() { Vec::new() } else { q(&[("expand", expand)]) };
        let f = self.fetch(&self.tenant_path(&format!("entries/{ty}/{key}")), query, None).await?;
        read_entry(&f.body)
    }

    /// A draft (or any entry) through a preview token.
    pub async fn preview_entry<D: DeserializeOwned + Default>(
        &self,
        ty: &str,
        id: &str,
        expand: &str,
        token: &str,
    ) -> Result<Entry<D>, SiteError> {
        let mut query = q(&[("status", "any")]);
        if !expand.is_empty() {
            query.push(("expand".into(), expand.into()));
        }
        let f = self.fetch(&self.tenant_path(&format!("entries/{ty}/{id}")), query, Some(token)).await?;
        read_entry(&f.body)
    }

    /// Static pages (type `pagina`) without their bodies, for menus and the page tree.
    pub async fn pages(&self) -> Result<Vec<Entry<Pagina>>, SiteError> {
        Ok(self
            .list(
                "pagina",
                q(&[("fields", "title,summary,parent,menu_order,show_in_menu"), ("limit", "100"), ("sort", "title")]),
            )
            .await?
            .items)
    }

    pub(crate) async fn topics(&self) -> Result<Vec<Entry<Argomento>>, SiteError> {
        Ok(self.list("argomento", q(&[("sort", "title"), ("limit", "100")])).await?.items)
    }

    /// The tenant's full-text search.
    pub(crate) async fn search(&self, query: Vec<(String, String)>) -> Result<SearchResults, ApiError> {
        let f = self.fetch(&self.tenant_path("search"), query, None).await?;
        Ok(SearchResults::from_value(&f.body))
    }

    pub(crate) fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Absolute URL of a site path.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}{}", self.origin, self.base, path)
    }

    pub(crate) fn logo_url(&self) -> String {
        format!("{}/_assets/themes/{}/{}", self.origin, self.theme.id, self.theme.file.logo)
    }

    /// schema.org GovernmentOrganization of the body the site belongs to.
    pub fn organization(&self) -> Value {
        let f = &self.theme.file;
        let mut org = json!({
            "@type": "GovernmentOrganization",
            "name": f.body,
            "logo": self.logo_url(),
        });
        if let Some(u) = &f.body_url {
            org["url"] = json!(u);
        }
        if let Some(a) = &f.footer.address {
            org["address"] = json!(a);
        }
        if let Some(t) = &f.footer.tax_code {
            org["taxID"] = json!(t);
        }
        if let Some(e) = &f.contacts.email {
            org["email"] = json!(e);
        }
        if let Some(p) = &f.contacts.phone {
            org["telephone"] = json!(p);
        }
        org
    }
}

/// An entry document; one that is not an object is a broken answer of the API.
fn read_entry<D: DeserializeOwned + Default>(body: &Value) -> Result<Entry<D>, SiteError> {
    Entry::from_value(body.clone())
        .ok_or_else(|| SiteError::Unavailable("the API sent an entry that is not an object".into()))
}
