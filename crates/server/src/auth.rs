//! Authentication against stored users (argon2id hashes): HTTP Basic on every call, or an
//! `Authorization: Bearer` token that `POST /auth` issued.
//!
//! Tokens are JWTs signed with HMAC-SHA256 (HS256) under a key the binary keeps in the data
//! folder, so every process on that folder accepts the others' tokens. A token names its user in
//! `sub` and expires after [`TOKEN_TTL`].
//!
//! Verifying argon2 costs tens of milliseconds by design, far more than a QPS call should, so a
//! successful check is remembered for a short while under a keyed hash of the password (SipHash
//! with per-process random keys): the plain password is never kept.

use crate::error::ApiError;
use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
use axum::http::HeaderMap;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use openqps_model::User;
use openqps_store::Store;
use openqps_wire::ResponseCode;
use sha2::Sha256;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CACHE_TTL: Duration = Duration::from_secs(60);

/// How long a token from `POST /auth` is valid (Qualys' gateway tokens last about four hours).
pub const TOKEN_TTL: Duration = Duration::from_secs(4 * 3600);

type HmacSha256 = Hmac<Sha256>;

type CacheKey = (String, u64);

pub struct Authenticator {
    store: Arc<dyn Store>,
    keys: RandomState,
    cache: Mutex<HashMap<CacheKey, (User, Instant)>>,
    /// One argon2 check at a time per credential: when a remembered login runs out, the many
    /// calls of a busy client would otherwise all verify at once (each tens of milliseconds of
    /// CPU) and stall the server for half a second every minute.
    checking: Mutex<HashMap<CacheKey, Arc<tokio::sync::Mutex<()>>>>,
    /// argon2 verifications run so far.
    password_checks: std::sync::atomic::AtomicU64,
    token_key: TokenKey,
}

/// The HMAC key bearer tokens are signed with.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl TokenKey {
    pub fn new(key: Vec<u8>) -> TokenKey {
        TokenKey(key)
    }

    /// A fresh random 32-byte key.
    pub fn random() -> TokenKey {
        let mut key = vec![0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's randomness");
        TokenKey(key)
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl Authenticator {
    /// `token_key` signs and checks bearer tokens; processes sharing a key accept each other's.
    pub fn new(store: Arc<dyn Store>, token_key: TokenKey) -> Authenticator {
        Authenticator {
            store,
            keys: RandomState::new(),
            cache: Mutex::new(HashMap::new()),
            checking: Mutex::new(HashMap::new()),
            password_checks: Default::default(),
            token_key,
        }
    }

    /// The user the request's `Authorization` header names (Basic credentials or a bearer token
    /// from `POST /auth`), or `INVALID_CREDENTIALS`.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<User, ApiError> {
        if let Some(token) = bearer_token(headers) {
            let claims = self.token_key.verify(token, jiff::Timestamp::now())?;
            let user = self
                .store
                .find_user(&claims.username)
                .await
                .map_err(ApiError::from)?
                .ok_or_else(failed)?;
            // A token ends with the password it was issued under (changed, or the user disabled).
            if self.token_key.password_tag(&user.password_hash) != claims.password_tag {
                return Err(token_failed());
            }
            return Ok(user);
        }
        let (username, password) = basic_credentials(headers).ok_or_else(failed)?;
        self.check_password(username, password).await
    }

    /// The user with this name and password, or `INVALID_CREDENTIALS`.
    pub async fn check_password(
        &self,
        username: String,
        password: String,
    ) -> Result<User, ApiError> {
        let key = (username.clone(), self.keys.hash_one(&password));
        if let Some(user) = self.remembered(&key) {
            return Ok(user);
        }
        let turn = {
            let mut checking = self.checking.lock().expect("auth checks");
            // Turns nobody holds any more (a caller whose request was dropped mid-check).
            checking.retain(|k, t| k == &key || Arc::strong_count(t) > 1);
            checking.entry(key.clone()).or_default().clone()
        };
        let _turn = turn.lock().await;
        // Whoever held the turn before may have just verified this very credential.
        if let Some(user) = self.remembered(&key) {
            return Ok(user);
        }
        let checked = self.verify_password(&key, username, password).await;
        self.checking.lock().expect("auth checks").remove(&key);
        checked
    }

    /// How many argon2 verifications have run: what the cache and the one-check-at-a-time rule
    /// keep low.
    pub fn password_checks(&self) -> u64 {
        self.password_checks
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The user with this name and password, checked against the stored hash now, never the
    /// cache: `POST /auth` mints a token bound to the current password, so a password changed
    /// in the last minute must not yield a token that fails on first use.
    pub async fn check_password_now(
        &self,
        username: String,
        password: String,
    ) -> Result<User, ApiError> {
        let key = (username.clone(), self.keys.hash_one(&password));
        self.verify_password(&key, username, password).await
    }

    /// The user of a login checked less than [`CACHE_TTL`] ago.
    fn remembered(&self, key: &CacheKey) -> Option<User> {
        match self.cache.lock().expect("auth cache").get(key) {
            Some((user, at)) if at.elapsed() < CACHE_TTL => Some(user.clone()),
            _ => None,
        }
    }

    async fn verify_password(
        &self,
        key: &CacheKey,
        username: String,
        password: String,
    ) -> Result<User, ApiError> {
        let user = self
            .store
            .find_user(&username)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(failed)?;
        let hash = user.password_hash.clone();
        self.password_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ok = tokio::task::spawn_blocking(move || verify(&hash, &password))
            .await
            .map_err(|_| ApiError::internal())?;
        if !ok {
            return Err(failed());
        }
        let mut cache = self.cache.lock().expect("auth cache");
        cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        cache.insert(key.clone(), (user.clone(), Instant::now()));
        Ok(user)
    }

    /// A signed token for `user`, valid for [`TOKEN_TTL`] from `now`.
    pub fn issue_token(&self, user: &User, now: jiff::Timestamp) -> String {
        self.token_key
            .issue(&user.username, &user.password_hash, now)
    }
}

/// What a valid token says.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenClaims {
    pub username: String,
    /// [`TokenKey::password_tag`] of the password hash the token was issued under.
    pub password_tag: String,
}

fn token_failed() -> ApiError {
    ApiError::new(ResponseCode::InvalidCredentials, "Authentication failed")
        .resolution("The bearer token is invalid or expired; get a new one from POST /auth.")
}

impl TokenKey {
    /// A short keyed digest of a password hash: a token carries it, so that it stops working
    /// when the password changes, without carrying anything an attacker could test guesses on.
    pub fn password_tag(&self, password_hash: &str) -> String {
        let digest = self
            .mac(format!("password:{password_hash}").as_bytes())
            .finalize()
            .into_bytes();
        b64(&digest[..12])
    }

    /// A signed token for `username`, valid for [`TOKEN_TTL`] from `now`, and only while the
    /// user's password hash is `password_hash`.
    pub fn issue(&self, username: &str, password_hash: &str, now: jiff::Timestamp) -> String {
        let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
        let iat = now.as_second();
        let claims = serde_json::json!({
            "iss": "openqps",
            "sub": username,
            "iat": iat,
            "exp": iat + TOKEN_TTL.as_secs() as i64,
            "pwd": self.password_tag(password_hash),
        });
        let signing_input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
        let signature = b64(&self.mac(signing_input.as_bytes()).finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// What a token says, if its signature holds and it has not expired at `now`.
    pub fn verify(&self, token: &str, now: jiff::Timestamp) -> Result<TokenClaims, ApiError> {
        let (signing_input, signature) = token.rsplit_once('.').ok_or_else(token_failed)?;
        let (header, claims) = signing_input.split_once('.').ok_or_else(token_failed)?;
        let signature = unb64(signature).ok_or_else(token_failed)?;
        self.mac(signing_input.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| token_failed())?;
        let header: serde_json::Value =
            serde_json::from_slice(&unb64(header).ok_or_else(token_failed)?)
                .map_err(|_| token_failed())?;
        if header["alg"] != "HS256" {
            return Err(token_failed());
        }
        let claims: serde_json::Value =
            serde_json::from_slice(&unb64(claims).ok_or_else(token_failed)?)
                .map_err(|_| token_failed())?;
        let exp = claims["exp"].as_i64().ok_or_else(token_failed)?;
        if now.as_second() >= exp {
            return Err(token_failed());
        }
        match (claims["sub"].as_str(), claims["pwd"].as_str()) {
            (Some(username), Some(tag)) => Ok(TokenClaims {
                username: username.to_string(),
                password_tag: tag.to_string(),
            }),
            _ => Err(token_failed()),
        }
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(data);
        mac
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The recorded Qualys answer to missing or wrong credentials.
fn failed() -> ApiError {
    ApiError::new(ResponseCode::InvalidCredentials, "Authentication failed")
        .resolution("Verify both, user and password credentials.")
}

pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_calls_with_one_new_login_verify_it_once() {
        use argon2::password_hash::PasswordHasher;
        let dir = std::env::temp_dir().join(format!("openqps-auth-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = openqps_store::SqliteStore::open(&dir.join("db.sqlite"))
            .await
            .unwrap();
        let hash = argon2::Argon2::default()
            .hash_password(b"pw")
            .unwrap()
            .to_string();
        store
            .bootstrap(&hash, jiff::Timestamp::now())
            .await
            .unwrap();
        let auth = Arc::new(Authenticator::new(Arc::new(store), TokenKey::random()));
        let calls: Vec<_> = (0..16)
            .map(|_| {
                let auth = auth.clone();
                tokio::spawn(async move { auth.check_password("admin".into(), "pw".into()).await })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap().username, "admin");
        }
        assert_eq!(auth.password_checks(), 1);
        // A wrong password is checked, and refused, on its own.
        assert!(
            auth.check_password("admin".into(), "nope".into())
                .await
                .is_err()
        );
        assert_eq!(auth.password_checks(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reads_basic_credentials() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Basic YWRtaW46cDp3".parse().unwrap());
        assert_eq!(
            basic_credentials(&h),
            Some(("admin".to_string(), "p:w".to_string()))
        );
        h.insert("authorization", "Bearer x".parse().unwrap());
        assert_eq!(basic_credentials(&h), None);
    }

    #[test]
    fn tokens_verify_under_the_same_key_only_until_they_expire() {
        let a = TokenKey::new(b"key-one".to_vec());
        let b = TokenKey::new(b"key-one".to_vec());
        let other = TokenKey::new(b"key-two".to_vec());
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let token = a.issue("admin", "$argon2id$hash", now);
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(
            b.verify(&token, now).unwrap(),
            super::TokenClaims {
                username: "admin".into(),
                password_tag: b.password_tag("$argon2id$hash"),
            }
        );
        assert_ne!(
            a.password_tag("$argon2id$hash"),
            a.password_tag("$argon2id$other")
        );
        assert_ne!(
            a.password_tag("$argon2id$hash"),
            other.password_tag("$argon2id$hash")
        );
        assert!(other.verify(&token, now).is_err());
        let later = jiff::Timestamp::from_second(1_700_000_000 + 4 * 3600).unwrap();
        assert!(a.verify(&token, later).is_err());
        let mut forged = token.clone();
        forged.replace_range(token.len() - 2.., "AA");
        assert!(a.verify(&forged, now).is_err());
    }
}
