//! The field registries: which criteria each object accepts.

use crate::{FieldDef, FieldType, Keywords, Operator};
use openqps_model::{PROVIDERS, RULE_TYPES, TrackingMethod};

use FieldType::{Date, Integer, Keyword, Text};

pub static TRACKING_METHODS: Keywords = Keywords {
    values: TrackingMethod::ALL,
    aliases: &[("BMC_HELIX", "BMC Helix")],
};

pub static ASSET_TYPES: Keywords = Keywords {
    values: &["HOST", "WEBAPP"],
    aliases: &[],
};

/// Where a HostAsset criterion looks; the store maps each to SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostField {
    Id,
    Name,
    Created,
    Updated,
    Type,
    QwebHostId,
    Os,
    DnsHostName,
    Address,
    NetbiosName,
    Fqdn,
    TrackingMethod,
    TagName,
    TagId,
    LastVulnScan,
    LastComplianceScan,
    Port,
    InstalledSoftware,
    ActivationKey,
    AgentConfigurationName,
    AgentConfigurationId,
    AgentVersion,
    LastCheckedIn,
    InformationGatheredUpdated,
    VulnsUpdated,
    NetworkGuid,
    NetbiosNetworkId,
    Domain,
    CloudProvider,
    /// A cloud source column, restricted to one cloud when the field names it.
    Cloud(Option<&'static str>, &'static str),
}

pub static HOSTASSET: &[FieldDef<HostField>] = &[
    FieldDef::new("id", Integer, HostField::Id),
    FieldDef::new("name", Text, HostField::Name),
    FieldDef::new("created", Date, HostField::Created),
    FieldDef::new("updated", Date, HostField::Updated),
    FieldDef::new("modified", Date, HostField::Updated),
    FieldDef::new("type", Keyword(&ASSET_TYPES), HostField::Type),
    FieldDef::new("qwebHostId", Integer, HostField::QwebHostId),
    FieldDef::new("os", Text, HostField::Os),
    FieldDef::new("dnsHostName", Text, HostField::DnsHostName),
    FieldDef::new("address", Text, HostField::Address),
    FieldDef::new("netbiosName", Text, HostField::NetbiosName),
    FieldDef::new("fqdn", Text, HostField::Fqdn),
    FieldDef::new(
        "trackingMethod",
        Keyword(&TRACKING_METHODS),
        HostField::TrackingMethod,
    ),
    FieldDef::new("tagName", Text, HostField::TagName),
    FieldDef::new("tagId", Integer, HostField::TagId),
    FieldDef::new("lastVulnScan", Date, HostField::LastVulnScan),
    FieldDef::new("lastComplianceScan", Date, HostField::LastComplianceScan),
    FieldDef::new("port", Integer, HostField::Port),
    FieldDef::new("installedSoftware", Text, HostField::InstalledSoftware),
    FieldDef::new("activationKey", Text, HostField::ActivationKey)
        .with_operators(&[Operator::Equals]),
    FieldDef::new(
        "agentConfigurationName",
        Text,
        HostField::AgentConfigurationName,
    )
    .with_operators(&[Operator::Equals, Operator::Contains]),
    FieldDef::new(
        "agentConfigurationId",
        Integer,
        HostField::AgentConfigurationId,
    )
    .with_operators(&[Operator::Equals]),
    FieldDef::new("agentVersion", Text, HostField::AgentVersion),
    FieldDef::new("lastCheckedIn", Date, HostField::LastCheckedIn),
    FieldDef::new(
        "informationGatheredUpdated",
        Date,
        HostField::InformationGatheredUpdated,
    ),
    FieldDef::new("vulnsUpdated", Date, HostField::VulnsUpdated),
    FieldDef::new("networkGuid", Text, HostField::NetworkGuid),
    FieldDef::new("netbiosNetworkID", Integer, HostField::NetbiosNetworkId),
    FieldDef::new("netbiosNetworkId", Integer, HostField::NetbiosNetworkId),
    FieldDef::new("domain", Text, HostField::Domain),
    FieldDef::new("cloudProvider", Text, HostField::CloudProvider),
    // AWS
    FieldDef::new(
        "instanceId",
        Text,
        HostField::Cloud(Some("EC2"), "instance_id"),
    ),
    FieldDef::new("region", Text, HostField::Cloud(Some("EC2"), "region")),
    FieldDef::new(
        "availabilityZone",
        Text,
        HostField::Cloud(Some("EC2"), "zone"),
    ),
    FieldDef::new(
        "accountId",
        Text,
        HostField::Cloud(Some("EC2"), "account_id"),
    ),
    FieldDef::new("vpcId", Text, HostField::Cloud(Some("EC2"), "vpc_id")),
    FieldDef::new("imageId", Text, HostField::Cloud(None, "image_id")),
    // Azure
    FieldDef::new("vmId", Text, HostField::Cloud(Some("AZURE"), "instance_id")),
    FieldDef::new(
        "subscriptionId",
        Text,
        HostField::Cloud(Some("AZURE"), "account_id"),
    ),
    FieldDef::new("location", Text, HostField::Cloud(Some("AZURE"), "region")),
    FieldDef::new(
        "resourceGroupName",
        Text,
        HostField::Cloud(Some("AZURE"), "resource_group"),
    ),
    FieldDef::new("state", Text, HostField::Cloud(None, "state")),
    // GCP
    FieldDef::new(
        "gcpInstanceId",
        Text,
        HostField::Cloud(Some("GCP"), "instance_id"),
    ),
    FieldDef::new(
        "gcpProjectId",
        Text,
        HostField::Cloud(Some("GCP"), "account_id"),
    ),
    FieldDef::new("gcpZone", Text, HostField::Cloud(Some("GCP"), "zone")),
];

/// Where an Asset (`/am/asset`) criterion looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetField {
    Id,
    Name,
    Created,
    Updated,
    Type,
    TagName,
    TagId,
}

pub static ASSET: &[FieldDef<AssetField>] = &[
    FieldDef::new("id", Integer, AssetField::Id),
    FieldDef::new("name", Text, AssetField::Name),
    FieldDef::new("created", Date, AssetField::Created),
    FieldDef::new("updated", Date, AssetField::Updated),
    FieldDef::new("modified", Date, AssetField::Updated),
    FieldDef::new("type", Keyword(&ASSET_TYPES), AssetField::Type),
    FieldDef::new("tagName", Text, AssetField::TagName),
    FieldDef::new("tagId", Integer, AssetField::TagId),
];

pub static SCAN_STATUSES: Keywords = Keywords {
    values: openqps_model::webapp::SCAN_STATUSES,
    aliases: &[],
};

/// Where a WAS WebApp criterion looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebAppField {
    Id,
    Name,
    Url,
    /// `tags` with `NONE`: no tag at all.
    Tags,
    TagName,
    TagId,
    CreatedDate,
    UpdatedDate,
    IsScheduled,
    IsScanned,
    LastScanStatus,
    LastScanDate,
    /// A custom attribute, named by the criterion's `name`.
    Attribute,
}

pub static WEBAPP: &[FieldDef<WebAppField>] = &[
    FieldDef::new("id", Integer, WebAppField::Id),
    FieldDef::new("name", Text, WebAppField::Name),
    FieldDef::new("url", Text, WebAppField::Url),
    FieldDef::new("tags", Integer, WebAppField::Tags).with_operators(&[Operator::None]),
    FieldDef::new("tags.name", Text, WebAppField::TagName),
    FieldDef::new("tags.id", Integer, WebAppField::TagId),
    FieldDef::new("createdDate", Date, WebAppField::CreatedDate),
    FieldDef::new("updatedDate", Date, WebAppField::UpdatedDate),
    FieldDef::new("isScheduled", FieldType::Boolean, WebAppField::IsScheduled),
    FieldDef::new("isScanned", FieldType::Boolean, WebAppField::IsScanned),
    FieldDef::new(
        "lastScan.status",
        Keyword(&SCAN_STATUSES),
        WebAppField::LastScanStatus,
    ),
    FieldDef::new("lastScan.date", Date, WebAppField::LastScanDate),
    FieldDef::new("attributes", Text, WebAppField::Attribute).named(),
];

pub static RULE_TYPE_VALUES: Keywords = Keywords {
    values: RULE_TYPES,
    aliases: &[],
};

pub static PROVIDER_VALUES: Keywords = Keywords {
    values: PROVIDERS,
    aliases: &[],
};

/// Where a Tag criterion looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagField {
    Id,
    Name,
    Parent,
    RuleType,
    Provider,
    Color,
}

pub static TAG: &[FieldDef<TagField>] = &[
    FieldDef::new("id", Integer, TagField::Id),
    FieldDef::new("name", Text, TagField::Name),
    FieldDef::new("parent", Integer, TagField::Parent),
    FieldDef::new("ruleType", Keyword(&RULE_TYPE_VALUES), TagField::RuleType),
    FieldDef::new("provider", Keyword(&PROVIDER_VALUES), TagField::Provider),
    FieldDef::new("color", Text, TagField::Color),
];

pub static KEY_TYPES: Keywords = Keywords {
    values: &["COUNT_LIMITED", "UNLIMITED"],
    aliases: &[],
};

/// Where an activation key criterion looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActKeyField {
    Id,
    Title,
    Type,
    ActivationKey,
    CountPurchased,
    ExpireDate,
    Created,
}

pub static AGENTACTKEY: &[FieldDef<ActKeyField>] = &[
    FieldDef::new("id", Integer, ActKeyField::Id),
    FieldDef::new("title", Text, ActKeyField::Title),
    FieldDef::new("type", Keyword(&KEY_TYPES), ActKeyField::Type),
    FieldDef::new("activationKey", Text, ActKeyField::ActivationKey),
    FieldDef::new("countPurchased", Integer, ActKeyField::CountPurchased),
    FieldDef::new("expireDate", Date, ActKeyField::ExpireDate),
    FieldDef::new("created", Date, ActKeyField::Created),
];

/// Where an agent configuration profile criterion looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentConfigField {
    Id,
    Name,
    IsDefault,
    Created,
    Modified,
}

pub static AGENTCONFIG: &[FieldDef<AgentConfigField>] = &[
    FieldDef::new("id", Integer, AgentConfigField::Id),
    FieldDef::new("name", Text, AgentConfigField::Name),
    FieldDef::new("isDefault", FieldType::Boolean, AgentConfigField::IsDefault),
    FieldDef::new("created", Date, AgentConfigField::Created),
    FieldDef::new("modified", Date, AgentConfigField::Modified),
];
