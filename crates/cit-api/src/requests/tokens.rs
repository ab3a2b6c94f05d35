//! Signed values: the fill token a form is served with, and the requester's secret of a ticket.
//! Both are HMAC-SHA256 under a key derived from the server's signing key, so every node of a
//! deployment accepts what another issued, and nothing has to be stored to check them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a fill token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillTokenError {
    /// Not issued by us, or for another tenant or form.
    Invalid,
    /// Older than the time a form may take.
    Expired,
    /// Sent back sooner than a person could have filled the form in.
    TooFast,
}

/// The keys, derived once at start-up.
#[derive(Clone)]
pub struct Keys {
    fill: Vec<u8>,
    secret: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm is unreachable.
        Err(_) => return Vec::new(),
    };
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

impl Keys {
    /// Derives the keys from the server's signing key.
    pub fn derive(master: &[u8]) -> Self {
        Self { fill: mac(master, &[b"cit fill token v1"]), secret: mac(master, &[b"cit ticket secret v1"]) }
    }

    /// A token for `form` of `tenant`, issued at `now`: `<ms>.<signature>`.
    pub fn fill_token(&self, tenant: &str, form: &str, now: DateTime<Utc>) -> String {
        let ms = now.timestamp_millis().to_string();
        let sig = mac(&self.fill, &[tenant.as_bytes(), form.as_bytes(), ms.as_bytes()]);
        format!("{ms}.{}", URL_SAFE_NO_PAD.encode(&sig[..24]))
    }

    /// Checks a token: ours, for this form, not too young and not too old.
    pub fn check_fill_token(
        &self,
        token: &str,
        tenant: &str,
        form: &str,
        now: DateTime<Utc>,
        min_secs: u64,
        ttl_secs: u64,
    ) -> Result<(), FillTokenError> {
        let (ms, sig) = token.split_once('.').ok_or(FillTokenError::Invalid)?;
        let issued: i64 = ms.parse().map_err(|_| FillTokenError::Invalid)?;
        let given = URL_SAFE_NO_PAD.decode(sig).map_err(|_| FillTokenError::Invalid)?;
        let mut m = HmacSha256::new_from_slice(&self.fill).map_err(|_| FillTokenError::Invalid)?;
        for p in [tenant.as_bytes(), form.as_bytes(), ms.as_bytes()] {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        // Constant-time comparison of the truncated tag.
        m.verify_truncated_left(&given).map_err(|_| FillTokenError::Invalid)?;
        if given.len() != 24 {
            return Err(FillTokenError::Invalid);
        }
        let age_ms = now.timestamp_millis().saturating_sub(issued);
        if age_ms < 0 {
            return Err(FillTokenError::Invalid);
        }
        let age = age_ms as u64;
        if age < min_secs.saturating_mul(1000) {
            return Err(FillTokenError::TooFast);
        }
        if age > ttl_secs.saturating_mul(1000) {
            return Err(FillTokenError::Expired);
        }
        Ok(())
    }

    /// The requester's secret for a ticket: unguessable without the key, recomputable by the
    /// server when it writes an e-mail, and stored only as its hash.
    pub fn ticket_secret(&self, tenant: &str, ticket: uuid::Uuid) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.secret, &[tenant.as_bytes(), ticket.as_bytes()]))
    }

    /// A registrant's secret for their registration (the cancellation link), made the same way.
    pub fn registration_secret(&self, tenant: &str, registration: uuid::Uuid) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.secret, &[b"registration", tenant.as_bytes(), registration.as_bytes()]))
    }

    /// The secret of a member body's invitation to a survey (its link), made the same way: the
    /// link can be shown to staff again at any time, and only its hash is stored.
    pub fn survey_secret(&self, tenant: &str, invitation: uuid::Uuid) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.secret, &[b"survey-invitation", tenant.as_bytes(), invitation.as_bytes()]))
    }
}

/// Why a newsletter link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not issued by us, or for another tenant.
    Invalid,
    /// Past its time (a confirmation link lives `CIT_NEWSLETTER__CONFIRM_HOURS`).
    Expired,
}

fn verify(key: &[u8], parts: &[&[u8]], given: &[u8]) -> bool {
    let Ok(mut m) = HmacSha256::new_from_slice(key) else { return false };
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    given.len() == 24 && m.verify_truncated_left(given).is_ok()
}

impl Keys {
    /// The confirmation link of a subscription (double opt-in): the list, the address and an
    /// expiry, signed: `<list>.<address, base64url>.<expiry ms>.<signature>`.
    pub fn newsletter_confirmation(
        &self,
        tenant: &str,
        list: uuid::Uuid,
        email: &str,
        expires: DateTime<Utc>,
    ) -> String {
        let list = list.simple().to_string();
        let address = URL_SAFE_NO_PAD.encode(email.as_bytes());
        let ms = expires.timestamp_millis().to_string();
        let sig = mac(
            &self.secret,
            &[b"newsletter confirm", tenant.as_bytes(), list.as_bytes(), email.as_bytes(), ms.as_bytes()],
        );
        format!("{list}.{address}.{ms}.{}", URL_SAFE_NO_PAD.encode(&sig[..24]))
    }

    /// The list and the address of a confirmation link that is ours and still valid.
    pub fn check_newsletter_confirmation(
        &self,
        token: &str,
        tenant: &str,
        now: DateTime<Utc>,
    ) -> Result<(uuid::Uuid, String), LinkError> {
        let mut parts = token.split('.');
        let (Some(list), Some(address), Some(ms), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::Invalid);
        };
        let email =
            URL_SAFE_NO_PAD.decode(address).ok().and_then(|b| String::from_utf8(b).ok()).ok_or(LinkError::Invalid)?;
        let given = URL_SAFE_NO_PAD.decode(sig).map_err(|_| LinkError::Invalid)?;
        let parts: [&[u8]; 5] =
            [b"newsletter confirm", tenant.as_bytes(), list.as_bytes(), email.as_bytes(), ms.as_bytes()];
        if !verify(&self.secret, &parts, &given) {
            return Err(LinkError::Invalid);
        }
        let list = uuid::Uuid::parse_str(list).map_err(|_| LinkError::Invalid)?;
        let expires: i64 = ms.parse().map_err(|_| LinkError::Invalid)?;
        if now.timestamp_millis() > expires {
            return Err(LinkError::Expired);
        }
        Ok((list, email))
    }

    /// The unsubscribe link of a subscriber (every message carries it; it does not expire):
    /// `<subscriber>.<signature>`.
    pub fn newsletter_unsubscribe(&self, tenant: &str, subscriber: uuid::Uuid) -> String {
        let id = subscriber.simple().to_string();
        let sig = mac(&self.secret, &[b"newsletter unsubscribe", tenant.as_bytes(), id.as_bytes()]);
        format!("{id}.{}", URL_SAFE_NO_PAD.encode(&sig[..24]))
    }

    /// The subscriber of an unsubscribe link that is ours.
    pub fn check_newsletter_unsubscribe(&self, token: &str, tenant: &str) -> Result<uuid::Uuid, LinkError> {
        let (id, sig) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let given = URL_SAFE_NO_PAD.decode(sig).map_err(|_| LinkError::Invalid)?;
        if !verify(&self.secret, &[b"newsletter unsubscribe", tenant.as_bytes(), id.as_bytes()], &given) {
            return Err(LinkError::Invalid);
        }
        uuid::Uuid::parse_str(id).map_err(|_| LinkError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn newsletter_links_are_signed_bound_and_the_confirmation_expires() {
        let k = Keys::derive(b"0123456789abcdef0123456789abcdef");
        let t0 = Utc::now();
        let list = uuid::Uuid::new_v4();
        let tok = k.newsletter_confirmation("lecce", list, "anna@a.example", t0 + Duration::hours(48));
        assert_eq!(k.check_newsletter_confirmation(&tok, "lecce", t0), Ok((list, "anna@a.example".to_owned())));
        assert_eq!(k.check_newsletter_confirmation(&tok, "lecce", t0 + Duration::hours(49)), Err(LinkError::Expired));
        assert_eq!(k.check_newsletter_confirmation(&tok, "genova", t0), Err(LinkError::Invalid));
        let other = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("bea@a.example");
        let mut parts: Vec<&str> = tok.split('.').collect();
        parts[1] = &other;
        assert_eq!(k.check_newsletter_confirmation(&parts.join("."), "lecce", t0), Err(LinkError::Invalid));
        let sub = uuid::Uuid::new_v4();
        let out = k.newsletter_unsubscribe("lecce", sub);
        assert_eq!(k.check_newsletter_unsubscribe(&out, "lecce"), Ok(sub));
        assert_eq!(k.check_newsletter_unsubscribe(&out, "genova"), Err(LinkError::Invalid));
        let forged = format!("{}.{}", uuid::Uuid::new_v4().simple(), out.split_once('.').map(|p| p.1).unwrap_or(""));
        assert_eq!(k.check_newsletter_unsubscribe(&forged, "lecce"), Err(LinkError::Invalid));
    }

    #[test]
    fn fill_tokens_are_bound_and_timed() {
        let k = Keys::derive(b"0123456789abcdef0123456789abcdef");
        let t0 = Utc::now();
        let tok = k.fill_token("lecce", "contatti", t0);
        let at = |s| t0 + Duration::seconds(s);
        assert_eq!(k.check_fill_token(&tok, "lecce", "contatti", at(5), 3, 60), Ok(()));
        assert_eq!(k.check_fill_token(&tok, "lecce", "contatti", at(1), 3, 60), Err(FillTokenError::TooFast));
        assert_eq!(k.check_fill_token(&tok, "lecce", "contatti", at(61), 3, 60), Err(FillTokenError::Expired));
        assert_eq!(k.check_fill_token(&tok, "genova", "contatti", at(5), 3, 60), Err(FillTokenError::Invalid));
        assert_eq!(k.check_fill_token(&tok, "lecce", "altro", at(5), 3, 60), Err(FillTokenError::Invalid));
        let (ms, _) = tok.split_once('.').unwrap_or_default();
        let forged =
            format!("{}.{}", ms.parse::<i64>().unwrap_or(0) - 10_000, tok.split_once('.').unwrap_or_default().1);
        assert_eq!(k.check_fill_token(&forged, "lecce", "contatti", at(5), 3, 60), Err(FillTokenError::Invalid));
        assert_eq!(k.check_fill_token("garbage", "lecce", "contatti", at(5), 3, 60), Err(FillTokenError::Invalid));
        let other = Keys::derive(b"another key, another deployment!!");
        assert_ne!(other.ticket_secret("lecce", uuid::Uuid::nil()), k.ticket_secret("lecce", uuid::Uuid::nil()));
    }
}
