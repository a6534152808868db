//! Effects of applied commands on projections and triggers, sent to the
//! store process, and the calls through which it answers.
//!
//! Message shapes (to the store process):
//! - `{'$khepri_effects', Seq, Items}`, one per applied batch with effects;
//!   the store process carries the items out in order, then calls
//!   `effects_done(Engine, Seq)`, which releases the batch's replies. Items:
//!   - `{register, Name, Projection, Pattern, Version}`: create the tables of
//!     `Projection` (the `#khepri_projection{}` record) and fill them with
//!     `query(Version, Pattern, ...)`;
//!   - `{unregister, [Name]}`: drop their tables;
//!   - `{project, [Name], Path, OldProps, NewProps}`: a node changed
//!     (`#{}`: absent); only `data` is given unless an extended projection
//!     follows the node;
//!   - `{fire, Seq, TriggerId, Path, create | update | delete, SprocPath}`:
//!     a trigger firing, to run if this member leads.
//! - `{'$khepri_leadership', Leading}` when this member starts or stops
//!   leading.

use crate::atoms;
use crate::codec::{decode_stored_term, encode_bytes, encode_path, make_atom};
use crate::engine::Engine;
use crate::packed_terms::Decoder;
use crate::pattern_codec::encode_pattern;
use crate::reply::{encode_props_with, map};
use crate::source::TreeVersion;
use khepri_core::hooks::{Effect, Firing, ProjectionKind};
use khepri_core::{Change, Node, NodeProps, PropsWanted};
use khepri_raft::effects::EffectSink;
use rustler::{Encoder, Env, LocalPid, NifResult, OwnedEnv, ResourceArc, Term};
use std::sync::Arc;

/// Sends effects to the store process that opened the engine.
pub struct StoreProcessSink {
    /// The store process.
    pub pid: LocalPid,
}

impl EffectSink for StoreProcessSink {
    fn effects(&self, seq: u64, effects: Vec<Effect>) {
        // Called from the engine's thread only, never from a scheduler.
        let mut env = OwnedEnv::new();
        let _ = env.send_and_clear(&self.pid, |e| {
            let mut decoder = Decoder::new(e);
            let items: Vec<Term> = effects
                .iter()
                .filter_map(|effect| encode_effect(e, effect, &mut decoder))
                .collect();
            (atoms::khepri_effects(), seq, items).encode(e)
        });
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

fn encode_effect<'a>(env: Env<'a>, effect: &Effect, decoder: &mut Decoder<'a>) -> Option<Term<'a>> {
    Some(match effect {
        Effect::Register(def, tree) => {
            let version = ResourceArc::new(TreeVersion {
                tree: Arc::new(tree.clone()),
            });
            (
                atoms::register(),
                name(env, &def.name),
                decode_stored_term(env, def.spec.as_slice()),
                encode_pattern(env, &def.pattern),
                version,
            )
                .encode(env)
        }
        Effect::Unregister(names) => {
            let names: Vec<Term> = names.iter().map(|n| name(env, n)).collect();
            (atoms::unregister(), names).encode(env)
        }
        Effect::Project {
            path,
            old,
            new,
            projections,
        } => {
            let full = projections
                .iter()
                .any(|p| p.kind == ProjectionKind::Extended);
            let has_data = |n: &Option<Node>| {
                n.as_ref()
                    .is_some_and(|n| n.payload_kind() == khepri_core::node::PayloadKind::Data)
            };
            // Copy and simple projections only record nodes with data.
            if !full && !has_data(old) && !has_data(new) {
                return None;
            }
            let names: Vec<Term> = projections.iter().map(|p| name(env, &p.name)).collect();
            (
                atoms::project(),
                names,
                encode_path(env, path),
                props(env, old.as_ref(), full, decoder),
                props(env, new.as_ref(), full, decoder),
            )
                .encode(env)
        }
        Effect::Fire(firing) => encode_firing(env, firing),
    })
}

/// The properties a projection gets: `#{}` for an absent node; `data` only
/// for copy and simple projections; for extended ones, the properties of
/// SPEC 4.7.
fn props<'a>(env: Env<'a>, node: Option<&Node>, full: bool, decoder: &mut Decoder<'a>) -> Term<'a> {
    let Some(node) = node else {
        return map(env, &[]);
    };
    if !full {
        return match node.payload_kind() {
            khepri_core::node::PayloadKind::Data => {
                let data = decoder
                    .payload(node)
                    .unwrap_or_else(|| atoms::undefined().encode(env));
                map(env, &[(atoms::data().encode(env), data)])
            }
            _ => map(env, &[]),
        };
    }
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

/// `effects_done(Engine, Seq) -> ok`: the store process carried out the
/// effects numbered up to `Seq`; their replies go.
#[rustler::nif]
fn effects_done(engine: ResourceArc<Engine>, seq: u64) -> rustler::Atom {
    engine.store.effects_done(seq);
    atoms::ok()
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
