//! Replies kept for commands marked to be applied at most once
//! (`protect_against_dups`): a resubmission after a lost reply gets the reply
//! of the first application instead of applying again.

use crate::command::Reply;
use imbl::{OrdMap, OrdSet};
use serde::{Deserialize, Serialize};

/// A command's unique id, chosen by the submitter.
pub type DedupId = (u64, u64);

/// The kept replies, with their expiry times (milliseconds of the
/// submitters' clocks, carried in the commands so every member expires the
/// same entries at the same log position).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dedups {
    #[serde(deserialize_with = "crate::cautious::ord_map")]
    replies: OrdMap<DedupId, (u64, Reply)>,
    #[serde(deserialize_with = "crate::cautious::ord_set")]
    by_expiry: OrdSet<(u64, DedupId)>,
}

impl Dedups {
    /// Forgets every reply that expired before `now_ms`.
    pub fn expire(&mut self, now_ms: u64) {
        while let Some(&(at, id)) = self.by_expiry.get_min() {
            if at >= now_ms {
                break;
            }
            self.by_expiry.remove(&(at, id));
            self.replies.remove(&id);
        }
    }

    /// The kept reply of `id`, if it was applied and has not expired.
    pub fn get(&self, id: &DedupId) -> Option<&Reply> {
        self.replies.get(id).map(|(_, reply)| reply)
    }

    /// Keeps `reply` for `id` until `expires_ms`.
    pub fn record(&mut self, id: DedupId, expires_ms: u64, reply: Reply) {
        if let Some((old, _)) = self.replies.insert(id, (expires_ms, reply)) {
            self.by_expiry.remove(&(old, id));
        }
        self.by_expiry.insert((expires_ms, id));
    }
}
