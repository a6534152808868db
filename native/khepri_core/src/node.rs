//! One node of the tree.
//!
//! A node is one heap allocation behind a thin, reference-counted pointer:
//! a 32-byte header (count, payload length, versions, creation stamp, and a
//! pointer to the rarely needed parts) followed by the packed payload (see
//! [`crate::packed`]). A parent's child map thus holds 8 bytes per child
//! beside the name. Measured with `examples/tree_memory.rs` on the
//! yardstick's payload: 332 bytes per key with the former inline 80-byte node
//! and separate ETF payload, see README for the current figure.
//!
//! Cloning bumps the count; mutation goes through [`Node::make_mut`] (the
//! `DerefMut` to [`Meta`] included), which copies a node shared with a
//! published tree version, as the child maps do with their chunks.

use crate::bytes::Bytes;
use crate::condition::Condition;
use crate::node_id::NodeId;
use crate::packed;
use crate::pattern::Pattern;
use crate::payload::Payload;
use imbl::OrdMap;
use std::alloc::{self, Layout};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// keep_while conditions: the node lives while every node matched by each
/// key pattern satisfies the key's condition.
pub type KeepWhile = Vec<(Pattern, Condition)>;

/// The creation stamp of nodes created in a transaction's private overlay:
/// the log index of their commit is not known yet.
pub const PENDING: u64 = u64::MAX;

/// A node's children, in Erlang term order of their names.
pub type Children = OrdMap<NodeId, Node>;

/// The versions and creation stamp of a node, reachable as fields through
/// `Deref`/`DerefMut` on [`Node`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
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
}

/// What most nodes (leaves without keep_while) do without.
#[derive(Clone, Default)]
struct Ext {
    children: Children,
    keep_while: Option<Arc<KeepWhile>>,
    /// Set on ancestors created implicitly by a put: such a node is removed
    /// once it has neither payload nor children (its implicit keep_while).
    auto_created: bool,
}

/// What kind of payload a node holds, without its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadKind {
    /// No payload.
    None,
    /// Data.
    Data,
    /// A stored procedure.
    Sproc,
}

/// A node's payload as stored: packed bytes (see [`crate::packed`]) or, for
/// payloads above [`PACK_LIMIT`], the ETF bytes themselves.
#[derive(Clone, Copy, Debug)]
pub enum Stored<'a> {
    /// No payload.
    None,
    /// Packed bytes.
    Packed(PayloadKind, &'a [u8]),
    /// Raw ETF (large payloads).
    Etf(PayloadKind, &'a Bytes),
}

/// Payloads whose ETF is larger than this are not packed: they are kept as
/// shared ETF bytes, which is what their readers want (decoded in Erlang).
pub const PACK_LIMIT: usize = 64 * 1024;

// First byte of the payload area.
const K_DATA: u8 = 1;
const K_SPROC: u8 = 2;
// Followed by the raw pointer of a `Box<Bytes>` (ETF), native endian.
const K_BIG_DATA: u8 = 3;
const K_BIG_SPROC: u8 = 4;

#[repr(C)]
struct Header {
    rc: AtomicU32,
    /// Bytes after the header: 0 (no payload) or a kind byte then the body.
    len: u32,
    meta: Meta,
    ext: Option<Box<Ext>>,
}

/// A tree node: its payload, its two version counters, its creation stamp,
/// its children and keep_while conditions. Cloning is cheap (a count bump),
/// which is what makes publishing a tree version per applied batch affordable.
pub struct Node {
    ptr: NonNull<Header>,
}

// SAFETY: a Node is an Arc-like shared pointer to immutable-while-shared
// data of Send + Sync types; the count is atomic; mutation requires
// `&mut Node` and a unique count (`make_mut`).
unsafe impl Send for Node {}
unsafe impl Sync for Node {}

fn layout(len: usize) -> Layout {
    Layout::from_size_align(
        std::mem::size_of::<Header>() + len,
        std::mem::align_of::<Header>(),
    )
    .expect("node layout")
}

/// The payload area of `payload`: kind byte then packed bytes, or kind byte
/// then a boxed ETF pointer.
fn payload_area(payload: &Payload) -> Vec<u8> {
    let (kind, etf) = match payload {
        Payload::None => return Vec::new(),
        Payload::Data(b) => (K_DATA, b),
        Payload::Sproc(b) => (K_SPROC, b),
    };
    if etf.len() > PACK_LIMIT {
        let boxed = Box::into_raw(Box::new(etf.clone())) as usize;
        let mut area = vec![kind + 2];
        area.extend_from_slice(&boxed.to_ne_bytes());
        return area;
    }
    let packed = packed::pack(etf.as_slice());
    let mut area = Vec::with_capacity(packed.len() + 1);
    area.push(kind);
    area.extend_from_slice(&packed);
    area
}

/// The boxed ETF pointer of a large payload area.
fn boxed(area: &[u8]) -> *mut Bytes {
    const N: usize = std::mem::size_of::<usize>();
    let mut raw = [0u8; N];
    raw.copy_from_slice(&area[1..1 + N]);
    usize::from_ne_bytes(raw) as *mut Bytes
}

impl Node {
    /// A new node holding `payload`, with versions 1/1, created by the log
    /// entry `created`.
    pub fn new(payload: Payload, auto_created: bool, created: u64) -> Self {
        let meta = Meta {
            payload_version: 1,
            child_list_version: 1,
            created,
        };
        let ext = auto_created.then(|| {
            Box::new(Ext {
                auto_created,
                ..Ext::default()
            })
        });
        Node::from_parts(meta, ext, payload_area(&payload))
    }

    /// Takes ownership of `area` (a boxed ETF pointer in it included).
    fn from_parts(meta: Meta, ext: Option<Box<Ext>>, area: Vec<u8>) -> Self {
        let len = u32::try_from(area.len()).expect("payload area fits u32: large ones are boxed");
        let layout = layout(area.len());
        // SAFETY: layout has a non-zero size (the header); the header is
        // written before use and the area copied right after it.
        unsafe {
            let ptr = alloc::alloc(layout) as *mut Header;
            let Some(ptr) = NonNull::new(ptr) else {
                alloc::handle_alloc_error(layout)
            };
            ptr.as_ptr().write(Header {
                rc: AtomicU32::new(1),
                len,
                meta,
                ext,
            });
            std::ptr::copy_nonoverlapping(
                area.as_ptr(),
                ptr.as_ptr().add(1) as *mut u8,
                area.len(),
            );
            Node { ptr }
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the pointer is valid while a count is held (by self).
        unsafe { self.ptr.as_ref() }
    }

    fn area(&self) -> &[u8] {
        let len = self.header().len as usize;
        // SAFETY: `len` bytes follow the header in the same allocation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(1) as *const u8, len) }
    }

    /// A fresh allocation with the same content (a boxed payload is shared).
    fn deep_clone(&self) -> Node {
        let area = self.area();
        let mut copy = area.to_vec();
        if matches!(area.first(), Some(&(K_BIG_DATA | K_BIG_SPROC))) {
            // SAFETY: the pointer came from Box::into_raw and lives as long
            // as `self`.
            let b = unsafe { (*boxed(area)).clone() };
            let raw = Box::into_raw(Box::new(b)) as usize;
            copy[1..].copy_from_slice(&raw.to_ne_bytes());
        }
        let h = self.header();
        Node::from_parts(h.meta, h.ext.clone(), copy)
    }

    /// The header, mutable; copies the node first if it is shared.
    fn unique(&mut self) -> &mut Header {
        if self.header().rc.load(Ordering::Acquire) != 1 {
            *self = self.deep_clone();
        }
        // SAFETY: the count is 1 and we hold `&mut self`: no other reference.
        unsafe { self.ptr.as_mut() }
    }

    /// The versions and stamp, mutable (copying a shared node first).
    pub fn make_mut(&mut self) -> &mut Meta {
        &mut self.unique().meta
    }

    fn ext_mut(&mut self) -> &mut Ext {
        self.unique().ext.get_or_insert_with(Box::default)
    }

    /// The payload, as ETF (`Payload::Data`/`Sproc` hold `term_to_binary`
    /// bytes). Unpacks: readers on hot paths use [`Node::stored`].
    pub fn payload(&self) -> Payload {
        match self.stored() {
            Stored::None => Payload::None,
            Stored::Etf(PayloadKind::Sproc, b) => Payload::Sproc(b.clone()),
            Stored::Etf(_, b) => Payload::Data(b.clone()),
            Stored::Packed(kind, p) => {
                // Packed bytes always unpack (they were checked when packed).
                let etf = Bytes::from(packed::unpack(p).unwrap_or_default());
                match kind {
                    PayloadKind::Sproc => Payload::Sproc(etf),
                    _ => Payload::Data(etf),
                }
            }
        }
    }

    /// The payload as stored, without copying.
    pub fn stored(&self) -> Stored<'_> {
        let area = self.area();
        match area.first() {
            None => Stored::None,
            Some(&K_DATA) => Stored::Packed(PayloadKind::Data, &area[1..]),
            Some(&K_SPROC) => Stored::Packed(PayloadKind::Sproc, &area[1..]),
            Some(&k) => {
                let kind = if k == K_BIG_SPROC {
                    PayloadKind::Sproc
                } else {
                    PayloadKind::Data
                };
                // SAFETY: see deep_clone.
                Stored::Etf(kind, unsafe { &*boxed(area) })
            }
        }
    }

    /// The kind of payload held.
    pub fn payload_kind(&self) -> PayloadKind {
        match self.area().first() {
            None => PayloadKind::None,
            Some(&(K_SPROC | K_BIG_SPROC)) => PayloadKind::Sproc,
            Some(_) => PayloadKind::Data,
        }
    }

    /// True when the node has a payload.
    pub fn has_payload(&self) -> bool {
        self.header().len != 0
    }

    /// Replaces the payload; returns whether it changed (same ETF bytes:
    /// unchanged).
    pub fn set_payload(&mut self, payload: &Payload) -> bool {
        let area = payload_area(payload);
        let kind = match payload {
            Payload::None => PayloadKind::None,
            Payload::Data(_) => PayloadKind::Data,
            Payload::Sproc(_) => PayloadKind::Sproc,
        };
        // Packing is deterministic but its table of key sets is bounded:
        // equal terms packed at different times may differ in bytes, hence
        // the comparison of ETF when the bytes differ.
        let unchanged =
            area == self.area() || (kind == self.payload_kind() && self.payload() == *payload);
        if unchanged {
            drop_area(&area);
            return false;
        }
        let h = self.header();
        let meta = h.meta;
        let ext = if h.rc.load(Ordering::Acquire) == 1 {
            // SAFETY: unique: nobody else sees the header.
            unsafe { self.ptr.as_mut() }.ext.take()
        } else {
            h.ext.clone()
        };
        *self = Node::from_parts(meta, ext, area);
        true
    }

    /// Removes the payload; returns whether there was one.
    pub fn clear_payload(&mut self) -> bool {
        self.set_payload(&Payload::None)
    }

    /// The children, in Erlang term order of their names.
    pub fn children(&self) -> &Children {
        static EMPTY: OnceLock<Children> = OnceLock::new();
        match &self.header().ext {
            Some(ext) => &ext.children,
            None => EMPTY.get_or_init(Children::new),
        }
    }

    /// The children, mutable (copying a shared node first).
    pub fn children_mut(&mut self) -> &mut Children {
        &mut self.ext_mut().children
    }

    /// Removes and returns all children.
    pub fn take_children(&mut self) -> Children {
        if self.header().ext.is_none() {
            return Children::new();
        }
        std::mem::take(&mut self.ext_mut().children)
    }

    /// The child whose node-id key (see [`NodeId::key`]) is `key`. Lets a
    /// reader walk the tree with keys built on the stack.
    pub fn child(&self, key: &[u8]) -> Option<&Node> {
        self.header().ext.as_ref()?.children.get(key)
    }

    /// The node's keep_while conditions (absolute key patterns), if any.
    pub fn keep_while(&self) -> Option<&Arc<KeepWhile>> {
        self.header().ext.as_ref()?.keep_while.as_ref()
    }

    /// Sets or removes the keep_while conditions; returns the previous ones.
    pub fn set_keep_while(&mut self, kw: Option<Arc<KeepWhile>>) -> Option<Arc<KeepWhile>> {
        if kw.is_none() && self.keep_while().is_none() {
            return None;
        }
        std::mem::replace(&mut self.ext_mut().keep_while, kw)
    }

    /// Set on ancestors created implicitly by a put: such a node is removed
    /// once it has neither payload nor children (its implicit keep_while).
    pub fn auto_created(&self) -> bool {
        self.header().ext.as_ref().is_some_and(|e| e.auto_created)
    }

    /// Sets or clears [`Node::auto_created`].
    pub fn set_auto_created(&mut self, auto: bool) {
        if auto != self.auto_created() {
            self.ext_mut().auto_created = auto;
        }
    }

    /// True when the implicit keep_while of an auto-created node no longer holds.
    pub fn is_reclaimable(&self) -> bool {
        self.auto_created() && !self.has_payload() && self.children().is_empty()
    }
}

/// A payload as a tree image holds it (see [`crate::image`]).
pub(crate) enum OwnedStored {
    None,
    Packed(PayloadKind, Vec<u8>),
    Etf(PayloadKind, Bytes),
}

impl Node {
    /// Builds a node from its parts as read from a tree image.
    pub(crate) fn assemble(
        meta: Meta,
        payload: OwnedStored,
        auto_created: bool,
        keep_while: Option<Arc<KeepWhile>>,
        children: Children,
    ) -> Node {
        let area = match payload {
            OwnedStored::None => Vec::new(),
            OwnedStored::Packed(kind, p) => {
                let mut area = Vec::with_capacity(p.len() + 1);
                area.push(if kind == PayloadKind::Sproc {
                    K_SPROC
                } else {
                    K_DATA
                });
                area.extend_from_slice(&p);
                area
            }
            OwnedStored::Etf(kind, b) => {
                let boxed = Box::into_raw(Box::new(b)) as usize;
                let mut area = vec![if kind == PayloadKind::Sproc {
                    K_BIG_SPROC
                } else {
                    K_BIG_DATA
                }];
                area.extend_from_slice(&boxed.to_ne_bytes());
                area
            }
        };
        let ext = (auto_created || keep_while.is_some() || !children.is_empty()).then(|| {
            Box::new(Ext {
                children,
                keep_while,
                auto_created,
            })
        });
        Node::from_parts(meta, ext, area)
    }
}

/// Frees what a payload area owns besides its bytes (a boxed ETF).
fn drop_area(area: &[u8]) {
    if matches!(area.first(), Some(&(K_BIG_DATA | K_BIG_SPROC))) {
        // SAFETY: the pointer came from Box::into_raw and is owned by `area`.
        drop(unsafe { Box::from_raw(boxed(area)) });
    }
}

impl Clone for Node {
    fn clone(&self) -> Self {
        let old = self.header().rc.fetch_add(1, Ordering::Relaxed);
        // As std's Arc: a count this high can only come from leaked clones.
        if old > u32::MAX / 2 {
            std::process::abort();
        }
        Node { ptr: self.ptr }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.header().rc.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        atomic::fence(Ordering::Acquire);
        drop_area(self.area());
        let len = self.header().len as usize;
        // SAFETY: last reference: drop the header in place, free the block
        // with the layout it was allocated with.
        unsafe {
            std::ptr::drop_in_place(self.ptr.as_ptr());
            alloc::dealloc(self.ptr.as_ptr() as *mut u8, layout(len));
        }
    }
}

impl Deref for Node {
    type Target = Meta;
    fn deref(&self) -> &Meta {
        &self.header().meta
    }
}

impl DerefMut for Node {
    fn deref_mut(&mut self) -> &mut Meta {
        self.make_mut()
    }
}

impl Default for Node {
    fn default() -> Self {
        Node::new(Payload::None, false, 0)
    }
}

impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
            || (**self == **other
                && self.auto_created() == other.auto_created()
                && self.keep_while() == other.keep_while()
                && self.payload() == other.payload()
                && self.children() == other.children())
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("payload", &self.payload())
            .field("payload_version", &self.payload_version)
            .field("child_list_version", &self.child_list_version)
            .field("created", &self.created)
            .field("auto_created", &self.auto_created())
            .field("keep_while", &self.keep_while())
            .field("children", self.children())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thin_and_copy_on_write() {
        assert_eq!(std::mem::size_of::<Node>(), 8);
        assert_eq!(std::mem::size_of::<Header>(), 32);
        let mut a = Node::new(Payload::Data(Bytes::from(&[131, 97, 7][..])), false, 5);
        let b = a.clone();
        a.payload_version += 1;
        assert_eq!((a.payload_version, b.payload_version), (2, 1));
        assert!(a.set_payload(&Payload::Data(Bytes::from(&[131, 97, 8][..]))));
        assert!(!a.set_payload(&Payload::Data(Bytes::from(&[131, 97, 8][..]))));
        assert_eq!(b.payload(), Payload::Data(Bytes::from(&[131, 97, 7][..])));
        a.children_mut().insert(NodeId::atom("x"), b.clone());
        assert_eq!(a.children().len(), 1);
        assert!(b.children().is_empty());
        assert!(!a.auto_created());
    }

    #[test]
    fn large_payloads_are_shared_not_packed() {
        let mut etf = vec![131, 109];
        etf.extend_from_slice(&((PACK_LIMIT as u32) + 1).to_be_bytes());
        etf.resize(PACK_LIMIT + 7, 3);
        let p = Payload::Sproc(Bytes::from(etf));
        let a = Node::new(p.clone(), false, 1);
        let mut b = a.clone();
        b.payload_version = 9;
        assert!(matches!(a.stored(), Stored::Etf(PayloadKind::Sproc, _)));
        assert_eq!(a.payload(), p);
        assert_eq!(b.payload(), p);
        assert!(b.clear_payload());
        assert!(!b.has_payload());
        assert_eq!(a.payload_kind(), PayloadKind::Sproc);
    }
}
