//! Node properties returned by reads and writes.

use crate::node::Node;
use crate::node_id::NodeId;
use crate::payload::Payload;
use serde::{Deserialize, Serialize};

/// Why a node was removed by a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeleteReason {
    /// Named by the delete itself (or inside a deleted subtree).
    Explicit,
    /// Removed because its keep_while condition stopped holding.
    KeepWhile,
}

/// Which properties a caller asked for (`props_to_return`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropsWanted {
    /// `payload`
    pub payload: bool,
    /// `payload_version`
    pub payload_version: bool,
    /// `child_list_version`
    pub child_list_version: bool,
    /// `child_list_length`
    pub child_list_length: bool,
    /// `child_names`
    pub child_names: bool,
    /// `has_payload`
    pub has_payload: bool,
    /// `raw_payload`
    pub raw_payload: bool,
    /// `delete_reason`
    pub delete_reason: bool,
}

impl PropsWanted {
    /// Nothing wanted: the simple API's `props_to_return => []`.
    pub const NONE: PropsWanted = PropsWanted {
        payload: false,
        payload_version: false,
        child_list_version: false,
        child_list_length: false,
        child_names: false,
        has_payload: false,
        raw_payload: false,
        delete_reason: false,
    };

    /// The default `[payload, payload_version, delete_reason]`.
    pub const DEFAULT: PropsWanted = PropsWanted {
        payload: true,
        payload_version: true,
        delete_reason: true,
        ..PropsWanted::NONE
    };
}

/// The properties of one node as seen by a read, or as reported by a write (the
/// payload before the write, the versions after it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeProps {
    /// The payload (old payload for writes).
    pub payload: Payload,
    /// Payload version.
    pub payload_version: u32,
    /// Child list version.
    pub child_list_version: u32,
    /// Number of children.
    pub child_list_length: u32,
    /// Children's names, when wanted.
    pub child_names: Vec<NodeId>,
    /// Set on nodes removed by the write.
    pub delete_reason: Option<DeleteReason>,
}

impl NodeProps {
    /// The properties of `node`, reporting `payload` as its payload.
    pub fn of(
        node: &Node,
        payload: Payload,
        wanted: PropsWanted,
        reason: Option<DeleteReason>,
    ) -> Self {
        NodeProps {
            payload,
            payload_version: node.payload_version,
            child_list_version: node.child_list_version,
            child_list_length: node.children().len() as u32,
            child_names: if wanted.child_names {
                node.children().keys().cloned().collect()
            } else {
                Vec::new()
            },
            delete_reason: reason,
        }
    }
}
