//! Assets of a subscription: host assets and the generic asset view shared with web apps.

use crate::{AgentInfo, Timestamp};

/// A tag as an asset carries it (`TagSimple`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRef {
    pub id: i64,
    pub name: String,
}

/// What kind of thing an asset is (`Asset.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetType {
    Host,
    WebApp,
}

impl AssetType {
    pub fn name(self) -> &'static str {
        match self {
            AssetType::Host => "HOST",
            AssetType::WebApp => "WEBAPP",
        }
    }

    pub fn parse(s: &str) -> Option<AssetType> {
        match s {
            "HOST" => Some(AssetType::Host),
            "WEBAPP" => Some(AssetType::WebApp),
            _ => None,
        }
    }
}

/// How Qualys tracks a host. Values are spelled as they travel on the wire; `BMC Helix` carries a
/// space (release notes 3.16.1), and `BMC_HELIX` is accepted as an alias where users type it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackingMethod(&'static str);

impl TrackingMethod {
    pub const ALL: &'static [&'static str] = &[
        "NONE",
        "IP",
        "DNSNAME",
        "NETBIOS",
        "INSTANCE_ID",
        "EC2_INSTANCE_ID",
        "VIRTUAL_MACHINE_ID",
        "QAGENT",
        "PASSIVE_SCANNER",
        "GCP_INSTANCE_ID",
        "SHODAN",
        "PASSIVE_SENSOR",
        "EASM",
        "WEBHOOK",
        "ICS_OCA",
        "SERVICE_NOW",
        "ACTIVE_DIRECTORY",
        "BMC Helix",
    ];
    pub const QAGENT: TrackingMethod = TrackingMethod("QAGENT");
    pub const IP: TrackingMethod = TrackingMethod("IP");

    /// Exact wire spelling, or the one known alias.
    pub fn parse(s: &str) -> Option<TrackingMethod> {
        if s == "BMC_HELIX" {
            return Some(TrackingMethod("BMC Helix"));
        }
        Self::ALL
            .iter()
            .find(|v| **v == s)
            .map(|v| TrackingMethod(v))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPort {
    pub port: i32,
    pub protocol: String,
    pub service_id: Option<i64>,
    pub service_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Software {
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vuln {
    pub qid: i64,
    pub host_instance_vuln_id: i64,
    pub first_found: Timestamp,
    pub last_found: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processor {
    pub name: String,
    pub speed: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInterface {
    pub hostname: Option<String>,
    pub interface_name: Option<String>,
    pub mac_address: Option<String>,
    pub address: Option<String>,
    pub gateway_address: Option<String>,
}

/// A host asset (`HostAsset`), the richest object of Asset Management.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAsset {
    pub id: i64,
    pub name: String,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub tags: Vec<TagRef>,
    pub criticality_score: Option<i32>,
    pub qweb_host_id: Option<i64>,
    pub last_vuln_scan: Option<Timestamp>,
    pub last_compliance_scan: Option<Timestamp>,
    pub last_system_boot: Option<Timestamp>,
    pub last_logged_on_user: Option<String>,
    pub fqdn: Option<String>,
    pub os: Option<String>,
    pub dns_host_name: Option<String>,
    pub netbios_name: Option<String>,
    pub address: Option<String>,
    pub tracking_method: TrackingMethod,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub total_memory: Option<i64>,
    pub bios_description: Option<String>,
    pub agent: Option<AgentInfo>,
    pub open_ports: Vec<OpenPort>,
    pub software: Vec<Software>,
    pub vulns: Vec<Vuln>,
    pub processors: Vec<Processor>,
    pub network_interfaces: Vec<NetworkInterface>,
    pub is_docker_host: bool,
    pub details: HostDetails,
}

impl HostAsset {
    /// A host that has only a name, a tracking method and its dates; everything else unknown.
    pub fn new(
        name: impl Into<String>,
        tracking_method: TrackingMethod,
        at: Timestamp,
    ) -> HostAsset {
        HostAsset {
            id: 0,
            name: name.into(),
            created: at,
            modified: at,
            tags: Vec::new(),
            criticality_score: None,
            qweb_host_id: None,
            last_vuln_scan: None,
            last_compliance_scan: None,
            last_system_boot: None,
            last_logged_on_user: None,
            fqdn: None,
            os: None,
            dns_host_name: None,
            netbios_name: None,
            address: None,
            tracking_method,
            manufacturer: None,
            model: None,
            total_memory: None,
            bios_description: None,
            agent: None,
            open_ports: Vec::new(),
            software: Vec::new(),
            vulns: Vec::new(),
            processors: Vec::new(),
            network_interfaces: Vec::new(),
            is_docker_host: false,
            details: HostDetails::default(),
        }
    }
}

/// The generic asset view (`/am/asset`) that host assets and web applications share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: i64,
    pub name: String,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub asset_type: AssetType,
    pub tags: Vec<TagRef>,
    pub criticality_score: Option<i32>,
}

/// Docker facts of a host (`dockerInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DockerInfo {
    pub version: Option<String>,
    pub containers: Option<i64>,
    pub images: Option<i64>,
}

/// A disk volume (`HostAssetVolume`); sizes in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    pub size: Option<i64>,
    pub free: Option<i64>,
}

/// The cloud a source describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudKind {
    Ec2,
    Azure,
    Gcp,
}

impl CloudKind {
    /// How the store and the `cloudProvider` field name it.
    pub fn name(self) -> &'static str {
        match self {
            CloudKind::Ec2 => "EC2",
            CloudKind::Azure => "AZURE",
            CloudKind::Gcp => "GCP",
        }
    }

    pub fn parse(s: &str) -> Option<CloudKind> {
        [CloudKind::Ec2, CloudKind::Azure, CloudKind::Gcp]
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
    }
}

/// Where a cloud connector found a host (`sourceInfo`). One shape for the three clouds; the wire
/// writes each with its own element names (EC2 `region`, Azure `location`, GCP `zone`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudSource {
    pub kind: CloudKind,
    /// EC2 and GCP instance id; Azure VM id.
    pub instance_id: Option<String>,
    /// EC2 instance type, Azure VM size, GCP machine type.
    pub instance_type: Option<String>,
    pub state: Option<String>,
    /// EC2 region, Azure location.
    pub region: Option<String>,
    /// EC2 availability zone, GCP zone.
    pub zone: Option<String>,
    /// EC2 account id, Azure subscription id, GCP project id.
    pub account_id: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub image_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    /// Azure resource group.
    pub resource_group: Option<String>,
    pub first_discovered: Option<Timestamp>,
    pub last_updated: Option<Timestamp>,
}

/// The less common parts of a host asset, grouped so that building a host stays short.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostDetails {
    pub domain: Option<String>,
    pub timezone: Option<String>,
    pub network_guid: Option<String>,
    pub netbios_network_id: Option<i64>,
    pub information_gathered_updated: Option<Timestamp>,
    pub vulns_updated: Option<Timestamp>,
    pub cloud_provider: Option<String>,
    pub docker: Option<DockerInfo>,
    pub volumes: Vec<Volume>,
    pub accounts: Vec<String>,
    pub sources: Vec<CloudSource>,
}
