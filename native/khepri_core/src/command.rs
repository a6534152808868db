//! Commands: the values replicated through the Raft log, and their application.

use crate::error::KhepriError;
use crate::node_id::Path;
use crate::payload::Payload;
use crate::props::PropsWanted;
use crate::tree::{Changes, Tree};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A change to the tree. Commands are serialized into the log, so variants are
/// only ever added, never changed in place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Upsert one node, creating missing ancestors.
    Put {
        /// Target node.
        path: Path,
        /// New payload.
        payload: Payload,
        /// Properties to report.
        wanted: PropsWanted,
    },
    /// Delete one node and its subtree (absent: no-op).
    Delete {
        /// Target node.
        path: Path,
        /// Properties to report.
        wanted: PropsWanted,
    },
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Put { path, .. } => write!(f, "put {path:?}"),
            Command::Delete { path, .. } => write!(f, "delete {path:?}"),
        }
    }
}

/// The outcome of one command: the nodes it changed or removed, or an error.
pub type Reply = Result<Changes, KhepriError>;

impl Command {
    /// Applies the command to `tree`. Never panics; on error the tree is unchanged.
    pub fn apply(&self, tree: &mut Tree) -> Reply {
        match self {
            Command::Put {
                path,
                payload,
                wanted,
            } => Ok(tree.put(path, payload.clone(), *wanted)),
            Command::Delete { path, wanted } => Ok(tree.delete(path, *wanted)),
        }
    }
}
