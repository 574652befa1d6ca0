//! Concord's domain: validation, authorisation, services and the store interface.
//!
//! Invariant: nothing here knows HTTP, JSON framing or SQL. Handlers call [`service::Services`];
//! services decide with [`authz`] and persist through [`store::Store`].

pub mod access;
pub mod at_rest;
pub mod audit;
pub mod authz;
pub mod clock;
pub mod credentials;
pub mod crypto;
pub mod dlp;
pub mod error;
pub mod geofence;
pub mod membership_rule;
pub mod mentions;
pub mod message_chain;
pub mod org;
pub mod retention;
pub mod scope;
pub mod service;
pub mod store;
pub mod validate;

pub use authz::Actor;
pub use clock::{Clock, SystemClock};
pub use error::DomainError;
pub use service::{AuditVerdict, Limits, PresenceView, Services};
pub use store::{Audience, CommittedBatch, CommittedEvent, Store, StoreError};
