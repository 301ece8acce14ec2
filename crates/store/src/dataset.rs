//! A whole data set loaded in one go (the demo data, an import).

use openqps_model::{ActivationKey, AgentConfig, HostAsset, Tag, WebApp};

/// Objects with their ids already chosen; tags must come before the assets that carry them, and
/// each asset's `tags` name tags of this set. Web app owners are resolved to the subscription's
/// users by `owner.username`.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub tags: Vec<Tag>,
    pub hosts: Vec<HostAsset>,
    pub webapps: Vec<WebApp>,
    /// Cloud Agent activation keys (their `count_used` is ignored: it is counted).
    pub activation_keys: Vec<ActivationKey>,
    pub agent_configs: Vec<AgentConfig>,
}
