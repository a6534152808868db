//! Commands: the values replicated through the Raft log, and their application.

use crate::condition::DataMatcher;
use crate::dedup::DedupId;
use crate::error::KhepriError;
use crate::hooks::{ProjectionDef, TriggerDef};
use crate::pattern::Pattern;
use crate::payload::Payload;
use crate::transaction::{replay, TxStep};
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
    /// A transaction's recorded reads and writes, applied atomically when
    /// every step replays identically, else answered with a conflict.
    Transaction {
        /// The steps, in the order the transaction fun made them.
        steps: Vec<TxStep>,
    },
    /// `command`, applied at most once per `id` (`protect_against_dups`).
    Once {
        /// Unique per submission (resubmissions reuse it).
        id: DedupId,
        /// The submitter's clock: replies kept past it are forgotten.
        now_ms: u64,
        /// Until when this command's reply is kept.
        expires_ms: u64,
        /// The command.
        command: Box<Command>,
    },
    /// `register_projection`: refused when the name is taken.
    RegisterProjection {
        /// The projection.
        def: ProjectionDef,
    },
    /// `unregister_projections`: these names (`None`: all); unknown names
    /// are ignored.
    UnregisterProjections {
        /// Names to drop.
        names: Option<Vec<String>>,
    },
    /// `register_trigger`: replaces a trigger of the same id.
    RegisterTrigger {
        /// The trigger.
        def: TriggerDef,
    },
    /// The leader ran these firings: they are no longer owed.
    AckTriggers {
        /// Their sequence numbers.
        seqs: Vec<u64>,
    },
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Put { pattern, .. } => write!(f, "put {pattern:?}"),
            Command::PutMany { pattern, .. } => write!(f, "put_many {pattern:?}"),
            Command::Delete { pattern, .. } => write!(f, "delete {pattern:?}"),
            Command::ClearPayload { pattern, .. } => write!(f, "clear_payload {pattern:?}"),
            Command::Transaction { steps } => write!(f, "transaction of {} steps", steps.len()),
            Command::Once { id, command, .. } => write!(f, "once {id:?}: {command}"),
            Command::RegisterProjection { def } => write!(f, "register projection {}", def.name),
            Command::UnregisterProjections { names } => {
                write!(f, "unregister projections {names:?}")
            }
            Command::RegisterTrigger { def } => write!(f, "register trigger {}", def.id),
            Command::AckTriggers { seqs } => write!(f, "ack {} trigger firings", seqs.len()),
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
    /// The options of a write (a transaction has none of its own).
    pub fn opts(&self) -> &WriteOpts {
        static NONE: WriteOpts = WriteOpts::NONE;
        match self {
            Command::Put { opts, .. }
            | Command::PutMany { opts, .. }
            | Command::Delete { opts, .. }
            | Command::ClearPayload { opts, .. } => opts,
            Command::Transaction { .. }
            | Command::RegisterProjection { .. }
            | Command::UnregisterProjections { .. }
            | Command::RegisterTrigger { .. }
            | Command::AckTriggers { .. } => &NONE,
            Command::Once { command, .. } => command.opts(),
        }
    }

    /// Applies the command, carried by log entry `index`, to `tree`. Never
    /// panics; on error the tree is unchanged. Registrations of projections
    /// and triggers change nothing here: they go through [`crate::hooks::apply`],
    /// which is what the state machine calls.
    pub fn apply(&self, tree: &mut Tree, dm: &dyn DataMatcher, index: u64) -> Applied {
        match self {
            Command::Transaction { steps } => match replay(tree, steps, dm, index) {
                Some(events) => Applied {
                    reply: Ok(Vec::new()),
                    events,
                },
                None => Applied {
                    reply: Err(KhepriError::Conflict),
                    events: Vec::new(),
                },
            },
            Command::Once {
                id,
                now_ms,
                expires_ms,
                command,
            } => {
                tree.dedups.expire(*now_ms);
                if let Some(reply) = tree.dedups.get(id) {
                    return Applied {
                        reply: reply.clone(),
                        events: Vec::new(),
                    };
                }
                let applied = command.apply(tree, dm, index);
                tree.dedups.record(*id, *expires_ms, applied.reply.clone());
                applied
            }
            _ => self.apply_write(tree, dm, index),
        }
    }

    fn apply_write(&self, tree: &mut Tree, dm: &dyn DataMatcher, index: u64) -> Applied {
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
            // Not writes: `hooks::apply` handles registrations; here they
            // change nothing.
            _ => Ok(()),
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
