//! Password hashing (argon2id), access tokens (JWT, HS256 pinned), opaque refresh and API tokens
//! (random, stored as SHA-256), and the login rate limiter.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use cit_core::{Password, SessionId, UserId};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::settings::{Mode, PasswordHashing, Settings};

pub const ISSUER: &str = "cit";
pub const AUDIENCE: &str = "cit-api";
/// API tokens look like `cit_<8 chars>_<43 chars>`: the prefix lets people tell them apart in
/// lists and lets secret scanners recognise them.
pub const API_TOKEN_PREFIX: &str = "cit_";

/// Hashes and checks passwords. Hashing runs on the blocking pool: it is slow on purpose.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of a random password, checked when the email is unknown so that an unknown user
    /// and a wrong password cost the same time.
    dummy: String,
}

impl Passwords {
    pub fn new(cfg: &PasswordHashing) -> anyhow::Result<Self> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| anyhow::anyhow!("invalid password hashing settings: {e}"))?;
        let mut this = Self { params, dummy: String::new() };
        this.dummy = this.hash_now(&random_token(24))?;
        Ok(this)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_now(&self, password: &str) -> anyhow::Result<String> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
    }

    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let this = self.clone();
        let password = password.clone();
        tokio::task::spawn_blocking(move || this.hash_now(password.expose())).await?
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no user.
    pub async fn verify(&self, stored: Option<String>, password: String) -> bool {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy.clone());
        let this = self.clone();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .is_ok_and(|parsed| this.argon2().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .unwrap_or(false);
        known && ok
    }
}

/// Claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    /// The session (refresh-token family) the token was issued from; revoking it ends the token.
    pub sid: SessionId,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Unique per token, so two tokens issued in the same second differ.
    pub jti: String,
}

/// Signs and checks access tokens. Only HS256 is accepted; `alg: none` and every other
/// algorithm are refused by the pinned validation.
#[derive(Clone)]
pub struct Jwt {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_secs: u64,
}

impl Jwt {
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }

    /// The key from the settings, or in development one generated once and kept in
    /// `<data_dir>/jwt.key`. Production refuses to start without a configured key.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self::new(&signing_key(settings)?, settings.access_token_ttl_secs))
    }

    pub fn issue(&self, user: UserId, session: SessionId) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl_secs).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: user,
            sid: session,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now.saturating_add(ttl),
            jti: random_token(12),
        };
        Ok(encode(&Header::new(jsonwebtoken::Algorithm::HS256), &claims, &self.encoding)?)
    }

    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation).ok().map(|d| d.claims)
    }
}

/// The server's signing key: `CIT_JWT_SECRET`, or in development one generated once and kept in
/// `<data_dir>/jwt.key`. Access tokens, form tokens and ticket secrets are derived from it.
pub fn signing_key(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    let secret = match (&settings.jwt_secret, settings.mode) {
        (Some(s), _) => s.expose().as_bytes().to_vec(),
        (None, Mode::Production) => {
            anyhow::bail!("CIT_JWT_SECRET is required in production mode")
        }
        (None, Mode::Development) => load_or_create_key(&settings.data_dir.join("jwt.key"))?,
    };
    if secret.len() < 32 {
        anyhow::bail!("the JWT secret must be at least 32 bytes long");
    }
    Ok(secret)
}

fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let key = existing.trim().to_owned();
        if key.len() >= 32 {
            return Ok(key.into_bytes());
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let key = random_token(48);
    write_private(path, &key)?;
    tracing::info!(path = %path.display(), "generated a new JWT signing key");
    Ok(key.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

/// `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 as hex. Refresh and API tokens are 256-bit random values, so a fast hash is enough
/// to make a stolen database useless without making every request pay for argon2.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new API token: the full secret (shown once), its public prefix, and its hash.
pub fn new_api_token() -> (String, String, String) {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut raw = [0u8; 8];
    rand::rng().fill_bytes(&mut raw);
    let prefix: String = raw.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    let secret = format!("{API_TOKEN_PREFIX}{prefix}_{}", random_token(32));
    let hash = token_hash(&secret);
    (secret, prefix, hash)
}

/// Counts failed logins per key in fixed windows. One per node, in memory: with several API
/// nodes an attacker gets at most `nodes × limit` attempts per window.
pub struct LoginLimiter {
    window: Duration,
    per_account: u32,
    per_address: u32,
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    pub fn new(per_account: u32, per_address: u32, window: Duration) -> Self {
        Self { window, per_account, per_address, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds)` when either the account or the address has used up its failures.
    pub fn check(&self, account: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(map) = self.failures.lock() else {
            return Ok(());
        };
        let wait = |key: &str, limit: u32| -> Option<u64> {
            let (start, count) = map.get(key)?;
            let elapsed = now.duration_since(*start);
            (elapsed < self.window && *count >= limit).then(|| (self.window - elapsed).as_secs().max(1))
        };
        match (wait(&format!("a:{account}"), self.per_account), wait(&format!("i:{address}"), self.per_address)) {
            (None, None) => Ok(()),
            (a, b) => Err(a.unwrap_or(0).max(b.unwrap_or(0))),
        }
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        for key in [format!("a:{account}"), format!("i:{address}")] {
            let entry = map.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 = entry.1.saturating_add(1);
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("a:{account}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_roundtrip_and_rejections() {
        let jwt = Jwt::new(&[7u8; 32], 60);
        let (user, session) = (UserId::new(), SessionId::new());
        let token = jwt.issue(user, session).unwrap_or_default();
        assert_eq!(jwt.verify(&token).map(|c| (c.sub, c.sid)), Some((user, session)));
        assert!(Jwt::new(&[8u8; 32], 60).verify(&token).is_none(), "another key");

        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        // The signature tampered: its first character (six whole bits of the MAC) replaced.
        let sig = parts[2];
        let other = if sig.starts_with('A') { 'B' } else { 'A' };
        let bad_signature = format!("{}.{}.{other}{}", parts[0], parts[1], sig.get(1..).unwrap_or_default());
        // The payload tampered: another subject, the signature kept.
        let payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default();
        let mut claims: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
        let intruder = UserId::new();
        claims["sub"] = serde_json::json!(intruder);
        let bad_payload = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
        for (name, tampered) in [("signature", &bad_signature), ("payload", &bad_payload)] {
            assert_ne!(tampered, &token, "the {name} was tampered with");
            assert!(jwt.verify(tampered).is_none(), "a tampered {name} is refused");
        }
        // The tampered claims are otherwise valid: signed with the key they are accepted, so the
        // refusal above is the signature's.
        let resigned = encode(&Header::new(jsonwebtoken::Algorithm::HS256), &claims, &jwt.encoding).unwrap_or_default();
        assert_eq!(jwt.verify(&resigned).map(|c| c.sub), Some(intruder));
        assert_eq!(jwt.verify(&token).map(|c| c.sub), Some(user), "the untampered token still passes");
    }

    #[test]
    fn limiter_counts_failures_per_window() {
        let l = LoginLimiter::new(2, 100, Duration::from_secs(60));
        assert!(l.check("a@x.it", "1.2.3.4").is_ok());
        l.record_failure("a@x.it", "1.2.3.4");
        l.record_failure("a@x.it", "1.2.3.4");
        assert!(matches!(l.check("a@x.it", "5.6.7.8"), Err(s) if s > 0 && s <= 60));
        assert!(l.check("b@x.it", "1.2.3.4").is_ok());
    }

    #[test]
    fn api_tokens_are_unique_and_hashed() {
        let (a, prefix, hash) = new_api_token();
        let (b, _, _) = new_api_token();
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("cit_{prefix}_")));
        assert_eq!(hash, token_hash(&a));
        assert_eq!(hash.len(), 64);
    }
}
