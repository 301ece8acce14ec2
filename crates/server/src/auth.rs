//! HTTP Basic authentication against stored users (argon2id hashes).
//!
//! Verifying argon2 costs tens of milliseconds by design, far more than a QPS call should, so a
//! successful check is remembered for a short while under a keyed hash of the password (SipHash
//! with per-process random keys): the plain password is never kept.

use crate::error::ApiError;
use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
use axum::http::HeaderMap;
use base64::Engine;
use openqps_model::User;
use openqps_store::Store;
use openqps_wire::ResponseCode;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CACHE_TTL: Duration = Duration::from_secs(60);

pub struct Authenticator {
    store: Arc<dyn Store>,
    keys: RandomState,
    cache: Mutex<HashMap<(String, u64), (User, Instant)>>,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>) -> Authenticator {
        Authenticator {
            store,
            keys: RandomState::new(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The user the request's `Authorization: Basic` header names, or `INVALID_CREDENTIALS`.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<User, ApiError> {
        let (username, password) = basic_credentials(headers).ok_or_else(failed)?;
        let key = (username.clone(), self.keys.hash_one(&password));
        if let Some((user, at)) = self.cache.lock().expect("auth cache").get(&key)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(user.clone());
        }
        let user = self
            .store
            .find_user(&username)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(failed)?;
        let hash = user.password_hash.clone();
        let ok = tokio::task::spawn_blocking(move || verify(&hash, &password))
            .await
            .map_err(|_| ApiError::internal())?;
        if !ok {
            return Err(failed());
        }
        let mut cache = self.cache.lock().expect("auth cache");
        cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        cache.insert(key, (user.clone(), Instant::now()));
        Ok(user)
    }
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

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
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
}
