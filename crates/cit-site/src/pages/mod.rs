//! The pages of a partner site. Each handler reads what it needs from the API through [`Ctx`]
//! and names a template and its context; [`crate::server`] renders and answers.
//!
//! One file per page family: [`context`] (the request and its API helpers), [`tree`] (the tree
//! of static pages), [`home`], [`services`], [`news`] (news and events), [`community`]
//! (projects and member bodies), [`documents`] (documents, training, topics), [`places`]
//! (contacts and places), [`static_pages`] (the page tree's pages, legal pages, previews,
//! feedback), [`search`] and [`machine`] (sitemap, robots.txt, feeds).

use serde_json::{Map, Value};

use crate::api::ApiError;

pub mod community;
pub mod context;
pub mod documents;
pub mod home;
pub mod machine;
pub mod news;
pub mod places;
pub mod search;
pub mod services;
pub mod static_pages;
pub mod tree;

pub use community::{community, ente, project, projects};
pub use context::Ctx;
pub use documents::{document, documents, pillola, topic, topics, training};
pub use home::home;
pub use machine::{feed, robots, sitemap};
pub use news::{article, event, events, news};
pub use places::{contacts, place, places};
pub use search::{safe_snippet, search};
pub use services::{service, services};
pub use static_pages::{page_by_path, preview};
pub use tree::Tree;

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

/// The first breadcrumb of every page.
pub(crate) const HOME: &str = "Home";

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

    /// The list of a main-menu section: `Home › <title>`, the section marked as current.
    pub fn section_list(template: &str, title: &str, section: &'static str) -> Page {
        Page::new(template, title).crumbs(&[(HOME, Some("/")), (title, None)]).section(section)
    }

    /// The page of one entry of a main-menu section: `Home › <label> › <title>`, where the
    /// label links to the section's list at `/<section>`, marked as current.
    pub fn in_section(template: &str, title: String, label: &str, section: &'static str) -> Page {
        let list = format!("/{section}");
        let page = Page::new(template, title.clone()).crumbs(&[(HOME, Some("/")), (label, Some(&list))]);
        page.crumb(&title, None).section(section)
    }

    pub fn crumbs(mut self, crumbs: &[(&str, Option<&str>)]) -> Page {
        self.breadcrumbs = crumbs.iter().map(|(t, u)| ((*t).to_owned(), u.map(str::to_owned))).collect();
        self
    }

    pub fn crumb(mut self, title: &str, url: Option<&str>) -> Page {
        self.breadcrumbs.push((title.to_owned(), url.map(str::to_owned)));
        self
    }

    pub fn section(mut self, s: &'static str) -> Page {
        self.section = Some(s);
        self
    }

    pub fn describe(mut self, d: Option<&str>) -> Page {
        self.description = d.map(str::to_owned);
        self
    }

    pub fn with(mut self, key: &str, value: Value) -> Page {
        self.ctx.insert(key.to_owned(), value);
        self
    }

    /// The Open Graph type (`website` unless said otherwise).
    pub fn og_type(mut self, og_type: &'static str) -> Page {
        self.og_type = og_type;
        self
    }

    /// The page's schema.org description (JSON-LD).
    pub fn linked_data(mut self, ld: Value) -> Page {
        self.jsonld = Some(ld);
        self
    }
}

/// The start of today (UTC), the boundary between upcoming and past events in API queries. A
/// boundary that moves once a day keeps the query's URL, and so its cached answer, the same all
/// day: with an exact "now" every request would be new to the cache and none could be served
/// stale while the API is down. Events of today count as upcoming.
pub(crate) fn today_start() -> String {
    chrono::Utc::now().format("%Y-%m-%dT00:00:00Z").to_string()
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Query pairs of an API request.
pub(crate) fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}
