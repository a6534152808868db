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
///
/// Keys of up to [`INLINE_CAPACITY`] bytes (most names) are stored inline:
/// a lookup in a large directory compares many keys, and a key behind a
/// pointer costs a cache miss per comparison. Inline keys also save a heap
/// allocation per node.
#[derive(Clone)]
pub struct NodeId(Repr);

/// Longest key stored inline (tag byte included).
pub const INLINE_CAPACITY: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        bytes: [u8; INLINE_CAPACITY],
    },
    Heap(Box<[u8]>),
}

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

    fn tagged(tag: u8, name: &[u8]) -> Self {
        if name.len() < INLINE_CAPACITY {
            let mut bytes = [0; INLINE_CAPACITY];
            bytes[0] = tag;
            bytes[1..=name.len()].copy_from_slice(name);
            NodeId(Repr::Inline {
                len: (name.len() + 1) as u8,
                bytes,
            })
        } else {
            let mut key = Vec::with_capacity(name.len() + 1);
            key.push(tag);
            key.extend_from_slice(name);
            NodeId(Repr::Heap(key.into_boxed_slice()))
        }
    }

    /// Rebuilds a node id from its key; `None` if the key is not well formed.
    pub fn from_key(key: &[u8]) -> Option<Self> {
        match key.split_first() {
            Some((&TAG_ATOM, name)) if std::str::from_utf8(name).is_ok() => {
                Some(Self::tagged(TAG_ATOM, name))
            }
            Some((&TAG_BINARY, name)) => Some(Self::tagged(TAG_BINARY, name)),
            _ => None,
        }
    }

    /// The key: tag byte then name bytes.
    pub fn key(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Heap(key) => key,
        }
    }

    /// The atom's name, if this is an atom.
    pub fn as_atom(&self) -> Option<&str> {
        match self.key().split_first() {
            // Constructors only ever store UTF-8 after TAG_ATOM.
            Some((&TAG_ATOM, name)) => std::str::from_utf8(name).ok(),
            _ => None,
        }
    }

    /// The binary's bytes, if this is a binary.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self.key().split_first() {
            Some((&TAG_BINARY, bytes)) => Some(bytes),
            _ => None,
        }
    }
}

// Equality, order and hash are those of the key, as `Borrow<[u8]>` requires.
impl Borrow<[u8]> for NodeId {
    fn borrow(&self) -> &[u8] {
        self.key()
    }
}

impl PartialEq for NodeId {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for NodeId {}

impl PartialOrd for NodeId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NodeId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(other.key())
    }
}

impl std::hash::Hash for NodeId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.as_atom(), self.as_binary()) {
            (Some(a), _) => write!(f, "{a}"),
            (_, Some(b)) => write!(f, "<<{:?}>>", String::from_utf8_lossy(b)),
            _ => write!(f, "?{:?}", self.key()),
        }
    }
}

impl Serialize for NodeId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.key())
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
    fn inline_and_heap_keys_compare_alike() {
        let long = "n".repeat(INLINE_CAPACITY * 2);
        let ids = [
            NodeId::atom(&long),
            NodeId::atom("n"),
            NodeId::binary(long.as_bytes()),
        ];
        for a in &ids {
            let rebuilt = NodeId::from_key(a.key()).unwrap();
            assert_eq!(&rebuilt, a);
            assert_eq!(rebuilt.key(), a.key());
        }
        assert!(ids[1] < ids[0] && ids[0] < ids[2]);
        assert_eq!(std::mem::size_of::<NodeId>(), 24);
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
