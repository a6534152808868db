//! Effects of applied commands on projections and triggers, sent to the
//! store process, and the calls through which it answers.
//!
//! Message shapes (to the store process):
//! - `{'$khepri_effects', Seq}`, one per applied batch with effects; the
//!   store process takes its items with `take_effects(Engine, Seq)` (in
//!   bounded chunks), carries them out in order, then calls
//!   `effects_done(Engine, Seq)`, which answers the batch's writers. Items:
//!   - `{register, Name, Projection, Pattern, Version}`: create the tables of
//!     `Projection` (the `#khepri_projection{}` record) and fill them with
//!     `query(Version, Pattern, ...)`;
//!   - `{unregister, [Name]}`: drop their tables;
//!   - `{project, Name, Changes}`: the changes, in apply order, of nodes a
//!     projection follows, grouped by projection between the other items
//!     (each projection has tables of its own, so only its own order
//!     matters). For a copy or simple projection `{put, Path, Data}` (insert
//!     the node's record) or `{delete, Path, Data}` (the node lost its data
//!     or went: delete its old record); for an extended one `{Path,
//!     OldProps, NewProps}` (`#{}`: absent). One list per projection lets
//!     the store process run a tight loop per table;
//!   - `{fire, Seq, TriggerId, Path, create | update | delete, SprocPath}`:
//!     a trigger firing, to run if this member leads.
//! - `{'$khepri_leadership', Leading}` when this member starts or stops
//!   leading.

use crate::atoms;
use crate::codec::{decode_stored_term, encode_bytes, encode_path, make_atom};
use crate::engine::Engine;
use crate::packed_terms::Decoder;
use crate::pattern_codec::encode_pattern;
use crate::reply::{encode_props_with, map, sending_from};
use crate::source::TreeVersion;
use khepri_core::hooks::{Effect, Firing, ProjectionDef, ProjectionKind};
use khepri_core::node::PayloadKind;
use khepri_core::{Change, Node, NodeProps, PropsWanted};
use khepri_raft::effects::EffectSink;
use rustler::{Encoder, Env, LocalPid, NifResult, OwnedEnv, ResourceArc, Term};
use std::sync::Arc;

/// Tells the store process that opened the engine of effects and leadership.
pub struct StoreProcessSink {
    /// The store process.
    pub pid: LocalPid,
}

impl EffectSink for StoreProcessSink {
    fn ready(&self, seq: u64) {
        // Called from the engine's thread only, never from a scheduler.
        let mut env = OwnedEnv::new();
        let _ = env.send_and_clear(&self.pid, |e| (atoms::khepri_effects(), seq).encode(e));
    }

    fn leadership(&self, leading: bool) {
        let mut env = OwnedEnv::new();
        let _ = env.send_and_clear(&self.pid, |e| {
            (atoms::khepri_leadership(), leading).encode(e)
        });
    }
}

fn name<'a>(env: Env<'a>, name: &str) -> Term<'a> {
    make_atom(env, name).unwrap_or_else(|| encode_bytes(env, name.as_bytes()))
}

/// The items of one batch, projection changes grouped (see the module doc).
fn encode_effects<'a>(env: Env<'a>, effects: &[Effect]) -> Vec<Term<'a>> {
    let mut decoder = Decoder::new(env);
    let mut items = Vec::new();
    let mut run = ProjectionRun::default();
    for effect in effects {
        match effect {
            Effect::Project {
                path,
                old,
                new,
                projections,
            } => run.add(
                env,
                &mut decoder,
                path,
                old.as_ref(),
                new.as_ref(),
                projections,
            ),
            Effect::Register(def, tree) => {
                run.flush(env, &mut items);
                let version = ResourceArc::new(TreeVersion {
                    tree: Arc::new(tree.clone()),
                });
                items.push(
                    (
                        atoms::register(),
                        name(env, &def.name),
                        decode_stored_term(env, def.spec.as_slice()),
                        encode_pattern(env, &def.pattern),
                        version,
                    )
                        .encode(env),
                );
            }
            Effect::Unregister(names) => {
                run.flush(env, &mut items);
                let names: Vec<Term> = names.iter().map(|n| name(env, n)).collect();
                items.push((atoms::unregister(), names).encode(env));
            }
            // Firings go to the runner, not to tables: no flush needed.
            Effect::Fire(firing) => items.push(encode_firing(env, firing)),
        }
    }
    run.flush(env, &mut items);
    items
}

/// Projection changes since the last other item, per projection.
#[derive(Default)]
struct ProjectionRun<'a> {
    per_projection: Vec<(Arc<ProjectionDef>, Vec<Term<'a>>)>,
}

impl<'a> ProjectionRun<'a> {
    /// Adds the change of the node at `path` for each projection following
    /// it. The path and payloads are encoded once, shared by the terms.
    fn add(
        &mut self,
        env: Env<'a>,
        decoder: &mut Decoder<'a>,
        path: &khepri_core::Path,
        old: Option<&Node>,
        new: Option<&Node>,
        projections: &[Arc<ProjectionDef>],
    ) {
        let path = encode_path(env, path);
        let mut record_change = None;
        let mut full_change = None;
        for def in projections {
            let change = if def.kind == ProjectionKind::Extended {
                *full_change.get_or_insert_with(|| {
                    Some(
                        (
                            path,
                            full_props(env, old, decoder),
                            full_props(env, new, decoder),
                        )
                            .encode(env),
                    )
                })
            } else {
                *record_change.get_or_insert_with(|| record_change_of(env, decoder, path, old, new))
            };
            let Some(change) = change else { continue };
            match self
                .per_projection
                .iter_mut()
                .find(|(d, _)| Arc::ptr_eq(d, def))
            {
                Some((_, changes)) => changes.push(change),
                None => self.per_projection.push((Arc::clone(def), vec![change])),
            }
        }
    }

    /// Appends `{project, Name, Changes}` items and starts a new run.
    fn flush(&mut self, env: Env<'a>, items: &mut Vec<Term<'a>>) {
        for (def, changes) in self.per_projection.drain(..) {
            items.push((atoms::project(), name(env, &def.name), changes).encode(env));
        }
    }
}

/// For copy and simple projections (SPEC 4.7): a node with data is put as
/// its record (an update does not delete the old record first); a node
/// that lost its data, or went, has its old record deleted.
fn record_change_of<'a>(
    env: Env<'a>,
    decoder: &mut Decoder<'a>,
    path: Term<'a>,
    old: Option<&Node>,
    new: Option<&Node>,
) -> Option<Term<'a>> {
    let (op, node) = match (with_data(old), with_data(new)) {
        (_, Some(new)) => (atoms::put(), new),
        (Some(old), None) => (atoms::delete(), old),
        (None, None) => return None,
    };
    let data = decoder
        .payload(node)
        .unwrap_or_else(|| atoms::undefined().encode(env));
    Some((op, path, data).encode(env))
}

fn with_data(node: Option<&Node>) -> Option<&Node> {
    node.filter(|n| n.payload_kind() == PayloadKind::Data)
}

/// The properties an extended projection gets (SPEC 4.7); `#{}` for an
/// absent node.
fn full_props<'a>(env: Env<'a>, node: Option<&Node>, decoder: &mut Decoder<'a>) -> Term<'a> {
    let Some(node) = node else {
        return map(env, &[]);
    };
    let wanted = PropsWanted {
        payload: true,
        payload_version: true,
        child_list_version: true,
        child_list_length: true,
        child_names: true,
        ..PropsWanted::NONE
    };
    let props = NodeProps::of(node, node.payload(), wanted, None);
    let term = decoder.payload(node);
    encode_props_with(env, &props, wanted, term)
}

/// `{fire, Seq, TriggerId, Path, Change, SprocPath}`.
fn encode_firing<'a>(env: Env<'a>, f: &Firing) -> Term<'a> {
    let change = match f.change {
        Change::Create => atoms::create(),
        Change::Update => atoms::update(),
        Change::Delete(_) => atoms::delete(),
    };
    (
        atoms::fire(),
        f.seq,
        name(env, &f.trigger),
        encode_path(env, &f.path),
        change,
        encode_path(env, &f.sproc),
    )
        .encode(env)
}

/// The most effects one `take_effects` call encodes (~1 us each) and the
/// most answers one `effects_done` call sends (~1-2 us each), so that a
/// call stays well under a millisecond on its scheduler.
const EFFECTS_PER_CALL: usize = 512;
const ANSWERS_PER_CALL: usize = 256;

/// `take_effects(Engine, Seq) -> {Items, More}`: up to a bound of the
/// effects numbered `Seq`, as items (see the module doc), made in the
/// calling process's heap; `More` is `true` when some are left.
#[rustler::nif]
fn take_effects<'a>(env: Env<'a>, engine: ResourceArc<Engine>, seq: u64) -> Term<'a> {
    let (effects, more) = engine.store.take_effects(seq, EFFECTS_PER_CALL);
    (encode_effects(env, &effects), more).encode(env)
}

/// `effects_done(Engine, Seq) -> ok | more`: the store process carried
/// out the effects numbered up to `Seq`; their replies go from this call
/// (no thread hop on the write path), up to a bound: `more` when some are
/// left, for another call.
#[rustler::nif]
fn effects_done(env: Env, engine: ResourceArc<Engine>, seq: u64) -> rustler::Atom {
    if sending_from(env, || engine.store.effects_done(seq, ANSWERS_PER_CALL)) {
        atoms::more()
    } else {
        atoms::ok()
    }
}

/// `effects_sent(Engine) -> Seq`: the number of the last effects sent to
/// the store process (0: none yet).
#[rustler::nif]
fn effects_sent(engine: ResourceArc<Engine>) -> u64 {
    engine.store.effects_sent()
}

/// `pending_triggers(Engine) -> [{fire, ...}]`: the firings this member's
/// tree says are owed, oldest first (what a new leader runs).
#[rustler::nif]
fn pending_triggers<'a>(env: Env<'a>, engine: ResourceArc<Engine>) -> Vec<Term<'a>> {
    let tree = engine.store.tree();
    tree.hooks
        .pending
        .values()
        .map(|f| encode_firing(env, f))
        .collect()
}

/// `projections(Engine) -> #{Name => Pattern}`: projections registered, as
/// of this member's tree.
#[rustler::nif]
fn projections<'a>(env: Env<'a>, engine: ResourceArc<Engine>) -> NifResult<Term<'a>> {
    let tree = engine.store.tree();
    let pairs: Vec<(Term, Term)> = tree
        .hooks
        .projections
        .values()
        .map(|def| (name(env, &def.name), encode_pattern(env, &def.pattern)))
        .collect();
    Term::map_from_pairs(env, &pairs)
}
