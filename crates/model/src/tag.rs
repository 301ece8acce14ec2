//! Tags: the labels assets and web applications carry.

use crate::{TagRef, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub created: Timestamp,
    pub modified: Timestamp,
    /// `#RGB` or `#RRGGBB`.
    pub color: Option<String>,
    /// `STATIC` for tags assigned by hand; a dynamic rule type otherwise.
    pub rule_type: String,
    pub rule_text: Option<String>,
    pub parent_id: Option<i64>,
    pub criticality_score: Option<i32>,
    pub description: Option<String>,
    /// Cloud provider of a cloud-asset tag (`EC2`, `AZURE`, …).
    pub provider: Option<String>,
    /// Tags whose parent this is; filled when a tag is read, ignored when one is stored.
    pub children: Vec<TagRef>,
}

/// Rule types a tag can carry (the Qualys schema's list plus names clients send).
pub const RULE_TYPES: &[&str] = &[
    "STATIC",
    "GROOVY",
    "OS_REGEX",
    "NETWORK_RANGE",
    "NETWORK_RANGE_ENHANCED",
    "NAME_CONTAINS",
    "INSTALLED_SOFTWARE",
    "OPEN_PORTS",
    "VULN_EXIST",
    "ASSET_SEARCH",
    "CLOUD_ASSET",
    "BUSINESS_INFORMATION",
    "GLOBAL_ASSET_VIEW",
    "TAG_SET",
    "NETWORK_TAG",
    "NETWORK",
    "TAGSET",
    "VULN_DETECTION",
];

/// Cloud providers a tag may name.
pub const PROVIDERS: &[&str] = &["EC2", "AZURE", "GCP", "IBM", "OCI", "Alibaba"];

/// `#RGB` or `#RRGGBB`, hex digits in any case.
pub fn is_valid_color(s: &str) -> bool {
    s.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Criticality scores run from 1 to 5.
pub fn is_valid_criticality(score: i32) -> bool {
    (1..=5).contains(&score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors() {
        for ok in ["#FFF", "#ffffff", "#12aB9c"] {
            assert!(is_valid_color(ok), "{ok}");
        }
        for bad in ["FFF", "#FFFF", "#GGGGGG", "", "#", "red"] {
            assert!(!is_valid_color(bad), "{bad}");
        }
    }
}
