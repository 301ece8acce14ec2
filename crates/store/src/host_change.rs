//! What an update of host assets changes, and how a change applies to one host.

use openqps_model::{
    DockerInfo, HostAsset, ListOps, NetworkInterface, OpenPort, Processor, Software, Timestamp,
    TrackingMethod, Volume, Vuln,
};

/// Changes to a collection of tags, by tag id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagChanges {
    pub set: Option<Vec<i64>>,
    pub add: Vec<i64>,
    pub remove: Vec<i64>,
}

impl TagChanges {
    pub fn is_empty(&self) -> bool {
        self.set.is_none() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// What an update of generic assets (`/am/asset`) changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssetChange {
    pub name: Option<String>,
    pub criticality_score: Option<i32>,
    pub tags: TagChanges,
}

/// Scalar fields of a host asset a request may set; `None` leaves the field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostFields {
    pub name: Option<String>,
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
    pub tracking_method: Option<TrackingMethod>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub total_memory: Option<i64>,
    pub bios_description: Option<String>,
    pub is_docker_host: Option<bool>,
    pub domain: Option<String>,
    pub timezone: Option<String>,
    pub network_guid: Option<String>,
    pub netbios_network_id: Option<i64>,
    pub docker: Option<DockerInfo>,
}

/// What a create or update of host assets says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostAssetChange {
    pub fields: HostFields,
    pub tags: TagChanges,
    pub open_ports: ListOps<OpenPort>,
    pub software: ListOps<Software>,
    pub vulns: ListOps<Vuln>,
    pub processors: ListOps<Processor>,
    pub network_interfaces: ListOps<NetworkInterface>,
    pub volumes: ListOps<Volume>,
    pub accounts: ListOps<String>,
}

impl HostAssetChange {
    pub fn is_empty(&self) -> bool {
        *self == HostAssetChange::default()
    }

    /// Whether any collection other than tags changes.
    pub fn changes_lists(&self) -> bool {
        !(self.open_ports.is_empty()
            && self.software.is_empty()
            && self.vulns.is_empty()
            && self.processors.is_empty()
            && self.network_interfaces.is_empty()
            && self.volumes.is_empty()
            && self.accounts.is_empty())
    }

    /// Applies every field and list change (not tags, which are links) to `h`.
    pub fn apply_to(&self, h: &mut HostAsset) {
        let f = &self.fields;
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(v) = &f.$field {
                    h.$field = Some(v.clone());
                }
            )*};
        }
        if let Some(name) = &f.name {
            h.name = name.clone();
        }
        set!(
            criticality_score,
            qweb_host_id,
            last_vuln_scan,
            last_compliance_scan,
            last_system_boot,
            last_logged_on_user,
            fqdn,
            os,
            dns_host_name,
            netbios_name,
            address,
            manufacturer,
            model,
            total_memory,
            bios_description
        );
        if let Some(t) = f.tracking_method {
            h.tracking_method = t;
        }
        if let Some(d) = f.is_docker_host {
            h.is_docker_host = d;
        }
        let d = &mut h.details;
        for (value, field) in [
            (&f.domain, &mut d.domain),
            (&f.timezone, &mut d.timezone),
            (&f.network_guid, &mut d.network_guid),
        ] {
            if let Some(v) = value {
                *field = Some(v.clone());
            }
        }
        if let Some(n) = f.netbios_network_id {
            d.netbios_network_id = Some(n);
        }
        if let Some(docker) = &f.docker {
            d.docker = Some(docker.clone());
        }
        self.volumes.apply(&mut d.volumes, |a, b| a.name == b.name);
        self.accounts.apply(&mut d.accounts, |a, b| a == b);
        self.open_ports.apply(&mut h.open_ports, |a, b| {
            a.port == b.port && a.protocol.eq_ignore_ascii_case(&b.protocol)
        });
        self.software.apply(&mut h.software, |a, b| {
            a.name == b.name && (b.version.is_none() || a.version == b.version)
        });
        self.vulns.apply(&mut h.vulns, |a, b| a.qid == b.qid);
        self.processors
            .apply(&mut h.processors, |a, b| a.name == b.name);
        self.network_interfaces
            .apply(&mut h.network_interfaces, |a, b| {
                (a.address.is_some() && a.address == b.address)
                    || (a.interface_name.is_some() && a.interface_name == b.interface_name)
            });
    }
}
