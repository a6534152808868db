//! Messages from the engine's threads to Erlang processes, and the encoding of
//! write results and errors.

use crate::atoms;
use crate::codec::{decode_stored_term, encode_bytes, encode_node_id, encode_path, make_atom};
use crate::pattern_codec::{encode_condition, encode_pattern};
use khepri_core::{
    DeleteReason, KeepWhileReason, KhepriError, NodeProps, Payload, PropsWanted, Reply,
};
use khepri_raft::forward::fate_unknown;
use khepri_raft::WriteOutcome;
use rustler::env::SavedTerm;
use rustler::{Encoder, Env, LocalPid, OwnedEnv, Term};
use std::cell::Cell;

/// Where an answer goes: a process and the reference it waits on. Built on the
/// calling scheduler, used on an engine thread.
pub struct ReplyTo {
    env: OwnedEnv,
    pid: LocalPid,
    tag: SavedTerm,
}

impl ReplyTo {
    /// Answer the calling process with `{Tag, Result}`.
    pub fn new(env: Env, tag: Term) -> Self {
        Self::to(env.pid(), tag)
    }

    /// Answer process `pid` with `{Tag, Result}`.
    pub fn to(pid: LocalPid, tag: Term) -> Self {
        let owned = OwnedEnv::new();
        let tag = owned.save(tag);
        ReplyTo {
            env: owned,
            pid,
            tag,
        }
    }

    /// Sends `{Tag, make(Env)}`. Runs on an engine thread, or inside
    /// [`sending_from`] on a scheduler.
    pub fn send<F>(self, make: F)
    where
        F: for<'a> FnOnce(Env<'a>) -> Term<'a>,
    {
        let ReplyTo { mut env, pid, tag } = self;
        let caller = CALLER.with(Cell::get);
        if caller.is_null() {
            // A dead recipient is not an error: nobody waits any more.
            let _ = env.send_and_clear(&pid, |e| (tag.load(e), make(e)).encode(e));
        } else {
            let (msg_env, message) =
                env.run(|e| (e.as_c_arg(), (tag.load(e), make(e)).encode(e).as_c_arg()));
            // SAFETY: `caller` is the environment of the NIF call running on
            // this thread (set by `sending_from` for its duration), and
            // `msg_env` a process-independent environment holding `message`,
            // which `enif_send` takes the contents of; it is cleared before
            // any other use, as `send_and_clear` does.
            unsafe { rustler::sys::enif_send(caller, pid.as_c_arg(), msg_env, message) };
            env.clear();
        }
    }
}

thread_local! {
    /// The environment of the NIF call in progress on this scheduler thread,
    /// while it answers writers (null otherwise).
    static CALLER: Cell<*mut rustler::sys::ErlNifEnv> = const { Cell::new(std::ptr::null_mut()) };
}

/// Runs `f`, during which answers ([`ReplyTo::send`]) made on this thread
/// are sent through `env`, the calling NIF's environment: a scheduler
/// thread may send only that way.
pub fn sending_from<R>(env: Env, f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CALLER.with(|c| c.set(std::ptr::null_mut()));
        }
    }
    CALLER.with(|c| c.set(env.as_c_arg()));
    let _reset = Reset;
    f()
}

/// `{error, noproc}`: the store went away before answering.
pub fn noproc<'a>(env: Env<'a>) -> Term<'a> {
    (atoms::error(), atoms::noproc()).encode(env)
}

/// Encodes the outcome of a write. A write refused before it entered any
/// log is `{error, not_leader}`, which the caller retries. A write whose fate
/// is unknown (its entry may still commit under a new leader) is
/// `{error, timeout}`: retrying it could apply it twice.
pub fn encode_outcome<'a>(env: Env<'a>, outcome: WriteOutcome, wanted: PropsWanted) -> Term<'a> {
    match outcome {
        None => noproc(env),
        Some(Err(e)) if fate_unknown(&e) => (atoms::error(), atoms::timeout()).encode(env),
        Some(Err(_)) => (atoms::error(), atoms::not_leader()).encode(env),
        Some(Ok(response)) => encode_reply(env, &response.data, wanted),
    }
}

/// `{ok, [{Path, Props}]}` or `{error, {khepri, Name, Props}}`. The result
/// is a list, made a map by the caller in Erlang: this runs on an engine
/// thread, where OTP 25's `enif_make_map_from_arrays` crashes the VM for
/// maps of more than ~128 keys (it sorts them with a scheduler-only
/// allocator).
pub fn encode_reply<'a>(env: Env<'a>, reply: &Reply, wanted: PropsWanted) -> Term<'a> {
    match reply {
        Ok(changes) => {
            let pairs: Vec<Term> = changes
                .iter()
                .map(|(path, props)| {
                    (encode_path(env, path), encode_props(env, props, wanted)).encode(env)
                })
                .collect();
            (atoms::ok(), pairs).encode(env)
        }
        Err(e) => (atoms::error(), encode_error(env, e)).encode(env),
    }
}

/// A small map of `pairs` (error and node properties: a handful of keys,
/// safe on any thread). Should keys repeat, put one by one (the last wins)
/// rather than lose entries.
pub fn map<'a>(env: Env<'a>, pairs: &[(Term<'a>, Term<'a>)]) -> Term<'a> {
    Term::map_from_pairs(env, pairs).unwrap_or_else(|_| {
        pairs
            .iter()
            .fold(rustler::types::map::map_new(env), |m, (k, v)| {
                m.map_put(*k, *v).unwrap_or(m)
            })
    })
}

/// `{khepri, Name, Props}` for a returned error (`tx_conflict` for a
/// transaction's conflict).
pub fn encode_error<'a>(env: Env<'a>, e: &KhepriError) -> Term<'a> {
    let key = |a: rustler::Atom| a.encode(env);
    match e {
        KhepriError::NodeNotFound {
            node_name,
            node_path,
            node_is_target,
            condition,
        } => {
            let mut pairs = vec![
                (key(atoms::node_name()), encode_node_id(env, node_name)),
                (key(atoms::node_path()), encode_path(env, node_path)),
                (key(atoms::node_is_target()), node_is_target.encode(env)),
            ];
            if let Some(c) = condition {
                pairs.push((key(atoms::condition()), encode_condition(env, c)));
            }
            (atoms::khepri(), atoms::node_not_found(), map(env, &pairs)).encode(env)
        }
        KhepriError::MismatchingNode {
            node_name,
            node_path,
            node_is_target,
            node_props,
            condition,
        } => {
            let pairs = [
                (key(atoms::node_name()), encode_node_id(env, node_name)),
                (key(atoms::node_path()), encode_path(env, node_path)),
                (key(atoms::node_is_target()), node_is_target.encode(env)),
                (
                    key(atoms::node_props()),
                    encode_props(env, node_props, PropsWanted::DEFAULT),
                ),
                (key(atoms::condition()), encode_condition(env, condition)),
            ];
            (atoms::khepri(), atoms::mismatching_node(), map(env, &pairs)).encode(env)
        }
        KhepriError::KeepWhileConditionsNotMet {
            node_name,
            node_path,
            keep_while_reason,
        } => {
            let reason = match &**keep_while_reason {
                KeepWhileReason::Failed(c) => encode_condition(env, c),
                KeepWhileReason::PatternMatchesNoNodes(p) => {
                    (atoms::pattern_matches_no_nodes(), encode_pattern(env, p)).encode(env)
                }
            };
            let pairs = [
                (key(atoms::node_name()), encode_node_id(env, node_name)),
                (key(atoms::node_path()), encode_path(env, node_path)),
                (key(atoms::keep_while_reason()), reason),
            ];
            (
                atoms::khepri(),
                atoms::keep_while_conditions_not_met(),
                map(env, &pairs),
            )
                .encode(env)
        }
        // Internal: the transaction runner re-runs the fun on it.
        KhepriError::Conflict => atoms::tx_conflict().encode(env),
        KhepriError::ProjectionAlreadyExists { name } => {
            let name = make_atom(env, name).unwrap_or_else(|| encode_bytes(env, name.as_bytes()));
            let pairs = [(key(atoms::name()), name)];
            (
                atoms::khepri(),
                atoms::projection_already_exists(),
                map(env, &pairs),
            )
                .encode(env)
        }
    }
}

/// A payload as `khepri_payload` writes it: `'$__NO_PAYLOAD__'`,
/// `{p_data, Term}` or `{p_sproc, Fun, rw}`.
pub fn encode_raw_payload<'a>(env: Env<'a>, payload: &Payload) -> Term<'a> {
    match payload {
        Payload::None => atoms::no_payload().encode(env),
        Payload::Data(b) => (atoms::p_data(), decode_stored_term(env, b.as_slice())).encode(env),
        Payload::Sproc(b) => (
            atoms::p_sproc(),
            decode_stored_term(env, b.as_slice()),
            atoms::rw(),
        )
            .encode(env),
    }
}

/// The node properties map, with the keys the caller asked for.
pub fn encode_props<'a>(env: Env<'a>, props: &NodeProps, wanted: PropsWanted) -> Term<'a> {
    let term = match &props.payload {
        Payload::Data(b) | Payload::Sproc(b) if wanted.payload => {
            Some(decode_stored_term(env, b.as_slice()))
        }
        _ => None,
    };
    encode_props_with(env, props, wanted, term)
}

/// [`encode_props`] with the payload's term already made (`payload_term`,
/// used for the `data` or `sproc` key): reads build it from packed bytes
/// without going through the external term format.
pub fn encode_props_with<'a>(
    env: Env<'a>,
    props: &NodeProps,
    wanted: PropsWanted,
    payload_term: Option<Term<'a>>,
) -> Term<'a> {
    let mut pairs: Vec<(Term, Term)> = Vec::with_capacity(6);
    if let (true, Some(term)) = (wanted.payload, payload_term) {
        match &props.payload {
            Payload::Data(_) => pairs.push((atoms::data().encode(env), term)),
            Payload::Sproc(_) => pairs.push((atoms::sproc().encode(env), term)),
            Payload::None => {}
        }
    }
    if wanted.has_payload {
        match &props.payload {
            Payload::Data(_) => pairs.push((atoms::has_data().encode(env), true.encode(env))),
            Payload::Sproc(_) => pairs.push((atoms::is_sproc().encode(env), true.encode(env))),
            Payload::None => {}
        }
    }
    if wanted.raw_payload {
        pairs.push((
            atoms::raw_payload().encode(env),
            encode_raw_payload(env, &props.payload),
        ));
    }
    if wanted.payload_version {
        pairs.push((
            atoms::payload_version().encode(env),
            props.payload_version.encode(env),
        ));
    }
    if wanted.child_list_version {
        pairs.push((
            atoms::child_list_version().encode(env),
            props.child_list_version.encode(env),
        ));
    }
    if wanted.child_list_length {
        pairs.push((
            atoms::child_list_length().encode(env),
            props.child_list_length.encode(env),
        ));
    }
    if wanted.child_names {
        let names: Vec<Term> = props
            .child_names
            .iter()
            .map(|n| encode_node_id(env, n))
            .collect();
        pairs.push((atoms::child_names().encode(env), names.encode(env)));
    }
    if wanted.delete_reason {
        if let Some(reason) = props.delete_reason {
            let r = match reason {
                DeleteReason::Explicit => atoms::explicit(),
                DeleteReason::KeepWhile => atoms::keep_while(),
            };
            pairs.push((atoms::delete_reason().encode(env), r.encode(env)));
        }
    }
    map(env, &pairs)
}
