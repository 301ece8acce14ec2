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

    pub const ALL: [ScanState; 6] = [
        ScanState::Queued,
        ScanState::Dispatched,
        ScanState::Running,
        ScanState::Completed,
        ScanState::Failed,
        ScanState::Expired,
    ];

    pub fn parse(s: &str) -> Option<ScanState> {
        ScanState::ALL
            .into_iter()
            .find(|st| st.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Not finished yet: a second request for the same scan on the same asset joins it.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            ScanState::Queued | ScanState::Dispatched | ScanState::Running
        )
    }

    /// The lifecycle: QUEUED → DISPATCHED (an agent claimed it) → RUNNING → COMPLETED or
    /// FAILED; a job may fail before it runs; a QUEUED job no agent claims in time EXPIRES.
    pub fn can_move_to(self, next: ScanState) -> bool {
        use ScanState::*;
        matches!(
            (self, next),
            (Queued, Dispatched)
                | (Queued, Expired)
                | (Dispatched, Running)
                | (Dispatched, Failed)
                | (Running, Completed)
                | (Running, Failed)
        )
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
    /// When the state last changed (`requested_at` for a job still QUEUED).
    pub state_changed_at: Timestamp,
    /// A QUEUED job not claimed by then is EXPIRED; once claimed, the run deadline: a job not
    /// finished by then FAILS (each move restarts it).
    pub expires_at: Timestamp,
}

impl ScanJob {
    /// The state as of `now`, before the store has written it (expiry is evaluated lazily): a
    /// QUEUED job past `expires_at` reads as EXPIRED, a DISPATCHED or RUNNING one (whose
    /// `expires_at` is its run deadline) as FAILED.
    pub fn state_at(&self, now: Timestamp) -> ScanState {
        match self.state {
            ScanState::Queued if now >= self.expires_at => ScanState::Expired,
            ScanState::Dispatched | ScanState::Running if now >= self.expires_at => {
                ScanState::Failed
            }
            s => s,
        }
    }
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
    fn lifecycle_moves_forward_only() {
        use ScanState::*;
        assert!(Queued.can_move_to(Dispatched));
        assert!(Dispatched.can_move_to(Running));
        assert!(Running.can_move_to(Completed));
        assert!(Running.can_move_to(Failed));
        assert!(Queued.can_move_to(Expired));
        assert!(!Running.can_move_to(Expired));
        assert!(!Completed.can_move_to(Running));
        assert!(!Queued.can_move_to(Completed));
        assert!(Running.is_pending() && !Expired.is_pending());
        assert_eq!(ScanState::parse("running"), Some(Running));
    }

    #[test]
    fn past_its_deadline_a_queued_job_expires_and_a_claimed_one_fails() {
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        let job = |state| ScanJob {
            id: 1,
            asset_id: 2,
            scan_type: ScanType::Inventory,
            override_config_cpu: false,
            requested_by: crate::UserId(1),
            requested_at: at(0),
            state,
            state_changed_at: at(0),
            expires_at: at(100),
        };
        for (state, late) in [
            (ScanState::Queued, ScanState::Expired),
            (ScanState::Dispatched, ScanState::Failed),
            (ScanState::Running, ScanState::Failed),
            (ScanState::Completed, ScanState::Completed),
        ] {
            assert_eq!(job(state).state_at(at(99)), state);
            assert_eq!(job(state).state_at(at(100)), late);
        }
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

/// A software component a SwCA scan found (from a lock file or a package manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwComponent {
    pub name: String,
    pub version: Option<String>,
    /// Package URL (`pkg:cargo/serde@1.0.0`).
    pub purl: Option<String>,
    /// `cargo`, `npm`, `pypi`, `golang`, …
    pub ecosystem: Option<String>,
    /// Where it was found on the host.
    pub path: Option<String>,
}
