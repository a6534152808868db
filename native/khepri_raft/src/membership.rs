//! Who the members are, who leads, and changing membership: one member at a
//! time, each change committed by a quorum (SPEC 4.9).

use crate::node_name::node_id_of;
use crate::store::Store;
use crate::types::TypeConfig;
use openraft::error::{ClientWriteError, RaftError};
use openraft::type_config::async_runtime::WatchReceiver;
use openraft::{BasicNode, ChangeMembers, RaftMetrics};
use std::collections::BTreeSet;
use std::time::Duration;

/// Why a membership change was not made.
#[derive(Debug)]
pub enum MembershipError {
    /// This member does not lead; the leader's node name when known.
    NotLeader(Option<String>),
    /// No answer in time (no quorum, or a change already under way).
    Timeout,
    /// Refused by openraft; the text says why.
    Refused(String),
}

fn refusal(e: RaftError<TypeConfig, ClientWriteError<TypeConfig>>) -> MembershipError {
    match e.forward_to_leader() {
        Some(f) => MembershipError::NotLeader(f.leader_node.as_ref().map(|n| n.addr.clone())),
        None => MembershipError::Refused(e.to_string()),
    }
}

/// The Erlang node name of member `id` in the membership of `metrics`.
pub(crate) fn node_name_of(metrics: &RaftMetrics<TypeConfig>, id: u64) -> Option<String> {
    metrics
        .membership_config
        .membership()
        .nodes()
        .find(|(node_id, _)| **node_id == id)
        .map(|(_, n)| n.addr.clone())
}

impl Store {
    /// The node names of every member (voters and learners) in this
    /// member's view: the latest membership in its log.
    pub fn member_names(&self) -> Vec<String> {
        let metrics = self.raft().metrics();
        let m = metrics.borrow_watched();
        let mut names: Vec<String> = m
            .membership_config
            .membership()
            .nodes()
            .map(|(_, n)| n.addr.clone())
            .collect();
        names.sort();
        names
    }

    /// The node name of the leader this member knows, if any.
    pub fn leader_name(&self) -> Option<String> {
        let metrics = self.raft().metrics();
        let m = metrics.borrow_watched();
        node_name_of(&m, m.current_leader?)
    }

    /// True when this member leads.
    pub fn is_leader(&self) -> bool {
        self.raft().metrics().borrow_watched().current_leader == Some(self.node_id())
    }

    /// Waits until this member knows a leader other than the member on node
    /// `except` (when given: a leader that just failed a call); `false`
    /// after `timeout`.
    pub async fn wait_for_leader(&self, except: Option<&str>, timeout: Duration) -> bool {
        let except = except.map(node_id_of);
        self.raft()
            .wait(Some(timeout))
            .metrics(
                |m| m.current_leader.is_some() && m.current_leader != except,
                "leader known",
            )
            .await
            .is_ok()
    }

    /// Adds the member on Erlang node `name`: first as a learner that
    /// catches up, then as a voter. Runs on the leader. A member already
    /// in the cluster is left as it is.
    pub async fn add_member(&self, name: &str, timeout: Duration) -> Result<(), MembershipError> {
        let id = node_id_of(name);
        let raft = self.raft();
        let change = async {
            let voters: BTreeSet<u64> = raft
                .metrics()
                .borrow_watched()
                .membership_config
                .membership()
                .voter_ids()
                .collect();
            if voters.contains(&id) {
                return Ok(());
            }
            raft.add_learner(id, BasicNode::new(name), true)
                .await
                .map_err(refusal)?;
            raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
                .await
                .map_err(refusal)?;
            Ok(())
        };
        tokio::time::timeout(timeout, change)
            .await
            .unwrap_or(Err(MembershipError::Timeout))
    }

    /// Removes the member on Erlang node `name` from the cluster. Runs on
    /// the leader; a node that is not a member is not an error.
    pub async fn remove_member(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<(), MembershipError> {
        let id = node_id_of(name);
        let raft = self.raft();
        let change = async {
            let membership = raft.metrics().borrow_watched().membership_config.clone();
            let membership = membership.membership();
            if membership.voter_ids().any(|v| v == id) {
                raft.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
                    .await
                    .map_err(refusal)?;
            } else if membership.learner_ids().any(|l| l == id) {
                raft.change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
                    .await
                    .map_err(refusal)?;
            } else if !self.is_leader() {
                // Only the leader's view is authoritative.
                return Err(MembershipError::NotLeader(self.leader_name()));
            }
            Ok(())
        };
        tokio::time::timeout(timeout, change)
            .await
            .unwrap_or(Err(MembershipError::Timeout))
    }
}
