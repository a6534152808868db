//! The openraft type configuration.
//!
//! Written out by hand rather than with `declare_raft_types!` because the macro
//! cannot override the generic `Responder<T>` type, and our responder is what
//! lets the state machine answer an Erlang caller without a task per write.

use crate::responder::CallbackResponder;
use khepri_core::{Command, Reply};
use openraft::vote::RaftLeaderId;
use openraft::{BasicNode, OptionalSend};

/// Type configuration of the store's Raft instance.
#[derive(Debug, Clone, Copy, Default, Eq, PartialEq, Ord, PartialOrd)]
pub struct TypeConfig;

/// Leader id: term plus node id (openraft's "advanced" leader id, one leader per term).
pub type LeaderId = openraft::impls::leader_id_adv::LeaderId<u64, u64>;

impl openraft::RaftTypeConfig for TypeConfig {
    type D = Command;
    type R = Reply;
    type NodeId = u64;
    type Node = BasicNode;
    type Term = u64;
    type LeaderId = LeaderId;
    type Vote = openraft::impls::Vote<LeaderId>;
    type Payload = openraft::EntryPayload<Command, u64, BasicNode>;
    type Entry = openraft::Entry<<LeaderId as RaftLeaderId>::Committed, Self::Payload>;
    type AsyncRuntime = openraft::impls::TokioRuntime;
    type Responder<T>
        = CallbackResponder<T>
    where
        T: OptionalSend + 'static;
    type Batch<T>
        = openraft::impls::InlineBatch<T>
    where
        T: OptionalSend + 'static;
    type ErrorSource = openraft::impls::BoxedErrorSource;
}

/// A log entry.
pub type Entry = <TypeConfig as openraft::RaftTypeConfig>::Entry;
/// A log id (committed leader id + index).
pub type LogId = openraft::alias::LogIdOf<TypeConfig>;
/// A persisted vote.
pub type Vote = openraft::alias::VoteOf<TypeConfig>;
/// Membership as stored by the state machine.
pub type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
/// Snapshot metadata.
pub type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
/// The Raft handle.
pub type Raft = openraft::Raft<TypeConfig, crate::state_machine::StateMachine>;
/// The outcome handed to a write's responder.
pub type ClientWriteResult = openraft::raft::ClientWriteResult<TypeConfig>;
