//! Tags: the labels assets and web applications carry.

use crate::Timestamp;

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
}
