//! Requests from the territory, on the partner sites: the contact form of "Contatti", the
//! "Richiedi assistenza" page, the ticket page behind the requester's secret link and the page
//! rating. Every form works without JavaScript: the site renders the fields the API describes,
//! posts to itself (CSRF-protected), calls the API server to server and shows the API's field
//! errors next to their fields with the typed values kept.
//!
//! Site URLs (below the partner's base path):
//! - `GET/POST /contatti`: the contact page with form `contatti`;
//! - `GET/POST /assistenza/richiesta?servizio=<slug>`: form `richiesta-assistenza`, linked from
//!   every service sheet of category `assistenza-tecnica` (the CIT catalogue's assistance
//!   category) with that service prefilled;
//! - `GET/POST /assistenza/ticket/{secret}`: the ticket, its public thread and a reply box;
//! - `POST /valutazione`: the page rating (form `valutazione-pagina`);
//! - `GET/POST /eventi/{slug}/iscrizione` and `/eventi/iscrizione/{secret}`: registration for
//!   an event and its cancellation (`registration.rs`);
//! - `GET/POST /newsletter`, `/newsletter/conferma/{token}`, `/newsletter/disiscrizione/{token}`:
//!   subscription with double opt-in and unsubscribe (`newsletter.rs`);
//! - `GET /questionari`, `GET/POST /questionari/{slug}` (an anonymous survey),
//!   `GET/POST /questionari/{slug}/invito/{secret}` and
//!   `GET /questionari/{slug}/risultati`: surveys, answered by a member body through its own
//!   link with drafts, and their public results with charts (`surveys.rs`).
//!
//! None of these pages is cached, by the site or by the browser.

pub mod client;
pub mod csrf;
pub mod forms;
pub mod multipart;
mod newsletter;
mod rating;
mod registration;
mod submit;
mod surveys;
mod ticket;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::pages::{Answer, Ctx, Page, SiteError};

/// Largest form body the site reads (the API has its own, larger caps).
pub const MAX_BODY: usize = 64 * 1024;
/// Largest `multipart/form-data` body (a form with files) the site reads; the API checks each
/// form's own limits on the files and says which one failed.
pub const MAX_UPLOAD: usize = 32 * 1024 * 1024;

/// Who is posting: the CSRF cookie (existing or new), whether the connection is https, and the
/// address the API is told about.
pub struct Visitor {
    pub cookie: String,
    pub new_cookie: bool,
    pub secure: bool,
    pub address: String,
}

impl Visitor {
    pub fn of(req: &HttpRequest) -> Visitor {
        let existing = req
            .headers()
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| csrf::read_cookie(h, csrf::COOKIE))
            .filter(|v| csrf::valid_cookie(v))
            .map(str::to_owned);
        let new_cookie = existing.is_none();
        Visitor {
            cookie: existing.unwrap_or_else(csrf::new_cookie),
            new_cookie,
            secure: req.connection_info().scheme() == "https",
            address: req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "127.0.0.1".into()),
        }
    }

    /// The hidden-field token of `form` for this visitor.
    pub fn token(&self, cx: &Ctx, form: &str) -> String {
        cx.state.csrf.token(&self.cookie, &cx.theme.tenant, form)
    }

    /// Whether the posted token is this visitor's for `form` (a visitor without a cookie has none).
    pub fn verify(&self, cx: &Ctx, form: &str, token: Option<&str>) -> bool {
        !self.new_cookie && cx.state.csrf.verify(Some(&self.cookie), &cx.theme.tenant, form, token)
    }

    /// A fresh cookie value: after a successful post, so that a reload cannot post it again.
    pub fn rotate(&mut self) {
        self.cookie = csrf::new_cookie();
        self.new_cookie = true;
    }
}

/// The pages of this module; `None` for any other path, which the site's router handles.
pub async fn handle(cx: &Ctx, req: &HttpRequest, segments: &[&str], body: &[u8]) -> Option<HttpResponse> {
    let post = req.method() == actix_web::http::Method::POST;
    let route = match segments {
        ["contatti"] => Route::Contact,
        ["assistenza", "richiesta"] => Route::Assistance,
        ["assistenza", "ticket", secret] => Route::Ticket((*secret).to_owned()),
        ["valutazione"] if post => Route::Rating,
        ["newsletter"] => Route::Newsletter,
        ["newsletter", "conferma", token] => Route::NewsletterConfirm((*token).to_owned()),
        ["newsletter", "disiscrizione", token] => Route::NewsletterLeave((*token).to_owned()),
        ["eventi", "iscrizione", secret] => Route::Registration((*secret).to_owned()),
        ["eventi", slug, "iscrizione"] => Route::Register((*slug).to_owned()),
        ["questionari"] if !post => Route::Surveys,
        ["questionari", slug] => Route::AnonymousSurvey((*slug).to_owned()),
        ["questionari", slug, "risultati"] if !post => Route::SurveyResults((*slug).to_owned()),
        ["questionari", slug, "invito", secret] => Route::SurveyInvitation((*slug).to_owned(), (*secret).to_owned()),
        _ => return None,
    };
    let mut visitor = Visitor::of(req);
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(multipart::boundary)
        .filter(|_| post);
    if post && body.len() > if boundary.is_some() { MAX_UPLOAD } else { MAX_BODY } {
        return Some(respond(cx, Err(SiteError::NotFound), &visitor, 413).await);
    }
    // A multipart body that does not parse is posted as empty: its CSRF check fails and the
    // form is shown again with a message.
    let (posted, files) = match (&boundary, post) {
        (Some(b), _) => {
            let (p, f) = multipart::parse(b, body).unwrap_or_default();
            (Some(p), f)
        }
        (None, true) => (Some(forms::Posted::parse(body)), Vec::new()),
        (None, false) => (None, Vec::new()),
    };
    let result = match route {
        Route::Contact => submit::contact(cx, &mut visitor, posted.as_ref(), &files).await,
        Route::Assistance => submit::assistance(cx, &mut visitor, posted.as_ref(), &files).await,
        Route::Ticket(secret) => ticket::page(cx, &mut visitor, &secret, posted.as_ref()).await,
        Route::Newsletter => newsletter::subscribe(cx, &mut visitor, posted.as_ref()).await,
        Route::NewsletterConfirm(token) => newsletter::confirm(cx, &mut visitor, &token, posted.as_ref()).await,
        Route::NewsletterLeave(token) => newsletter::unsubscribe(cx, &visitor, &token, posted.as_ref()).await,
        Route::Register(slug) => registration::form(cx, &mut visitor, &slug, posted.as_ref()).await,
        Route::Registration(secret) => registration::own(cx, &mut visitor, &secret, posted.as_ref()).await,
        Route::Surveys => surveys::index(cx).await,
        Route::AnonymousSurvey(slug) => surveys::anonymous(cx, &mut visitor, &slug, posted.as_ref()).await,
        Route::SurveyResults(slug) => surveys::results(cx, &slug).await,
        Route::SurveyInvitation(slug, secret) => {
            surveys::invitation(cx, &mut visitor, &slug, &secret, posted.as_ref()).await
        }
        Route::Rating => match posted.as_ref() {
            Some(p) => rating::post(cx, &mut visitor, p).await,
            None => Err(SiteError::NotFound),
        },
    };
    Some(respond(cx, result, &visitor, 0).await)
}

enum Route {
    Contact,
    Assistance,
    Ticket(String),
    Rating,
    Register(String),
    Registration(String),
    Newsletter,
    NewsletterConfirm(String),
    NewsletterLeave(String),
    Surveys,
    AnonymousSurvey(String),
    SurveyResults(String),
    SurveyInvitation(String, String),
}

/// What a handler of this module produces: a page, or a redirect after a successful post.
pub enum Outcome {
    Page(Page),
    /// 303 See Other to a site path (the base prefix is added here).
    SeeOther(String),
}

async fn respond(cx: &Ctx, result: Result<Outcome, SiteError>, visitor: &Visitor, status: u16) -> HttpResponse {
    let mut resp = match result {
        Ok(Outcome::SeeOther(path)) => {
            HttpResponse::SeeOther().insert_header((header::LOCATION, format!("{}{}", cx.base, path))).finish()
        }
        Ok(Outcome::Page(page)) => crate::server::respond(cx, Ok(Answer::Page(page))).await,
        Err(e) => crate::server::respond(cx, Err(e)).await,
    };
    if status != 0
        && let Ok(s) = actix_web::http::StatusCode::from_u16(status)
    {
        *resp.status_mut() = s;
    }
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex, nofollow"));
    if visitor.new_cookie
        && let Ok(v) = HeaderValue::from_str(&csrf::set_cookie(&visitor.cookie, visitor.secure))
    {
        h.append(header::SET_COOKIE, v);
    }
    resp
}

/// The message shown at the top of a form the API refused as a whole, or `None` when the
/// refusal is about fields (422), which go next to them.
pub fn refusal_message(reply: &client::Reply) -> Option<String> {
    let msg = match (reply.status, reply.code()) {
        (422, "validation_failed") | (422, "consent_required") => return None,
        (_, "fill_too_fast") => {
            "Il modulo è stato inviato troppo in fretta, come fanno i programmi automatici. Controlla i dati e invialo di nuovo."
                .to_owned()
        }
        (_, "fill_token_expired") | (_, "fill_token_invalid") => {
            "Il modulo è rimasto aperto troppo a lungo. Controlla i dati e invialo di nuovo.".to_owned()
        }
        (_, "honeypot") => "Non è stato possibile inviare il modulo. Riprova.".to_owned(),
        (429, _) => match reply.retry_after {
            Some(s) if s >= 60 => format!("Hai inviato troppe richieste: riprova tra {} minuti.", s.div_ceil(60)),
            Some(s) => format!("Hai inviato troppe richieste: riprova tra {s} secondi."),
            None => "Hai inviato troppe richieste: riprova più tardi.".to_owned(),
        },
        (413, _) => "Il testo o i file inviati sono troppo grandi: riducili e invia di nuovo il modulo.".to_owned(),
        (422, _) => return None,
        _ => "Non è stato possibile inviare il modulo. Riprova tra qualche minuto.".to_owned(),
    };
    Some(msg)
}

/// The breadcrumbs of a page of this module.
pub fn crumbs(page: &mut Page, items: &[(&str, Option<&str>)]) {
    page.breadcrumbs = std::iter::once(("Home".to_owned(), Some("/".to_owned())))
        .chain(items.iter().map(|(t, u)| ((*t).to_owned(), u.map(str::to_owned))))
        .collect();
}
