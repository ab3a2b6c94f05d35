//! The pages of a partner site. Each handler reads what it needs from the API through [`Ctx`]
//! and names a template and its context; [`crate::server`] renders and answers.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::api::{ApiError, Fetched};
use crate::server::SiteState;
use crate::theme::Theme;

/// Service categories of the CIT preset, in catalogue order, with their Italian names.
pub const CATEGORIES: [(&str, &str); 15] = [
    ("anagrafe-e-stato-civile", "Anagrafe e stato civile"),
    ("istanze-e-protocollo", "Istanze e protocollo"),
    ("tributi-e-pagamenti", "Tributi e pagamenti"),
    ("mobilita-e-polizia-locale", "Mobilità e polizia locale"),
    ("edilizia-e-territorio", "Edilizia e territorio"),
    ("attivita-produttive", "Attività produttive"),
    ("scuola-e-servizi-educativi", "Scuola e servizi educativi"),
    ("turismo-e-cultura", "Turismo e cultura"),
    ("open-data", "Open data"),
    ("infrastrutture-digitali", "Infrastrutture digitali"),
    ("sicurezza-informatica", "Sicurezza informatica"),
    ("transizione-digitale", "Transizione digitale"),
    ("gestione-associata", "Gestione associata"),
    ("formazione", "Formazione"),
    ("assistenza-tecnica", "Assistenza tecnica"),
];

/// Roles of a member body in the CIT, in the order the community page shows them.
pub const ROLES: [(&str, &str); 4] = [
    ("coordinatore", "Ente coordinatore"),
    ("riferimento-istituzionale", "Riferimento istituzionale"),
    ("partner", "Partner del Progetto CIT"),
    ("aderente", "Enti aderenti"),
];

/// Static pages every site has, with a built-in text when the tenant has no page of that slug.
pub const LEGAL_PAGES: [&str; 3] = ["dichiarazione-di-accessibilita", "privacy", "note-legali"];

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("not found")]
    NotFound,
    #[error("preview not allowed")]
    Denied,
    #[error("content API unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ApiError> for SiteError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NotFound => SiteError::NotFound,
            ApiError::Denied(_) => SiteError::Denied,
            // Only what a visitor typed (a cursor, a filter) can make a request malformed.
            ApiError::BadRequest => SiteError::NotFound,
            ApiError::Unavailable(m) => SiteError::Unavailable(m),
        }
    }
}

pub type PageResult = Result<Answer, SiteError>;

/// What a handler produces.
pub enum Answer {
    /// A page: template name and its own context (the layout's is added by the server).
    Page(Page),
    /// A permanent redirect to a site path (the base prefix is added by the server).
    Redirect(String),
    /// A non-HTML document (sitemap, robots.txt, feed).
    Document { content_type: &'static str, body: String },
}

pub struct Page {
    pub template: String,
    pub title: String,
    pub description: Option<String>,
    pub breadcrumbs: Vec<(String, Option<String>)>,
    /// Main-menu section to mark as current ("servizi", "notizie", …).
    pub section: Option<&'static str>,
    pub og_type: &'static str,
    pub jsonld: Option<Value>,
    pub ctx: Map<String, Value>,
    /// A draft shown through a preview link: never cached, never indexed.
    pub preview: bool,
    pub status: u16,
}

impl Page {
    pub fn new(template: &str, title: impl Into<String>) -> Page {
        Page {
            template: template.to_owned(),
            title: title.into(),
            description: None,
            breadcrumbs: Vec::new(),
            section: None,
            og_type: "website",
            jsonld: None,
            ctx: Map::new(),
            preview: false,
            status: 200,
        }
    }

    fn crumbs(mut self, crumbs: &[(&str, Option<&str>)]) -> Page {
        self.breadcrumbs = crumbs.iter().map(|(t, u)| ((*t).to_owned(), u.map(str::to_owned))).collect();
        self
    }

    fn crumb(mut self, title: &str, url: Option<&str>) -> Page {
        self.breadcrumbs.push((title.to_owned(), url.map(str::to_owned)));
        self
    }

    fn section(mut self, s: &'static str) -> Page {
        self.section = Some(s);
        self
    }

    fn describe(mut self, d: Option<&str>) -> Page {
        self.description = d.map(str::to_owned);
        self
    }

    fn with(mut self, key: &str, value: Value) -> Page {
        self.ctx.insert(key.to_owned(), value);
        self
    }
}

/// A list answer of the API.
#[derive(Debug, Default, Clone)]
pub struct List {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
}

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
    /// Set when any answer came from the cache after the API failed.
    pub stale: Cell<bool>,
    /// Answers already fetched during this request.
    pub seen: std::cell::RefCell<HashMap<String, Fetched>>,
    /// Until when every answer this page used is fresh: how long the page may be kept.
    pub fresh_until: Cell<Option<std::time::Instant>>,
}

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn data_str<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get("data").and_then(|d| d.get(key)).and_then(Value::as_str)
}

fn title_of(v: &Value) -> String {
    data_str(v, "title").unwrap_or("").to_owned()
}

/// The start of today (UTC), the boundary between upcoming and past events in API queries. A
/// boundary that moves once a day keeps the query's URL, and so its cached answer, the same all
/// day: with an exact "now" every request would be new to the cache and none could be served
/// stale while the API is down. Events of today count as upcoming.
fn today_start() -> String {
    chrono::Utc::now().format("%Y-%m-%dT00:00:00Z").to_string()
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn q<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
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
    pub async fn profile(&self) -> Result<Arc<Value>, SiteError> {
        let path = format!("api/v1/t/{}", self.theme.tenant);
        Ok(self.fetch(&path, Vec::new(), None).await?.body)
    }

    /// Entries of a type. A type the tenant does not have is an empty list (a new partner
    /// whose content model is not applied yet still gets a site).
    pub async fn list(&self, ty: &str, query: Vec<(String, String)>) -> Result<List, SiteError> {
        match self.fetch(&self.tenant_path(&format!("entries/{ty}")), query, None).await {
            Ok(f) => Ok(List {
                items: f.body.get("data").and_then(Value::as_array).cloned().unwrap_or_default(),
                next_cursor: str_of(&f.body, "next_cursor").map(str::to_owned),
            }),
            Err(ApiError::NotFound) => Ok(List::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// One entry by slug (or id), with reference fields expanded.
    pub async fn entry(&self, ty: &str, key: &str, expand: &str) -> Result<Value, SiteError> {
        if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(SiteError::NotFound);
        }
        let query = if expand.is_empty() { Vec::new() } else { q(&[("expand", expand)]) };
        let f = self.fetch(&self.tenant_path(&format!("entries/{ty}/{key}")), query, None).await?;
        Ok((*f.body).clone())
    }

    /// A draft (or any entry) through a preview token.
    pub async fn preview_entry(&self, ty: &str, id: &str, expand: &str, token: &str) -> Result<Value, SiteError> {
        let mut query = q(&[("status", "any")]);
        if !expand.is_empty() {
            query.push(("expand".into(), expand.into()));
        }
        let f = self.fetch(&self.tenant_path(&format!("entries/{ty}/{id}")), query, Some(token)).await?;
        Ok((*f.body).clone())
    }

    /// Static pages (type `pagina`) without their bodies, for menus and the page tree.
    pub async fn pages(&self) -> Result<Vec<Value>, SiteError> {
        Ok(self
            .list(
                "pagina",
                q(&[("fields", "title,summary,parent,menu_order,show_in_menu"), ("limit", "100"), ("sort", "title")]),
            )
            .await?
            .items)
    }

    async fn topics(&self) -> Result<Vec<Value>, SiteError> {
        Ok(self.list("argomento", q(&[("sort", "title"), ("limit", "100")])).await?.items)
    }

    fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Absolute URL of a site path.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}{}", self.origin, self.base, path)
    }

    fn logo_url(&self) -> String {
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

// ---- tree of static pages -----------------------------------------------------------------

/// The page tree: ids, parents, and each page's path of slugs.
pub struct Tree {
    pages: Vec<Value>,
    by_id: HashMap<String, usize>,
}

impl Tree {
    pub fn new(pages: Vec<Value>) -> Tree {
        let by_id = pages.iter().enumerate().filter_map(|(i, p)| Some((str_of(p, "id")?.to_owned(), i))).collect();
        Tree { pages, by_id }
    }

    fn parent_of(&self, p: &Value) -> Option<&Value> {
        let id = data_str(p, "parent")?;
        self.by_id.get(id).and_then(|i| self.pages.get(*i))
    }

    /// Ancestors from the root down to `p` included (cycles are cut).
    pub fn chain<'a>(&'a self, p: &'a Value) -> Vec<&'a Value> {
        let mut chain = vec![p];
        let mut cur = p;
        while let Some(parent) = self.parent_of(cur) {
            if chain.len() > 16 || chain.iter().any(|c| str_of(c, "id") == str_of(parent, "id")) {
                break;
            }
            chain.push(parent);
            cur = parent;
        }
        chain.reverse();
        chain
    }

    pub fn path_of(&self, p: &Value) -> String {
        self.chain(p).iter().map(|c| format!("/{}", str_of(c, "slug").unwrap_or(""))).collect()
    }

    pub fn by_slug(&self, slug: &str) -> Option<&Value> {
        self.pages.iter().find(|p| str_of(p, "slug") == Some(slug))
    }

    fn order(p: &Value) -> (i64, String) {
        (p.get("data").and_then(|d| d.get("menu_order")).and_then(Value::as_i64).unwrap_or(500), title_of(p))
    }

    /// Children of `parent` (None: the roots), in menu order; `menu_only` keeps those shown in menus.
    pub fn children(&self, parent: Option<&str>, menu_only: bool) -> Vec<Value> {
        let mut kids: Vec<&Value> = self
            .pages
            .iter()
            .filter(|p| match parent {
                Some(id) => data_str(p, "parent") == Some(id),
                None => self.parent_of(p).is_none(),
            })
            .filter(|p| {
                !menu_only || p.get("data").and_then(|d| d.get("show_in_menu")).and_then(Value::as_bool) != Some(false)
            })
            .collect();
        kids.sort_by_key(|p| Self::order(p));
        kids.into_iter()
            .map(|p| json!({"title": title_of(p), "url": self.path_of(p), "summary": data_str(p, "summary"), "slug": str_of(p, "slug")}))
            .collect()
    }
}

// ---- pages -------------------------------------------------------------------------------

const HOME: &str = "Home";

pub async fn home(cx: &Ctx) -> PageResult {
    let now = today_start();
    let services =
        cx.list("servizio", q(&[("sort", "title"), ("limit", "6"), ("filter[service_status][eq]", "attivo")]));
    let news = cx.list("notizia", q(&[("sort", "-published_at"), ("limit", "3")]));
    let events =
        cx.list("evento", q(&[("sort", "start"), ("limit", "3"), ("filter[start][gte]", &now), ("expand", "place")]));
    let projects =
        cx.list("progetto", q(&[("sort", "title"), ("limit", "3"), ("filter[project_status][ne]", "concluso")]));
    let (services, news, events, projects, topics) = tokio::join!(services, news, events, projects, cx.topics());
    let (services, news, events, projects, topics) = (services?, news?, events?, projects?, topics?);
    let description = cx.theme.file.description.clone();
    let mut page = Page::new("home.html", cx.theme.file.name.clone())
        .describe(description.as_deref())
        .with("services", json!(services.items))
        .with("news", json!(news.items))
        .with("events", json!(events.items))
        .with("projects", json!(projects.items))
        .with("topics", json!(topics));
    page.jsonld = Some(
        json!({"@context": "https://schema.org", "@type": "WebSite", "name": cx.theme.file.name, "url": cx.absolute("/"), "publisher": cx.organization()}),
    );
    Ok(Answer::Page(page))
}

pub async fn services(cx: &Ctx) -> PageResult {
    let topics = cx.topics().await?;
    let mut query = q(&[("sort", "title"), ("limit", "100"), ("expand", "argomenti")]);
    let category = cx.param("categoria").filter(|c| CATEGORIES.iter().any(|(v, _)| v == c));
    if let Some(c) = category {
        query.push(("filter[category][eq]".into(), c.to_owned()));
    }
    let topic = match cx.param("argomento") {
        Some(slug) => Some(topics.iter().find(|t| str_of(t, "slug") == Some(slug)).ok_or(SiteError::NotFound)?.clone()),
        None => None,
    };
    if let Some(id) = topic.as_ref().and_then(|t| str_of(t, "id")) {
        query.push(("filter[argomenti][contains]".into(), id.to_owned()));
    }
    let all = cx.list("servizio", query).await?;
    let mut groups: Vec<Value> = Vec::new();
    for (value, label) in CATEGORIES {
        let items: Vec<&Value> = all.items.iter().filter(|s| data_str(s, "category") == Some(value)).collect();
        if !items.is_empty() {
            groups.push(json!({"category": value, "label": label, "services": items}));
        }
    }
    let counts: BTreeMap<&str, usize> =
        all.items.iter().filter_map(|s| data_str(s, "category")).fold(BTreeMap::new(), |mut m, c| {
            *m.entry(c).or_default() += 1;
            m
        });
    let categories: Vec<Value> = CATEGORIES
        .iter()
        .map(|(v, l)| json!({"value": v, "label": l, "count": counts.get(v).copied().unwrap_or(0)}))
        .collect();
    let page = Page::new("services.html", "Servizi")
        .crumbs(&[(HOME, Some("/")), ("Servizi", None)])
        .section("servizi")
        .describe(Some("Il catalogo dei servizi offerti dal CIT agli enti aderenti, per categoria e argomento."))
        .with("groups", json!(groups))
        .with("count", json!(all.items.len()))
        .with("categories", json!(categories))
        .with("category", json!(category))
        .with("topic", json!(topic))
        .with("topics", json!(topics));
    Ok(Answer::Page(page))
}

fn service_page(cx: &Ctx, s: Value) -> Page {
    let title = title_of(&s);
    let summary = data_str(&s, "summary").map(str::to_owned);
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "name": title,
        "description": summary,
        "url": cx.absolute(&format!("/servizi/{}", str_of(&s, "slug").unwrap_or(""))),
        "serviceType": data_str(&s, "category").and_then(|c| crate::render::label("category", c)),
        "provider": cx.organization(),
        "areaServed": cx.theme.file.body,
    });
    if let Some(a) = s.get("data").and_then(|d| d.get("audience")).and_then(Value::as_array) {
        ld["audience"] = json!({"@type": "Audience", "audienceType": a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")});
    }
    if let Some(u) = data_str(&s, "access_url") {
        ld["availableChannel"] = json!({"@type": "ServiceChannel", "serviceUrl": u});
    }
    let mut page = Page::new("service.html", title.clone())
        .crumbs(&[(HOME, Some("/")), ("Servizi", Some("/servizi"))])
        .crumb(&title, None)
        .section("servizi")
        .describe(summary.as_deref())
        .with("service", s);
    page.jsonld = Some(ld);
    page
}

pub async fn service(cx: &Ctx, slug: &str) -> PageResult {
    let s = cx.entry("servizio", slug, "office,argomenti").await?;
    Ok(Answer::Page(service_page(cx, s)))
}

pub async fn news(cx: &Ctx) -> PageResult {
    let mut query = q(&[("sort", "-published_at"), ("limit", "6"), ("expand", "argomenti")]);
    let cursor = cx.param("cursor").filter(|c| c.len() < 512).map(str::to_owned);
    if let Some(c) = &cursor {
        query.push(("cursor".into(), c.clone()));
    }
    let list = cx.list("notizia", query).await?;
    let page = Page::new("news.html", "Notizie")
        .crumbs(&[(HOME, Some("/")), ("Notizie", None)])
        .section("notizie")
        .describe(Some("Notizie e comunicati del CIT."))
        .with("news", json!(list.items))
        .with("next_cursor", json!(list.next_cursor))
        .with("paged", json!(cursor.is_some()));
    Ok(Answer::Page(page))
}

fn article_page(cx: &Ctx, n: Value) -> Page {
    let title = title_of(&n);
    let summary = data_str(&n, "summary").map(str::to_owned);
    let url = cx.absolute(&format!("/notizie/{}", str_of(&n, "slug").unwrap_or("")));
    let ld = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "description": summary,
        "datePublished": str_of(&n, "published_at"),
        "dateModified": str_of(&n, "updated_at"),
        "mainEntityOfPage": url,
        "inLanguage": str_of(&n, "locale").unwrap_or("it"),
        "author": {"@type": "Organization", "name": data_str(&n, "author_name").unwrap_or(&cx.theme.file.name)},
        "publisher": cx.organization(),
        "image": cx.logo_url(),
        "license": "https://creativecommons.org/licenses/by/4.0/",
    });
    let mut page = Page::new("article.html", title.clone())
        .crumbs(&[(HOME, Some("/")), ("Notizie", Some("/notizie"))])
        .crumb(&title, None)
        .section("notizie")
        .describe(summary.as_deref())
        .with("article", n);
    page.og_type = "article";
    page.jsonld = Some(ld);
    page
}

pub async fn article(cx: &Ctx, slug: &str) -> PageResult {
    let n = cx.entry("notizia", slug, "argomenti,related_services").await?;
    Ok(Answer::Page(article_page(cx, n)))
}

pub async fn events(cx: &Ctx) -> PageResult {
    let now = today_start();
    let upcoming =
        cx.list("evento", q(&[("sort", "start"), ("limit", "50"), ("filter[start][gte]", &now), ("expand", "place")]));
    let past =
        cx.list("evento", q(&[("sort", "-start"), ("limit", "20"), ("filter[start][lt]", &now), ("expand", "place")]));
    let (upcoming, past) = tokio::join!(upcoming, past);
    let (upcoming, past) = (upcoming?, past?);
    let page = Page::new("events.html", "Eventi")
        .crumbs(&[(HOME, Some("/")), ("Eventi", None)])
        .section("eventi")
        .describe(Some("Webinar, incontri ed eventi pubblici del CIT: in programma e passati."))
        .with("upcoming", json!(upcoming.items))
        .with("past", json!(past.items));
    Ok(Answer::Page(page))
}

fn event_page(cx: &Ctx, e: Value) -> Page {
    let title = title_of(&e);
    let summary = data_str(&e, "summary").map(str::to_owned);
    let place = e.get("data").and_then(|d| d.get("place")).filter(|p| p.is_object());
    let room = data_str(&e, "online_room_url");
    let mut locations = Vec::new();
    if let Some(p) = place {
        locations.push(json!({
            "@type": "Place",
            "name": data_str(p, "title"),
            "address": {"@type": "PostalAddress", "streetAddress": data_str(p, "address"), "addressLocality": data_str(p, "city"), "postalCode": data_str(p, "postal_code"), "addressRegion": data_str(p, "province"), "addressCountry": "IT"},
        }));
    }
    if let Some(r) = room {
        locations.push(json!({"@type": "VirtualLocation", "url": r}));
    }
    let mode = match (place.is_some(), room.is_some()) {
        (true, true) => "https://schema.org/MixedEventAttendanceMode",
        (false, true) => "https://schema.org/OnlineEventAttendanceMode",
        _ => "https://schema.org/OfflineEventAttendanceMode",
    };
    let ld = json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": title,
        "description": summary,
        "startDate": data_str(&e, "start"),
        "endDate": data_str(&e, "end"),
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": mode,
        "location": if locations.len() == 1 { locations.remove(0) } else { json!(locations) },
        "organizer": data_str(&e, "organizer").map_or_else(|| cx.organization(), |o| json!({"@type": "Organization", "name": o})),
        "url": cx.absolute(&format!("/eventi/{}", str_of(&e, "slug").unwrap_or(""))),
        "inLanguage": "it",
    });
    let upcoming = data_str(&e, "start").is_some_and(|s| s >= now_rfc3339().as_str());
    let mut page = Page::new("event.html", title.clone())
        .crumbs(&[(HOME, Some("/")), ("Eventi", Some("/eventi"))])
        .crumb(&title, None)
        .section("eventi")
        .describe(summary.as_deref())
        .with("event", e)
        .with("upcoming", json!(upcoming));
    page.jsonld = Some(ld);
    page
}

pub async fn event(cx: &Ctx, slug: &str) -> PageResult {
    let e = cx.entry("evento", slug, "place,argomenti").await?;
    Ok(Answer::Page(event_page(cx, e)))
}

pub async fn projects(cx: &Ctx) -> PageResult {
    let list = cx.list("progetto", q(&[("sort", "title"), ("limit", "100")])).await?;
    let (done, open): (Vec<Value>, Vec<Value>) =
        list.items.into_iter().partition(|p| data_str(p, "project_status") == Some("concluso"));
    let page = Page::new("projects.html", "Progetti")
        .crumbs(&[(HOME, Some("/")), ("Progetti", None)])
        .section("progetti")
        .describe(Some("Work in progress: i progetti del CIT, con stato e avanzamento."))
        .with("open", json!(open))
        .with("done", json!(done));
    Ok(Answer::Page(page))
}

fn project_page(p: Value) -> Page {
    let title = title_of(&p);
    let summary = data_str(&p, "summary").map(str::to_owned);
    Page::new("project.html", title.clone())
        .crumbs(&[(HOME, Some("/")), ("Progetti", Some("/progetti"))])
        .crumb(&title, None)
        .section("progetti")
        .describe(summary.as_deref())
        .with("project", p)
}

pub async fn project(cx: &Ctx, slug: &str) -> PageResult {
    Ok(Answer::Page(project_page(cx.entry("progetto", slug, "partners,argomenti").await?)))
}

pub async fn community(cx: &Ctx) -> PageResult {
    let list = cx.list("ente", q(&[("sort", "title"), ("limit", "100")])).await?;
    let mut groups = Vec::new();
    for (role, label) in ROLES {
        let members: Vec<&Value> =
            list.items.iter().filter(|e| data_str(e, "role").unwrap_or("aderente") == role).collect();
        if !members.is_empty() {
            groups.push(json!({"role": role, "label": label, "members": members}));
        }
    }
    let page = Page::new("community.html", "Community")
        .crumbs(&[(HOME, Some("/")), ("Community", None)])
        .section("community")
        .describe(Some("Gli enti della Community del CIT: coordinatore, partner ed enti aderenti."))
        .with("groups", json!(groups))
        .with("count", json!(list.items.len()));
    Ok(Answer::Page(page))
}

fn ente_page(cx: &Ctx, e: Value) -> Page {
    let title = title_of(&e);
    let mut ld = json!({"@context": "https://schema.org", "@type": "GovernmentOrganization", "name": title, "description": data_str(&e, "description"), "url": data_str(&e, "website"), "email": data_str(&e, "pec")});
    if let Some(loc) = e.get("data").and_then(|d| d.get("location")) {
        ld["geo"] = json!({"@type": "GeoCoordinates", "latitude": loc.get("lat"), "longitude": loc.get("lon")});
    }
    ld["memberOf"] = json!({"@type": "Organization", "name": cx.theme.file.name});
    let desc = data_str(&e, "description").map(str::to_owned);
    let mut page = Page::new("ente.html", title.clone())
        .crumbs(&[(HOME, Some("/")), ("Community", Some("/community"))])
        .crumb(&title, None)
        .section("community")
        .describe(desc.as_deref())
        .with("ente", e);
    page.jsonld = Some(ld);
    page
}

pub async fn ente(cx: &Ctx, slug: &str) -> PageResult {
    let e = cx.entry("ente", slug, "").await?;
    Ok(Answer::Page(ente_page(cx, e)))
}

pub async fn documents(cx: &Ctx) -> PageResult {
    let list = cx.list("documento", q(&[("sort", "-published_on,title"), ("limit", "100")])).await?;
    let page = Page::new("documents.html", "Documenti")
        .crumbs(&[(HOME, Some("/")), ("Documenti", None)])
        .section("documenti")
        .describe(Some("Convenzioni, report, programmi e linee guida del CIT."))
        .with("documents", json!(list.items));
    Ok(Answer::Page(page))
}

fn document_page(d: Value) -> Page {
    let title = title_of(&d);
    let summary = data_str(&d, "summary").map(str::to_owned);
    Page::new("document.html", title.clone())
        .crumbs(&[(HOME, Some("/")), ("Documenti", Some("/documenti"))])
        .crumb(&title, None)
        .section("documenti")
        .describe(summary.as_deref())
        .with("document", d)
}

pub async fn document(cx: &Ctx, slug: &str) -> PageResult {
    Ok(Answer::Page(document_page(cx.entry("documento", slug, "argomenti").await?)))
}

pub async fn training(cx: &Ctx) -> PageResult {
    let list = cx.list("pillola", q(&[("sort", "title"), ("limit", "100"), ("expand", "argomenti")])).await?;
    let page = Page::new("training.html", "Formazione")
        .crumbs(&[(HOME, Some("/")), ("Formazione", None)])
        .section("formazione")
        .describe(Some("Pillole formative per il personale degli enti aderenti."))
        .with("pieces", json!(list.items));
    Ok(Answer::Page(page))
}

fn pillola_page(p: Value) -> Page {
    let title = title_of(&p);
    let summary = data_str(&p, "summary").map(str::to_owned);
    Page::new("pillola.html", title.clone())
        .crumbs(&[(HOME, Some("/")), ("Formazione", Some("/formazione"))])
        .crumb(&title, None)
        .section("formazione")
        .describe(summary.as_deref())
        .with("piece", p)
}

pub async fn pillola(cx: &Ctx, slug: &str) -> PageResult {
    Ok(Answer::Page(pillola_page(cx.entry("pillola", slug, "argomenti").await?)))
}

pub async fn topics(cx: &Ctx) -> PageResult {
    let topics = cx.topics().await?;
    let page = Page::new("topics.html", "Argomenti")
        .crumbs(&[(HOME, Some("/")), ("Argomenti", None)])
        .section("argomenti")
        .describe(Some("Tutti gli argomenti del sito: servizi, notizie, eventi e documenti raccolti per tema."))
        .with("topics", json!(topics));
    Ok(Answer::Page(page))
}

pub async fn topic(cx: &Ctx, slug: &str) -> PageResult {
    let t = cx.entry("argomento", slug, "").await?;
    let id = str_of(&t, "id").unwrap_or_default().to_owned();
    let by_topic = |ty: &'static str, sort: &'static str| {
        let query = q(&[("sort", sort), ("limit", "12"), ("filter[argomenti][contains]", &id)]);
        cx.list(ty, query)
    };
    let (services, news, events, documents, pieces, projects) = (
        by_topic("servizio", "title").await?,
        by_topic("notizia", "-published_at").await?,
        by_topic("evento", "-start").await?,
        by_topic("documento", "title").await?,
        by_topic("pillola", "title").await?,
        by_topic("progetto", "title").await?,
    );
    let title = title_of(&t);
    let desc = data_str(&t, "description").map(str::to_owned);
    let page = Page::new("topic.html", title.clone())
        .crumbs(&[(HOME, Some("/")), ("Argomenti", Some("/argomenti"))])
        .crumb(&title, None)
        .section("argomenti")
        .describe(desc.as_deref())
        .with("topic", t)
        .with("services", json!(services.items))
        .with("news", json!(news.items))
        .with("events", json!(events.items))
        .with("documents", json!(documents.items))
        .with("pieces", json!(pieces.items))
        .with("projects", json!(projects.items));
    Ok(Answer::Page(page))
}

pub async fn places(cx: &Ctx) -> PageResult {
    let list = cx.list("luogo", q(&[("sort", "title"), ("limit", "100")])).await?;
    let page = Page::new("places.html", "Dove siamo")
        .crumbs(&[(HOME, Some("/")), ("Dove siamo", None)])
        .section("dove-siamo")
        .describe(Some("Le sedi e gli sportelli del CIT, con orari e indicazioni per raggiungerli."))
        .with("places", json!(list.items));
    Ok(Answer::Page(page))
}

fn place_page(cx: &Ctx, p: Value) -> Page {
    let title = title_of(&p);
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "GovernmentOffice",
        "name": title,
        "address": {"@type": "PostalAddress", "streetAddress": data_str(&p, "address"), "addressLocality": data_str(&p, "city"), "postalCode": data_str(&p, "postal_code"), "addressRegion": data_str(&p, "province"), "addressCountry": "IT"},
        "email": data_str(&p, "email"),
        "telephone": data_str(&p, "phone"),
        "parentOrganization": cx.organization(),
    });
    if let Some(loc) = p.get("data").and_then(|d| d.get("location")) {
        ld["geo"] = json!({"@type": "GeoCoordinates", "latitude": loc.get("lat"), "longitude": loc.get("lon")});
    }
    let desc = format!("{}, {}", data_str(&p, "address").unwrap_or(""), data_str(&p, "city").unwrap_or(""));
    let mut page = Page::new("place.html", title.clone())
        .crumbs(&[(HOME, Some("/")), ("Dove siamo", Some("/dove-siamo"))])
        .crumb(&title, None)
        .section("dove-siamo")
        .describe(Some(&desc))
        .with("place", p);
    page.jsonld = Some(ld);
    page
}

pub async fn place(cx: &Ctx, slug: &str) -> PageResult {
    let p = cx.entry("luogo", slug, "").await?;
    Ok(Answer::Page(place_page(cx, p)))
}

pub async fn contacts(cx: &Ctx) -> PageResult {
    let body = match cx.entry("pagina", "contatti", "").await {
        Ok(p) => Some(p),
        Err(SiteError::NotFound) => None,
        Err(e) => return Err(e),
    };
    let places = cx.list("luogo", q(&[("sort", "title"), ("limit", "20")])).await?;
    let mut page = Page::new("contacts.html", "Contatti")
        .crumbs(&[(HOME, Some("/")), ("Contatti", None)])
        .section("contatti")
        .describe(Some("Come contattare il CIT: email, telefono, PEC e sedi."))
        .with("page", json!(body))
        .with("places", json!(places.items));
    let mut ld = cx.organization();
    ld["@context"] = json!("https://schema.org");
    page.jsonld = Some(ld);
    Ok(Answer::Page(page))
}

fn static_page(p: Value, tree: &Tree) -> Page {
    let title = title_of(&p);
    let summary = data_str(&p, "summary").map(str::to_owned);
    let mut page = Page::new("page.html", title.clone()).crumbs(&[(HOME, Some("/"))]).describe(summary.as_deref());
    let id = str_of(&p, "id").unwrap_or_default().to_owned();
    if let Some(me) = tree.by_slug(str_of(&p, "slug").unwrap_or("")) {
        let chain = tree.chain(me);
        for anc in chain.iter().take(chain.len().saturating_sub(1)) {
            let url = tree.path_of(anc);
            page = page.crumb(&title_of(anc), Some(&url));
        }
        if let Some(root) = chain.first().and_then(|r| str_of(r, "slug")) {
            page = page.with("root_slug", json!(root));
        }
    }
    let children = tree.children(Some(&id), false);
    page.crumb(&title, None).with("page", p).with("children", json!(children))
}

/// A static page by its path of slugs (`/chi-siamo/il-cit-di-lecce`). A page reached by a
/// path that is not its own is redirected to it.
pub async fn page_by_path(cx: &Ctx, segments: &[&str]) -> PageResult {
    let Some(slug) = segments.last() else { return Err(SiteError::NotFound) };
    let tree = Tree::new(cx.pages().await?);
    let found = tree.by_slug(slug).map(|p| tree.path_of(p));
    let requested: String = segments.iter().map(|s| format!("/{s}")).collect();
    match found {
        Some(path) if path != requested => Ok(Answer::Redirect(path)),
        Some(_) => {
            let p = cx.entry("pagina", slug, "").await?;
            Ok(Answer::Page(static_page(p, &tree)))
        }
        None if segments.len() == 1 && LEGAL_PAGES.contains(slug) => {
            let title = match *slug {
                "dichiarazione-di-accessibilita" => "Dichiarazione di accessibilità",
                "privacy" => "Informativa sulla privacy",
                _ => "Note legali",
            };
            Ok(Answer::Page(
                Page::new(&format!("legal/{slug}.html"), title).crumbs(&[(HOME, Some("/")), (title, None)]),
            ))
        }
        None => Err(SiteError::NotFound),
    }
}

/// `/anteprima/{type}/{id}?token=cit_…`: an editor's view of a draft, through a preview token.
pub async fn preview(cx: &Ctx, ty: &str, id: &str) -> PageResult {
    let token = cx.param("token").unwrap_or("");
    if !token.starts_with("cit_") || token.len() > 200 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SiteError::Denied);
    }
    if id.is_empty() || id.len() > 200 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(SiteError::NotFound);
    }
    let expand = match ty {
        "servizio" => "office,argomenti",
        "notizia" => "argomenti,related_services",
        "evento" => "place,argomenti",
        "progetto" => "partners,argomenti",
        "documento" | "pillola" => "argomenti",
        "ente" | "luogo" | "pagina" => "",
        _ => return Err(SiteError::NotFound),
    };
    let e = cx.preview_entry(ty, id, expand, token).await?;
    let mut page = match ty {
        "servizio" => service_page(cx, e),
        "notizia" => article_page(cx, e),
        "evento" => event_page(cx, e),
        "progetto" => project_page(e),
        "documento" => document_page(e),
        "pillola" => pillola_page(e),
        "ente" => ente_page(cx, e),
        "luogo" => place_page(cx, e),
        _ => static_page(e, &Tree::new(Vec::new())),
    };
    page.preview = true;
    page.jsonld = None;
    Ok(Answer::Page(page))
}

/// Where an entry of a type lives on the site (pages use the tree).
fn site_path(ty: &str, slug: &str, tree: &Tree) -> Option<String> {
    let prefix = match ty {
        "servizio" => "/servizi",
        "notizia" => "/notizie",
        "evento" => "/eventi",
        "progetto" => "/progetti",
        "ente" => "/community",
        "documento" => "/documenti",
        "pillola" => "/formazione",
        "argomento" => "/argomenti",
        "luogo" => "/dove-siamo",
        "pagina" => return tree.by_slug(slug).map(|p| tree.path_of(p)),
        _ => return None,
    };
    Some(format!("{prefix}/{slug}"))
}

fn type_label(ty: &str) -> &'static str {
    match ty {
        "servizio" => "Servizio",
        "notizia" => "Notizia",
        "evento" => "Evento",
        "progetto" => "Progetto",
        "ente" => "Ente",
        "documento" => "Documento",
        "pillola" => "Pillola formativa",
        "argomento" => "Argomento",
        "luogo" => "Sede",
        "pagina" => "Pagina",
        _ => "Contenuto",
    }
}

/// The API's snippet is HTML-escaped text with `<mark>` around the matches; anything else that
/// looks like markup is escaped again, so that only the marks reach the page as HTML.
pub fn safe_snippet(raw: &str) -> String {
    let clean = raw.replace(['\u{1}', '\u{2}'], "");
    let marked = clean.replace("<mark>", "\u{1}").replace("</mark>", "\u{2}");
    let escaped = marked.replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    escaped.replace('\u{1}', "<mark>").replace('\u{2}', "</mark>")
}

const SEARCH_PAGE: usize = 10;

/// `/cerca?q=…`: full-text search of the site through the API's search.
pub async fn search(cx: &Ctx) -> PageResult {
    let q: String = cx.param("q").unwrap_or("").trim().chars().take(200).collect();
    let page_no: usize = cx.param("pagina").and_then(|p| p.parse().ok()).filter(|p| (1..=50).contains(p)).unwrap_or(1);
    let mut hits = Vec::new();
    let mut total = 0;
    let mut available = true;
    if !q.is_empty() {
        let offset = ((page_no - 1) * SEARCH_PAGE).to_string();
        let limit = SEARCH_PAGE.to_string();
        let query = q_owned(&[("q", &q), ("limit", &limit), ("offset", &offset)]);
        match cx.fetch(&cx.tenant_path("search"), query, None).await {
            Ok(f) => {
                let tree = Tree::new(cx.pages().await?);
                total = f.body.get("total").and_then(Value::as_u64).unwrap_or(0);
                for h in f.body.get("data").and_then(Value::as_array).into_iter().flatten() {
                    let (Some(ty), Some(slug)) = (str_of(h, "type"), str_of(h, "slug")) else { continue };
                    let Some(url) = site_path(ty, slug, &tree) else { continue };
                    hits.push(json!({
                        "url": url,
                        "title": str_of(h, "title").unwrap_or(slug),
                        "type": type_label(ty),
                        "snippet": safe_snippet(str_of(h, "snippet").unwrap_or("")),
                    }));
                }
            }
            Err(ApiError::NotFound | ApiError::BadRequest) => available = false,
            Err(e) => return Err(e.into()),
        }
    }
    let more = (page_no * SEARCH_PAGE) < usize::try_from(total).unwrap_or(0);
    let page = Page::new("search.html", if q.is_empty() { "Cerca".to_owned() } else { format!("Cerca: {q}") })
        .crumbs(&[(HOME, Some("/")), ("Cerca", None)])
        .describe(Some("Cerca tra servizi, notizie, eventi, documenti e pagine del sito."))
        .with("q", json!(q))
        .with("hits", json!(hits))
        .with("total", json!(total))
        .with("page_no", json!(page_no))
        .with("more", json!(more))
        .with("available", json!(available));
    Ok(Answer::Page(page))
}

fn q_owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

// ---- documents for machines ---------------------------------------------------------------

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

pub async fn sitemap(cx: &Ctx) -> PageResult {
    let mut urls: Vec<(String, Option<String>)> = [
        "/",
        "/servizi",
        "/notizie",
        "/eventi",
        "/progetti",
        "/community",
        "/documenti",
        "/formazione",
        "/argomenti",
        "/dove-siamo",
        "/contatti",
    ]
    .iter()
    .map(|p| (cx.absolute(p), None))
    .collect();
    let sections = [
        ("servizio", "/servizi"),
        ("notizia", "/notizie"),
        ("evento", "/eventi"),
        ("progetto", "/progetti"),
        ("ente", "/community"),
        ("documento", "/documenti"),
        ("pillola", "/formazione"),
        ("argomento", "/argomenti"),
        ("luogo", "/dove-siamo"),
    ];
    for (ty, prefix) in sections {
        let list = cx.list(ty, q(&[("fields", "title"), ("limit", "100"), ("sort", "title")])).await?;
        for e in &list.items {
            if let Some(slug) = str_of(e, "slug") {
                urls.push((cx.absolute(&format!("{prefix}/{slug}")), str_of(e, "updated_at").map(str::to_owned)));
            }
        }
    }
    let tree = Tree::new(cx.pages().await?);
    for p in &tree.pages {
        urls.push((cx.absolute(&tree.path_of(p)), None));
    }
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (loc, modified) in urls {
        body.push_str(&format!("  <url><loc>{}</loc>", xml_escape(&loc)));
        if let Some(m) = modified.as_deref().and_then(|m| m.get(..10)) {
            body.push_str(&format!("<lastmod>{}</lastmod>", xml_escape(m)));
        }
        body.push_str("</url>\n");
    }
    body.push_str("</urlset>\n");
    Ok(Answer::Document { content_type: "application/xml; charset=utf-8", body })
}

pub fn robots(cx: &Ctx) -> PageResult {
    let body = format!(
        "User-agent: *\nAllow: {base}/\nDisallow: {base}/anteprima/\n\nSitemap: {sitemap}\n",
        base = cx.base,
        sitemap = cx.absolute("/sitemap.xml")
    );
    Ok(Answer::Document { content_type: "text/plain; charset=utf-8", body })
}

pub async fn feed(cx: &Ctx) -> PageResult {
    let list = cx.list("notizia", q(&[("sort", "-published_at"), ("limit", "20")])).await?;
    let updated = list.items.first().and_then(|n| str_of(n, "published_at")).map_or_else(now_rfc3339, str::to_owned);
    let name = &cx.theme.file.name;
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"it\">\n  <title>{title}</title>\n  <subtitle>Notizie di {title}</subtitle>\n  <id>{id}</id>\n  <link rel=\"self\" type=\"application/atom+xml\" href=\"{feed}\"/>\n  <link rel=\"alternate\" type=\"text/html\" href=\"{news}\"/>\n  <updated>{updated}</updated>\n  <author><name>{body_name}</name></author>\n  <rights>CC BY 4.0</rights>\n",
        title = xml_escape(name),
        id = xml_escape(&cx.absolute("/notizie")),
        feed = xml_escape(&cx.absolute("/notizie/feed.xml")),
        news = xml_escape(&cx.absolute("/notizie")),
        updated = xml_escape(&updated),
        body_name = xml_escape(&cx.theme.file.body),
    );
    for n in &list.items {
        let url = cx.absolute(&format!("/notizie/{}", str_of(n, "slug").unwrap_or("")));
        let published = str_of(n, "published_at").unwrap_or("");
        body.push_str(&format!(
            "  <entry>\n    <title>{}</title>\n    <id>urn:uuid:{}</id>\n    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n    <published>{}</published>\n    <updated>{}</updated>\n    <summary>{}</summary>\n  </entry>\n",
            xml_escape(&title_of(n)),
            xml_escape(str_of(n, "id").unwrap_or("")),
            xml_escape(&url),
            xml_escape(published),
            xml_escape(str_of(n, "updated_at").unwrap_or(published)),
            xml_escape(data_str(n, "summary").unwrap_or("")),
        ));
    }
    body.push_str("</feed>\n");
    Ok(Answer::Document { content_type: "application/atom+xml; charset=utf-8", body })
}

/// The answer to the "was this page clear?" form: logged, thanked; nothing is stored about the visitor.
pub fn feedback_thanks(cx: &Ctx, rating: Option<u8>, page_path: &str) -> PageResult {
    tracing::info!(tenant = %cx.theme.tenant, rating = ?rating, page = %page_path, "page feedback");
    let page = Page::new("feedback.html", "Grazie per il tuo parere")
        .crumbs(&[(HOME, Some("/")), ("Valutazione", None)])
        .with("rating", json!(rating))
        .with("back", json!(page_path));
    Ok(Answer::Page(page))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn page(id: &str, slug: &str, parent: Option<&str>, order: i64) -> Value {
        json!({"id": id, "slug": slug, "data": {"title": slug.to_uppercase(), "parent": parent, "menu_order": order}})
    }

    #[test]
    fn page_tree_paths_and_children() {
        let tree = Tree::new(vec![
            page("1", "chi-siamo", None, 10),
            page("2", "il-cit", Some("1"), 10),
            page("3", "storia", Some("2"), 5),
            page("4", "contatti", None, 5),
        ]);
        let storia = tree.by_slug("storia").unwrap();
        assert_eq!(tree.path_of(storia), "/chi-siamo/il-cit/storia");
        let roots: Vec<_> = tree.children(None, true).iter().map(|c| c["slug"].clone()).collect();
        assert_eq!(roots, vec![json!("contatti"), json!("chi-siamo")]);
    }

    #[test]
    fn a_parent_cycle_does_not_loop() {
        let tree = Tree::new(vec![page("1", "a", Some("2"), 0), page("2", "b", Some("1"), 0)]);
        let a = tree.by_slug("a").unwrap();
        assert!(tree.chain(a).len() <= 2);
    }

    #[test]
    fn snippets_keep_only_their_marks() {
        assert_eq!(safe_snippet("il <mark>protocollo</mark> &amp; altro"), "il <mark>protocollo</mark> &amp; altro");
        assert_eq!(safe_snippet("<script>x</script> <mark>a</mark>"), "&lt;script&gt;x&lt;/script&gt; <mark>a</mark>");
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml_escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
