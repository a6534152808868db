//! The replicated store of khepri-rs: openraft wired to the durable segmented
//! log ([`khepri_log`]), a state machine applying [`khepri_core`] commands, and a
//! [`Store`] handle that the NIF drives.

pub mod coalesce;
pub mod compaction;
pub mod effects;
pub mod flusher;
pub mod forward;
pub mod log_store;
pub mod membership;
pub mod network;
pub mod node_name;
pub mod recovery;
mod release;
pub mod responder;
pub mod rpc;
pub mod runtime;
pub mod snapshot;
pub mod state_machine;
pub mod store;
mod sys;
pub mod timeline;
pub mod transport;
pub mod types;

pub use compaction::{BuildReport, CompactionState, SnapshotRules};
pub use responder::CallbackResponder;
pub use store::{Store, StoreConfig, StoreError, WriteOutcome};
pub use types::TypeConfig;
