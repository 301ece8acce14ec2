//! Storage. Only this crate knows SQL.
//!
//! [`Store`] is the one interface the server talks to. [`SqlStore`] implements it once for both
//! back-ends: [`SqliteStore`] (embedded, no set-up) and [`PgStore`] (PostgreSQL, shared by several
//! processes). Criteria arrive as typed [`openqps_query::Filter`]s and are compiled to SQL by
//! [`filter_sql`] (sea-query, so one builder serves every dialect); every write is one
//! transaction.

mod dataset;
mod error;
mod filter_sql;
mod host_change;
mod rows;
mod sql;

pub use dataset::Dataset;
pub use error::StoreError;
pub use host_change::{AssetChange, HostAssetChange, HostFields, TagChanges};
pub use openqps_model::ListOps;
pub use sql::{PgStore, Postgres, SqlStore, Sqlite, SqliteStore};

use async_trait::async_trait;
use openqps_model::{
    ActivationKey, AgentConfig, Asset, HostAsset, Module, ScanJob, ScanState, ScanType,
    Subscription, SubscriptionId, Tag, Timestamp, User, UserId, WebApp, WebAppChange, WebAppOwner,
};
use openqps_query::Filter;
use openqps_query::fields::{
    ActKeyField, AgentConfigField, AssetField, HostField, TagField, WebAppField,
};

/// Which records a write touches: one by id (an unknown id is an error) or all that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector<F> {
    Id(i64),
    Filter(Filter<F>),
}

/// A page request: results are ordered by id ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based position of the first record.
    pub start_from_offset: Option<u64>,
    /// The first record has an id at least this.
    pub start_from_id: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

/// The settable fields of a tag; `None` leaves a field as it is (on create: unset).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagFields {
    pub name: Option<String>,
    pub color: Option<String>,
    pub rule_type: Option<String>,
    pub rule_text: Option<String>,
    pub parent_id: Option<i64>,
    pub criticality_score: Option<i32>,
    pub description: Option<String>,
    pub provider: Option<String>,
    /// For an ASSET_SEARCH rule: its criteria as `openqps_query::encode_criteria` writes them.
    /// Whenever `rule_text` is set without it, the stored criteria are cleared.
    pub rule_criteria: Option<String>,
}

/// A child named in a tag's `children`: an existing tag by id, or a new one by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildRef {
    Id(i64),
    Name(String),
}

/// Changes to a tag's children. Removing a child detaches it (it becomes a top-level tag).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChildChanges {
    pub set: Option<Vec<ChildRef>>,
    pub add: Vec<ChildRef>,
    pub remove: Vec<i64>,
}

/// An on-demand scan request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanRequest {
    pub scan: ScanType,
    pub override_config_cpu: bool,
    pub requested_by: UserId,
    pub at: Timestamp,
    /// A job no agent claims within this many seconds expires.
    pub expires_after_secs: i64,
    /// A claimed job not finished within this many seconds of its last move fails.
    pub run_timeout_secs: i64,
}

/// The settable fields of an activation key; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActivationKeyFields {
    pub title: Option<String>,
    pub key_type: Option<openqps_model::KeyType>,
    pub count_purchased: Option<i64>,
    /// `Some(None)` clears the expiry.
    pub expire_date: Option<Option<Timestamp>>,
    pub licenses: Option<Vec<String>>,
    pub tag_ids: Option<Vec<i64>>,
}

impl ActivationKeyFields {
    pub fn is_empty(&self) -> bool {
        *self == ActivationKeyFields::default()
    }

    pub fn apply_to(&self, key: &mut openqps_model::ActivationKey) {
        if let Some(v) = &self.title {
            key.title = v.clone();
        }
        if let Some(v) = self.key_type {
            key.key_type = v;
            if v == openqps_model::KeyType::Unlimited && self.count_purchased.is_none() {
                key.count_purchased = 0;
            }
        }
        if let Some(v) = self.count_purchased {
            key.count_purchased = v;
        }
        if let Some(v) = self.expire_date {
            key.expire_date = v;
        }
        if let Some(v) = &self.licenses {
            key.licenses = v.clone();
        }
        if let Some(v) = &self.tag_ids {
            key.tag_ids = v.clone();
        }
    }
}

/// A new agent configuration profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentConfigFields {
    pub name: String,
    pub description: Option<String>,
    pub is_default: bool,
}

/// What an agent says about itself when it registers (`/agent/v1/register`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRegistration {
    /// The agent id (UUID) the server chose.
    pub agent_id: String,
    pub hostname: String,
    pub platform: String,
    pub os: Option<String>,
    pub agent_version: String,
    pub address: Option<String>,
    /// SHA-256 hex digest of the agent's secret; the secret itself is never stored.
    pub secret_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredAgent {
    pub subscription: SubscriptionId,
    pub asset_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCredential {
    pub subscription: SubscriptionId,
    pub asset_id: i64,
    pub secret_hash: String,
}

pub use openqps_model::SwComponent;

/// The stored SwCA result of an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwCaResult {
    pub job_id: i64,
    pub uploaded_at: Timestamp,
    pub components: Vec<SwComponent>,
}

/// The result an agent uploads with a job it completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanResult {
    /// What an Inventory scan found, as a change of the host (lists replaced with `set`).
    Inventory(Box<HostAssetChange>),
    /// The components a SwCA scan found.
    SwCa(Vec<SwComponent>),
}

/// Activate or deactivate Cloud Agent modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleAction {
    Activate,
    Deactivate,
}

/// What the server asks of storage. Every method is scoped to one subscription.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates the first subscription and its `admin` user if the database has none; returns the
    /// new subscription, or `None` when one existed already.
    async fn bootstrap(
        &self,
        admin_password_hash: &str,
        at: Timestamp,
    ) -> Result<Option<SubscriptionId>, StoreError>;
    /// A new subscription with its first user; returns the subscription. A taken username is a
    /// `Conflict`.
    async fn create_subscription(
        &self,
        name: &str,
        username: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<SubscriptionId, StoreError>;
    /// The subscription of the first user, where demo data goes.
    async fn default_subscription(&self) -> Result<Option<SubscriptionId>, StoreError>;
    async fn find_user(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// Adds a user to an existing subscription. Usernames are unique across subscriptions (as
    /// Qualys logins are): a taken one is a `Conflict`, an unknown subscription `NotFound`.
    async fn add_user(
        &self,
        sub: SubscriptionId,
        username: &str,
        password_hash: &str,
    ) -> Result<UserId, StoreError>;
    /// Replaces a user's password hash; `false` when no user has that name.
    async fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, StoreError>;
    /// Every subscription with its users, oldest first.
    async fn subscriptions(&self) -> Result<Vec<Subscription>, StoreError>;
    async fn asset_count(&self, sub: SubscriptionId) -> Result<u64, StoreError>;
    /// Loads a data set in one transaction.
    async fn load(&self, sub: SubscriptionId, data: &Dataset) -> Result<(), StoreError>;

    async fn search_host_assets(
        &self,
        sub: SubscriptionId,
        filter: &Filter<HostField>,
        page: PageRequest,
    ) -> Result<Page<HostAsset>, StoreError>;
    async fn count_host_assets(
        &self,
        sub: SubscriptionId,
        filter: &Filter<HostField>,
    ) -> Result<u64, StoreError>;
    async fn get_host_asset(
        &self,
        sub: SubscriptionId,
        id: i64,
    ) -> Result<Option<HostAsset>, StoreError>;
    /// Applies `change` to the selected host assets; returns their ids.
    async fn update_host_assets(
        &self,
        sub: SubscriptionId,
        target: &Selector<HostField>,
        change: &HostAssetChange,
        at: Timestamp,
    ) -> Result<Vec<i64>, StoreError>;

    /// Creates a host asset from `host` (its id, dates and agent are ignored; its tags name
    /// existing tags by id); returns it as stored, rule tags applied.
    async fn create_host_asset(
        &self,
        sub: SubscriptionId,
        host: &HostAsset,
        at: Timestamp,
    ) -> Result<HostAsset, StoreError>;
    /// Deletes the selected host assets with everything they carry; returns their ids.
    async fn delete_host_assets(
        &self,
        sub: SubscriptionId,
        target: &Selector<HostField>,
    ) -> Result<Vec<i64>, StoreError>;

    async fn search_assets(
        &self,
        sub: SubscriptionId,
        filter: &Filter<AssetField>,
        page: PageRequest,
    ) -> Result<Page<Asset>, StoreError>;
    async fn count_assets(
        &self,
        sub: SubscriptionId,
        filter: &Filter<AssetField>,
    ) -> Result<u64, StoreError>;
    async fn get_asset(&self, sub: SubscriptionId, id: i64) -> Result<Option<Asset>, StoreError>;
    /// Changes name, criticality and tags of the selected assets (hosts and web apps alike).
    async fn update_assets(
        &self,
        sub: SubscriptionId,
        target: &Selector<AssetField>,
        change: &AssetChange,
        at: Timestamp,
    ) -> Result<Vec<i64>, StoreError>;
    /// Deletes the selected assets from the subscription, a web app's WAS side included.
    async fn delete_assets(
        &self,
        sub: SubscriptionId,
        target: &Selector<AssetField>,
    ) -> Result<Vec<i64>, StoreError>;

    /// Queues a scan job on each selected asset able to run it; returns the ids accepted. A
    /// single id that cannot run it is an error; in a bulk request such assets are left out.
    /// An asset that already has a pending (QUEUED, DISPATCHED, RUNNING) job of this scan type
    /// gets no second job, and still counts as accepted.
    async fn launch_scans(
        &self,
        sub: SubscriptionId,
        target: &Selector<HostField>,
        request: ScanRequest,
    ) -> Result<Vec<i64>, StoreError>;

    /// Activates or deactivates `modules` on the agents of the selected assets; returns the
    /// assets changed. A single id that has no agent or breaks a module rule is an error; in a
    /// bulk request such assets are left out.
    async fn change_agent_modules(
        &self,
        sub: SubscriptionId,
        target: &Selector<AssetField>,
        action: ModuleAction,
        modules: &[Module],
        at: Timestamp,
    ) -> Result<Vec<Asset>, StoreError>;
    /// Uninstalls the agents of the selected assets: the assets go with all their data. A single
    /// id without an agent is an error; in bulk, assets without one are left out. Returns the ids
    /// removed.
    async fn uninstall_agents(
        &self,
        sub: SubscriptionId,
        target: &Selector<AssetField>,
    ) -> Result<Vec<i64>, StoreError>;
    /// [`Store::uninstall_agents`] selecting by host asset criteria.
    async fn uninstall_agent_hosts(
        &self,
        sub: SubscriptionId,
        target: &Selector<HostField>,
    ) -> Result<Vec<i64>, StoreError>;

    /// The scan jobs of one asset, oldest first, each with its state as of `now` (a QUEUED job
    /// past its expiry reads EXPIRED).
    async fn scan_jobs(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        now: Timestamp,
    ) -> Result<Vec<ScanJob>, StoreError>;
    /// Hands the oldest QUEUED, unexpired job of an asset to its agent (→ DISPATCHED); expired
    /// jobs are marked EXPIRED on the way.
    async fn claim_scan_job(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        now: Timestamp,
    ) -> Result<Option<ScanJob>, StoreError>;
    /// Moves a job along its lifecycle; a move the lifecycle does not allow is a conflict. With
    /// `asset`, a job of another asset is not found.
    async fn advance_scan_job(
        &self,
        sub: SubscriptionId,
        asset: Option<i64>,
        job_id: i64,
        to: ScanState,
        now: Timestamp,
    ) -> Result<ScanJob, StoreError>;
    /// Marks every QUEUED job past its expiry EXPIRED, and every DISPATCHED or RUNNING job past
    /// its run deadline FAILED, in all subscriptions; returns how many.
    async fn expire_scan_jobs(&self, now: Timestamp) -> Result<u64, StoreError>;

    async fn search_activation_keys(
        &self,
        sub: SubscriptionId,
        filter: &Filter<ActKeyField>,
        page: PageRequest,
    ) -> Result<Page<ActivationKey>, StoreError>;
    async fn count_activation_keys(
        &self,
        sub: SubscriptionId,
        filter: &Filter<ActKeyField>,
    ) -> Result<u64, StoreError>;
    async fn get_activation_key(
        &self,
        sub: SubscriptionId,
        id: i64,
    ) -> Result<Option<ActivationKey>, StoreError>;
    /// Creates a key with this UUID; `fields` must name a title and a type. Returns it as stored.
    async fn create_activation_key(
        &self,
        sub: SubscriptionId,
        fields: &ActivationKeyFields,
        activation_key: &str,
        at: Timestamp,
    ) -> Result<ActivationKey, StoreError>;
    async fn update_activation_keys(
        &self,
        sub: SubscriptionId,
        target: &Selector<ActKeyField>,
        fields: &ActivationKeyFields,
    ) -> Result<Vec<i64>, StoreError>;
    /// Deletes the selected keys; agents installed with them keep running (and keep naming the
    /// key in `agentInfo.activationKey`).
    async fn delete_activation_keys(
        &self,
        sub: SubscriptionId,
        target: &Selector<ActKeyField>,
    ) -> Result<Vec<i64>, StoreError>;
    async fn search_agent_configs(
        &self,
        sub: SubscriptionId,
        filter: &Filter<AgentConfigField>,
        page: PageRequest,
    ) -> Result<Page<AgentConfig>, StoreError>;
    async fn get_agent_config(
        &self,
        sub: SubscriptionId,
        id: i64,
    ) -> Result<Option<AgentConfig>, StoreError>;
    /// Creates a profile; a new default profile takes over from the old one.
    async fn create_agent_config(
        &self,
        sub: SubscriptionId,
        fields: AgentConfigFields,
        at: Timestamp,
    ) -> Result<AgentConfig, StoreError>;

    /// Registers an agent with an activation key (found by its UUID, in any subscription): a
    /// new host asset with its agent and credential. An unknown, expired or used-up key is
    /// [`StoreError::AgentRefused`].
    async fn register_agent(
        &self,
        activation_key: &str,
        reg: &AgentRegistration,
        at: Timestamp,
    ) -> Result<RegisteredAgent, StoreError>;
    /// The credential of a registered agent, found by agent id (a global lookup, like login).
    async fn agent_credential(&self, agent_id: &str)
    -> Result<Option<AgentCredential>, StoreError>;
    /// Records an agent's check-in; returns its host as stored.
    async fn agent_check_in(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        connected_from: Option<&str>,
        agent_version: Option<&str>,
        at: Timestamp,
    ) -> Result<HostAsset, StoreError>;
    /// A completed scan job's result: the host's last scan date of the kind the scan is.
    async fn record_scan_result(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        job_id: i64,
        to: ScanState,
        at: Timestamp,
    ) -> Result<ScanJob, StoreError>;

    /// Completes a claimed job (`DISPATCHED` or `RUNNING`) with its result, in one transaction:
    /// an Inventory result updates the host (rule tags re-applied), a SwCA result replaces the
    /// asset's components. A job already `COMPLETED` (or `FAILED`, `EXPIRED`) is a
    /// [`StoreError::Conflict`]: a result is taken once.
    async fn upload_scan_result(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        job_id: i64,
        result: &ScanResult,
        at: Timestamp,
    ) -> Result<ScanJob, StoreError>;
    /// The asset's latest SwCA result: `Err(NotFound)` for an unknown asset, `Ok(None)` when no
    /// SwCA result was uploaded.
    async fn swca_result(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
    ) -> Result<Option<SwCaResult>, StoreError>;

    async fn search_tags(
        &self,
        sub: SubscriptionId,
        filter: &Filter<TagField>,
        page: PageRequest,
    ) -> Result<Page<Tag>, StoreError>;
    async fn count_tags(
        &self,
        sub: SubscriptionId,
        filter: &Filter<TagField>,
    ) -> Result<u64, StoreError>;
    async fn get_tag(&self, sub: SubscriptionId, id: i64) -> Result<Option<Tag>, StoreError>;
    /// Creates a tag (and any children named by name); returns it as stored.
    async fn create_tag(
        &self,
        sub: SubscriptionId,
        fields: &TagFields,
        children: &ChildChanges,
        at: Timestamp,
    ) -> Result<Tag, StoreError>;
    async fn update_tags(
        &self,
        sub: SubscriptionId,
        target: &Selector<TagField>,
        fields: &TagFields,
        children: &ChildChanges,
        at: Timestamp,
    ) -> Result<Vec<i64>, StoreError>;
    /// Re-applies the rules of the selected tags to the whole subscription; returns the ids of
    /// those that have a rule openqps evaluates.
    async fn evaluate_tags(
        &self,
        sub: SubscriptionId,
        target: &Selector<TagField>,
    ) -> Result<Vec<i64>, StoreError>;
    /// Deletes the selected tags and their descendants, and removes them from every asset and
    /// web app. Returns every id deleted.
    async fn delete_tags(
        &self,
        sub: SubscriptionId,
        target: &Selector<TagField>,
    ) -> Result<Vec<i64>, StoreError>;

    async fn search_webapps(
        &self,
        sub: SubscriptionId,
        filter: &Filter<WebAppField>,
        page: PageRequest,
    ) -> Result<Page<WebApp>, StoreError>;
    async fn count_webapps(
        &self,
        sub: SubscriptionId,
        filter: &Filter<WebAppField>,
    ) -> Result<u64, StoreError>;
    async fn get_webapp(&self, sub: SubscriptionId, id: i64) -> Result<Option<WebApp>, StoreError>;
    /// Removes the selected web apps from WAS; with `remove_from_subscription` their assets go
    /// too. Returns the ids removed.
    async fn delete_webapps(
        &self,
        sub: SubscriptionId,
        target: &Selector<WebAppField>,
        remove_from_subscription: bool,
    ) -> Result<Vec<i64>, StoreError>;
    /// Creates a web app (and its asset, same id) from `app` (its id is ignored) with these
    /// tags; returns it as stored.
    async fn create_webapp(
        &self,
        sub: SubscriptionId,
        app: &WebApp,
        tag_ids: &[i64],
    ) -> Result<WebApp, StoreError>;
    /// Applies `change` and `tags` to the selected web apps, as done by `by`; returns their ids.
    async fn update_webapps(
        &self,
        sub: SubscriptionId,
        target: &Selector<WebAppField>,
        change: &WebAppChange,
        tags: &TagChanges,
        by: &WebAppOwner,
        at: Timestamp,
    ) -> Result<Vec<i64>, StoreError>;
    /// Clears the scan history (last scan) of the selected web apps, which stay; returns their
    /// ids.
    async fn purge_webapps(
        &self,
        sub: SubscriptionId,
        target: &Selector<WebAppField>,
    ) -> Result<Vec<i64>, StoreError>;
}
