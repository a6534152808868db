//! The deterministic engine of khepri-rs: node ids, paths, payloads, the tree of
//! nodes, conditions and patterns, and the commands that change the tree.
//!
//! Nothing here does I/O, spawns threads or talks to the BEAM: applying the same
//! commands in the same order gives the same tree on every member. Applying a
//! command never panics; a command that cannot be applied yields an error reply
//! and leaves the tree as it was.

pub mod bytes;
pub mod cautious;
pub mod command;
pub mod condition;
pub mod data_match;
pub mod dedup;
pub mod digest;
pub mod error;
pub mod hooks;
pub mod image;
pub mod match_spec;
pub mod node;
pub mod node_id;
pub mod observe;
pub mod packed;
pub mod pattern;
pub mod payload;
pub mod props;
pub mod query;
pub mod term;
pub mod transaction;
pub mod tree;
pub mod walk;
pub mod write;

pub use bytes::Bytes;
pub use command::{Applied, Command, Reply};
pub use condition::{Condition, DataMatcher};
pub use error::{KeepWhileReason, KhepriError};
pub use node::{Node, PENDING};
pub use node_id::{NodeId, Path};
pub use pattern::{Component, Pattern};
pub use payload::Payload;
pub use props::{DeleteReason, NodeProps, PropsWanted};
pub use transaction::TxStep;
pub use tree::Tree;
pub use write::{Change, Changes, Event, WriteOpts};
