use openqps_model::Ineligible;
use openqps_model::agent::ModuleRefusal;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{object} with id {id} was not found")]
    NotFound { object: &'static str, id: i64 },
    #[error("tag {0} does not exist in this subscription")]
    UnknownTag(i64),
    #[error("asset {id} cannot run this scan")]
    Ineligible { id: i64, why: Ineligible },
    /// A Cloud Agent action (activate, deactivate, uninstall) the asset cannot take.
    #[error("asset {id}: {why}")]
    Refused { id: i64, why: ModuleRefusal },
    /// The agent protocol refuses a registration (unknown, expired or used-up key).
    #[error("{0}")]
    AgentRefused(String),
    /// The request contradicts the stored data (a tag made its own ancestor, …).
    #[error("{0}")]
    Conflict(String),
    #[error("the stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
