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

/// A subscription as the account commands list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub name: String,
    /// Unix seconds.
    pub created: i64,
    /// Its users' names, oldest first.
    pub usernames: Vec<String>,
}
