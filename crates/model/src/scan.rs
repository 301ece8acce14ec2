//! On-demand scans launched through the Cloud Agent API.

use crate::{AgentInfo, Module, Timestamp, UserId};

/// The `scan=` values of `/qps/rest/1.0/ods/ca/agentasset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanType {
    Inventory,
    Vulnerability,
    PolicyCompliance,
    Udc,
    Sca,
    SwCa,
}

impl ScanType {
    pub const ALL: [ScanType; 6] = [
        ScanType::Inventory,
        ScanType::Vulnerability,
        ScanType::PolicyCompliance,
        ScanType::Udc,
        ScanType::Sca,
        ScanType::SwCa,
    ];

    /// The documented spelling of the `scan` value.
    pub fn value(self) -> &'static str {
        match self {
            ScanType::Inventory => "Inventory_Scan",
            ScanType::Vulnerability => "Vulnerability_Scan",
            ScanType::PolicyCompliance => "PolicyCompliance_Scan",
            ScanType::Udc => "UDC_Scan",
            ScanType::Sca => "SCA_Scan",
            ScanType::SwCa => "SWCA_Scan",
        }
    }

    /// Qualys' docs and clients disagree on case (`SWCA_SCAN`, `SWCA_scan`, `SWCA_Scan`), so the
    /// value is matched case-insensitively.
    pub fn parse(s: &str) -> Option<ScanType> {
        let s = s.trim();
        ScanType::ALL
            .into_iter()
            .find(|t| t.value().eq_ignore_ascii_case(s))
    }

    /// The `module` text of the answer, after the release notes' "SWCA Scan".
    pub fn label(self) -> &'static str {
        match self {
            ScanType::Inventory => "Inventory Scan",
            ScanType::Vulnerability => "Vulnerability Scan",
            ScanType::PolicyCompliance => "PolicyCompliance Scan",
            ScanType::Udc => "UDC Scan",
            ScanType::Sca => "SCA Scan",
            ScanType::SwCa => "SWCA Scan",
        }
    }

    /// The module an agent needs for this scan; `None` means any activated agent will do.
    pub fn required_module(self) -> Option<Module> {
        match self {
            ScanType::Inventory => None,
            ScanType::Vulnerability => Some(Module::Vm),
            ScanType::PolicyCompliance | ScanType::Udc => Some(Module::Pc),
            ScanType::Sca => Some(Module::Sca),
            ScanType::SwCa => Some(Module::SwCa),
        }
    }

    /// Whether a host with this agent (or none) can run the scan, and why not.
    pub fn check(self, agent: Option<&AgentInfo>) -> Result<(), Ineligible> {
        let agent = agent.ok_or(Ineligible::NoAgent)?;
        if agent.activated_modules.is_empty() {
            return Err(Ineligible::NoModule);
        }
        match self.required_module() {
            Some(m) if !agent.has(m) => Err(Ineligible::ModuleNotActivated(m)),
            _ => Ok(()),
        }
    }
}

/// Why an asset cannot run an on-demand scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    NoAgent,
    NoModule,
    ModuleNotActivated(Module),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanState {
    Queued,
    Dispatched,
    Running,
    Completed,
    Failed,
    Expired,
}

impl ScanState {
    pub fn name(self) -> &'static str {
        match self {
            ScanState::Queued => "QUEUED",
            ScanState::Dispatched => "DISPATCHED",
            ScanState::Running => "RUNNING",
            ScanState::Completed => "COMPLETED",
            ScanState::Failed => "FAILED",
            ScanState::Expired => "EXPIRED",
        }
    }
}

/// A persisted on-demand scan request for one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanJob {
    pub id: i64,
    pub asset_id: i64,
    pub scan_type: ScanType,
    pub override_config_cpu: bool,
    pub requested_by: UserId,
    pub requested_at: Timestamp,
    pub state: ScanState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_values_match_any_case() {
        assert_eq!(ScanType::parse("SWCA_SCAN"), Some(ScanType::SwCa));
        assert_eq!(ScanType::parse("swca_scan"), Some(ScanType::SwCa));
        assert_eq!(ScanType::parse("Inventory_Scan"), Some(ScanType::Inventory));
        assert_eq!(ScanType::parse("EPP_Scan"), None);
    }

    #[test]
    fn swca_needs_the_swca_module() {
        let mut agent = AgentInfo {
            activated_modules: vec![Module::Vm],
            ..AgentInfo::default()
        };
        assert_eq!(
            ScanType::SwCa.check(Some(&agent)),
            Err(Ineligible::ModuleNotActivated(Module::SwCa))
        );
        agent.activated_modules.push(Module::SwCa);
        assert_eq!(ScanType::SwCa.check(Some(&agent)), Ok(()));
        assert_eq!(ScanType::Inventory.check(None), Err(Ineligible::NoAgent));
    }
}
