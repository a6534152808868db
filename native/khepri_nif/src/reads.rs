//! Reads on the member's current tree version: single nodes synchronously
//! (an immutable tree walk in microseconds, no lock shared with writers),
//! pattern queries on a dirty scheduler.

use crate::atoms;
use crate::codec::{
    decode_path, decode_wanted, encode_bytes, encode_node_id, encode_path, lookup,
    INLINE_DECODE_LIMIT,
};
use crate::engine::Engine;
use crate::packed_terms::{payload_term, Decoder};
use crate::pattern_codec::{decode_pattern, encode_condition, encode_pattern};
use crate::reply::{encode_error, encode_props, encode_props_with, encode_raw_payload};
use crate::source::Source;
use khepri_core::condition::{CmpOp, Comparison};
use khepri_core::data_match::TermMatcher;
use khepri_core::node::{PayloadKind, Stored};
use khepri_core::{query, Component, Condition, Node, NodeId, NodeProps, Payload};
use rustler::{Encoder, Env, NifResult, ResourceArc, Term};

/// `get(Engine, Path)`: `{ok, Term}`, `{ok, undefined}` (no payload),
/// `{ok_etf, Binary}` (large payload, decoded by the caller) or
/// `{error, {khepri, node_not_found, Props}}`.
#[rustler::nif]
fn get<'a>(env: Env<'a>, source: Source, path: Term<'a>) -> NifResult<Term<'a>> {
    let tree = source.tree();
    observe_path(&source, &tree, path)?;
    let found = match lookup(&tree.root, path)? {
        Some(node) => Ok(node),
        // Missing: decode the whole path to name the first missing node.
        None => tree.find(&decode_path(path)?),
    };
    Ok(match found {
        Ok(node) => match node.stored() {
            Stored::Etf(_, b) if b.len() > INLINE_DECODE_LIMIT => (
                rustler::types::atom::Atom::from_str(env, "ok_etf")?,
                encode_bytes(env, b.as_slice()),
            )
                .encode(env),
            _ => match payload_term(env, node) {
                Some(t) => (atoms::ok(), t).encode(env),
                None => (atoms::ok(), atoms::undefined()).encode(env),
            },
        },
        Err(e) => (atoms::error(), encode_error(env, &e)).encode(env),
    })
}

/// `exists(Engine, Path) -> boolean()`.
#[rustler::nif]
fn exists(source: Source, path: Term) -> NifResult<bool> {
    let tree = source.tree();
    observe_path(&source, &tree, path)?;
    Ok(lookup(&tree.root, path)?.is_some())
}

/// In a transaction, records the read of a plain path.
fn observe_path(source: &Source, tree: &khepri_core::Tree, path: Term) -> NifResult<()> {
    if let Source::Tx(_) = source {
        let pattern: Vec<Component> = decode_path(path)?
            .into_iter()
            .map(Component::Name)
            .collect();
        source.observed(tree, &pattern, false);
    }
    Ok(())
}

/// `applied_index(Engine) -> non_neg_integer()`: the last log index applied here.
#[rustler::nif]
fn applied_index(engine: ResourceArc<Engine>) -> u64 {
    engine.store.applied_index()
}

/// `last_log_index(Engine) -> non_neg_integer()`: the last index in the local log.
#[rustler::nif]
fn last_log_index(engine: ResourceArc<Engine>) -> u64 {
    engine.store.last_log_index().unwrap_or(0)
}

/// `dump(Engine) -> [{Path, Payload}]` in tree order, where Payload is
/// `none | {data, Term} | {sproc, Fun}`. For `info` and debugging: it walks the
/// whole tree, so it runs on a dirty scheduler.
#[rustler::nif(schedule = "DirtyCpu")]
fn dump<'a>(env: Env<'a>, engine: ResourceArc<Engine>) -> Term<'a> {
    let tree = engine.store.tree();
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(env, &tree.root, &mut path, &mut out);
    out.encode(env)
}

fn walk<'a>(env: Env<'a>, node: &Node, path: &mut Vec<NodeId>, out: &mut Vec<Term<'a>>) {
    let payload = match (node.payload_kind(), payload_term(env, node)) {
        (PayloadKind::Data, Some(t)) => (atoms::data(), t).encode(env),
        (PayloadKind::Sproc, Some(t)) => (atoms::sproc(), t).encode(env),
        _ => atoms::none().encode(env),
    };
    out.push((encode_path(env, path), payload).encode(env));
    for (name, child) in node.children().iter() {
        path.push(name.clone());
        walk(env, child, path, out);
        path.pop();
    }
}

/// `get_one(Engine, Pattern, PropsToReturn)`: `{ok, {Path, Props}}` or
/// `{error, {khepri, node_not_found, _}}` for the node a single-node pattern
/// targets; `too_big` when its payload is large enough to need
/// `get_one_dirty/3` (decoding it here would hold a normal scheduler).
#[rustler::nif]
fn get_one<'a>(
    env: Env<'a>,
    source: Source,
    pattern: Term<'a>,
    props: Term<'a>,
) -> NifResult<Term<'a>> {
    one(env, &source, pattern, props, true)
}

/// `get_one/3` on a dirty scheduler, for large payloads.
#[rustler::nif(schedule = "DirtyCpu")]
fn get_one_dirty<'a>(
    env: Env<'a>,
    source: Source,
    pattern: Term<'a>,
    props: Term<'a>,
) -> NifResult<Term<'a>> {
    one(env, &source, pattern, props, false)
}

fn one<'a>(
    env: Env<'a>,
    source: &Source,
    pattern: Term<'a>,
    props: Term<'a>,
    limited: bool,
) -> NifResult<Term<'a>> {
    let pattern = decode_pattern(pattern)?;
    let wanted = decode_wanted(props)?;
    let tree = source.tree();
    let found = query::get_one(&tree, &pattern, &TermMatcher);
    // `too_big` is not a read: the dirty retry records it.
    let too_big = matches!(&found, Ok((_, node)) if limited
        && (wanted.payload || wanted.raw_payload)
        && matches!(node.stored(), Stored::Etf(_, b) if b.len() > INLINE_DECODE_LIMIT));
    if too_big {
        return Ok(rustler::types::atom::Atom::from_str(env, "too_big")?.encode(env));
    }
    source.observed(&tree, &pattern, false);
    Ok(match found {
        Ok((path, node)) => {
            let props = NodeProps::of(node, node.payload(), wanted, None);
            (
                atoms::ok(),
                (encode_path(env, &path), encode_props(env, &props, wanted)),
            )
                .encode(env)
        }
        Err(e) => (atoms::error(), encode_error(env, &e)).encode(env),
    })
}

/// Encodes the paths of a query's results, which come parents first and
/// siblings together: components shared with the previous path are reused
/// rather than encoded again (an atom lookup per component otherwise).
#[derive(Default)]
struct PathEncoder<'a> {
    previous: Vec<(NodeId, Term<'a>)>,
}

impl<'a> PathEncoder<'a> {
    fn encode(&mut self, env: Env<'a>, path: &[NodeId]) -> Term<'a> {
        let shared = self
            .previous
            .iter()
            .zip(path)
            .take_while(|((id, _), p)| id == *p)
            .count();
        self.previous.truncate(shared);
        for id in &path[shared..] {
            self.previous.push((id.clone(), encode_node_id(env, id)));
        }
        // Cons cells straight from the cached components: no list buffer.
        self.previous
            .iter()
            .rev()
            .fold(Term::list_new_empty(env), |tail, (_, head)| {
                tail.list_prepend(*head)
            })
    }
}

/// A payload of `kind` without its bytes, for properties that only need
/// the kind (`has_data`, `is_sproc`).
fn kind_only(kind: PayloadKind) -> Payload {
    match kind {
        PayloadKind::None => Payload::None,
        PayloadKind::Sproc => Payload::Sproc(khepri_core::Bytes::from(&[][..])),
        PayloadKind::Data => Payload::Data(khepri_core::Bytes::from(&[][..])),
    }
}

/// `query(Engine, Pattern, PropsToReturn, IncludeRoot, Shape)` over every node
/// the pattern matches, on the member's current tree version. Shape:
/// `props_map` (`#{Path => Props}`), `data_map` (`#{Path => Data | Fun |
/// undefined}`), `props_list` (`[{Path, Props}]` in tree order, parents
/// first) or `count` (an integer). Dirty: results can be large.
#[rustler::nif(schedule = "DirtyCpu")]
fn query<'a>(
    env: Env<'a>,
    source: Source,
    pattern: Term<'a>,
    props: Term<'a>,
    include_root: bool,
    shape: rustler::Atom,
) -> NifResult<Term<'a>> {
    let pattern = decode_pattern(pattern)?;
    let wanted = decode_wanted(props)?;
    let tree = source.tree();
    source.observed(&tree, &pattern, include_root);
    let shape = shape.to_term(env).atom_to_string()?;
    let mut paths = PathEncoder::default();
    // Made on first use: it holds the packing tables' read lock, which
    // counts and payload-less reads need not take.
    let mut decoder: Option<Decoder> = None;
    let mut props_of = |node: &Node| {
        // The payload's bytes are needed only for `raw_payload`; the term
        // for `data`/`sproc` comes from the packed bytes directly.
        let payload = if wanted.raw_payload {
            node.payload()
        } else {
            kind_only(node.payload_kind())
        };
        let props = NodeProps::of(node, payload, wanted, None);
        let term = if wanted.payload {
            decoder
                .get_or_insert_with(|| Decoder::new(env))
                .payload(node)
        } else {
            None
        };
        encode_props_with(env, &props, wanted, term)
    };
    let each = |visit: &mut dyn FnMut(&[NodeId], &Node)| {
        query::visit_many(&tree, &pattern, include_root, &TermMatcher, visit)
    };
    let mut pairs: Vec<(Term, Term)> = Vec::new();
    Ok(match shape.as_str() {
        "count" => {
            let mut n = 0usize;
            each(&mut |_, _| n += 1);
            n.encode(env)
        }
        "props_list" => {
            each(&mut |path, node| pairs.push((paths.encode(env, path), props_of(node))));
            pairs
                .iter()
                .rev()
                .fold(Term::list_new_empty(env), |tail, (p, props)| {
                    tail.list_prepend((*p, *props).encode(env))
                })
        }
        "props_map" => {
            each(&mut |path, node| pairs.push((paths.encode(env, path), props_of(node))));
            Term::map_from_pairs(env, &pairs)?
        }
        "data_map" => {
            each(&mut |path, node| {
                let data = decoder
                    .get_or_insert_with(|| Decoder::new(env))
                    .payload(node)
                    .unwrap_or_else(|| atoms::undefined().encode(env));
                pairs.push((paths.encode(env, path), data));
            });
            Term::map_from_pairs(env, &pairs)?
        }
        _ => return Err(rustler::Error::BadArg),
    })
}

/// `export(Engine, Pattern)`: the backup items of SPEC 4.10 for the nodes the
/// pattern matches, parents first: `[{Path, RawPayload, PutOptions}]` for
/// every node with a payload or a keep_while (an auto-created parent's
/// implicit keep_while included). Sprocs come as funs; the caller encodes them.
#[rustler::nif(schedule = "DirtyCpu")]
fn export<'a>(env: Env<'a>, engine: ResourceArc<Engine>, pattern: Term<'a>) -> NifResult<Term<'a>> {
    let pattern = decode_pattern(pattern)?;
    let tree = engine.store.tree();
    let implicit = Condition::Any(vec![
        Condition::ChildListLength(Comparison {
            op: CmpOp::Gt,
            value: 0,
            bare: false,
        }),
        Condition::HasPayload(true),
    ]);
    let mut items = Vec::new();
    for (path, node) in query::get_many(&tree, &pattern, false, &TermMatcher) {
        let keep_while: Option<Vec<(Term, Term)>> = match (node.keep_while(), node.auto_created()) {
            (Some(kw), _) => Some(
                kw.iter()
                    .map(|(k, c)| (encode_pattern(env, k), encode_condition(env, c)))
                    .collect(),
            ),
            (None, true) => Some(vec![(
                encode_path(env, &path),
                encode_condition(env, &implicit),
            )]),
            (None, false) => None,
        };
        if !node.has_payload() && keep_while.is_none() {
            continue;
        }
        let raw = encode_raw_payload(env, &node.payload());
        let opts = match keep_while {
            Some(pairs) => {
                let kw = crate::reply::map(env, &pairs);
                Term::map_from_pairs(env, &[(atoms::keep_while().encode(env), kw)])?
            }
            None => rustler::types::map::map_new(env),
        };
        items.push((encode_path(env, &path), raw, opts).encode(env));
    }
    Ok(items.encode(env))
}

/// `check_data_match(Pattern, Guards) -> ok | {error, Reason}`: whether the
/// engine supports this `#if_data_matches{}` (the same compilation as at
/// apply time), so an unsupported one is refused before it reaches the log.
#[rustler::nif]
fn check_data_match<'a>(env: Env<'a>, pattern: Term<'a>, guards: Term<'a>) -> Term<'a> {
    let spec = khepri_core::condition::DataMatch::new(
        khepri_core::Bytes::from(pattern.to_binary().as_slice()),
        khepri_core::Bytes::from(guards.to_binary().as_slice()),
    );
    match khepri_core::data_match::compile(&spec) {
        Ok(_) => atoms::ok().encode(env),
        Err(reason) => (atoms::error(), encode_bytes(env, reason.as_bytes())).encode(env),
    }
}
