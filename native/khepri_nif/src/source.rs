//! Where a read looks: the member's current tree version (an engine), or a
//! transaction's private overlay, where each read is also recorded as a
//! guard for the commit.

use crate::engine::Engine;
use crate::tx::Transaction;
use khepri_core::{Component, Tree};
use rustler::{Decoder, NifResult, ResourceArc, Term};
use std::sync::Arc;

/// An engine or a transaction handle, as passed by `khepri_ops`.
pub enum Source {
    /// Reads the member's current tree version.
    Engine(ResourceArc<Engine>),
    /// Reads a transaction's overlay and records what it observed.
    Tx(ResourceArc<Transaction>),
    /// Reads one fixed tree version (a projection being filled).
    Version(ResourceArc<TreeVersion>),
}

/// A tree version held for a while by an Erlang process: the tree a
/// projection is filled from, as of its registration.
pub struct TreeVersion {
    /// The tree.
    pub tree: Arc<Tree>,
}

#[rustler::resource_impl]
impl rustler::Resource for TreeVersion {}

impl<'a> Decoder<'a> for Source {
    fn decode(term: Term<'a>) -> NifResult<Self> {
        match term.decode::<ResourceArc<Engine>>() {
            Ok(engine) => Ok(Source::Engine(engine)),
            Err(_) => match term.decode::<ResourceArc<Transaction>>() {
                Ok(tx) => Ok(Source::Tx(tx)),
                Err(_) => Ok(Source::Version(term.decode()?)),
            },
        }
    }
}

impl Source {
    /// The tree version to read.
    pub fn tree(&self) -> Arc<Tree> {
        match self {
            Source::Engine(e) => e.store.tree(),
            Source::Tx(t) => t.tree(),
            Source::Version(v) => v.tree.clone(),
        }
    }

    /// Records, in a transaction, that `pattern` was read from `tree` (the
    /// version returned by [`Source::tree`] for this read).
    pub fn observed(&self, tree: &Tree, pattern: &[Component], include_root: bool) {
        if let Source::Tx(t) = self {
            t.record_read(tree, pattern, include_root);
        }
    }
}
