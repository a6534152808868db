//! Pids, ports, references and funs: terms the engine never builds, only
//! carries, compares and re-encodes.
//!
//! Each keeps the exact external-format bytes it was decoded from (`etf()`)
//! and every field of its format, so the encoder can write it the way
//! `term_to_binary(T, [{minor_version, 2}])` does (formats from before
//! OTP 23 are written back byte for byte instead). Within a type the order is
//! Erlang's (OTP 25, checked by the fixture tests):
//! * pid: serial, then number, then node name, then node creation;
//! * port: node name, then creation, then number;
//! * reference: node name, then creation, then the id words from the most
//!   significant (last) one down (a missing high word counts as zero);
//! * local fun: module name, old index, old uniq, number of free variables,
//!   then the free variables;
//! * export (`fun M:F/A`): module, function, arity.

use super::Term;
use std::fmt;
use std::sync::Arc;

/// A process identifier.
#[derive(Clone, Debug)]
pub struct Pid(Arc<PidInner>);

#[derive(Debug)]
struct PidInner {
    node: Arc<str>,
    id: u32,
    serial: u32,
    creation: u32,
    etf: Box<[u8]>,
}

/// The tag byte a decoded opaque term's bytes start with.
fn tag_of(etf: &[u8]) -> u8 {
    etf.first().copied().unwrap_or(0)
}

impl Pid {
    pub(crate) fn new(node: Arc<str>, id: u32, serial: u32, creation: u32, etf: &[u8]) -> Pid {
        Pid(Arc::new(PidInner {
            node,
            id,
            serial,
            creation,
            etf: etf.into(),
        }))
    }

    /// Name of the node the process lives on.
    pub fn node(&self) -> &Arc<str> {
        &self.0.node
    }

    /// The process number.
    pub fn id(&self) -> u32 {
        self.0.id
    }

    /// The serial.
    pub fn serial(&self) -> u32 {
        self.0.serial
    }

    /// The node incarnation.
    pub fn creation(&self) -> u32 {
        self.0.creation
    }

    /// The external term format bytes (tag included) it came from.
    pub fn etf(&self) -> &[u8] {
        &self.0.etf
    }

    /// Came in a pre-OTP-23 format (`PID_EXT`): re-encoded as it came.
    pub(crate) fn is_legacy(&self) -> bool {
        tag_of(&self.0.etf) != 88
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}.{}.{}>", self.0.node, self.0.id, self.0.serial)
    }
}

/// A port identifier.
#[derive(Clone, Debug)]
pub struct Port(Arc<PortInner>);

#[derive(Debug)]
struct PortInner {
    node: Arc<str>,
    id: u64,
    creation: u32,
    etf: Box<[u8]>,
}

impl Port {
    pub(crate) fn new(node: Arc<str>, id: u64, creation: u32, etf: &[u8]) -> Port {
        Port(Arc::new(PortInner {
            node,
            id,
            creation,
            etf: etf.into(),
        }))
    }

    /// Name of the node the port lives on.
    pub fn node(&self) -> &Arc<str> {
        &self.0.node
    }

    /// The port number.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// The node incarnation.
    pub fn creation(&self) -> u32 {
        self.0.creation
    }

    /// The external term format bytes (tag included) it came from.
    pub fn etf(&self) -> &[u8] {
        &self.0.etf
    }

    /// Came as `PORT_EXT`: re-encoded as it came.
    pub(crate) fn is_legacy(&self) -> bool {
        tag_of(&self.0.etf) == 102
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Port<{}.{}>", self.0.node, self.0.id)
    }
}

/// A reference.
#[derive(Clone, Debug)]
pub struct Reference(Arc<RefInner>);

#[derive(Debug)]
struct RefInner {
    node: Arc<str>,
    creation: u32,
    words: Vec<u32>,
    etf: Box<[u8]>,
}

impl Reference {
    pub(crate) fn new(node: Arc<str>, creation: u32, words: Vec<u32>, etf: &[u8]) -> Reference {
        Reference(Arc::new(RefInner {
            node,
            creation,
            words,
            etf: etf.into(),
        }))
    }

    /// Name of the node that made the reference.
    pub fn node(&self) -> &Arc<str> {
        &self.0.node
    }

    /// The node incarnation.
    pub fn creation(&self) -> u32 {
        self.0.creation
    }

    /// The id words, least significant first.
    pub fn words(&self) -> &[u32] {
        &self.0.words
    }

    /// The external term format bytes (tag included) it came from.
    pub fn etf(&self) -> &[u8] {
        &self.0.etf
    }

    /// Came as `REFERENCE_EXT` or `NEW_REFERENCE_EXT`: re-encoded as it came.
    pub(crate) fn is_legacy(&self) -> bool {
        tag_of(&self.0.etf) != 90
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}", self.0.node)?;
        for w in self.0.words.iter().rev() {
            write!(f, ".{w}")?;
        }
        f.write_str(">")
    }
}

/// A local fun (`NEW_FUN_EXT`).
#[derive(Clone, Debug)]
pub struct Fun(Arc<FunInner>);

#[derive(Debug)]
struct FunInner {
    module: Arc<str>,
    arity: u8,
    uniq: [u8; 16],
    index: u32,
    old_index: i64,
    old_uniq: i64,
    pid: Pid,
    free: Vec<Term>,
    etf: Box<[u8]>,
}

/// The fields of a `NEW_FUN_EXT`, as decoded.
pub(crate) struct FunParts {
    pub(crate) module: Arc<str>,
    pub(crate) arity: u8,
    pub(crate) uniq: [u8; 16],
    pub(crate) index: u32,
    pub(crate) old_index: i64,
    pub(crate) old_uniq: i64,
    pub(crate) pid: Pid,
    pub(crate) free: Vec<Term>,
}

impl Fun {
    pub(crate) fn new(p: FunParts, etf: &[u8]) -> Fun {
        Fun(Arc::new(FunInner {
            module: p.module,
            arity: p.arity,
            uniq: p.uniq,
            index: p.index,
            old_index: p.old_index,
            old_uniq: p.old_uniq,
            pid: p.pid,
            free: p.free,
            etf: etf.into(),
        }))
    }

    /// The free variables, moved out when this is the last reference (so
    /// that dropping nested funs does not recurse).
    pub(crate) fn take_free_if_unique(&mut self) -> Option<Vec<Term>> {
        Arc::get_mut(&mut self.0).map(|inner| std::mem::take(&mut inner.free))
    }

    /// The MD5 of the module's code (`Uniq`).
    pub fn uniq(&self) -> &[u8; 16] {
        &self.0.uniq
    }

    /// The fun's index in its module.
    pub fn index(&self) -> u32 {
        self.0.index
    }

    /// The process that created the fun.
    pub fn pid(&self) -> &Pid {
        &self.0.pid
    }

    /// The module that defines the fun.
    pub fn module(&self) -> &Arc<str> {
        &self.0.module
    }

    /// Number of arguments.
    pub fn arity(&self) -> u8 {
        self.0.arity
    }

    /// The old index (an order key).
    pub fn old_index(&self) -> i64 {
        self.0.old_index
    }

    /// The old uniq (an order key).
    pub fn old_uniq(&self) -> i64 {
        self.0.old_uniq
    }

    /// The captured free variables.
    pub fn free_vars(&self) -> &[Term] {
        &self.0.free
    }

    /// The external term format bytes (tag included) it came from.
    pub fn etf(&self) -> &[u8] {
        &self.0.etf
    }
}

impl fmt::Display for Fun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#Fun<{}.{}.{}>",
            self.0.module, self.0.old_index, self.0.old_uniq
        )
    }
}

/// An external fun (`EXPORT_EXT`, `fun M:F/A`).
#[derive(Clone, Debug)]
pub struct Export(Arc<ExportInner>);

#[derive(Debug)]
struct ExportInner {
    module: Arc<str>,
    function: Arc<str>,
    arity: u8,
    etf: Box<[u8]>,
}

impl Export {
    pub(crate) fn new(module: Arc<str>, function: Arc<str>, arity: u8, etf: &[u8]) -> Export {
        Export(Arc::new(ExportInner {
            module,
            function,
            arity,
            etf: etf.into(),
        }))
    }

    /// The module.
    pub fn module(&self) -> &Arc<str> {
        &self.0.module
    }

    /// The function name.
    pub fn function(&self) -> &Arc<str> {
        &self.0.function
    }

    /// The arity.
    pub fn arity(&self) -> u8 {
        self.0.arity
    }

    /// The external term format bytes (tag included) it came from.
    pub fn etf(&self) -> &[u8] {
        &self.0.etf
    }
}

impl fmt::Display for Export {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fun {}:{}/{}",
            self.0.module, self.0.function, self.0.arity
        )
    }
}
