//! Tree images: the whole tree as portable bytes, for snapshots.
//!
//! Payloads stay packed (see [`crate::packed`]) and the image starts with the
//! packing tables they refer to, so the image costs about what the tree
//! holds in memory rather than its ETF size (~40 bytes a yardstick key
//! instead of ~127 with MessagePack of ETF payloads). Loading interns those
//! tables locally and rewrites each payload's indexes: images move between
//! VMs whose tables differ.
//!
//! Layout (integers as LEB128 varints): atom count, then each atom as length
//! and ETF encoding; key-set count, then each as length and atom indexes;
//! the root node; the watcher index, the dedup table and the registered
//! projections and triggers ([`Hooks`]), each as length and MessagePack. A node is
//! payload_version, child_list_version, created, a flags byte
//! ([`F_AUTO`], [`F_KEEP_WHILE`], kind in [`KIND_SHIFT`], [`F_ETF`]), the
//! payload as length and bytes unless the kind is none, keep_while as length
//! and MessagePack if flagged, then the child count and each child as
//! name-key length, name key, node.

use crate::bytes::Bytes;
use crate::cautious;
use crate::hooks::Hooks;
use crate::node::{Children, KeepWhile, Meta, Node, OwnedStored, PayloadKind, Stored};
use crate::node_id::NodeId;
use crate::packed::{self, get_varint, put_varint};
use crate::tree::Tree;
use std::sync::Arc;

const F_AUTO: u8 = 1;
const F_KEEP_WHILE: u8 = 2;
const KIND_SHIFT: u8 = 2;
const F_ETF: u8 = 16;

/// The image of `tree`.
pub fn encode(tree: &Tree) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(1 << 16);
    encode_into(tree, &mut out)?;
    Ok(out)
}

/// Appends the image of `tree` to `out` (a snapshot is built in one buffer:
/// at a million keys each copy would be ~40 MB).
pub fn encode_into(tree: &Tree, out: &mut Vec<u8>) -> Result<(), String> {
    encode_streaming(tree, out, &mut |_| Ok(()))
}

/// Appends the image of `tree` to `out`, calling `drain(out)` after each
/// node: `drain` may write out what `out` holds and clear it, so that a
/// snapshot goes to its file in chunks instead of one buffer of the whole
/// image. What `out` holds at the end is the image's last part.
pub fn encode_streaming(
    tree: &Tree,
    out: &mut Vec<u8>,
    drain: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), String>,
) -> Result<(), String> {
    let (atoms, key_sets) = packed::export_tables();
    let out = &mut *out;
    put_varint(out, atoms.len() as u64);
    for a in &atoms {
        put_varint(out, a.len() as u64);
        out.extend_from_slice(a);
    }
    put_varint(out, key_sets.len() as u64);
    for ks in &key_sets {
        put_varint(out, ks.len() as u64);
        for &a in ks.iter() {
            put_varint(out, u64::from(a));
        }
    }
    encode_node(&tree.root, out, drain)?;
    let watchers = rmp_serde::to_vec(&tree.watchers).map_err(|e| e.to_string())?;
    put_varint(out, watchers.len() as u64);
    out.extend_from_slice(&watchers);
    let dedups = rmp_serde::to_vec(&tree.dedups).map_err(|e| e.to_string())?;
    put_varint(out, dedups.len() as u64);
    out.extend_from_slice(&dedups);
    let hooks = rmp_serde::to_vec(&tree.hooks).map_err(|e| e.to_string())?;
    put_varint(out, hooks.len() as u64);
    out.extend_from_slice(&hooks);
    Ok(())
}

fn encode_node(
    node: &Node,
    out: &mut Vec<u8>,
    drain: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), String>,
) -> Result<(), String> {
    put_varint(out, u64::from(node.payload_version));
    put_varint(out, u64::from(node.child_list_version));
    put_varint(out, node.created);
    let kind = match node.payload_kind() {
        PayloadKind::None => 0,
        PayloadKind::Data => 1,
        PayloadKind::Sproc => 2,
    };
    let mut flags = kind << KIND_SHIFT;
    if node.auto_created() {
        flags |= F_AUTO;
    }
    if node.keep_while().is_some() {
        flags |= F_KEEP_WHILE;
    }
    let body: &[u8] = match node.stored() {
        Stored::None => &[],
        Stored::Packed(_, p) => p,
        Stored::Etf(_, b) => {
            flags |= F_ETF;
            b.as_slice()
        }
    };
    out.push(flags);
    if kind != 0 {
        put_varint(out, body.len() as u64);
        out.extend_from_slice(body);
    }
    if let Some(kw) = node.keep_while() {
        let bytes = rmp_serde::to_vec(&**kw).map_err(|e| e.to_string())?;
        put_varint(out, bytes.len() as u64);
        out.extend_from_slice(&bytes);
    }
    put_varint(out, node.children().len() as u64);
    for (name, child) in node.children().iter() {
        put_varint(out, name.key().len() as u64);
        out.extend_from_slice(name.key());
        encode_node(child, out, drain)?;
    }
    drain(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    atoms: Vec<u32>,
    key_sets: Vec<u32>,
}

impl<'a> Reader<'a> {
    fn err(&self, what: &str) -> String {
        format!("tree image: {what} at offset {}", self.pos)
    }

    fn varint(&mut self) -> Result<u64, String> {
        get_varint(self.buf, &mut self.pos).ok_or_else(|| self.err("truncated integer"))
    }

    fn len(&mut self) -> Result<usize, String> {
        let n = self.varint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.buf.len() - self.pos.min(self.buf.len()))
            .ok_or_else(|| self.err("length beyond the end"))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.len()?;
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| self.err("version out of range"))
    }

    fn node(&mut self, depth: usize) -> Result<Node, String> {
        if depth > 4096 {
            return Err(self.err("tree too deep"));
        }
        let meta = Meta {
            payload_version: self.u32()?,
            child_list_version: self.u32()?,
            created: self.varint()?,
        };
        let flags = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err("truncated node"))?;
        self.pos += 1;
        let kind = match (flags >> KIND_SHIFT) & 3 {
            0 => PayloadKind::None,
            1 => PayloadKind::Data,
            2 => PayloadKind::Sproc,
            _ => return Err(self.err("bad payload kind")),
        };
        let payload = match kind {
            PayloadKind::None => OwnedStored::None,
            _ if flags & F_ETF != 0 => OwnedStored::Etf(kind, Bytes::from(self.bytes()?)),
            _ => {
                let p = self.bytes()?;
                let local = packed::remap(p, &self.atoms, &self.key_sets)
                    .ok_or_else(|| self.err("malformed packed payload"))?;
                OwnedStored::Packed(kind, local)
            }
        };
        let keep_while = if flags & F_KEEP_WHILE != 0 {
            let kw: KeepWhile =
                rmp_serde::from_slice(self.bytes()?).map_err(|e| self.err(&e.to_string()))?;
            Some(Arc::new(kw))
        } else {
            None
        };
        let count = self.varint()?;
        let mut children = Children::new();
        for _ in 0..count {
            let key = self.bytes()?;
            let name = NodeId::from_key(key).ok_or_else(|| self.err("malformed node id"))?;
            let child = self.node(depth + 1)?;
            children.insert(name, child);
        }
        Ok(Node::assemble(
            meta,
            payload,
            flags & F_AUTO != 0,
            keep_while,
            children,
        ))
    }
}

/// Rebuilds a tree from its image.
pub fn decode(buf: &[u8]) -> Result<Tree, String> {
    let mut r = Reader {
        buf,
        pos: 0,
        atoms: Vec::new(),
        key_sets: Vec::new(),
    };
    let n = r.len()?;
    let mut atoms = Vec::with_capacity(n);
    for _ in 0..n {
        atoms.push(Box::from(r.bytes()?));
    }
    let n = r.len()?;
    let mut key_sets = Vec::with_capacity(n);
    for _ in 0..n {
        let k = r.len()?;
        let ks = (0..k).map(|_| r.u32()).collect::<Result<Box<[u32]>, _>>()?;
        key_sets.push(ks);
    }
    let (a, k) =
        packed::import_tables(&atoms, &key_sets).ok_or_else(|| r.err("malformed tables"))?;
    r.atoms = a;
    r.key_sets = k;
    let root = r.node(0)?;
    let mut d = rmp_serde::Deserializer::from_read_ref(r.bytes()?);
    let watchers = cautious::map_of_sets(&mut d).map_err(|e| r.err(&e.to_string()))?;
    let dedups = rmp_serde::from_slice(r.bytes()?).map_err(|e| r.err(&e.to_string()))?;
    // Images made before projections and triggers existed end here.
    let hooks = if r.pos == buf.len() {
        Hooks::default()
    } else {
        rmp_serde::from_slice(r.bytes()?).map_err(|e| r.err(&e.to_string()))?
    };
    if r.pos != buf.len() {
        return Err(r.err("trailing bytes"));
    }
    Ok(Tree {
        root,
        watchers,
        dedups,
        hooks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_match::TermMatcher;
    use crate::term::{encode as etf, Term};
    use crate::{Command, Component, Payload, WriteOpts};

    #[test]
    fn images_round_trip() {
        let mut tree = Tree::new();
        let payloads = [
            Payload::Data(Bytes::from(etf(&Term::map(vec![(
                Term::atom("a"),
                Term::Int(1),
            )])))),
            Payload::Sproc(Bytes::from(vec![1, 2, 3])),
            Payload::Data(Bytes::from(etf(&Term::Binary(vec![5; 70_000])))),
            Payload::None,
        ];
        for (i, payload) in payloads.into_iter().enumerate() {
            let pattern = vec![
                Component::Name(NodeId::atom("p")),
                Component::Name(NodeId::binary(format!("k{i}").as_bytes())),
            ];
            let cmd = Command::Put {
                pattern,
                payload,
                opts: WriteOpts::default(),
            };
            assert!(cmd
                .apply(&mut tree, &TermMatcher, i as u64 + 1)
                .reply
                .is_ok());
        }
        // A kept reply of a command applied at most once.
        tree.dedups.record((7, 8), 1_000, Ok(Vec::new()));
        let image = encode(&tree).unwrap();
        assert_eq!(decode(&image).unwrap(), tree);
        assert!(decode(&image[..image.len() - 1]).is_err());
        // Drained in pieces, the same bytes.
        let mut streamed = Vec::new();
        let mut rest = Vec::new();
        let mut drains = 0;
        encode_streaming(&tree, &mut rest, &mut |out| {
            drains += 1;
            if out.len() >= 16 {
                streamed.append(out);
            }
            Ok(())
        })
        .unwrap();
        streamed.append(&mut rest);
        assert!(drains > 4, "{drains}");
        assert_eq!(streamed, image);
    }

    /// Regression (khepri_fuzz, snapshot target): a MessagePack header in
    /// the watcher index, the dedup table or the hooks announcing u32::MAX
    /// entries made decoding reserve memory for all of them (~200 GB) and
    /// abort.
    #[test]
    fn announced_collection_lengths_are_not_trusted() {
        let image = encode(&Tree::new()).unwrap();
        // An empty tree ends with: watchers `{}`, dedups `[{}, []]`, hooks.
        let hooks = rmp_serde::to_vec(&Hooks::default()).unwrap();
        let mut tail = vec![1u8, 0x80, 3, 0x92, 0x80, 0x90];
        put_varint(&mut tail, hooks.len() as u64);
        tail.extend_from_slice(&hooks);
        assert!(image.ends_with(&tail), "{image:?}");
        let head = &image[..image.len() - tail.len()];
        let huge = [0xdf, 0xff, 0xff, 0xff, 0xff];
        let watchers = [head, &[5], &huge, &[3, 0x92, 0x80, 0x90]].concat();
        assert!(decode(&watchers).is_err());
        let replies = [head, &[1, 0x80, 6, 0x92], &huge].concat();
        assert!(decode(&replies).is_err());
        let by_expiry = [
            head,
            &[1, 0x80, 7, 0x92, 0x80, 0xdd, 0xff, 0xff, 0xff, 0xff],
        ]
        .concat();
        assert!(decode(&by_expiry).is_err());
        let projections = [head, &[1, 0x80, 3, 0x92, 0x80, 0x90, 6, 0x93], &huge].concat();
        assert!(decode(&projections).is_err());
    }
}
