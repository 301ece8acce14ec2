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

/// Why a module change cannot be made on one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleRefusal {
    /// The asset has no Cloud Agent.
    NoAgent,
    /// AGENT_PC and AGENT_SCA exclude each other; `active` is the one already on (or both asked).
    Exclusive { asked: Module, active: Module },
    /// AGENT_SwCA needs AGENT_VM, active or activated in the same request.
    SwCaNeedsVm,
    /// Deactivating AGENT_VM while AGENT_SwCA stays on would leave SwCA without VM.
    VmNeededBySwCa,
    /// The module does not run on the agent's platform.
    Platform {
        module: Module,
        platform: &'static str,
    },
}

impl std::fmt::Display for ModuleRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModuleRefusal::NoAgent => write!(f, "it has no Cloud Agent"),
            ModuleRefusal::Exclusive { asked, active } => write!(
                f,
                "{} and {} cannot both be active on an agent ({} is already active or asked for)",
                asked.name(),
                active.name(),
                active.name()
            ),
            ModuleRefusal::SwCaNeedsVm => write!(
                f,
                "AGENT_SwCA needs AGENT_VM active on the agent or activated in the same request"
            ),
            ModuleRefusal::VmNeededBySwCa => write!(
                f,
                "AGENT_SwCA is active and needs AGENT_VM; deactivate AGENT_SwCA too (in the same request or first)"
            ),
            ModuleRefusal::Platform { module, platform } => {
                write!(f, "{} runs on {platform} agents only", module.name())
            }
        }
    }
}

impl AgentInfo {
    /// The modules after activating `asked`, or why not. Modules already active stay where they
    /// are; new ones follow in the order asked.
    pub fn activated_with(&self, asked: &[Module]) -> Result<Vec<Module>, ModuleRefusal> {
        let mut after: Vec<Module> = self.activated_modules.clone();
        for pair in [(Module::Pc, Module::Sca), (Module::Sca, Module::Pc)] {
            let (a, b) = pair;
            if asked.contains(&a) && (asked.contains(&b) || self.has(b)) {
                return Err(ModuleRefusal::Exclusive {
                    asked: a,
                    active: b,
                });
            }
        }
        if asked.contains(&Module::SwCa) {
            if !(self.has(Module::Vm) || asked.contains(&Module::Vm)) {
                return Err(ModuleRefusal::SwCaNeedsVm);
            }
            if !["Windows", "Linux"]
                .iter()
                .any(|p| p.eq_ignore_ascii_case(&self.platform))
            {
                return Err(ModuleRefusal::Platform {
                    module: Module::SwCa,
                    platform: "Windows and Linux",
                });
            }
        }
        if asked.contains(&Module::Caps) && !self.platform.eq_ignore_ascii_case("Windows") {
            return Err(ModuleRefusal::Platform {
                module: Module::Caps,
                platform: "Windows",
            });
        }
        for m in asked {
            if !after.contains(m) {
                after.push(*m);
            }
        }
        Ok(after)
    }

    /// The modules after deactivating `asked`, or why not. Deactivating a module that is not
    /// active changes nothing. AGENT_VM cannot go while AGENT_SwCA stays.
    pub fn deactivated_with(&self, asked: &[Module]) -> Result<Vec<Module>, ModuleRefusal> {
        let after: Vec<Module> = self
            .activated_modules
            .iter()
            .copied()
            .filter(|m| !asked.contains(m))
            .collect();
        if after.contains(&Module::SwCa) && !after.contains(&Module::Vm) {
            return Err(ModuleRefusal::VmNeededBySwCa);
        }
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(platform: &str, modules: &[Module]) -> AgentInfo {
        AgentInfo {
            platform: platform.into(),
            activated_modules: modules.to_vec(),
            ..AgentInfo::default()
        }
    }

    #[test]
    fn pc_and_sca_exclude_each_other() {
        let a = agent("Linux", &[Module::Pc]);
        assert!(matches!(
            a.activated_with(&[Module::Sca]),
            Err(ModuleRefusal::Exclusive { .. })
        ));
        let b = agent("Linux", &[]);
        assert!(b.activated_with(&[Module::Pc, Module::Sca]).is_err());
        assert_eq!(b.activated_with(&[Module::Sca]), Ok(vec![Module::Sca]));
    }

    #[test]
    fn swca_needs_vm_and_vm_stays_while_swca_does() {
        let a = agent("Windows", &[]);
        assert_eq!(
            a.activated_with(&[Module::SwCa]),
            Err(ModuleRefusal::SwCaNeedsVm)
        );
        assert_eq!(
            a.activated_with(&[Module::SwCa, Module::Vm]),
            Ok(vec![Module::SwCa, Module::Vm])
        );
        let on = agent("Windows", &[Module::Vm, Module::SwCa]);
        assert_eq!(
            on.deactivated_with(&[Module::Vm]),
            Err(ModuleRefusal::VmNeededBySwCa)
        );
        assert_eq!(on.deactivated_with(&[Module::Vm, Module::SwCa]), Ok(vec![]));
        assert!(
            agent("Mac", &[Module::Vm])
                .activated_with(&[Module::SwCa])
                .is_err()
        );
    }

    #[test]
    fn caps_is_windows_only() {
        assert!(agent("Linux", &[]).activated_with(&[Module::Caps]).is_err());
        assert_eq!(
            agent("windows", &[]).activated_with(&[Module::Caps]),
            Ok(vec![Module::Caps])
        );
    }
}

/// How many agents an activation key may install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    CountLimited,
    Unlimited,
}

impl KeyType {
    pub const ALL: [KeyType; 2] = [KeyType::CountLimited, KeyType::Unlimited];

    pub fn name(self) -> &'static str {
        match self {
            KeyType::CountLimited => "COUNT_LIMITED",
            KeyType::Unlimited => "UNLIMITED",
        }
    }

    pub fn parse(s: &str) -> Option<KeyType> {
        KeyType::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// The `license` values an activation key's modules take. Public clients show `ALL`,
/// `VM_LICENSE`, `PM` and `SCA`; the others follow the agent modules (openqps' choice, see
/// docs/compatibility.md).
pub const LICENSES: &[&str] = &[
    "ALL",
    "VM_LICENSE",
    "PC_LICENSE",
    "SCA",
    "FIM",
    "EDR",
    "PM",
    "SWCA",
    "CAPS",
    "MTG",
    "PAF",
];

/// A Cloud Agent activation key (`/qps/rest/1.0/…/ca/agentactkey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationKey {
    pub id: i64,
    pub title: String,
    /// The key agents install with: a UUID the server generates.
    pub activation_key: String,
    pub key_type: KeyType,
    /// How many agents a COUNT_LIMITED key may install (0 for UNLIMITED).
    pub count_purchased: i64,
    /// Agents installed with this key (computed from the agents that name it).
    pub count_used: i64,
    pub expire_date: Option<Timestamp>,
    pub licenses: Vec<String>,
    pub tag_ids: Vec<i64>,
    pub created: Timestamp,
}

/// A Cloud Agent configuration profile (`/qps/rest/1.0/…/ca/agentconfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub is_default: bool,
    pub created: Timestamp,
    pub modified: Timestamp,
}

impl ActivationKey {
    /// The modules an agent installed with this key starts with: each license's module, kept
    /// only where the activation rules allow it on `platform` (`ALL` means AGENT_VM).
    pub fn initial_modules(&self, platform: &str) -> Vec<Module> {
        let blank = AgentInfo {
            platform: platform.to_string(),
            ..AgentInfo::default()
        };
        let mut agent = blank;
        for license in &self.licenses {
            let module = match license.as_str() {
                "ALL" | "VM_LICENSE" => Module::Vm,
                "PC_LICENSE" => Module::Pc,
                "SCA" => Module::Sca,
                "FIM" => Module::Fim,
                "EDR" => Module::Edr,
                "PM" => Module::Pm,
                "SWCA" => Module::SwCa,
                "CAPS" => Module::Caps,
                "MTG" => Module::Mtg,
                _ => continue,
            };
            if let Ok(after) = agent.activated_with(&[module]) {
                agent.activated_modules = after;
            }
        }
        agent.activated_modules
    }
}
