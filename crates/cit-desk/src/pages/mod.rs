//! The pages of the desk, and what every page shares: who is signed in ([`Signed`]), in which
//! tenant and with which rights ([`InTenant`]), the form posts checked against CSRF
//! ([`Posted`]) and the layout context ([`Page`]).
//!
//! Rooms: [`auth`] (login, logout, the tenant chooser), [`dashboard`], [`content`] (lists, the
//! editor, revisions), [`media`] (the library), [`requests`] (tickets and submissions),
//! [`admin`] (members, tokens, audit, content types, tenants).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use minijinja::{Value, context};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{ApiFailure, Body};
use crate::error::{DeskError, DeskResult};
use crate::server::DeskState;
use crate::session::{COOKIE, Session, read_cookie};

pub mod admin;
pub mod auth;
pub mod content;
pub mod dashboard;
pub mod editor;
pub mod events;
pub mod history;
pub mod media;
pub mod requests;
pub mod site_preview;
pub mod surveys;

/// Every page route of the desk.
pub fn configure(cfg: &mut web::ServiceConfig) {
    auth::configure(cfg);
    dashboard::configure(cfg);
    editor::configure(cfg);
    history::configure(cfg);
    site_preview::configure(cfg);
    content::configure(cfg);
    media::configure(cfg);
    requests::configure(cfg);
    surveys::configure(cfg);
    events::configure(cfg);
    admin::configure(cfg);
}

/// The path and query of a request, to come back to after signing in.
fn here(req: &HttpRequest) -> String {
    match req.uri().path_and_query() {
        Some(pq) if req.method() == actix_web::http::Method::GET => pq.as_str().to_owned(),
        _ => req
            .headers()
            .get(header::REFERER)
            .and_then(|r| r.to_str().ok())
            .and_then(|r| {
                url::Url::parse(r).ok().map(|u| match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_owned(),
                })
            })
            .unwrap_or_else(|| "/".into()),
    }
}

fn state_of(req: &HttpRequest) -> Result<Arc<DeskState>, DeskError> {
    req.app_data::<web::Data<DeskState>>()
        .map(|d| d.clone().into_inner())
        .ok_or_else(|| DeskError::Unavailable("desk state missing".into()))
}

/// A signed-in user: a page that takes it is refused (to the login page) without a session.
#[derive(Clone)]
pub struct Signed {
    pub desk: Arc<DeskState>,
    pub session: Arc<Session>,
}

impl Signed {
    fn from_request_sync(req: &HttpRequest) -> Result<Signed, DeskError> {
        let desk = state_of(req)?;
        let session = req
            .headers()
            .get(header::COOKIE)
            .and_then(|c| c.to_str().ok())
            .and_then(|c| read_cookie(c, COOKIE))
            .and_then(|id| desk.sessions.find(id));
        match session {
            Some(session) => Ok(Signed { desk, session }),
            None => Err(DeskError::SignIn { next: here(req) }),
        }
    }

    /// Calls the API with this session's token; a 401 ends the session and asks to sign in again.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Body,
    ) -> DeskResult<T> {
        let url = self.desk.api.url(path, query)?;
        let token = self.token().await?;
        match self.desk.api.json(method, url, Some(&token), body).await {
            Err(ApiFailure::Unauthorized) => Err(self.ended()),
            other => Ok(other?),
        }
    }

    /// Like [`Signed::call`], but gives the API's refusal back to the page (to show field
    /// errors next to their fields); only 401 and an unreachable API become page errors.
    pub async fn try_call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Body,
    ) -> DeskResult<Result<T, crate::api::Problem>> {
        let url = self.desk.api.url(path, query)?;
        let token = self.token().await?;
        match self.desk.api.json(method, url, Some(&token), body).await {
            Ok(v) => Ok(Ok(v)),
            Err(ApiFailure::Problem(p)) => Ok(Err(p)),
            Err(ApiFailure::Unauthorized) => Err(self.ended()),
            Err(e) => Err(e.into()),
        }
    }

    /// A call whose answer has no body worth reading (204, or JSON the page ignores).
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Body,
    ) -> DeskResult<Result<(), crate::api::Problem>> {
        let url = self.desk.api.url(path, query)?;
        let token = self.token().await?;
        match self.desk.api.send(method, url, Some(&token), body, &[]).await {
            Ok(_) => Ok(Ok(())),
            Err(ApiFailure::Problem(p)) => Ok(Err(p)),
            Err(ApiFailure::Unauthorized) => Err(self.ended()),
            Err(e) => Err(e.into()),
        }
    }

    /// `GET` a JSON document.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> DeskResult<T> {
        self.call(Method::GET, path, query, Body::None).await
    }

    /// A raw answer (a file, a CSV export), for the pages that pass it on.
    pub async fn raw(
        &self,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, String)],
    ) -> DeskResult<crate::api::Raw> {
        let url = self.desk.api.url(path, query)?;
        let token = self.token().await?;
        match self.desk.api.raw(url, Some(&token), headers).await {
            Err(ApiFailure::Unauthorized) => Err(self.ended()),
            other => Ok(other?),
        }
    }

    async fn token(&self) -> DeskResult<String> {
        match self.session.access_token(&self.desk.api).await {
            Ok(t) => Ok(t),
            Err(ApiFailure::Unavailable(e)) => Err(DeskError::Unavailable(e)),
            Err(_) => Err(self.ended()),
        }
    }

    fn ended(&self) -> DeskError {
        self.desk.sessions.close(self.session.id());
        DeskError::SignIn { next: String::new() }
    }

    /// A redirect after a post, with a message for the next page.
    pub fn redirect_with(&self, to: &str, kind: &'static str, text: impl Into<String>) -> HttpResponse {
        self.session.set_flash(kind, text);
        see_other(to)
    }

    /// The layout context of a page outside any tenant.
    pub fn page(&self, title: impl Into<String>) -> Page {
        let me = self.session.user();
        let tenants = me
            .memberships
            .iter()
            .map(|m| TenantLink { id: m.tenant.clone(), role: m.role.clone(), current: false })
            .collect();
        Page {
            title: title.into(),
            user: UserView { name: me.name, email: me.email, platform_admin: me.platform_admin },
            csrf: self.session.csrf.clone(),
            flash: self.session.take_flash(),
            tenants,
            tenant: None,
            section: "",
            crumbs: Vec::new(),
        }
    }
}

impl FromRequest for Signed {
    type Error = DeskError;
    type Future = std::future::Ready<Result<Signed, DeskError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Signed::from_request_sync(req))
    }
}

/// What a user may do in a tenant, from their role (the API checks every call again: this only
/// decides what the pages offer).
#[derive(Debug, Clone, Serialize)]
pub struct Rights {
    /// `admin`, `editor`, `author`, `operator`, `member`, or `platform` for a platform admin
    /// who is not a member.
    pub role: String,
    pub write: bool,
    pub publish: bool,
    pub requests: bool,
    pub admin: bool,
    pub platform_admin: bool,
}

impl Rights {
    pub fn of(role: &str, platform_admin: bool) -> Rights {
        let p = platform_admin;
        Rights {
            role: role.to_owned(),
            write: p || matches!(role, "admin" | "editor" | "author"),
            publish: p || matches!(role, "admin" | "editor"),
            requests: p || matches!(role, "admin" | "editor" | "operator"),
            admin: p || role == "admin",
            platform_admin: p,
        }
    }
}

/// A signed-in user inside one tenant (`/t/{tenant}/…`): refused with 403 unless they are a
/// member of it or a platform admin.
#[derive(Clone)]
pub struct InTenant {
    pub signed: Signed,
    pub tenant: String,
    pub rights: Rights,
}

impl std::ops::Deref for InTenant {
    type Target = Signed;
    fn deref(&self) -> &Signed {
        &self.signed
    }
}

impl InTenant {
    fn from_request_sync(req: &HttpRequest) -> Result<InTenant, DeskError> {
        let signed = Signed::from_request_sync(req)?;
        let tenant = req.match_info().get("tenant").unwrap_or_default().to_owned();
        let me = signed.session.user();
        let role = match me.memberships.iter().find(|m| m.tenant == tenant) {
            Some(m) => m.role.clone(),
            None if me.platform_admin => "platform".to_owned(),
            None => return Err(DeskError::Forbidden("Non sei membro di questo ente.".into())),
        };
        let rights = Rights::of(&role, me.platform_admin);
        Ok(InTenant { signed, tenant, rights })
    }

    /// An API path below this tenant: `api("entries/notizia")` is `api/v1/t/{tenant}/entries/notizia`.
    pub fn api(&self, rest: &str) -> String {
        let rest = rest.trim_start_matches('/');
        if rest.is_empty() { format!("api/v1/t/{}", self.tenant) } else { format!("api/v1/t/{}/{rest}", self.tenant) }
    }

    /// A desk path below this tenant: `link("contenuti")` is `/t/{tenant}/contenuti`.
    pub fn link(&self, rest: &str) -> String {
        format!("/t/{}/{}", self.tenant, rest.trim_start_matches('/'))
    }

    /// The partner site of this tenant (for preview and "view on site" links).
    pub fn site(&self) -> String {
        self.desk.settings.site_of(&self.tenant)
    }

    /// Refuses unless `allowed` (a right of [`Rights`]).
    pub fn require(&self, allowed: bool) -> DeskResult<()> {
        if allowed { Ok(()) } else { Err(DeskError::Forbidden("Il tuo ruolo non consente questa operazione.".into())) }
    }

    /// The layout context of a page of this tenant, in the menu section `section`.
    pub fn page(&self, title: impl Into<String>, section: &'static str) -> Page {
        let mut page = self.signed.page(title);
        for t in &mut page.tenants {
            t.current = t.id == self.tenant;
        }
        page.tenant = Some(TenantView { id: self.tenant.clone(), rights: self.rights.clone(), site: self.site() });
        page.section = section;
        page.crumbs.push(Crumb { label: "Bacheca".into(), href: Some(self.link("")) });
        page
    }
}

impl FromRequest for InTenant {
    type Error = DeskError;
    type Future = std::future::Ready<Result<InTenant, DeskError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(InTenant::from_request_sync(req))
    }
}

/// A form post of a signed-in user (`application/x-www-form-urlencoded`, or
/// `multipart/form-data` for forms with files), accepted only with the session's CSRF token in
/// its `csrf` field. Repeated names (checkboxes, lists) are kept in order; files are kept in
/// memory up to the desk's upload limit and passed on to the API.
pub struct Posted {
    pub pairs: Vec<(String, String)>,
    pub files: Vec<UploadedFile>,
}

/// A file of a multipart post (a part with a file name). An empty file input sends a part with
/// an empty name and no bytes: those are left out.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    /// The form field's name.
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl Posted {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed, `None` when empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Whether the form was sent with the button `name` (e.g. `action=publish`).
    pub fn pressed(&self, name: &str, value: &str) -> bool {
        self.all(name).contains(&value)
    }

    /// The file sent in the field `name`, if one was chosen.
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.iter().find(|f| f.field == name)
    }
}

/// Largest urlencoded form post the desk reads (the editor of a long page is the largest).
pub const MAX_FORM: usize = 2 * 1024 * 1024;

/// Largest text part of a multipart post.
const MAX_TEXT_PART: usize = 256 * 1024;

enum Encoding {
    Urlencoded,
    Multipart,
    Other,
}

async fn read_multipart(mut form: actix_multipart::Multipart, max_bytes: usize) -> Result<Posted, DeskError> {
    use futures_util::StreamExt;
    let too_big = || DeskError::BadRequest(format!("Il modulo supera il limite di {} MB.", max_bytes / (1024 * 1024)));
    let mut posted = Posted { pairs: Vec::new(), files: Vec::new() };
    let mut total = 0usize;
    while let Some(part) = form.next().await {
        let mut part = part.map_err(|_| DeskError::BadRequest("Il modulo non è leggibile.".into()))?;
        let name = part.content_disposition().and_then(|d| d.get_name()).unwrap_or_default().to_owned();
        let filename = part.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        let content_type = part.content_type().map(|m| m.essence_str().to_owned());
        let limit = if filename.is_some() { max_bytes } else { MAX_TEXT_PART };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|_| too_big())?;
            total += chunk.len();
            if bytes.len() + chunk.len() > limit || total > max_bytes + MAX_FORM {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        match filename {
            Some(filename) if !filename.is_empty() || !bytes.is_empty() => {
                posted.files.push(UploadedFile { field: name, filename, content_type, bytes })
            }
            Some(_) => {}
            None => posted.pairs.push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    Ok(posted)
}

impl FromRequest for Posted {
    type Error = DeskError;
    type Future = Pin<Box<dyn Future<Output = Result<Posted, DeskError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let signed = Signed::from_request_sync(req);
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or_default();
        let encoding = if ct.starts_with("application/x-www-form-urlencoded") {
            Encoding::Urlencoded
        } else if ct.starts_with("multipart/form-data") {
            Encoding::Multipart
        } else {
            Encoding::Other
        };
        let max_upload = signed.as_ref().map(|s| s.desk.settings.max_upload_bytes).unwrap_or(MAX_FORM);
        let body = match encoding {
            Encoding::Urlencoded => Some(web::Bytes::from_request(req, payload)),
            _ => None,
        };
        let multipart = match encoding {
            Encoding::Multipart => Some(actix_multipart::Multipart::new(req.headers(), payload.take())),
            _ => None,
        };
        Box::pin(async move {
            let signed = signed?;
            let posted = match (encoding, body, multipart) {
                (Encoding::Urlencoded, Some(body), _) => {
                    let body = body.await.map_err(|_| DeskError::BadRequest("Il modulo è troppo grande.".into()))?;
                    if body.len() > MAX_FORM {
                        return Err(DeskError::BadRequest("Il modulo è troppo grande.".into()));
                    }
                    let pairs =
                        url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                    Posted { pairs, files: Vec::new() }
                }
                (Encoding::Multipart, _, Some(form)) => read_multipart(form, max_upload).await?,
                _ => return Err(DeskError::BadRequest("Il modulo non è stato inviato come modulo HTML.".into())),
            };
            if !signed.session.csrf_ok(posted.get("csrf")) {
                return Err(DeskError::Csrf);
            }
            Ok(posted)
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub name: String,
    pub email: String,
    pub platform_admin: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantLink {
    pub id: String,
    pub role: String,
    pub current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantView {
    pub id: String,
    pub rights: Rights,
    pub site: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Crumb {
    pub label: String,
    pub href: Option<String>,
}

/// What the layout (`layout.html`) needs on every page: `page` in the templates.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub title: String,
    pub user: UserView,
    /// The CSRF token for the page's forms: `<input type="hidden" name="csrf" value="{{ page.csrf }}">`.
    pub csrf: String,
    pub flash: Option<crate::session::Flash>,
    pub tenants: Vec<TenantLink>,
    pub tenant: Option<TenantView>,
    /// The menu item to mark current: `bacheca`, `contenuti`, `media`, `richieste`, `amministrazione`, `enti`.
    pub section: &'static str,
    /// Breadcrumbs after the first (Bacheca); the last is the current page.
    pub crumbs: Vec<Crumb>,
}

impl Page {
    /// Adds a breadcrumb (give no `href` to the current page).
    pub fn crumb(mut self, label: impl Into<String>, href: Option<String>) -> Page {
        self.crumbs.push(Crumb { label: label.into(), href });
        self
    }

    /// Renders `template` with this page as `page` and the fields of `extra` beside it.
    pub fn render(self, template: &str, extra: Value) -> HttpResponse {
        self.render_status(StatusCode::OK, template, extra)
    }

    /// As [`Page::render`], with another status (422 for a form shown again with its errors).
    pub fn render_status(self, status: StatusCode, template: &str, extra: Value) -> HttpResponse {
        let mut page = self;
        if page.crumbs.last().is_none_or(|c| c.label != page.title) {
            let title = page.title.clone();
            page = page.crumb(title, None);
        }
        if let Some(last) = page.crumbs.last_mut() {
            last.href = None;
        }
        crate::render::html(status, template, context! { page => crate::render::val(&page), ..extra })
    }
}

/// 303 to `to`.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_owned())).finish()
}

/// A path segment or query value made safe for a URL.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
