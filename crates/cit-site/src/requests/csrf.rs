//! CSRF protection of the site's own forms: a random value in a `SameSite=Strict`, `HttpOnly`
//! cookie, and in each form a hidden token that is the HMAC of that value, the tenant and the
//! form. A POST is accepted only when the token matches the cookie it came with: another site
//! can make a browser post, but can neither read the cookie nor compute the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Name of the cookie that carries the visitor's random value.
pub const COOKIE: &str = "cit_csrf";

/// The signing key of the process (`CIT_SITE_SECRET`, else random at start-up).
pub struct CsrfKey(Vec<u8>);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(…)")
    }
}

impl CsrfKey {
    /// A key from a configured secret; without one, a random key (tokens then last as long as
    /// the process: with several site processes behind one address, configure the secret).
    pub fn new(secret: Option<&str>) -> CsrfKey {
        match secret {
            Some(s) if !s.is_empty() => CsrfKey(s.as_bytes().to_vec()),
            _ => {
                let mut raw = vec![0u8; 32];
                rand::rng().fill_bytes(&mut raw);
                CsrfKey(raw)
            }
        }
    }

    fn mac(&self, cookie: &str, tenant: &str, form: &str) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).ok()?;
        for part in [cookie, tenant, form] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        Some(mac)
    }

    /// The hidden-field token of `form` for the visitor whose cookie holds `cookie`.
    pub fn token(&self, cookie: &str, tenant: &str, form: &str) -> String {
        self.mac(cookie, tenant, form).map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())).unwrap_or_default()
    }

    /// Whether `token` was made for this cookie, tenant and form (compared in constant time).
    pub fn verify(&self, cookie: Option<&str>, tenant: &str, form: &str, token: Option<&str>) -> bool {
        let (Some(cookie), Some(token)) = (cookie, token) else { return false };
        if !valid_cookie(cookie) {
            return false;
        }
        let Ok(raw) = URL_SAFE_NO_PAD.decode(token) else { return false };
        self.mac(cookie, tenant, form).is_some_and(|m| m.verify_slice(&raw).is_ok())
    }
}

/// A new random cookie value.
pub fn new_cookie() -> String {
    let mut raw = [0u8; 24];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Whether a cookie value has the shape this module makes (anything else is replaced).
pub fn valid_cookie(v: &str) -> bool {
    v.len() == 32 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `Set-Cookie` value for `value`; `Secure` when the visitor came over https.
pub fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The value of cookie `name` in a `Cookie` request header.
pub fn read_cookie<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_token_is_bound_to_its_cookie_tenant_and_form() {
        let key = CsrfKey::new(Some("s3cret"));
        let cookie = new_cookie();
        assert!(valid_cookie(&cookie));
        let t = key.token(&cookie, "lecce", "contatti");
        assert!(key.verify(Some(&cookie), "lecce", "contatti", Some(&t)));
        assert!(!key.verify(Some(&new_cookie()), "lecce", "contatti", Some(&t)), "another visitor");
        assert!(!key.verify(Some(&cookie), "genova", "contatti", Some(&t)), "another tenant");
        assert!(!key.verify(Some(&cookie), "lecce", "richiesta-assistenza", Some(&t)), "another form");
        assert!(!key.verify(None, "lecce", "contatti", Some(&t)), "no cookie");
        assert!(!key.verify(Some(&cookie), "lecce", "contatti", None), "no token");
        assert!(!key.verify(Some(&cookie), "lecce", "contatti", Some("AAAA")), "forged token");
        assert!(!CsrfKey::new(Some("other")).verify(Some(&cookie), "lecce", "contatti", Some(&t)), "another key");
    }

    #[test]
    fn cookies_are_read_from_the_header() {
        assert_eq!(read_cookie("a=1; cit_csrf=xyz ; b=2", COOKIE), Some("xyz"));
        assert_eq!(read_cookie("a=1", COOKIE), None);
        assert!(set_cookie("v", true).contains("SameSite=Strict; Secure"));
    }
}
