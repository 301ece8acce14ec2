//! Subscriptions (tenants) and their users.

/// The subscription (tenant) that owns every stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// A user of a subscription, as authentication sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub subscription: SubscriptionId,
    pub username: String,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
}

/// Stored instead of a password hash for a disabled user: no password verifies against it, and
/// no bearer token matches it.
pub const DISABLED_PASSWORD: &str = "!disabled";

/// A subscription as the account commands list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub name: String,
    /// Unix seconds.
    pub created: i64,
    /// Its users, oldest first.
    pub users: Vec<SubscriptionUser>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionUser {
    pub username: String,
    /// Disabled by `openqps user disable` (its hash is [`DISABLED_PASSWORD`]).
    pub disabled: bool,
}
