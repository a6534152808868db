//! One node of the tree.

use crate::condition::Condition;
use crate::node_id::NodeId;
use crate::pattern::Pattern;
use crate::payload::Payload;
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// keep_while conditions: the node lives while every node matched by each
/// key pattern satisfies the key's condition.
pub type KeepWhile = Vec<(Pattern, Condition)>;

/// The creation stamp of nodes created in a transaction's private overlay:
/// the log index of their commit is not known yet.
pub const PENDING: u64 = u64::MAX;

/// A tree node: its payload, its two version counters and its children.
///
/// Cloning is cheap (the payload and the child map are shared), which is what
/// makes publishing a new tree version per applied batch affordable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The payload.
    pub payload: Payload,
    /// Bumped when the payload changes; starts at 1.
    pub payload_version: u32,
    /// Bumped when a child is added or removed; starts at 1.
    pub child_list_version: u32,
    /// Index of the log entry that created this incarnation of the node (0
    /// for the root; [`PENDING`] inside a transaction's private overlay).
    /// With the versions it identifies a node's state exactly: a node
    /// deleted and re-created has the same versions but a new stamp, which is
    /// what transaction guards compare.
    pub created: u64,
    /// Set on ancestors created implicitly by a put: such a node is removed once
    /// it has neither payload nor children (its implicit keep_while).
    pub auto_created: bool,
    /// The node's keep_while conditions (absolute key patterns), if any.
    pub keep_while: Option<Arc<KeepWhile>>,
    /// The children, in Erlang term order of their names.
    pub children: OrdMap<NodeId, Node>,
}

impl Node {
    /// A new node holding `payload`, with versions 1/1, created by the log
    /// entry `created`.
    pub fn new(payload: Payload, auto_created: bool, created: u64) -> Self {
        Node {
            payload,
            payload_version: 1,
            child_list_version: 1,
            created,
            auto_created,
            keep_while: None,
            children: OrdMap::new(),
        }
    }

    /// The child whose node-id key (see [`NodeId::key`]) is `key`. Lets a
    /// reader walk the tree with keys built on the stack.
    pub fn child(&self, key: &[u8]) -> Option<&Node> {
        self.children.get(key)
    }

    /// True when the implicit keep_while of an auto-created node no longer holds.
    pub fn is_reclaimable(&self) -> bool {
        self.auto_created && !self.payload.is_some() && self.children.is_empty()
    }
}

impl Default for Node {
    fn default() -> Self {
        Node::new(Payload::None, false, 0)
    }
}
