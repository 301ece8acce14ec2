//! The HTTP side of openqps. Only this crate knows HTTP.
//!
//! A request travels: [`app`] (auth, body limit) → [`endpoint`] (typed route) → decode
//! (`openqps-wire`) → a handler in [`handlers`] (criteria checked, one store call) → a
//! [`ServiceResponse`](openqps_wire::ServiceResponse) rendered as XML or JSON by [`app`]. Every
//! failure on that path, a panic included, leaves as an envelope.

pub mod agent_api;
mod agent_result;
pub mod app;
pub mod auth;
mod body;
pub mod endpoint;
pub mod error;
pub mod format;
pub mod handlers;
pub mod limits;

pub use app::{AppState, ServerConfig, router};
