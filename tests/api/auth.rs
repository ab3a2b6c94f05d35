use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cit_api::clock::Clock;
use cit_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, spawn_app, spawn_app_with};
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};

#[tokio::test]
async fn login_returns_tokens_and_me_describes_the_user() {
    let app = spawn_app().await;
    let res = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["token_type"], "Bearer");
    assert!(res.body["expires_in"].as_u64().unwrap() > 0);
    assert!(res.body["refresh_token"].as_str().unwrap().len() >= 40);
    let access = res.body["access_token"].as_str().unwrap();

    let me = app.get("/api/v1/me", Some(access)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], ADMIN_EMAIL);
    assert_eq!(me.body["platform_admin"], true);

    let anonymous = app.get("/api/v1/me", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.code(), "unauthenticated");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn email_is_case_insensitive_at_login() {
    let app = spawn_app().await;
    let res = app.login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_answered_alike() {
    let app = spawn_app().await;
    let wrong = app.login(ADMIN_EMAIL, "not-the-password").await;
    let unknown = app.login("nobody@cit.test", "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(wrong.header("content-type"), Some("application/problem+json"));
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_the_session() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r1 = first.body["refresh_token"].as_str().unwrap().to_owned();
    let a1 = first.body["access_token"].as_str().unwrap().to_owned();

    let second = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r1})).await;
    assert_eq!(second.status, 200, "{}", second.text);
    let r2 = second.body["refresh_token"].as_str().unwrap().to_owned();
    let a2 = second.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "a new refresh token every time");
    assert_eq!(app.get("/api/v1/me", Some(&a2)).await.status, 200);

    // Somebody replays the spent token: the whole family dies.
    let replay = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r1})).await;
    assert_eq!(replay.status, 401);
    assert_eq!(replay.code(), "refresh_token_reused");
    let after = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r2})).await;
    assert_eq!(after.status, 401, "the newest refresh token of the family is revoked too");
    for access in [&a1, &a2] {
        let me = app.get("/api/v1/me", Some(access)).await;
        assert_eq!(me.status, 401, "access tokens of a revoked session stop working");
        assert_eq!(me.code(), "invalid_token");
    }

    // Another session of the same user is untouched.
    assert_eq!(app.get("/api/v1/me", Some(&app.admin_token().await)).await.status, 200);

    let garbage = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": "nope"})).await;
    assert_eq!(garbage.status, 401);
    assert_eq!(garbage.code(), "invalid_token");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let access = login.body["access_token"].as_str().unwrap();
    let refresh = login.body["refresh_token"].as_str().unwrap();
    let other = app.admin_token().await;

    let out = app.post("/api/v1/auth/logout", Some(access), json!({})).await;
    assert_eq!(out.status, 204, "{}", out.text);
    assert_eq!(app.get("/api/v1/me", Some(access)).await.status, 401);
    assert_eq!(app.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh})).await.status, 401);
    assert_eq!(app.get("/api/v1/me", Some(&other)).await.status, 200, "other sessions stay");
    assert_eq!(app.post("/api/v1/auth/logout", None, json!({})).await.status, 401);
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, key: &[u8]) -> String {
    encode(&Header::new(jsonwebtoken::Algorithm::HS256), claims, &EncodingKey::from_secret(key)).unwrap()
}

#[tokio::test]
async fn forged_expired_and_unsigned_tokens_are_rejected() {
    let app = spawn_app().await;
    let good = app.admin_token().await;
    assert_eq!(app.get("/api/v1/me", Some(&good)).await.status, 200);
    let claims = claims_of(&good);

    // Sanity: re-signing the same claims with the server's key is accepted, so the rejections
    // below are about what changed and nothing else.
    assert_eq!(app.get("/api/v1/me", Some(&sign(&claims, JWT_SECRET.as_bytes()))).await.status, 200);

    let mut expired = claims.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    expired["iat"] = json!(chrono::Utc::now().timestamp() - 7200);
    let expired = sign(&expired, JWT_SECRET.as_bytes());

    let wrong_key = sign(&claims, b"another-secret-another-secret-another-secret");

    let mut other_audience = claims.clone();
    other_audience["aud"] = json!("somebody-else");
    let other_audience = sign(&other_audience, JWT_SECRET.as_bytes());

    let mut other_issuer = claims.clone();
    other_issuer["iss"] = json!("not-cit");
    let other_issuer = sign(&other_issuer, JWT_SECRET.as_bytes());

    // Tampered: the payload changes (another subject), the signature stays.
    let parts: Vec<&str> = good.split('.').collect();
    let mut changed = claims.clone();
    changed["sub"] = json!(uuid::Uuid::new_v4());
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(changed.to_string()), parts[2]);

    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{none_header}.{}.", parts[1]);

    let hs512 =
        encode(&Header::new(jsonwebtoken::Algorithm::HS512), &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes()))
            .unwrap();

    for (name, token) in [
        ("expired", expired.as_str()),
        ("wrong key", &wrong_key),
        ("other audience", &other_audience),
        ("other issuer", &other_issuer),
        ("tampered", &tampered),
        ("alg none", &alg_none),
        ("other algorithm", &hs512),
        ("garbage", "not.a.jwt"),
        ("unknown api token", "cit_abcdefgh_0123456789"),
    ] {
        let res = app.get("/api/v1/me", Some(token)).await;
        assert_eq!(res.status, 401, "{name} must be rejected: {}", res.text);
        assert_eq!(res.code(), "invalid_token", "{name}");
    }

    let basic = app.client.get(app.url("/api/v1/me")).header("authorization", "Basic YTpi").send().await.unwrap();
    assert_eq!(basic.status().as_u16(), 401);
}

#[tokio::test]
async fn the_login_limiter_answers_429_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.login_limit.per_account = 3;
        s.login_limit.per_address = 6;
        s.login_limit.window_secs = 120;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.login(ADMIN_EMAIL, "wrong-password").await.status, 401);
    }
    let limited = app.login(ADMIN_EMAIL, "wrong-password").await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=120).contains(&retry), "{retry}");
    // Even the right password waits: the account is locked for the window.
    assert_eq!(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 429);

    // Per address: other accounts from the same client are limited too once it has failed enough.
    for i in 0..3 {
        assert_eq!(app.login(&format!("guess{i}@cit.test"), "wrong-password").await.status, 401);
    }
    let by_address = app.login("another@cit.test", "wrong-password").await;
    assert_eq!(by_address.status, 429);
    assert!(by_address.header("retry-after").is_some());
}

/// Expiry is checked at every use, against the server's clock: the token works up to its
/// `expires_at` and is refused from the moment the clock passes it, without a restart.
#[tokio::test]
async fn an_api_token_is_refused_at_use_once_its_expiry_passes() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    assert_eq!(app.create_tenant(&root, "lecce").await.status, 201);
    // Private, so a 200 proves the token was accepted (an anonymous read would be 401).
    assert_eq!(app.patch("/api/v1/tenants/lecce", Some(&root), json!({"public_read": false})).await.status, 200);
    let expires = app.clock.now() + chrono::Duration::hours(1);
    let created = app
        .post(
            "/api/v1/t/lecce/tokens",
            Some(&root),
            json!({"name": "kiosk", "scopes": ["read"], "expires_at": expires}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let token = created.body["token"].as_str().expect("the secret is shown once").to_owned();

    assert_eq!(app.get("/api/v1/t/lecce", Some(&token)).await.status, 200, "valid now");
    app.clock.set(expires - chrono::Duration::seconds(1));
    assert_eq!(app.get("/api/v1/t/lecce", Some(&token)).await.status, 200, "valid one second before expiry");

    app.clock.set(expires + chrono::Duration::seconds(1));
    let refused = app.get("/api/v1/t/lecce", Some(&token)).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert_eq!(refused.code(), "invalid_token");
    assert_eq!(app.get("/api/v1/t/lecce", None).await.status, 401, "the tenant is still private");
}
