//! The deterministic engine of khepri-rs: node ids, paths, payloads, the tree of
//! nodes, and the commands that change it.
//!
//! Nothing here does I/O, spawns threads or talks to the BEAM: applying the same
//! commands in the same order gives the same tree on every member. Applying a
//! command never panics; a command that cannot be applied yields an error reply
//! and leaves the tree as it was.

pub mod bytes;
pub mod command;
pub mod error;
pub mod node;
pub mod node_id;
pub mod payload;
pub mod props;
pub mod tree;

pub use bytes::Bytes;
pub use command::{Command, Reply};
pub use error::KhepriError;
pub use node::Node;
pub use node_id::{NodeId, Path};
pub use payload::Payload;
pub use props::{DeleteReason, NodeProps, PropsWanted};
pub use tree::Tree;
