//! The state machine: applies committed commands to the tree and publishes a
//! new tree version for readers once per applied batch.

use crate::compaction::{BuildReport, Compaction, SnapshotRules};
use crate::effects::{EffectSinkRef, Gate};
use crate::log_store::LogStore;
use crate::snapshot::{self, SnapshotBody, SnapshotDir};
use crate::types::{LogId, SnapshotMeta, StoredMembership, TypeConfig};
use arc_swap::ArcSwap;
use futures::{Stream, TryStreamExt};
use khepri_core::data_match::TermMatcher;
use khepri_core::hooks::{self, Effect};
use khepri_core::Tree;
use openraft::storage::{EntryResponder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder};
use std::io::{self, Cursor};
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A snapshot as openraft handles it.
pub type Snapshot = openraft::alias::SnapshotOf<TypeConfig, Cursor<Vec<u8>>>;

/// What readers see: the last published tree and how far it is applied.
pub struct Published {
    /// The tree as of `applied_index`.
    pub tree: ArcSwap<Tree>,
    /// Index of the last applied log entry (0 before any).
    pub applied_index: AtomicU64,
}

/// The state machine owned by openraft.
pub struct StateMachine {
    published: Arc<Published>,
    /// The working tree; cloned (cheaply) into `published` after each batch.
    tree: Tree,
    applied: Option<LogId>,
    membership: StoredMembership,
    snapshot_dir: Arc<SnapshotDir>,
    /// When to snapshot (see `compaction`).
    compaction: Arc<Compaction>,
    /// Writers answered and not yet back with a new write (see `propose`).
    returning: Arc<AtomicIsize>,
    /// Where effects on projections and triggers go, when a store process
    /// carries them out (`None` in engine-only tests).
    gate: Option<Arc<Gate>>,
}

impl StateMachine {
    /// Restores the state machine from the snapshot in `snapshot_dir`, if any.
    /// With `sink`, the projections the snapshot holds are registered there
    /// first: the entries replayed next update them. `rules` say when to
    /// snapshot again, measured against `log`.
    pub fn open(
        snapshot_dir: Arc<SnapshotDir>,
        sink: Option<EffectSinkRef>,
        rules: SnapshotRules,
        log: LogStore,
    ) -> io::Result<StateMachine> {
        let (tree, applied, membership, stored) = match snapshot::load(snapshot_dir.path())? {
            Some((body, bytes)) => {
                let stored = (body.meta.last_log_id.map(|l| l.index), bytes.len() as u64);
                (
                    body.tree,
                    body.meta.last_log_id,
                    body.meta.last_membership,
                    Some(stored),
                )
            }
            None => (Tree::new(), None, StoredMembership::default(), None),
        };
        let compaction = Arc::new(Compaction::new(rules, log, stored));
        let published = Arc::new(Published {
            tree: ArcSwap::from_pointee(tree.clone()),
            applied_index: AtomicU64::new(applied.as_ref().map_or(0, |l| l.index)),
        });
        let returning = Arc::new(AtomicIsize::new(0));
        let gate = sink.map(|s| {
            let index = applied.as_ref().map_or(0, |l| l.index);
            let gate = Arc::new(Gate::new(s.0, index, returning.clone()));
            let registered: Vec<Effect> = tree
                .hooks
                .projections
                .values()
                .map(|def| Effect::Register(def.clone(), tree.clone()))
                .collect();
            gate.deliver(registered, Vec::new(), index);
            gate
        });
        Ok(StateMachine {
            published,
            tree,
            applied,
            membership,
            snapshot_dir,
            compaction,
            returning,
            gate,
        })
    }

    /// Index of the last entry applied (restored from the snapshot when
    /// just opened), if any.
    pub fn applied_index(&self) -> Option<u64> {
        self.applied.as_ref().map(|l| l.index)
    }

    /// When to snapshot, shared with the store handle.
    pub fn compaction(&self) -> Arc<Compaction> {
        self.compaction.clone()
    }

    /// The count of answered writers, shared with the proposer.
    pub fn returning(&self) -> Arc<AtomicIsize> {
        self.returning.clone()
    }

    /// The effects gate, when effects are carried out.
    pub fn gate(&self) -> Option<Arc<Gate>> {
        self.gate.clone()
    }

    /// The readers' view, shared with the store handle.
    pub fn published(&self) -> Arc<Published> {
        self.published.clone()
    }

    fn publish(&self) {
        self.published.tree.store(Arc::new(self.tree.clone()));
        let index = self.applied.as_ref().map_or(0, |l| l.index);
        self.published.applied_index.store(index, Ordering::Release);
    }
}

/// Builds a snapshot from a tree version captured when the build was requested,
/// so applying continues meanwhile.
pub struct SnapshotBuilder {
    tree: Tree,
    meta: SnapshotMeta,
    dir: Arc<SnapshotDir>,
    compaction: Arc<Compaction>,
    /// When the tree was captured.
    began: Instant,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = Cursor<Vec<u8>>;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let body = SnapshotBody {
            meta: self.meta.clone(),
            tree: std::mem::take(&mut self.tree),
        };
        let dir = self.dir.clone();
        // Serializing and writing a large tree takes long: on a thread of
        // its own, off the runtime's worker (see `snapshot::write`).
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("khepri-snapshot".into())
            .spawn(move || {
                let r = dir.write(&body.meta, &body.tree);
                let _ = tx.send(r);
            })?;
        let built = rx.await.map_err(io::Error::other).and_then(|r| r);
        self.compaction.finish(match &built {
            Ok(bytes) => Ok(BuildReport {
                index: self.meta.last_log_id.map(|l| l.index),
                bytes: *bytes,
                took: self.began.elapsed(),
            }),
            Err(e) => Err(e.to_string()),
        });
        built?;
        // openraft keeps only the metadata of a snapshot it had built
        // (`BuildSnapshotDone`); it reads the file back through
        // `get_current_snapshot` to send it. An empty image would fail to
        // decode, never pass for a tree.
        Ok(Snapshot {
            meta: self.meta.clone(),
            snapshot: Cursor::new(Vec::new()),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = Cursor<Vec<u8>>;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        Ok((self.applied, self.membership.clone()))
    }

    async fn apply<S>(&mut self, mut entries: S) -> Result<(), io::Error>
    where
        S: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + OptionalSend,
    {
        let mut replies = Vec::new();
        let mut effects = self.gate.as_ref().map(|_| Vec::new());
        let mut applied = 0;
        while let Some((entry, responder)) = entries.try_next().await? {
            let reply = match &entry.payload {
                EntryPayload::Normal(command) => hooks::apply(
                    command,
                    &mut self.tree,
                    &TermMatcher,
                    entry.log_id.index,
                    effects.as_mut(),
                ),
                EntryPayload::Membership(m) => {
                    self.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                    Ok(Vec::new())
                }
                EntryPayload::Blank => Ok(Vec::new()),
            };
            self.applied = Some(entry.log_id);
            applied += 1;
            if let Some(r) = responder {
                replies.push((r, reply));
            }
        }
        self.compaction.applied(applied);
        // Publish before answering, so a caller reads its own write.
        self.publish();
        match (&self.gate, effects) {
            (Some(gate), Some(effects)) => {
                let index = self.applied.as_ref().map_or(0, |l| l.index);
                gate.deliver(effects, replies, index);
            }
            _ => {
                self.returning
                    .fetch_add(replies.len() as isize, Ordering::Relaxed);
                for (responder, reply) in replies {
                    responder.send(reply);
                }
            }
        }
        Ok(())
    }

    async fn try_create_snapshot_builder(&mut self, force: bool) -> Option<SnapshotBuilder> {
        if !force && !self.compaction.should_build() {
            return None;
        }
        Some(self.get_snapshot_builder().await)
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        self.compaction.begin();
        SnapshotBuilder {
            compaction: self.compaction.clone(),
            began: Instant::now(),
            tree: self.tree.clone(),
            meta: SnapshotMeta {
                last_log_id: self.applied,
                last_membership: self.membership.clone(),
            },
            dir: self.snapshot_dir.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        data: Cursor<Vec<u8>>,
    ) -> Result<(), io::Error> {
        let bytes = data.into_inner();
        let body = snapshot::decode(&bytes, self.snapshot_dir.path())?;
        self.snapshot_dir.store(&bytes)?;
        let old = std::mem::replace(&mut self.tree, body.tree);
        self.applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        self.compaction
            .installed(self.applied.map(|l| l.index), bytes.len() as u64);
        self.publish();
        if let Some(gate) = &self.gate {
            let index = self.applied.as_ref().map_or(0, |l| l.index);
            gate.deliver(
                hooks::diff(&old, &self.tree, &TermMatcher),
                Vec::new(),
                index,
            );
        }
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        Ok(
            snapshot::read(self.snapshot_dir.path())?.map(|(meta, bytes)| Snapshot {
                meta,
                snapshot: Cursor::new(bytes),
            }),
        )
    }
}
