//! Errors a command or a read can produce. They become `{error, {khepri, Name, Props}}`.

use crate::node_id::{NodeId, Path};
use serde::{Deserialize, Serialize};

/// A returned (not raised) Khepri error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KhepriError {
    /// `node_not_found`: a single-node read or an update met a missing node.
    NodeNotFound {
        /// The first missing component.
        node_name: NodeId,
        /// The path down to and including it.
        node_path: Path,
        /// Whether it is the target of the call rather than an ancestor.
        node_is_target: bool,
    },
}
