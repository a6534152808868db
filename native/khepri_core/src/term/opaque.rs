//! Pids, ports, references and funs: terms the engine never builds, only
//! carries, compares and re-encodes.
//!
//! Each keeps the exact external-format bytes it was decoded from (so
//! re-encoding gives back the same term) plus the fields Erlang's term order
//! looks at. Within a type the order is Erlang's (OTP 25):
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
    old_index: i64,
    old_uniq: i64,
    free: Vec<Term>,
    etf: Box<[u8]>,
}

impl Fun {
    pub(crate) fn new(
        module: Arc<str>,
        arity: u8,
        old_index: i64,
        old_uniq: i64,
        free: Vec<Term>,
        etf: &[u8],
    ) -> Fun {
        Fun(Arc::new(FunInner {
            module,
            arity,
            old_index,
            old_uniq,
            free,
            etf: etf.into(),
        }))
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
        write!(f, "#Fun<{}.{}.{}>", self.0.module, self.0.old_index, self.0.old_uniq)
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
        write!(f, "fun {}:{}/{}", self.0.module, self.0.function, self.0.arity)
    }
}
