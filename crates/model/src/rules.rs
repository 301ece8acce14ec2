//! Dynamic tag rules: which host assets a rule tag belongs on.

use crate::HostAsset;
use std::net::IpAddr;

/// A rule openqps evaluates. Rule types not listed here are stored as given and not evaluated.
#[derive(Debug, Clone)]
pub enum Rule {
    /// The asset name contains the text (ASCII case ignored).
    NameContains(String),
    /// The operating system matches the regular expression.
    OsRegex(regex::Regex),
    /// The asset's address, or one of its interfaces' addresses, lies in one of the ranges.
    NetworkRange(Vec<IpRange>),
    /// One installed software name contains the text (ASCII case ignored).
    InstalledSoftware(String),
    /// One open port lies in one of the ranges.
    OpenPorts(Vec<(i32, i32)>),
    /// One of the QIDs is detected on the asset.
    VulnExist(Vec<i64>),
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub first: IpAddr,
    pub last: IpAddr,
}

/// The rule types [`Rule::parse`] turns into a [`Rule`].
pub const EVALUATED: &[&str] = &[
    "NAME_CONTAINS",
    "OS_REGEX",
    "NETWORK_RANGE",
    "NETWORK_RANGE_ENHANCED",
    "INSTALLED_SOFTWARE",
    "OPEN_PORTS",
    "VULN_EXIST",
];

impl Rule {
    /// The rule of a tag, `Ok(None)` for STATIC and for rule types openqps does not evaluate,
    /// `Err` with a message for a rule text that does not parse.
    pub fn parse(rule_type: &str, text: &str) -> Result<Option<Rule>, String> {
        let text = text.trim();
        let rule = match rule_type {
            "NAME_CONTAINS" if text.is_empty() => return Err("NAME_CONTAINS needs a text.".into()),
            "NAME_CONTAINS" => Rule::NameContains(text.to_ascii_lowercase()),
            "OS_REGEX" => Rule::OsRegex(
                regex::RegexBuilder::new(text)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("OS_REGEX is not a valid regular expression: {e}"))?,
            ),
            "NETWORK_RANGE" | "NETWORK_RANGE_ENHANCED" => Rule::NetworkRange(
                items(text)
                    .map(|item| {
                        parse_range(item).ok_or_else(|| {
                            format!(
                                "'{item}' is not an address, a range (a-b) or a CIDR block (a/n)."
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            "INSTALLED_SOFTWARE" if text.is_empty() => {
                return Err("INSTALLED_SOFTWARE needs a software name.".into());
            }
            "INSTALLED_SOFTWARE" => Rule::InstalledSoftware(text.to_ascii_lowercase()),
            "OPEN_PORTS" => Rule::OpenPorts(
                items(text)
                    .map(|item| {
                        parse_port_range(item).ok_or_else(|| {
                            format!("'{item}' is not a port (0-65535) or a port range.")
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            "VULN_EXIST" => Rule::VulnExist(
                items(text)
                    .map(|item| {
                        item.parse::<i64>()
                            .map_err(|_| format!("'{item}' is not a QID."))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Ok(None),
        };
        if rule.is_empty() {
            return Err(format!("{rule_type} needs at least one value."));
        }
        Ok(Some(rule))
    }

    fn is_empty(&self) -> bool {
        match self {
            Rule::NetworkRange(v) => v.is_empty(),
            Rule::OpenPorts(v) => v.is_empty(),
            Rule::VulnExist(v) => v.is_empty(),
            _ => false,
        }
    }

    pub fn matches(&self, h: &HostAsset) -> bool {
        match self {
            Rule::NameContains(t) => h.name.to_ascii_lowercase().contains(t),
            Rule::OsRegex(re) => h.os.as_deref().is_some_and(|os| re.is_match(os)),
            Rule::NetworkRange(ranges) => h
                .address
                .iter()
                .chain(
                    h.network_interfaces
                        .iter()
                        .filter_map(|i| i.address.as_ref()),
                )
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .any(|ip| ranges.iter().any(|r| r.contains(ip))),
            Rule::InstalledSoftware(t) => h
                .software
                .iter()
                .any(|s| s.name.to_ascii_lowercase().contains(t)),
            Rule::OpenPorts(ranges) => h
                .open_ports
                .iter()
                .any(|p| ranges.iter().any(|(a, b)| (*a..=*b).contains(&p.port))),
            Rule::VulnExist(qids) => h.vulns.iter().any(|v| qids.contains(&v.qid)),
        }
    }
}

/// Values of a rule text: separated by commas, line breaks or semicolons.
fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', '\n', '\r', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.first, self.last, ip) {
            (IpAddr::V4(a), IpAddr::V4(b), IpAddr::V4(x)) => (a..=b).contains(&x),
            (IpAddr::V6(a), IpAddr::V6(b), IpAddr::V6(x)) => (a..=b).contains(&x),
            _ => false,
        }
    }
}

/// `10.0.0.5`, `10.0.0.1-10.0.0.99`, `10.0.0.0/24`, and the same for IPv6.
fn parse_range(s: &str) -> Option<IpRange> {
    if let Some((a, b)) = s.split_once('-') {
        let (first, last) = (
            a.trim().parse::<IpAddr>().ok()?,
            b.trim().parse::<IpAddr>().ok()?,
        );
        return (first.is_ipv4() == last.is_ipv4() && first <= last)
            .then_some(IpRange { first, last });
    }
    if let Some((a, n)) = s.split_once('/') {
        let base = a.trim().parse::<IpAddr>().ok()?;
        let n: u32 = n.trim().parse().ok()?;
        return match base {
            IpAddr::V4(v4) if n <= 32 => {
                let mask = u32::MAX.checked_shl(32 - n).unwrap_or(0);
                let first = u32::from(v4) & mask;
                Some(IpRange {
                    first: IpAddr::V4(first.into()),
                    last: IpAddr::V4((first | !mask).into()),
                })
            }
            IpAddr::V6(v6) if n <= 128 => {
                let mask = u128::MAX.checked_shl(128 - n).unwrap_or(0);
                let first = u128::from(v6) & mask;
                Some(IpRange {
                    first: IpAddr::V6(first.into()),
                    last: IpAddr::V6((first | !mask).into()),
                })
            }
            _ => None,
        };
    }
    let ip = s.parse::<IpAddr>().ok()?;
    Some(IpRange {
        first: ip,
        last: ip,
    })
}

fn parse_port_range(s: &str) -> Option<(i32, i32)> {
    let port = |p: &str| p.trim().parse::<u16>().ok().map(i32::from);
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            (a <= b).then_some((a, b))
        }
        None => port(s).map(|p| (p, p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_and_cidrs_of_both_families() {
        let r = parse_range("10.0.0.0/24").unwrap();
        assert!(r.contains(ip("10.0.0.255")) && !r.contains(ip("10.0.1.0")));
        let r = parse_range("192.168.1.10-192.168.1.20").unwrap();
        assert!(r.contains(ip("192.168.1.15")) && !r.contains(ip("192.168.1.21")));
        let r = parse_range("2001:db8::/32").unwrap();
        assert!(r.contains(ip("2001:db8:ffff::1")) && !r.contains(ip("2001:db9::1")));
        assert!(!r.contains(ip("10.0.0.1")));
        assert!(parse_range("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(parse_range("10.0.0.9-10.0.0.1").is_none());
        assert!(parse_range("10.0.0.0/33").is_none());
        assert!(parse_range("::1-10.0.0.1").is_none());
    }

    #[test]
    fn rule_texts() {
        assert!(Rule::parse("OS_REGEX", "(").is_err());
        assert!(
            Rule::parse("OPEN_PORTS", "22, 8000-8100")
                .unwrap()
                .is_some()
        );
        assert!(Rule::parse("OPEN_PORTS", "70000").is_err());
        assert!(Rule::parse("VULN_EXIST", "").is_err());
        assert!(Rule::parse("GROOVY", "anything").unwrap().is_none());
        assert!(Rule::parse("STATIC", "").unwrap().is_none());
    }
}
