//! Cloud Agent facts attached to a host asset.

use crate::Timestamp;

/// Cloud Agent modules as the activation API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Module {
    Vm,
    Pc,
    Fim,
    Edr,
    Sca,
    Caps,
    SwCa,
    Mtg,
    Pm,
}

impl Module {
    pub const ALL: [Module; 9] = [
        Module::Vm,
        Module::Pc,
        Module::Fim,
        Module::Edr,
        Module::Sca,
        Module::Caps,
        Module::SwCa,
        Module::Mtg,
        Module::Pm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Module::Vm => "AGENT_VM",
            Module::Pc => "AGENT_PC",
            Module::Fim => "AGENT_FIM",
            Module::Edr => "AGENT_EDR",
            Module::Sca => "AGENT_SCA",
            Module::Caps => "AGENT_CAPS",
            Module::SwCa => "AGENT_SwCA",
            Module::Mtg => "AGENT_MTG",
            Module::Pm => "AGENT_PM",
        }
    }

    /// Module names are matched case-insensitively and with surrounding spaces trimmed
    /// (`module=AGENT_VM, AGENT_MTG` appears in Qualys' own samples).
    pub fn parse(s: &str) -> Option<Module> {
        let s = s.trim();
        Module::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
    }

    /// Parses a comma-separated module list as stored (`AGENT_VM,AGENT_SwCA`); unknown names are
    /// dropped, since storage only ever holds names this type wrote.
    pub fn parse_list(s: &str) -> Vec<Module> {
        s.split(',').filter_map(Module::parse).collect()
    }

    pub fn join(modules: &[Module]) -> String {
        modules
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The `agentInfo` of a host asset tracked by a Cloud Agent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentInfo {
    pub agent_version: String,
    pub agent_id: String,
    pub status: String,
    pub last_checked_in: Option<Timestamp>,
    pub connected_from: Option<String>,
    pub platform: String,
    pub activated_modules: Vec<Module>,
    pub configuration_id: Option<i64>,
    pub configuration_name: Option<String>,
    pub activation_key_id: Option<String>,
    pub activation_key_title: Option<String>,
}

impl AgentInfo {
    pub fn has(&self, module: Module) -> bool {
        self.activated_modules.contains(&module)
    }
}
