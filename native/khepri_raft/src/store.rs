//! A running member of a store: the Raft instance, its storage, and the queue
//! through which the NIF submits commands without blocking a scheduler.

use crate::coalesce::CommitHold;
use crate::compaction::{self, BuildReport, Compaction, CompactionState, SnapshotRules};
use crate::effects::{EffectSinkRef, Gate};
use crate::forward::{forward_batch, role, InFlight, Role, Route};
use crate::log_store::LogStore;
use crate::network::Network;
use crate::node_name::node_id_of;
use crate::recovery;
use crate::responder::CallbackResponder;
use crate::rpc::IncomingSnapshot;
use crate::runtime::runtime;
use crate::snapshot::{self, SnapshotDir};
use crate::state_machine::{Published, StateMachine};
use crate::timeline::{mark, Stage};
use crate::transport::{Outbox, OutboxRef, RpcKind, Transport};
use crate::types::{ClientWriteResult, Raft};
use futures::FutureExt;
use khepri_core::{Command, Tree};
use openraft::type_config::async_runtime::WatchReceiver;
use openraft::{BasicNode, Config, ServerState, SnapshotPolicy};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How a store member is opened.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// The member's own directory (log, vote, snapshot).
    pub dir: PathBuf,
    /// The Erlang node this member runs on; its Raft node id derives from it.
    pub node_name: String,
    /// When to snapshot (SPEC `snapshot_interval`, `snapshot_time_interval`,
    /// `unreleased_command_footprint_threshold`, and the log's ratio to the
    /// snapshot).
    pub snapshots: SnapshotRules,
    /// Preallocated size of each log segment.
    pub segment_bytes: u64,
    /// How long `open` may wait for the member to be ready.
    pub open_timeout: Duration,
    /// A new member waits to be added to a cluster (`khepri_cluster:join`)
    /// instead of electing itself the only voter of its own.
    pub join: bool,
    /// Where calls to other members go.
    pub outbox: OutboxRef,
    /// Where effects on projections and triggers go (`None`: nowhere, for
    /// engine-only use).
    pub effects: Option<EffectSinkRef>,
}

/// The outbox of a member that has no way to reach others (tests).
struct NoOutbox;

impl Outbox for NoOutbox {
    fn send(&self, _target: &str, _id: u64, _kind: RpcKind, _body: Vec<u8>) -> bool {
        false
    }
}

impl StoreConfig {
    /// Defaults for a member in `dir` on node `node_name`.
    pub fn new(dir: PathBuf, node_name: String) -> Self {
        StoreConfig {
            dir,
            node_name,
            snapshots: SnapshotRules::default(),
            segment_bytes: 16 << 20,
            open_timeout: Duration::from_secs(30),
            join: false,
            outbox: OutboxRef(Arc::new(NoOutbox)),
            effects: None,
        }
    }
}

/// Why a store could not be opened.
#[derive(Debug)]
pub enum StoreError {
    /// Reading or writing the data directory failed, or its content is damaged.
    Io(std::io::Error),
    /// openraft refused to start or initialize.
    Raft(String),
    /// The member did not become ready within `open_timeout`.
    Timeout,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(e) => write!(f, "{e}"),
            StoreError::Raft(e) => write!(f, "raft: {e}"),
            StoreError::Timeout => write!(f, "the store did not become ready in time"),
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io(e)
    }
}

/// The outcome of a submitted write: `None` when the store stopped before answering.
pub type WriteOutcome = Option<ClientWriteResult>;

/// A responder for writes.
pub type WriteResponder = CallbackResponder<ClientWriteResult>;

/// A running store member.
pub struct Store {
    raft: Raft,
    log: LogStore,
    published: Arc<Published>,
    queue: mpsc::UnboundedSender<Proposal>,
    /// Writers answered and not yet back with a new write (see `propose`).
    returning: Arc<AtomicIsize>,
    node_id: u64,
    snapshot_dir: Arc<SnapshotDir>,
    /// Set by the first shutdown; later ones (the resource's destructor after
    /// an explicit stop) must not touch the directory again.
    stopped: AtomicBool,
    /// Calls to other members waiting for their answer.
    transport: Arc<Transport>,
    /// Told of the followers' calls, which must not wait for a commit.
    pub(crate) hold: Arc<CommitHold>,
    /// A snapshot being received from the leader.
    incoming: IncomingSnapshot,
    /// Holds replies until the store process carried out their effects.
    gate: Option<Arc<Gate>>,
    /// When to snapshot.
    compaction: Arc<Compaction>,
}

impl Store {
    /// Opens (or creates) the member in `cfg.dir` and waits until it can serve.
    /// Returns the store and recovery warnings to log.
    pub async fn open(cfg: StoreConfig) -> Result<(Store, Vec<String>), StoreError> {
        std::fs::create_dir_all(&cfg.dir)?;
        let log_dir = cfg.dir.join("log");
        let (log, mut warnings) = LogStore::open(&log_dir, cfg.segment_bytes)?;
        let snapshot_dir = Arc::new(SnapshotDir::new(cfg.dir.join("snapshot")));
        warnings.extend(snapshot::remove_unfinished(snapshot_dir.path())?);
        let sm = StateMachine::open(
            snapshot_dir.clone(),
            cfg.effects.clone(),
            cfg.snapshots.clone(),
            log.clone(),
        )?;
        let compaction = sm.compaction();
        warnings.extend(recovery::check(
            &log.recovered(),
            sm.applied_index(),
            &log_dir,
            &snapshot::file_path(snapshot_dir.path()),
        )?);
        let gate = sm.gate();
        let returning = sm.returning();
        let published = sm.published();
        let node_id = node_id_of(&cfg.node_name);
        let config = Config {
            cluster_name: "khepri".into(),
            // openraft's leader lease is `election_timeout_max`: no member,
            // the candidate included, starts an election until it has not
            // heard from the old leader for that long, so an election
            // usually succeeds on the second timer. Writes must resume
            // within 2 s of a leader's loss: 500-1000 ms measured 1.6-2.0 s,
            // 400-800 ms 1.3-1.65 s, 300-600 ms 0.94-1.05 s (the cluster
            // suite on 2 cores). A heartbeat every 60 ms over
            // distribution costs next to nothing.
            election_timeout_min: 300,
            election_timeout_max: 600,
            heartbeat_interval: 60,
            // openraft asks every `interval` entries; `compaction` decides.
            snapshot_policy: SnapshotPolicy::LogsSinceLast(cfg.snapshots.interval.max(1)),
            // Entries are kept decoded in memory until purged: keep few.
            max_in_snapshot_log_to_keep: 0,
            // An isolated member must not raise its term and unseat the
            // leader when it comes back.
            enable_pre_vote: Some(true),
            // Replicate entries once written, before the leader's own sync
            // completes (`flusher`): the two overlap.
            broadcast_submitted_on_append: Some(true),
            ..Default::default()
        }
        .validate()
        .map_err(|e| StoreError::Raft(e.to_string()))?;
        let transport = Arc::new(Transport::new(cfg.outbox));
        let hold = Arc::new(CommitHold::default());
        let network = Network::new(transport.clone(), hold.clone());
        let raft = Raft::new(node_id, Arc::new(config), network, log.clone(), sm)
            .await
            .map_err(|e| StoreError::Raft(e.to_string()))?;
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|e| StoreError::Raft(e.to_string()))?;
        // A store created here is its own only voter; `voter_ids()` only
        // reflects the new membership once the core has processed it.
        let sole_voter = if initialized {
            raft.voter_ids().eq([node_id])
        } else if cfg.join {
            // Joins a cluster: the leader adds it and sends it the log.
            false
        } else {
            let members = BTreeMap::from([(node_id, BasicNode::new(cfg.node_name.clone()))]);
            raft.initialize(members)
                .await
                .map_err(|e| StoreError::Raft(e.to_string()))?;
            true
        };
        if initialized && sole_voter {
            // The only voter need not wait an election timeout to lead again.
            let _ = raft.trigger().elect(false).await;
        }
        if sole_voter {
            Self::wait_ready(&raft, node_id, cfg.open_timeout).await?;
        }
        if let Some(gate) = &gate {
            runtime().spawn(watch_leadership(
                raft.metrics(),
                node_id,
                gate.sink().clone(),
            ));
        }
        runtime().spawn(compaction::run_timer(raft.clone(), compaction.clone()));
        let (queue, rx) = mpsc::unbounded_channel();
        runtime().spawn(propose(
            raft.clone(),
            rx,
            returning.clone(),
            transport.clone(),
            gate.clone(),
            node_id,
            log.clone(),
        ));
        Ok((
            Store {
                raft,
                log,
                published,
                queue,
                returning,
                node_id,
                snapshot_dir,
                stopped: AtomicBool::new(false),
                transport,
                hold,
                incoming: IncomingSnapshot::default(),
                gate,
                compaction,
            },
            warnings,
        ))
    }

    /// Waits until this sole voter leads and has applied its whole log.
    async fn wait_ready(raft: &Raft, node_id: u64, timeout: Duration) -> Result<(), StoreError> {
        raft.wait(Some(timeout))
            .metrics(
                |m| {
                    m.state == ServerState::Leader
                        && m.current_leader == Some(node_id)
                        && m.last_applied.as_ref().map(|l| l.index) >= m.last_log_index
                },
                "ready",
            )
            .await
            .map(|_| ())
            .map_err(|_| StoreError::Timeout)
    }

    /// Queues `command`; `responder` is called once it is applied (or dropped).
    /// Never blocks. On failure (store stopping) the responder is handed back
    /// unused, so that the caller can answer by itself.
    /// On a member that does not lead, the write is forwarded to the leader
    /// and answered once this member applied it (see `forward`).
    pub fn submit(
        &self,
        command: Command,
        responder: WriteResponder,
    ) -> Result<(), WriteResponder> {
        self.submit_routed(command, responder, Route::Any)
    }

    pub(crate) fn submit_routed(
        &self,
        command: Command,
        responder: WriteResponder,
        route: Route,
    ) -> Result<(), WriteResponder> {
        self.returning.fetch_sub(1, Ordering::Relaxed);
        self.queue
            .send(Proposal::Write(command, responder, route))
            .map_err(|e| match e.0 {
                Proposal::Write(_, responder, _) => responder,
                Proposal::Barrier(_) => unreachable!("a write was sent"),
            })
    }

    /// The current tree version (what this member has applied).
    pub fn tree(&self) -> Arc<Tree> {
        self.published.tree.load_full()
    }

    /// Index of the last applied entry.
    pub fn applied_index(&self) -> u64 {
        self.published.applied_index.load(Ordering::Acquire)
    }

    /// Index of the last entry in the local log.
    pub fn last_log_index(&self) -> Option<u64> {
        self.log.last_index()
    }

    /// Last log index covered by this member's latest snapshot, if any.
    pub fn snapshot_index(&self) -> Option<u64> {
        self.raft
            .metrics()
            .borrow_watched()
            .snapshot
            .map(|l| l.index)
    }

    /// Builds a snapshot of the tree as of now (everything applied before
    /// the call) and returns once it is durable; a build under way is
    /// waited for first. For benchmarks, tests and operators: snapshots are
    /// otherwise taken by the rules in [`SnapshotRules`].
    pub async fn snapshot(&self, timeout: Duration) -> Result<BuildReport, String> {
        compaction::build_now(&self.raft, &self.compaction, timeout).await
    }

    /// What the log and the newest snapshot hold now.
    pub fn compaction_state(&self) -> CompactionState {
        self.compaction.state()
    }

    /// Snapshot builds finished so far on this member.
    pub fn snapshot_builds(&self) -> u64 {
        self.compaction.subscribe().borrow().finished
    }

    /// Waits until this member has applied every entry committed before the
    /// call, confirmed by the leader with a quorum (read-index), and every
    /// write submitted here before the call (a caller's own async writes,
    /// possibly not committed yet). `false` when that cannot be done within
    /// `timeout` (no leader, no quorum, stopping).
    pub async fn barrier(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        // Queued behind the writes submitted before it: the proposer hands
        // those to openraft first, then asks it for its last log index.
        let (tx, rx) = oneshot::channel();
        if self.queue.send(Proposal::Barrier(tx)).is_err() {
            return false;
        }
        let Ok(Ok(submitted)) = tokio::time::timeout_at(deadline, rx).await else {
            return false;
        };
        let mut index = submitted.index.unwrap_or(0);
        for batch in submitted.forwarded {
            match tokio::time::timeout_at(deadline, batch).await {
                Ok(Ok(i)) => index = index.max(i),
                // Its writes were answered as failed: nothing to wait for.
                Ok(Err(_)) => {}
                Err(_) => return false,
            }
        }
        let Some(read) = self.read_index(deadline).await else {
            return false;
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let index = index.max(read);
        if !self.wait_applied(index, left).await {
            return false;
        }
        // Projections too must show what was applied (SPEC 4.7).
        match &self.gate {
            Some(gate) => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                gate.wait_projected(index, left).await
            }
            None => true,
        }
    }

    /// The number of the last effects sent to the store process.
    pub fn effects_sent(&self) -> u64 {
        self.gate.as_ref().map_or(0, |g| g.sent())
    }

    /// Takes up to `max` effects of batch `seq` (see [`Gate::take`]).
    pub fn take_effects(&self, seq: u64, max: usize) -> (Vec<khepri_core::hooks::Effect>, bool) {
        self.gate
            .as_ref()
            .map_or((Vec::new(), false), |g| g.take(seq, max))
    }

    /// The store process carried out effects up to `seq`; up to `max`
    /// answers go from the calling thread (see [`Gate::done`]); `true` when
    /// some are left.
    pub fn effects_done(&self, seq: u64, max: usize) -> bool {
        self.gate.as_ref().is_some_and(|g| g.done(seq, max))
    }

    /// Waits until this member has applied entry `index`; `false` after
    /// `timeout` or when the member stops.
    pub async fn wait_applied(&self, index: u64, timeout: Duration) -> bool {
        if self.applied_index() >= index {
            return true;
        }
        self.raft
            .wait(Some(timeout))
            .applied_index_at_least(Some(index), "applied")
            .await
            .is_ok()
    }

    /// This member's Raft node id.
    pub fn node_id(&self) -> u64 {
        self.node_id
    }

    /// The Raft instance.
    pub(crate) fn raft(&self) -> &Raft {
        &self.raft
    }

    /// The snapshot being received from the leader.
    pub(crate) fn incoming(&self) -> &IncomingSnapshot {
        &self.incoming
    }

    /// Calls to other members.
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Completes the call `id` this member made to another one.
    pub fn complete_call(&self, id: u64, answer: crate::transport::Answer) {
        self.transport.complete(id, answer)
    }

    /// Stops the member: pending writes are answered with `None`.
    pub async fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        let _ = self.raft.shutdown().await;
        // openraft does not wait for a snapshot build it spawned; closing the
        // directory waits for one that is writing and refuses later ones.
        let dir = self.snapshot_dir.clone();
        let _ = tokio::task::spawn_blocking(move || dir.close()).await;
        let _ = self.log.flush_committed();
        self.log.close();
    }
}

/// What the proposer task takes from the queue, in submission order.
enum Proposal {
    /// A write for openraft.
    Write(Command, WriteResponder, Route),
    /// A read barrier: answered once every write queued before it has been
    /// handed to openraft or forwarded to the leader.
    Barrier(oneshot::Sender<Submitted>),
}

/// What a read barrier must wait for besides the leader's read index.
struct Submitted {
    /// The last index in the local log.
    index: Option<u64>,
    /// Batches forwarded to the leader and not answered yet.
    forwarded: Vec<InFlight>,
}

/// The longest a batch waits for answered writers to come back.
const COMMIT_DELAY: Duration = Duration::from_micros(150);

/// Feeds queued commands to openraft. openraft merges what is queued into one
/// log append, so a burst of writes costs one fdatasync.
///
/// Writers answered by the last applied batch usually write again within
/// ~100 us. Without waiting for them, concurrent writers settle into two
/// groups taking turns, each batch half of them; so, while some answered
/// writers have not come back, the batch waits for them, at most
/// [`COMMIT_DELAY`]. A lone writer is never delayed: its new write is the
/// one it was answered for.
async fn propose(
    raft: Raft,
    mut rx: mpsc::UnboundedReceiver<Proposal>,
    returning: Arc<AtomicIsize>,
    transport: Arc<Transport>,
    gate: Option<Arc<Gate>>,
    node_id: u64,
    log: LogStore,
) {
    let mut batch = Vec::with_capacity(256);
    let mut forwarding = Forwarding {
        raft: raft.clone(),
        transport,
        gate,
        outgoing: Vec::new(),
        forwarded: Vec::new(),
    };
    while rx.recv_many(&mut batch, 256).await > 0 {
        if returning.load(Ordering::Relaxed) > 0 {
            let deadline = tokio::time::Instant::now() + COMMIT_DELAY;
            loop {
                tokio::task::yield_now().await;
                while let Ok(p) = rx.try_recv() {
                    batch.push(p);
                }
                if returning.load(Ordering::Relaxed) <= 0 {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    // Those not back in time are not waited for again.
                    returning.store(0, Ordering::Relaxed);
                    break;
                }
            }
        }
        // Writes from writers that were never answered (new ones) count
        // below zero; they owe no return.
        returning.fetch_max(0, Ordering::Relaxed);
        let role = role(&raft, node_id);
        // A leader with followers syncs its log while the entries travel
        // (see `flusher`); alone, it syncs inline.
        log.set_deferred_sync(matches!(role, Role::LeadsOthers));
        let leader = match role {
            Role::Follows(name) => Some(name),
            _ => None,
        };
        for proposal in batch.drain(..) {
            let sent = match (proposal, &leader) {
                (Proposal::Write(command, responder, Route::Any), Some(_)) => {
                    forwarding.outgoing.push((command, responder));
                    Ok(())
                }
                // On error the responder is dropped, which answers the caller.
                (Proposal::Write(command, responder, _), _) => {
                    mark(Stage::Proposed);
                    raft.client_write_ff(command, Some(responder)).await
                }
                (Proposal::Barrier(tx), _) => {
                    forwarding.flush(&leader);
                    let forwarded = forwarding.unanswered();
                    // openraft handles requests in order: this one sees the
                    // writes sent above in its log.
                    raft.external_request(move |state| {
                        let _ = tx.send(Submitted {
                            index: state.log_ids.last().map(|l| l.index),
                            forwarded,
                        });
                    })
                    .await
                }
            };
            if sent.is_err() {
                rx.close();
            }
        }
        forwarding.flush(&leader);
    }
}

/// A follower's writes on their way to the leader: those gathered from the
/// current batch, and the batches sent and not answered yet.
struct Forwarding {
    raft: Raft,
    transport: Arc<Transport>,
    gate: Option<Arc<Gate>>,
    outgoing: Vec<(Command, WriteResponder)>,
    forwarded: Vec<InFlight>,
}

impl Forwarding {
    /// Forwards the writes gathered so far to `leader` (none: this member
    /// leads, and nothing was gathered), as one call.
    fn flush(&mut self, leader: &Option<String>) {
        let Some(target) = leader else { return };
        if self.outgoing.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.outgoing);
        self.forget_answered();
        self.forwarded.push(forward_batch(
            self.raft.clone(),
            self.transport.clone(),
            self.gate.clone(),
            target.clone(),
            batch,
        ));
    }

    /// The batches sent and not answered yet, for a read barrier to wait on.
    fn unanswered(&mut self) -> Vec<InFlight> {
        self.forget_answered();
        self.forwarded.clone()
    }

    /// Drops the batches already answered: a read barrier need not wait for
    /// them, and a follower that forwards for days must not keep them.
    /// (`Shared::peek` sees an outcome only once some clone polled it.)
    fn forget_answered(&mut self) {
        self.forwarded
            .retain(|f| f.clone().now_or_never().is_none());
    }
}

/// Tells `sink` each time this member starts or stops leading: the store
/// process then runs, or stops running, trigger firings. Ends with the member.
async fn watch_leadership(
    mut metrics: openraft::alias::WatchReceiverOf<
        crate::types::TypeConfig,
        openraft::RaftMetrics<crate::types::TypeConfig>,
    >,
    me: u64,
    sink: Arc<dyn crate::effects::EffectSink>,
) {
    let mut leading = false;
    loop {
        let now = {
            let m = metrics.borrow_watched();
            m.state == ServerState::Leader && m.current_leader == Some(me)
        };
        if now != leading {
            leading = now;
            sink.leadership(now);
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}
