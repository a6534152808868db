//! Transactions as the log carries them: what a transaction fun read and
//! wrote, replayed against the tree at apply time.
//!
//! The fun ran in the caller against a private copy of the tree (its
//! overlay). Each read left a step with the digest of what it looked at
//! ([`observe`]); each write left its command and the digest of its reply.
//! The state machine replays the steps in order on a copy of the current
//! tree: if every read observes the same and every write replies the same,
//! the transaction is serializable at this point of the log and the copy
//! becomes the tree; otherwise nothing changes and the caller re-runs the fun.

use crate::command::{Command, Reply};
use crate::condition::DataMatcher;
use crate::digest::Digest;
use crate::observe::observe;
use crate::pattern::Pattern;
use crate::tree::Tree;
use crate::write::Event;
use serde::{Deserialize, Serialize};

/// One recorded step of a transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TxStep {
    /// A read of `pattern` and the digest of what it observed.
    Read {
        /// What was read.
        pattern: Pattern,
        /// Whether the root was observed too (`include_root_props`).
        include_root: bool,
        /// [`observe`]'s digest in the overlay.
        digest: [u64; 2],
    },
    /// A write and the digest of its reply in the overlay.
    Write {
        /// The write.
        command: Command,
        /// [`reply_digest`] of its reply.
        digest: [u64; 2],
    },
}

/// The digest of a write's reply, as compared at apply time.
pub fn reply_digest(reply: &Reply) -> [u64; 2] {
    let mut d = Digest::new();
    // rmp-serde's encoding of our own types is fixed by their definitions.
    match rmp_serde::to_vec(reply) {
        Ok(bytes) => d.bytes(&bytes),
        // Not expected for these types; a constant keeps apply total, and
        // equal failures on both sides still compare equal.
        Err(_) => d.u64(u64::MAX),
    }
    d.finish()
}

/// Replays `steps` on `tree` as log entry `index`. On success the tree holds
/// every write and the events of all of them are returned; on a mismatch
/// (a conflict with a write committed since the transaction's snapshot) the
/// tree is left unchanged and `None` is returned.
pub fn replay(
    tree: &mut Tree,
    steps: &[TxStep],
    dm: &dyn DataMatcher,
    index: u64,
) -> Option<Vec<Event>> {
    // The tree is persistent: the copy shares everything until written.
    let mut scratch = tree.clone();
    let mut events = Vec::new();
    for step in steps {
        match step {
            TxStep::Read {
                pattern,
                include_root,
                digest,
            } => {
                if observe(&scratch, pattern, *include_root, dm, index) != *digest {
                    return None;
                }
            }
            TxStep::Write { command, digest } => {
                let applied = command.apply(&mut scratch, dm, index);
                if reply_digest(&applied.reply) != *digest {
                    return None;
                }
                events.extend(applied.events);
            }
        }
    }
    *tree = scratch;
    Some(events)
}
