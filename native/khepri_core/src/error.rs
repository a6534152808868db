//! Errors a command or a read can produce. They become `{error, {khepri, Name, Props}}`.

use crate::condition::Condition;
use crate::node_id::{NodeId, Path};
use crate::pattern::Pattern;
use crate::props::NodeProps;
use serde::{Deserialize, Serialize};

/// Why a keep_while condition does not hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum KeepWhileReason {
    /// A node matched by the key fails this condition.
    Failed(Condition),
    /// The key matches no node (and the condition is not `exists = false`).
    PatternMatchesNoNodes(Pattern),
}

/// A returned (not raised) Khepri error. Large parts are boxed: errors are
/// rare, results are passed by value on every read and write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum KhepriError {
    /// `node_not_found`: a single-node read, or a write through a missing
    /// node that it may not create.
    NodeNotFound {
        /// The first missing component.
        node_name: NodeId,
        /// The path down to and including it.
        node_path: Path,
        /// Whether it is the target of the call rather than an ancestor.
        node_is_target: bool,
        /// The component's condition, when it was one.
        condition: Option<Box<Condition>>,
    },
    /// `mismatching_node`: a write's path condition fails on an existing node.
    MismatchingNode {
        /// The node's name.
        node_name: NodeId,
        /// Its path.
        node_path: Path,
        /// Whether it is the target of the call.
        node_is_target: bool,
        /// Its properties (payload and payload version).
        node_props: Box<NodeProps>,
        /// The condition that failed.
        condition: Box<Condition>,
    },
    /// `keep_while_conditions_not_met`: a put's keep_while does not hold.
    KeepWhileConditionsNotMet {
        /// Name of the node being written.
        node_name: NodeId,
        /// Path of the node being written.
        node_path: Path,
        /// What failed.
        keep_while_reason: Box<KeepWhileReason>,
    },
    /// A transaction's reads or writes replay differently at apply time:
    /// nothing was applied; the caller re-runs the transaction fun. Never
    /// returned to users.
    Conflict,
    /// `projection_already_exists`: a projection of that name is registered.
    ProjectionAlreadyExists {
        /// The projection's name.
        name: String,
    },
}
