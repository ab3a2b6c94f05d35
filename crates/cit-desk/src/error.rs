//! What a desk page answers when it cannot show what was asked: one mapping from the reason to
//! the status and the page, as the API has one for its problems.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use minijinja::context;

use crate::api::ApiFailure;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// No session (or it ended): to the login page, then back to `next`.
    #[error("sign in first")]
    SignIn { next: String },
    /// The user may not see or do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Nothing here.
    #[error("not found")]
    NotFound,
    /// A form post without this session's CSRF token.
    #[error("the form's security token is missing or wrong")]
    Csrf,
    /// A form that could not be read.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The API is down or answered something the desk cannot read.
    #[error("the API is unavailable")]
    Unavailable(String),
    /// The API refused in a way the page does not handle itself.
    #[error("{}", .0.message())]
    Api(crate::api::Problem),
}

impl From<ApiFailure> for DeskError {
    fn from(f: ApiFailure) -> Self {
        match f {
            ApiFailure::Unauthorized => DeskError::SignIn { next: String::new() },
            ApiFailure::Unavailable(e) => DeskError::Unavailable(e),
            ApiFailure::Problem(p) => match p.status {
                404 => DeskError::NotFound,
                403 => DeskError::Forbidden(p.message()),
                _ => DeskError::Api(p),
            },
        }
    }
}

pub type DeskResult<T = HttpResponse> = Result<T, DeskError>;

impl ResponseError for DeskError {
    fn status_code(&self) -> StatusCode {
        match self {
            DeskError::SignIn { .. } => StatusCode::SEE_OTHER,
            DeskError::Forbidden(_) | DeskError::Csrf => StatusCode::FORBIDDEN,
            DeskError::NotFound => StatusCode::NOT_FOUND,
            DeskError::BadRequest(_) => StatusCode::BAD_REQUEST,
            DeskError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            DeskError::Api(p) => StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_GATEWAY),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, message) = match self {
            DeskError::SignIn { next } => {
                let to = if next.is_empty() || !next.starts_with('/') || next.starts_with("//") {
                    "/login".to_owned()
                } else {
                    let mut s = url::form_urlencoded::Serializer::new(String::new());
                    s.append_pair("next", next);
                    format!("/login?{}", s.finish())
                };
                return HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish();
            }
            DeskError::Forbidden(m) => ("Accesso negato", m.clone()),
            DeskError::NotFound => ("Pagina non trovata", "La pagina o il contenuto richiesto non esiste.".into()),
            DeskError::Csrf => (
                "Modulo scaduto",
                "Il modulo non porta il codice di sicurezza di questa sessione: torna indietro, ricarica la pagina e riprova.".into(),
            ),
            DeskError::BadRequest(m) => ("Richiesta non valida", m.clone()),
            DeskError::Unavailable(e) => {
                tracing::warn!("API unavailable: {e}");
                ("Servizio non disponibile", "Il servizio di cit non risponde. Riprova tra qualche istante.".into())
            }
            DeskError::Api(p) => ("Operazione non riuscita", p.message()),
        };
        let mut resp = crate::render::html(
            self.status_code(),
            "error.html",
            context! { page => context!{ title => title }, message => message, status => self.status_code().as_u16() },
        );
        if matches!(self, DeskError::Unavailable(_)) {
            resp.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        resp
    }
}
