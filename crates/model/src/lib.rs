//! Domain types of openqps and the rules that belong to them.
//!
//! Nothing here knows HTTP, XML, JSON or SQL, and nothing here is serializable: a serializable
//! type is a wire promise, and those live in `openqps-wire`.

pub mod agent;
pub mod asset;
pub mod list_ops;
pub mod rules;
pub mod scan;
pub mod tag;
pub mod tenancy;
pub mod webapp;

pub use agent::{ActivationKey, AgentConfig, AgentInfo, KeyType, Module};
pub use asset::{
    Asset, AssetType, CloudKind, CloudSource, DockerInfo, HostAsset, HostDetails, NetworkInterface,
    OpenPort, Processor, Software, TagRef, TrackingMethod, Volume, Vuln,
};
pub use list_ops::ListOps;
pub use scan::{Ineligible, ScanJob, ScanState, ScanType, SwComponent};
pub use tag::{PROVIDERS, RULE_TYPES, Tag};
pub use tenancy::{
    DISABLED_PASSWORD, Subscription, SubscriptionId, SubscriptionUser, User, UserId,
};
pub use webapp::{
    Attribute, Comment, IdName, LastScan, Scanner, UrlEntry, WebApp, WebAppChange, WebAppConfig,
    WebAppDetails, WebAppOwner,
};

/// Every time openqps stores or shows has whole-second precision, as the Qualys wire format does.
pub type Timestamp = jiff::Timestamp;
