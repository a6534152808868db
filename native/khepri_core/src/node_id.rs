//! Node ids (path components) and paths.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;

/// First byte of the key of an atom node id.
pub const TAG_ATOM: u8 = 0;
/// First byte of the key of a binary node id.
pub const TAG_BINARY: u8 = 1;

/// The name of a tree node: an Erlang atom or binary.
///
/// Stored as one byte string, its *key*: a tag byte ([`TAG_ATOM`] or
/// [`TAG_BINARY`]) followed by the atom's UTF-8 name or the binary's bytes.
/// Comparing keys byte by byte is Erlang's term order for these two types
/// (every atom before every binary; atoms by code points, which UTF-8
/// preserves; binaries by bytes, a prefix first), and a reader can look a
/// child up by a key built on the stack, without allocating a `NodeId`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(Box<[u8]>);

/// A native path: the node ids from the root down to a node. `[]` is the root.
pub type Path = Vec<NodeId>;

impl NodeId {
    /// An atom node id.
    pub fn atom(name: &str) -> Self {
        Self::tagged(TAG_ATOM, name.as_bytes())
    }

    /// A binary node id.
    pub fn binary(bytes: &[u8]) -> Self {
        Self::tagged(TAG_BINARY, bytes)
    }

    fn tagged(tag: u8, bytes: &[u8]) -> Self {
        let mut key = Vec::with_capacity(bytes.len() + 1);
        key.push(tag);
        key.extend_from_slice(bytes);
        NodeId(key.into_boxed_slice())
    }

    /// Rebuilds a node id from its key; `None` if the key is not well formed.
    pub fn from_key(key: &[u8]) -> Option<Self> {
        match key.first() {
            Some(&TAG_ATOM) if std::str::from_utf8(&key[1..]).is_ok() => Some(NodeId(key.into())),
            Some(&TAG_BINARY) => Some(NodeId(key.into())),
            _ => None,
        }
    }

    /// The key: tag byte then name bytes.
    pub fn key(&self) -> &[u8] {
        &self.0
    }

    /// The atom's name, if this is an atom.
    pub fn as_atom(&self) -> Option<&str> {
        match self.0.split_first() {
            // Constructors only ever store UTF-8 after TAG_ATOM.
            Some((&TAG_ATOM, name)) => std::str::from_utf8(name).ok(),
            _ => None,
        }
    }

    /// The binary's bytes, if this is a binary.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self.0.split_first() {
            Some((&TAG_BINARY, bytes)) => Some(bytes),
            _ => None,
        }
    }
}

impl Borrow<[u8]> for NodeId {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.as_atom(), self.as_binary()) {
            (Some(a), _) => write!(f, "{a}"),
            (_, Some(b)) => write!(f, "<<{:?}>>", String::from_utf8_lossy(b)),
            _ => write!(f, "?{:?}", self.0),
        }
    }
}

impl Serialize for NodeId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = serde_bytes::ByteBuf::deserialize(d)?;
        NodeId::from_key(&key).ok_or_else(|| serde::de::Error::custom("malformed node id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_term_order() {
        let mut ids = vec![
            NodeId::binary(b"ab"),
            NodeId::atom("z"),
            NodeId::binary(b""),
            NodeId::atom("a"),
            NodeId::binary(b"a"),
            NodeId::atom("\u{e9}"),
            NodeId::atom("ab"),
        ];
        ids.sort();
        let want = vec![
            NodeId::atom("a"),
            NodeId::atom("ab"),
            NodeId::atom("z"),
            NodeId::atom("\u{e9}"),
            NodeId::binary(b""),
            NodeId::binary(b"a"),
            NodeId::binary(b"ab"),
        ];
        assert_eq!(ids, want);
    }

    #[test]
    fn keys_round_trip_and_malformed_keys_are_refused() {
        let a = NodeId::atom("x");
        assert_eq!(NodeId::from_key(a.key()), Some(a.clone()));
        assert_eq!(a.as_atom(), Some("x"));
        assert_eq!(NodeId::binary(b"\xff").as_binary(), Some(&b"\xff"[..]));
        assert_eq!(NodeId::from_key(&[]), None);
        assert_eq!(NodeId::from_key(&[7, 1]), None);
        assert_eq!(NodeId::from_key(&[TAG_ATOM, 0xff]), None);
    }
}
