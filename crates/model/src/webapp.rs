//! WAS web applications. Each one is also an asset of the subscription (type `WEBAPP`).

use crate::{TagRef, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAppOwner {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebApp {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub os: Option<String>,
    pub owner: WebAppOwner,
    pub scope: String,
    pub tags: Vec<TagRef>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub is_scheduled: bool,
}
