//! WAS web applications. Each one is also an asset of the subscription (type `WEBAPP`, same id).

use crate::{ListOps, TagRef, Timestamp};

/// A user as WAS shows it: owner, `createdBy`, `updatedBy`, comment authors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAppOwner {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
}

/// A reference to another WAS object by id, with its name when known (option profile, auth
/// record, crawling script).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdName {
    pub id: i64,
    pub name: Option<String>,
}

/// One entry of a URL list (`urlBlacklist`, `urlWhitelist`, `postDataBlacklist`,
/// `logoutRegexList`): text, read as a regular expression when `regex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlEntry {
    pub value: String,
    pub regex: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub contents: String,
    pub author: Option<WebAppOwner>,
    pub created: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanner {
    /// `EXTERNAL` or `INTERNAL` ([`SCANNER_TYPES`]).
    pub kind: String,
    pub friendly_name: Option<String>,
}

/// `config`: one of three settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebAppConfig {
    CancelScansAfterNHours(i64),
    CancelScansAt(String),
    DefaultAuthRecord(IdName),
}

/// The most recent scan of the application; purge clears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastScan {
    pub id: i64,
    pub name: Option<String>,
    /// One of [`SCAN_STATUSES`].
    pub status: String,
    pub date: Timestamp,
}

pub const SCOPES: &[&str] = &["ALL", "LIMIT", "SUBDOMAIN", "DOMAINS"];
pub const SCANNER_TYPES: &[&str] = &["EXTERNAL", "INTERNAL"];
pub const USE_ROBOTS: &[&str] = &["IGNORE", "ADD_PATHS", "BLACKLIST"];
pub const SCAN_STATUSES: &[&str] = &[
    "SUBMITTED",
    "RUNNING",
    "FINISHED",
    "TIME_LIMIT_EXCEEDED",
    "SCAN_NOT_LAUNCHED",
    "SCANNER_NOT_AVAILABLE",
    "ERROR",
    "CANCELED",
];

/// The configuration of a web application beyond its identity. `Default` is what a new
/// application gets when create leaves a setting out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAppDetails {
    pub created_by: Option<WebAppOwner>,
    pub updated_by: Option<WebAppOwner>,
    pub sub_domain: Option<String>,
    pub domains: Vec<String>,
    pub uris: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub default_profile: Option<IdName>,
    pub default_scanner: Option<Scanner>,
    pub scanner_locked: bool,
    pub progressive_scanning: Option<bool>,
    pub url_blacklist: Vec<UrlEntry>,
    pub url_whitelist: Vec<UrlEntry>,
    pub post_data_blacklist: Vec<UrlEntry>,
    pub logout_regex_list: Vec<UrlEntry>,
    pub auth_records: Vec<IdName>,
    pub use_robots: String,
    pub use_sitemap: bool,
    pub headers: Vec<String>,
    pub comments: Vec<Comment>,
    pub config: Option<WebAppConfig>,
    pub crawling_scripts: Vec<IdName>,
    pub last_scan: Option<LastScan>,
}

impl Default for WebAppDetails {
    fn default() -> Self {
        WebAppDetails {
            created_by: None,
            updated_by: None,
            sub_domain: None,
            domains: Vec::new(),
            uris: Vec::new(),
            attributes: Vec::new(),
            default_profile: None,
            default_scanner: None,
            scanner_locked: false,
            progressive_scanning: None,
            url_blacklist: Vec::new(),
            url_whitelist: Vec::new(),
            post_data_blacklist: Vec::new(),
            logout_regex_list: Vec::new(),
            auth_records: Vec::new(),
            use_robots: "IGNORE".to_string(),
            use_sitemap: false,
            headers: Vec::new(),
            comments: Vec::new(),
            config: None,
            crawling_scripts: Vec::new(),
            last_scan: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebApp {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub os: Option<String>,
    pub owner: WebAppOwner,
    /// One of [`SCOPES`].
    pub scope: String,
    pub tags: Vec<TagRef>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub is_scheduled: bool,
    pub details: WebAppDetails,
}

/// What an update of web applications changes (tags are changed separately, by tag id).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebAppChange {
    pub name: Option<String>,
    pub url: Option<String>,
    pub os: Option<String>,
    pub scope: Option<String>,
    pub sub_domain: Option<String>,
    pub domains: ListOps<String>,
    pub uris: ListOps<String>,
    /// `set` replaces all; `add` and `update` set a value by name; `remove` drops by name.
    pub attributes: ListOps<Attribute>,
    pub attributes_update: Vec<Attribute>,
    pub default_profile: Option<IdName>,
    pub default_scanner: Option<Scanner>,
    pub scanner_locked: Option<bool>,
    pub progressive_scanning: Option<bool>,
    pub url_blacklist: ListOps<UrlEntry>,
    pub url_whitelist: ListOps<UrlEntry>,
    pub post_data_blacklist: ListOps<UrlEntry>,
    pub logout_regex_list: ListOps<UrlEntry>,
    pub auth_records: ListOps<IdName>,
    pub use_robots: Option<String>,
    pub use_sitemap: Option<bool>,
    pub headers: ListOps<String>,
    /// `set` replaces, `add` appends; the author and date are the caller and now.
    pub comments: ListOps<String>,
    /// `Some(None)`: `config` sent empty, which clears it.
    pub config: Option<Option<WebAppConfig>>,
    pub crawling_scripts: ListOps<IdName>,
}

impl WebAppChange {
    /// Applies the change to `w`, as done by `by` at `at`.
    pub fn apply(&self, w: &mut WebApp, by: &WebAppOwner, at: Timestamp) {
        let d = &mut w.details;
        if let Some(v) = &self.name {
            w.name = v.clone();
        }
        if let Some(v) = &self.url {
            w.url = v.clone();
        }
        if let Some(v) = &self.os {
            w.os = Some(v.clone());
        }
        if let Some(v) = &self.scope {
            w.scope = v.clone();
        }
        if let Some(v) = &self.sub_domain {
            d.sub_domain = Some(v.clone());
        }
        self.domains.apply(&mut d.domains, |a, b| a == b);
        self.uris.apply(&mut d.uris, |a, b| a == b);
        let by_name = |a: &Attribute, b: &Attribute| a.name == b.name;
        if let Some(set) = &self.attributes.set {
            d.attributes = set.clone();
        }
        for a in self.attributes.add.iter().chain(&self.attributes_update) {
            match d.attributes.iter_mut().find(|x| by_name(x, a)) {
                Some(x) => x.value = a.value.clone(),
                None => d.attributes.push(a.clone()),
            }
        }
        d.attributes
            .retain(|x| !self.attributes.remove.iter().any(|r| by_name(x, r)));
        if let Some(v) = &self.default_profile {
            d.default_profile = Some(v.clone());
        }
        if let Some(v) = &self.default_scanner {
            d.default_scanner = Some(v.clone());
        }
        if let Some(v) = self.scanner_locked {
            d.scanner_locked = v;
        }
        if let Some(v) = self.progressive_scanning {
            d.progressive_scanning = Some(v);
        }
        let same_url = |a: &UrlEntry, b: &UrlEntry| a.value == b.value;
        self.url_blacklist.apply(&mut d.url_blacklist, same_url);
        self.url_whitelist.apply(&mut d.url_whitelist, same_url);
        self.post_data_blacklist
            .apply(&mut d.post_data_blacklist, same_url);
        self.logout_regex_list
            .apply(&mut d.logout_regex_list, same_url);
        let same_id = |a: &IdName, b: &IdName| a.id == b.id;
        self.auth_records.apply(&mut d.auth_records, same_id);
        self.crawling_scripts
            .apply(&mut d.crawling_scripts, same_id);
        if let Some(v) = &self.use_robots {
            d.use_robots = v.clone();
        }
        if let Some(v) = self.use_sitemap {
            d.use_sitemap = v;
        }
        self.headers.apply(&mut d.headers, |a, b| a == b);
        let comment = |c: &String| Comment {
            contents: c.clone(),
            author: Some(by.clone()),
            created: Some(at),
        };
        if let Some(set) = &self.comments.set {
            d.comments = set.iter().map(comment).collect();
        }
        d.comments.extend(self.comments.add.iter().map(comment));
        if let Some(v) = &self.config {
            d.config = v.clone();
        }
        d.updated_by = Some(by.clone());
        w.updated = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_ops_set_then_add_then_remove() {
        let ops = ListOps {
            set: Some(vec![1, 2]),
            add: vec![2, 3],
            remove: vec![1],
        };
        let mut list = vec![9];
        ops.apply(&mut list, |a, b| a == b);
        assert_eq!(list, vec![2, 3]);
    }

    #[test]
    fn attributes_update_by_name_and_comments_are_stamped() {
        let me = WebAppOwner {
            id: 1,
            username: "admin".into(),
            first_name: String::new(),
            last_name: String::new(),
        };
        let at = Timestamp::from_second(1_700_000_000).unwrap();
        let attr = |n: &str, v: &str| Attribute {
            name: n.into(),
            value: v.into(),
        };
        let mut w = WebApp {
            id: 1,
            name: "a".into(),
            url: "https://a/".into(),
            os: None,
            owner: me.clone(),
            scope: "ALL".into(),
            tags: Vec::new(),
            created: at,
            updated: at,
            is_scheduled: false,
            details: WebAppDetails {
                attributes: vec![attr("Team", "Blue"), attr("Tier", "1")],
                ..WebAppDetails::default()
            },
        };
        let later = Timestamp::from_second(1_700_000_100).unwrap();
        let change = WebAppChange {
            attributes: ListOps {
                remove: vec![attr("Tier", "")],
                ..ListOps::default()
            },
            attributes_update: vec![attr("Team", "Red"), attr("Zone", "EU")],
            comments: ListOps {
                add: vec!["hi".into()],
                ..ListOps::default()
            },
            ..WebAppChange::default()
        };
        change.apply(&mut w, &me, later);
        assert_eq!(
            w.details.attributes,
            vec![attr("Team", "Red"), attr("Zone", "EU")]
        );
        assert_eq!(w.details.comments[0].author.as_ref(), Some(&me));
        assert_eq!(w.details.comments[0].created, Some(later));
        assert_eq!(w.updated, later);
        assert_eq!(w.details.updated_by.as_ref(), Some(&me));
    }
}
