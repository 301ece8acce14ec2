//! The XML schemas openqps publishes under `/qps/xsd/`. They are our own, written from the
//! public facts in docs/compatibility.md; every XML response on a tested path validates against
//! the one its `xsi:noNamespaceSchemaLocation` names.

/// `(path under /qps/xsd/, schema text)`.
pub const SCHEMAS: &[(&str, &str)] = &[
    ("2.0/am/hostasset.xsd", include_str!("xsd/hostasset.xsd")),
    ("2.0/am/asset.xsd", include_str!("xsd/asset.xsd")),
    ("2.0/am/tag.xsd", include_str!("xsd/tag.xsd")),
    ("1.0/ca/agentasset.xsd", include_str!("xsd/agentasset.xsd")),
    (
        "1.0/ca/agentactkey.xsd",
        include_str!("xsd/agentactkey.xsd"),
    ),
    (
        "1.0/ca/agentconfig.xsd",
        include_str!("xsd/agentconfig.xsd"),
    ),
    ("3.0/was/webapp.xsd", include_str!("xsd/webapp.xsd")),
    ("portal/version.xsd", include_str!("xsd/version.xsd")),
];

pub fn find(path: &str) -> Option<&'static str> {
    SCHEMAS.iter().find(|(p, _)| *p == path).map(|(_, t)| *t)
}
