//! The QPS wire format. Only this crate knows XML and JSON.
//!
//! Requests (XML or JSON) are read into one element tree ([`tree`]) and decoded once
//! ([`request`]); results become one response tree ([`node`]) written by two writers, inside the
//! [`response::ServiceResponse`] envelope. [`objects`] turns domain types into response trees, and
//! [`xsd`] holds the schemas openqps publishes under `/qps/xsd/`.

pub mod agent_proto;
pub mod node;
pub mod objects;
pub mod platform;
pub mod request;
pub mod response;
pub mod tree;
pub mod xsd;

pub use node::{Leaf, Node};
pub use request::{Preferences, ServiceRequest};
pub use response::{ErrorDetails, ResponseCode, ServiceResponse};
