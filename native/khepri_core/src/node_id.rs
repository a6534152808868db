//! Node ids (path components) and paths.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The name of a tree node: an Erlang atom or binary.
///
/// The derived order is Erlang's term order for these two types: every atom sorts
/// before every binary; atoms compare by their UTF-8 text (which preserves code
/// point order) and binaries byte by byte.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NodeId {
    /// An atom, by its UTF-8 name.
    Atom(Box<str>),
    /// A binary, any bytes.
    Binary(#[serde(with = "serde_bytes")] Box<[u8]>),
}

/// A native path: the node ids from the root down to a node. `[]` is the root.
pub type Path = Vec<NodeId>;

impl NodeId {
    /// An atom node id.
    pub fn atom(name: &str) -> Self {
        NodeId::Atom(name.into())
    }

    /// A binary node id.
    pub fn binary(bytes: &[u8]) -> Self {
        NodeId::Binary(bytes.into())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Atom(a) => write!(f, "{a}"),
            NodeId::Binary(b) => write!(f, "<<{:?}>>", String::from_utf8_lossy(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_sort_before_binaries() {
        let mut ids = vec![
            NodeId::binary(b"a"),
            NodeId::atom("z"),
            NodeId::binary(b""),
            NodeId::atom("a"),
        ];
        ids.sort();
        assert_eq!(
            ids,
            vec![
                NodeId::atom("a"),
                NodeId::atom("z"),
                NodeId::binary(b""),
                NodeId::binary(b"a")
            ]
        );
    }
}
