//! Sessions, kept on the server: the browser holds only a random session id in an `HttpOnly`,
//! `SameSite=Strict` cookie (`Secure` outside loopback). The API's access and refresh tokens
//! stay here and never reach the browser, its JavaScript or a URL. Each session has its own
//! CSRF token, checked on every form post. Sessions live in this process's memory: a restart
//! signs everyone out (several desk processes behind one address need sticky sessions).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use crate::api::{Api, ApiFailure, Me, TokenPair};

/// Name of the session cookie.
pub const COOKIE: &str = "cit_desk";

/// Most sessions kept; beyond it the least recently used are dropped.
const SESSION_LIMIT: usize = 10_000;

/// Refresh the access token when it has less than this left.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);

struct Tokens {
    access: String,
    refresh: String,
    /// When the access token expires (with the margin above taken into account by callers).
    expires: Instant,
}

/// A message shown once, on the next page (after a redirect).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Flash {
    /// `success`, `info`, `warning` or `danger` (Bootstrap's alert kinds).
    pub kind: &'static str,
    pub text: String,
}

/// One signed-in user's session.
pub struct Session {
    id: String,
    /// The CSRF token of every form of this session.
    pub csrf: String,
    tokens: tokio::sync::Mutex<Tokens>,
    user: Mutex<Me>,
    last_seen: Mutex<Instant>,
    flash: Mutex<Option<Flash>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The user as `/api/v1/me` last described them.
    pub fn user(&self) -> Me {
        self.user.lock().map(|u| u.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    pub fn set_user(&self, me: Me) {
        if let Ok(mut u) = self.user.lock() {
            *u = me;
        }
    }

    /// The user's role in `tenant`, if they are a member.
    pub fn role_in(&self, tenant: &str) -> Option<String> {
        self.user().memberships.iter().find(|m| m.tenant == tenant).map(|m| m.role.clone())
    }

    /// A valid access token: refreshed first when it is about to expire. Refreshes of one
    /// session never run at once (a refresh token works once; a second use would end the session).
    pub async fn access_token(&self, api: &Api) -> Result<String, ApiFailure> {
        let mut tokens = self.tokens.lock().await;
        if tokens.expires > Instant::now() + REFRESH_MARGIN {
            return Ok(tokens.access.clone());
        }
        let pair = api.refresh(&tokens.refresh).await?;
        *tokens = Tokens::from(pair);
        Ok(tokens.access.clone())
    }

    /// The access token as it is, for logging out.
    pub async fn current_access_token(&self) -> String {
        self.tokens.lock().await.access.clone()
    }

    pub fn set_flash(&self, kind: &'static str, text: impl Into<String>) {
        if let Ok(mut f) = self.flash.lock() {
            *f = Some(Flash { kind, text: text.into() });
        }
    }

    pub fn take_flash(&self) -> Option<Flash> {
        self.flash.lock().ok().and_then(|mut f| f.take())
    }

    /// Whether a posted CSRF token is this session's (compared in constant time).
    pub fn csrf_ok(&self, token: Option<&str>) -> bool {
        let Some(token) = token else { return false };
        let (a, b) = (token.as_bytes(), self.csrf.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    fn touch(&self) {
        if let Ok(mut t) = self.last_seen.lock() {
            *t = Instant::now();
        }
    }

    fn idle(&self) -> Duration {
        self.last_seen.lock().map(|t| t.elapsed()).unwrap_or_default()
    }
}

impl From<TokenPair> for Tokens {
    fn from(pair: TokenPair) -> Self {
        Tokens {
            access: pair.access_token,
            refresh: pair.refresh_token,
            expires: Instant::now() + Duration::from_secs(pair.expires_in),
        }
    }
}

/// Every session of the process.
pub struct Sessions {
    by_id: Mutex<HashMap<String, Arc<Session>>>,
    idle: Duration,
}

impl Sessions {
    pub fn new(idle: Duration) -> Sessions {
        Sessions { by_id: Mutex::new(HashMap::new()), idle }
    }

    /// A new session for a user who just logged in.
    pub fn open(&self, pair: TokenPair, me: Me) -> Arc<Session> {
        let session = Arc::new(Session {
            id: random_token(),
            csrf: random_token(),
            tokens: tokio::sync::Mutex::new(Tokens::from(pair)),
            user: Mutex::new(me),
            last_seen: Mutex::new(Instant::now()),
            flash: Mutex::new(None),
        });
        if let Ok(mut all) = self.by_id.lock() {
            if all.len() >= SESSION_LIMIT {
                let idle = self.idle;
                all.retain(|_, s| s.idle() < idle);
                if all.len() >= SESSION_LIMIT {
                    let mut ages: Vec<(String, Duration)> = all.iter().map(|(k, s)| (k.clone(), s.idle())).collect();
                    ages.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
                    for (k, _) in ages.into_iter().take(SESSION_LIMIT / 10) {
                        all.remove(&k);
                    }
                }
            }
            all.insert(session.id.clone(), session.clone());
        }
        session
    }

    /// The live session of a cookie value; an idle one is ended.
    pub fn find(&self, id: &str) -> Option<Arc<Session>> {
        let mut all = self.by_id.lock().ok()?;
        let session = all.get(id)?.clone();
        if session.idle() >= self.idle {
            all.remove(id);
            return None;
        }
        session.touch();
        Some(session)
    }

    pub fn close(&self, id: &str) {
        if let Ok(mut all) = self.by_id.lock() {
            all.remove(id);
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.lock().map(|a| a.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The `Set-Cookie` value of a session.
pub fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// The value of cookie `name` in a `Cookie` request header.
pub fn read_cookie<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn me() -> Me {
        Me { id: "u".into(), email: "a@b.it".into(), name: "A".into(), platform_admin: false, memberships: vec![] }
    }

    fn pair() -> TokenPair {
        TokenPair { access_token: "a".into(), refresh_token: "r".into(), expires_in: 900 }
    }

    #[test]
    fn sessions_are_found_by_their_id_and_end_when_idle() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let s = sessions.open(pair(), me());
        assert!(sessions.find(s.id()).is_some());
        assert!(sessions.find("forged").is_none());
        sessions.close(s.id());
        assert!(sessions.find(s.id()).is_none());
        let idle = Sessions::new(Duration::ZERO);
        let s = idle.open(pair(), me());
        assert!(idle.find(s.id()).is_none(), "idle sessions end");
    }

    #[test]
    fn csrf_tokens_are_compared_whole() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let s = sessions.open(pair(), me());
        let token = s.csrf.clone();
        assert!(s.csrf_ok(Some(&token)));
        assert!(!s.csrf_ok(Some(&token[..10])));
        assert!(!s.csrf_ok(None));
        assert!(!s.csrf_ok(Some(&random_token())));
    }
}
