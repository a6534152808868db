//! What a read looked at, as a digest: the basis of transaction guards.
//!
//! A read's result depends only on the nodes its walk visited. For each such
//! node the digest takes its identity (creation stamp) and, where the read
//! could see more than existence, its payload and child list versions. Equal
//! digests on two tree states therefore mean the read returns the same result
//! on both, and a node deleted and re-created (same versions, new stamp) is
//! told apart. Ancestors walked through by name contribute only their
//! identity, so creating a sibling does not invalidate a read.

use crate::condition::DataMatcher;
use crate::digest::Digest;
use crate::node::{Node, PENDING};
use crate::pattern::Component;
use crate::tree::Tree;

/// Stands for a missing node in the digest (no creation stamp takes it).
const ABSENT: u64 = PENDING - 1;

/// Observes a read of `pattern` on `tree` (with the root first when
/// `include_root`, as `get_many` does). `current` is the log index being
/// applied: nodes it created count as created by the transaction itself
/// ([`PENDING`]), as they were in the transaction's overlay.
pub fn observe(
    tree: &Tree,
    pattern: &[Component],
    include_root: bool,
    dm: &dyn DataMatcher,
    current: u64,
) -> [u64; 2] {
    let mut o = Observer {
        digest: Digest::new(),
        dm,
        current,
    };
    if include_root {
        o.full(&tree.root);
    }
    o.walk(&tree.root, pattern);
    o.digest.finish()
}

struct Observer<'a> {
    digest: Digest,
    dm: &'a dyn DataMatcher,
    current: u64,
}

impl Observer<'_> {
    fn identity(&mut self, node: &Node) {
        let stamp = if node.created == self.current {
            PENDING
        } else {
            node.created
        };
        self.digest.u64(stamp);
    }

    fn full(&mut self, node: &Node) {
        self.identity(node);
        self.digest.u64(u64::from(node.payload_version));
        self.digest.u64(u64::from(node.child_list_version));
    }

    fn walk(&mut self, node: &Node, rest: &[Component]) {
        let Some((component, tail)) = rest.split_first() else {
            self.full(node);
            return;
        };
        match component {
            Component::Name(name) => {
                self.digest.bytes(name.key());
                match node.children().get(name) {
                    Some(child) => {
                        self.identity(child);
                        self.walk(child, tail);
                    }
                    None => self.digest.u64(ABSENT),
                }
            }
            Component::Cond(cond) => {
                let recursive = cond.applies_to_grandchildren();
                if let (Some(name), false) = (cond.specific_name(), recursive) {
                    self.digest.bytes(name.key());
                    match node.children().get(name) {
                        Some(child) => {
                            self.full(child);
                            if cond.eval(name, child, self.dm).is_ok() {
                                self.walk(child, tail);
                            }
                        }
                        None => self.digest.u64(ABSENT),
                    }
                    return;
                }
                // A scan sees the whole child list.
                self.full(node);
                for (name, child) in node.children().iter() {
                    self.digest.bytes(name.key());
                    self.full(child);
                    if cond.eval(name, child, self.dm).is_err() {
                        continue;
                    }
                    self.walk(child, tail);
                    if recursive {
                        self.walk(child, rest);
                    }
                }
            }
        }
    }
}
