//! Commands: the values replicated through the Raft log, and their application.

use crate::condition::DataMatcher;
use crate::error::KhepriError;
use crate::pattern::Pattern;
use crate::payload::Payload;
use crate::tree::Tree;
use crate::write::{Changes, Event, WriteOpts, Writer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A change to the tree. Commands are serialized into the log, so variants are
/// only ever added, never changed in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Upsert one node (`put`, `create`, `update`, `compare_and_swap`: the
    /// last three are puts with path conditions).
    Put {
        /// Target: one node per component.
        pattern: Pattern,
        /// New payload.
        payload: Payload,
        /// Options.
        opts: WriteOpts,
    },
    /// Upsert every match of a pattern (`put_many`).
    PutMany {
        /// Target pattern.
        pattern: Pattern,
        /// New payload.
        payload: Payload,
        /// Options.
        opts: WriteOpts,
    },
    /// Delete every match and its subtree (`delete`, `delete_many`).
    Delete {
        /// Target pattern.
        pattern: Pattern,
        /// Options.
        opts: WriteOpts,
    },
    /// Remove the payload of every match (`clear_payload`, `clear_many_payloads`).
    ClearPayload {
        /// Target pattern.
        pattern: Pattern,
        /// Options.
        opts: WriteOpts,
    },
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Put { pattern, .. } => write!(f, "put {pattern:?}"),
            Command::PutMany { pattern, .. } => write!(f, "put_many {pattern:?}"),
            Command::Delete { pattern, .. } => write!(f, "delete {pattern:?}"),
            Command::ClearPayload { pattern, .. } => write!(f, "clear_payload {pattern:?}"),
        }
    }
}

/// The outcome of one command: the nodes it changed or removed, or an error.
pub type Reply = Result<Changes, KhepriError>;

/// A command's reply and the change events it produced.
pub struct Applied {
    /// For the caller.
    pub reply: Reply,
    /// For triggers and projections.
    pub events: Vec<Event>,
}

impl Command {
    /// The command's options.
    pub fn opts(&self) -> &WriteOpts {
        match self {
            Command::Put { opts, .. }
            | Command::PutMany { opts, .. }
            | Command::Delete { opts, .. }
            | Command::ClearPayload { opts, .. } => opts,
        }
    }

    /// Applies the command, carried by log entry `index`, to `tree`. Never
    /// panics; on error the tree is unchanged.
    pub fn apply(&self, tree: &mut Tree, dm: &dyn DataMatcher, index: u64) -> Applied {
        let mut w = Writer::new(tree, dm, self.opts(), index);
        let result = match self {
            Command::Put {
                pattern,
                payload,
                opts,
            } => w.put(pattern, payload.clone(), opts.keep_while.as_ref()),
            Command::PutMany {
                pattern,
                payload,
                opts,
            } => w.put_many(pattern, payload.clone(), opts.keep_while.as_ref()),
            Command::Delete { pattern, .. } => {
                w.delete_many(pattern);
                Ok(())
            }
            Command::ClearPayload { pattern, .. } => {
                w.clear_payloads(pattern);
                Ok(())
            }
        };
        match result {
            Ok(()) => {
                let (changes, events) = w.finish();
                Applied {
                    reply: Ok(changes),
                    events,
                }
            }
            Err(e) => Applied {
                reply: Err(e),
                events: Vec::new(),
            },
        }
    }
}
