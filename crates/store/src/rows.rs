//! Rows to domain types.

use crate::StoreError;
use crate::sql::Row;
use openqps_model::{
    AgentInfo, Asset, AssetType, DockerInfo, HostAsset, HostDetails, IdName, LastScan, Module,
    Scanner, Timestamp, TrackingMethod, WebApp, WebAppConfig, WebAppDetails, WebAppOwner,
};

pub(crate) fn ts(secs: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_second(secs).map_err(|e| StoreError::Corrupt(format!("time {secs}: {e}")))
}

pub(crate) fn ts_opt(secs: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    secs.map(ts).transpose()
}

/// The columns [`host`] reads, in order, from `asset a LEFT JOIN agent g`.
pub(crate) const HOST_COLUMNS: &[(&str, &str)] = &[
    ("a", "id"),
    ("a", "name"),
    ("a", "created"),
    ("a", "modified"),
    ("a", "criticality_score"),
    ("a", "qweb_host_id"),
    ("a", "last_vuln_scan"),
    ("a", "last_compliance_scan"),
    ("a", "last_system_boot"),
    ("a", "last_logged_on_user"),
    ("a", "fqdn"),
    ("a", "os"),
    ("a", "dns_host_name"),
    ("a", "netbios_name"),
    ("a", "address"),
    ("a", "tracking_method"),
    ("a", "manufacturer"),
    ("a", "model"),
    ("a", "total_memory"),
    ("a", "bios_description"),
    ("a", "is_docker_host"),
    ("g", "agent_id"),
    ("g", "agent_version"),
    ("g", "status"),
    ("g", "last_checked_in"),
    ("g", "connected_from"),
    ("g", "platform"),
    ("g", "activated_modules"),
    ("g", "configuration_id"),
    ("g", "configuration_name"),
    ("g", "activation_key_id"),
    ("g", "activation_key_title"),
    ("a", "domain"),
    ("a", "timezone"),
    ("a", "network_guid"),
    ("a", "netbios_network_id"),
    ("a", "information_gathered_updated"),
    ("a", "vulns_updated"),
    ("a", "cloud_provider"),
    ("a", "docker_present"),
    ("a", "docker_version"),
    ("a", "docker_containers"),
    ("a", "docker_images"),
];

/// A host asset without its collections (tags, ports, …), which are loaded in batches.
pub(crate) fn host(r: &Row) -> Result<HostAsset, StoreError> {
    let tracking: Option<String> = r.try_get(15)?;
    let tracking = tracking
        .as_deref()
        .and_then(TrackingMethod::parse)
        .unwrap_or(TrackingMethod::IP);
    Ok(HostAsset {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        created: ts(r.try_get(2)?)?,
        modified: ts(r.try_get(3)?)?,
        tags: Vec::new(),
        criticality_score: r.try_get(4)?,
        qweb_host_id: r.try_get(5)?,
        last_vuln_scan: ts_opt(r.try_get(6)?)?,
        last_compliance_scan: ts_opt(r.try_get(7)?)?,
        last_system_boot: ts_opt(r.try_get(8)?)?,
        last_logged_on_user: r.try_get(9)?,
        fqdn: r.try_get(10)?,
        os: r.try_get(11)?,
        dns_host_name: r.try_get(12)?,
        netbios_name: r.try_get(13)?,
        address: r.try_get(14)?,
        tracking_method: tracking,
        manufacturer: r.try_get(16)?,
        model: r.try_get(17)?,
        total_memory: r.try_get(18)?,
        bios_description: r.try_get(19)?,
        is_docker_host: r.try_get::<i64, _>(20)? != 0,
        agent: agent(r, 21)?,
        open_ports: Vec::new(),
        software: Vec::new(),
        vulns: Vec::new(),
        processors: Vec::new(),
        network_interfaces: Vec::new(),
        details: HostDetails {
            domain: r.try_get(32)?,
            timezone: r.try_get(33)?,
            network_guid: r.try_get(34)?,
            netbios_network_id: r.try_get(35)?,
            information_gathered_updated: ts_opt(r.try_get(36)?)?,
            vulns_updated: ts_opt(r.try_get(37)?)?,
            cloud_provider: r.try_get(38)?,
            docker: (r.try_get::<i64, _>(39)? != 0)
                .then(|| {
                    Ok::<_, StoreError>(DockerInfo {
                        version: r.try_get(40)?,
                        containers: r.try_get(41)?,
                        images: r.try_get(42)?,
                    })
                })
                .transpose()?,
            volumes: Vec::new(),
            accounts: Vec::new(),
            sources: Vec::new(),
        },
    })
}

/// The agent columns starting at `at`, `None` when the host has no agent row.
pub(crate) fn agent(r: &Row, at: usize) -> Result<Option<AgentInfo>, StoreError> {
    let Some(agent_id) = r.try_get::<Option<String>, _>(at)? else {
        return Ok(None);
    };
    let modules: String = r.try_get(at + 6)?;
    Ok(Some(AgentInfo {
        agent_id,
        agent_version: r.try_get(at + 1)?,
        status: r.try_get(at + 2)?,
        last_checked_in: ts_opt(r.try_get(at + 3)?)?,
        connected_from: r.try_get(at + 4)?,
        platform: r.try_get(at + 5)?,
        activated_modules: Module::parse_list(&modules),
        configuration_id: r.try_get(at + 7)?,
        configuration_name: r.try_get(at + 8)?,
        activation_key_id: r.try_get(at + 9)?,
        activation_key_title: r.try_get(at + 10)?,
    }))
}

pub(crate) const ASSET_COLUMNS: &[(&str, &str)] = &[
    ("a", "id"),
    ("a", "name"),
    ("a", "created"),
    ("a", "modified"),
    ("a", "asset_type"),
    ("a", "criticality_score"),
];

pub(crate) fn asset(r: &Row) -> Result<Asset, StoreError> {
    let ty: String = r.try_get(4)?;
    Ok(Asset {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        created: ts(r.try_get(2)?)?,
        modified: ts(r.try_get(3)?)?,
        asset_type: AssetType::parse(&ty)
            .ok_or_else(|| StoreError::Corrupt(format!("asset type {ty}")))?,
        tags: Vec::new(),
        criticality_score: r.try_get(5)?,
    })
}

/// From `asset a JOIN webapp w JOIN app_user u LEFT JOIN app_user cb LEFT JOIN app_user ub`
/// (owner, creator, last updater).
pub(crate) const WEBAPP_COLUMNS: &[(&str, &str)] = &[
    ("a", "id"),
    ("a", "name"),
    ("w", "url"),
    ("w", "os"),
    ("w", "scope"),
    ("w", "is_scheduled"),
    ("w", "created"),
    ("w", "updated"),
    ("u", "id"),
    ("u", "username"),
    ("u", "first_name"),
    ("u", "last_name"),
    ("cb", "id"),
    ("cb", "username"),
    ("cb", "first_name"),
    ("cb", "last_name"),
    ("ub", "id"),
    ("ub", "username"),
    ("ub", "first_name"),
    ("ub", "last_name"),
    ("w", "sub_domain"),
    ("w", "default_profile_id"),
    ("w", "default_profile_name"),
    ("w", "scanner_type"),
    ("w", "scanner_name"),
    ("w", "scanner_locked"),
    ("w", "progressive_scanning"),
    ("w", "use_robots"),
    ("w", "use_sitemap"),
    ("w", "config_kind"),
    ("w", "config_number"),
    ("w", "config_text"),
    ("w", "last_scan_id"),
    ("w", "last_scan_name"),
    ("w", "last_scan_status"),
    ("w", "last_scan_date"),
];

/// The user whose four columns (id, username, first and last name) start at `at`, if any.
pub(crate) fn user_at(r: &Row, at: usize) -> Result<Option<WebAppOwner>, StoreError> {
    let Some(id) = r.try_get::<Option<i64>, _>(at)? else {
        return Ok(None);
    };
    Ok(Some(WebAppOwner {
        id,
        username: r.try_get(at + 1)?,
        first_name: r.try_get(at + 2)?,
        last_name: r.try_get(at + 3)?,
    }))
}

/// A web app without its lists (tags, attributes, URL lists, comments), loaded in batches.
pub(crate) fn webapp(r: &Row) -> Result<WebApp, StoreError> {
    let config = match r.try_get::<Option<String>, _>(29)?.as_deref() {
        Some("HOURS") => r
            .try_get::<Option<i64>, _>(30)?
            .map(WebAppConfig::CancelScansAfterNHours),
        Some("AT") => r
            .try_get::<Option<String>, _>(31)?
            .map(WebAppConfig::CancelScansAt),
        Some("AUTH") => r.try_get::<Option<i64>, _>(30)?.map(|id| {
            WebAppConfig::DefaultAuthRecord(IdName {
                id,
                name: r.try_get(31).ok().flatten(),
            })
        }),
        _ => None,
    };
    let last_scan = match r.try_get::<Option<i64>, _>(32)? {
        Some(id) => Some(LastScan {
            id,
            name: r.try_get(33)?,
            status: r.try_get::<Option<String>, _>(34)?.unwrap_or_default(),
            date: ts(r.try_get::<Option<i64>, _>(35)?.unwrap_or_default())?,
        }),
        None => None,
    };
    let details = WebAppDetails {
        created_by: user_at(r, 12)?,
        updated_by: user_at(r, 16)?,
        sub_domain: r.try_get(20)?,
        default_profile: r.try_get::<Option<i64>, _>(21)?.map(|id| IdName {
            id,
            name: r.try_get(22).ok().flatten(),
        }),
        default_scanner: r.try_get::<Option<String>, _>(23)?.map(|kind| Scanner {
            kind,
            friendly_name: r.try_get(24).ok().flatten(),
        }),
        scanner_locked: r.try_get::<i64, _>(25)? != 0,
        progressive_scanning: r.try_get::<Option<i64>, _>(26)?.map(|v| v != 0),
        use_robots: r.try_get(27)?,
        use_sitemap: r.try_get::<i64, _>(28)? != 0,
        config,
        last_scan,
        ..WebAppDetails::default()
    };
    Ok(WebApp {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        url: r.try_get(2)?,
        os: r.try_get(3)?,
        scope: r.try_get(4)?,
        is_scheduled: r.try_get::<i64, _>(5)? != 0,
        created: ts(r.try_get(6)?)?,
        updated: ts(r.try_get(7)?)?,
        owner: WebAppOwner {
            id: r.try_get(8)?,
            username: r.try_get(9)?,
            first_name: r.try_get(10)?,
            last_name: r.try_get(11)?,
        },
        tags: Vec::new(),
        details,
    })
}
