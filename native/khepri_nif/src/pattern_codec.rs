//! Patterns and conditions: Erlang records in, engine values out, and back
//! (errors report the condition that failed as the caller wrote it).

use crate::atoms;
use crate::codec::{decode_node_id, encode_bytes, encode_node_id};
use khepri_core::condition::{CmpOp, Comparison, DataMatch, NameRegex};
use khepri_core::node::KeepWhile;
use khepri_core::{Bytes, Component, Condition, Pattern};
use rustler::types::tuple::{get_tuple, make_tuple};
use rustler::{Atom, Binary, Encoder, Env, Error, NifResult, Term, TermType};

/// `$.` (`?THIS_KHEPRI_NODE`), which may appear as a condition.
const THIS_NODE: i64 = b'.' as i64;

/// Deepest nesting of `#if_not{}`/`#if_all{}`/`#if_any{}` accepted. The API
/// refuses conditions nested deeper than 100 first (and `create`, `update`
/// and `compare_and_swap` wrap one more level around them); this keeps the
/// recursive decoding and evaluation bounded whatever reaches the NIF.
const MAX_CONDITION_DEPTH: usize = 128;

/// The elements of a proper list. rustler's list iterator stops quietly at an
/// improper tail; an improper list must be refused instead.
fn proper_list(term: Term) -> NifResult<rustler::types::ListIterator> {
    term.list_length()?;
    term.decode()
}

/// Decodes a native pattern: names and condition records.
pub fn decode_pattern(term: Term) -> NifResult<Pattern> {
    let items = proper_list(term)?;
    items
        .map(|item| match item.get_type() {
            TermType::Atom | TermType::Binary => decode_node_id(item).map(Component::Name),
            _ => decode_nested(item, 0).map(Component::Cond),
        })
        .collect()
}

/// Decodes a condition: a record of `khepri.hrl`, a bare name, or `$.`.
pub fn decode_condition(term: Term) -> NifResult<Condition> {
    decode_nested(term, 0)
}

fn decode_nested(term: Term, depth: usize) -> NifResult<Condition> {
    if depth > MAX_CONDITION_DEPTH {
        return Err(Error::BadArg);
    }
    match term.get_type() {
        TermType::Atom | TermType::Binary => return decode_node_id(term).map(Condition::Name),
        TermType::Integer if term.decode::<i64>()? == THIS_NODE => return Ok(Condition::ThisNode),
        _ => {}
    }
    let fields = get_tuple(term)?;
    let (tag, rest) = fields.split_first().ok_or(Error::BadArg)?;
    let tag: Atom = tag.decode()?;
    let name = tag.to_term(term.get_env()).atom_to_string()?;
    let flag = |i: usize| -> NifResult<bool> { rest.get(i).ok_or(Error::BadArg)?.decode() };
    Ok(match (name.as_str(), rest.len()) {
        ("if_name_matches", 2) => Condition::NameMatches(decode_regex(rest[0])?),
        ("if_path_matches", 2) => Condition::PathMatches(decode_regex(rest[0])?),
        ("if_has_payload", 1) => Condition::HasPayload(flag(0)?),
        ("if_has_data", 1) => Condition::HasData(flag(0)?),
        ("if_has_sproc", 1) => Condition::HasSproc(flag(0)?),
        ("if_node_exists", 1) => Condition::NodeExists(flag(0)?),
        ("if_data_matches", 3) => Condition::DataMatches(DataMatch::new(
            Bytes::from(rest[0].to_binary().as_slice()),
            Bytes::from(rest[1].to_binary().as_slice()),
        )),
        ("if_payload_version", 1) => Condition::PayloadVersion(decode_comparison(rest[0])?),
        ("if_child_list_version", 1) => Condition::ChildListVersion(decode_comparison(rest[0])?),
        ("if_child_list_length", 1) => Condition::ChildListLength(decode_comparison(rest[0])?),
        ("if_not", 1) => Condition::Not(Box::new(decode_nested(rest[0], depth + 1)?)),
        ("if_all", 1) => Condition::All(decode_conditions(rest[0], depth + 1)?),
        ("if_any", 1) => Condition::Any(decode_conditions(rest[0], depth + 1)?),
        _ => return Err(Error::BadArg),
    })
}

fn decode_conditions(term: Term, depth: usize) -> NifResult<Vec<Condition>> {
    proper_list(term)?
        .map(|c| decode_nested(c, depth))
        .collect()
}

fn decode_regex(term: Term) -> NifResult<NameRegex> {
    if term.is_atom() && term.decode::<Atom>()? == atoms::any() {
        return Ok(NameRegex::Any);
    }
    let original = Bytes::from(term.to_binary().as_slice());
    let source = if term.is_binary() {
        let bin: Binary = term.decode()?;
        String::from_utf8(bin.as_slice().to_vec()).map_err(|_| Error::BadArg)?
    } else {
        // A string: a list of code points.
        let chars = proper_list(term)?
            .map(|c| c.decode::<u32>())
            .collect::<NifResult<Vec<u32>>>()?;
        chars
            .into_iter()
            .map(char::from_u32)
            .collect::<Option<String>>()
            .ok_or(Error::BadArg)?
    };
    Ok(NameRegex::regex(source, original))
}

fn decode_comparison(term: Term) -> NifResult<Comparison> {
    if let Ok(value) = term.decode::<i64>() {
        return Ok(Comparison {
            op: CmpOp::Eq,
            value,
            bare: true,
        });
    }
    let (op, value): (Atom, i64) = term.decode()?;
    let env = term.get_env();
    let op = match op.to_term(env).atom_to_string()?.as_str() {
        "eq" => CmpOp::Eq,
        "ne" => CmpOp::Ne,
        "lt" => CmpOp::Lt,
        "le" => CmpOp::Le,
        "gt" => CmpOp::Gt,
        "ge" => CmpOp::Ge,
        _ => return Err(Error::BadArg),
    };
    Ok(Comparison {
        op,
        value,
        bare: false,
    })
}

/// Decodes keep_while conditions: `[{AbsolutePattern, Condition}]`.
pub fn decode_keep_while(term: Term) -> NifResult<KeepWhile> {
    let items = proper_list(term)?;
    items
        .map(|item| {
            let (key, cond): (Term, Term) = item.decode()?;
            Ok((decode_pattern(key)?, decode_condition(cond)?))
        })
        .collect()
}

// ----------------------------------------------------------------- encoding

fn stored<'a>(env: Env<'a>, bytes: &Bytes) -> Term<'a> {
    env.binary_to_term(bytes.as_slice())
        .map_or_else(|| encode_bytes(env, bytes.as_slice()), |(t, _)| t)
}

fn record<'a>(env: Env<'a>, name: &str, fields: &[Term<'a>]) -> Term<'a> {
    let tag = Atom::from_str(env, name)
        .map_or_else(|_| atoms::undefined().encode(env), |a| a.encode(env));
    let mut all = Vec::with_capacity(fields.len() + 1);
    all.push(tag);
    all.extend_from_slice(fields);
    make_tuple(env, &all)
}

fn encode_comparison<'a>(env: Env<'a>, c: &Comparison) -> Term<'a> {
    if c.bare {
        return c.value.encode(env);
    }
    let op = match c.op {
        CmpOp::Eq => "eq",
        CmpOp::Ne => "ne",
        CmpOp::Lt => "lt",
        CmpOp::Le => "le",
        CmpOp::Gt => "gt",
        CmpOp::Ge => "ge",
    };
    (
        Atom::from_str(env, op).unwrap_or_else(|_| atoms::undefined()),
        c.value,
    )
        .encode(env)
}

fn encode_regex<'a>(env: Env<'a>, re: &NameRegex) -> Term<'a> {
    match re {
        NameRegex::Any => atoms::any().encode(env),
        NameRegex::Regex { term, .. } => stored(env, term),
    }
}

/// The condition as the record it came in as (`compiled` fields `undefined`).
pub fn encode_condition<'a>(env: Env<'a>, c: &Condition) -> Term<'a> {
    let undefined = atoms::undefined().encode(env);
    match c {
        Condition::Name(n) => encode_node_id(env, n),
        Condition::ThisNode => THIS_NODE.encode(env),
        Condition::NameMatches(re) => {
            record(env, "if_name_matches", &[encode_regex(env, re), undefined])
        }
        Condition::PathMatches(re) => {
            record(env, "if_path_matches", &[encode_regex(env, re), undefined])
        }
        Condition::HasPayload(b) => record(env, "if_has_payload", &[b.encode(env)]),
        Condition::HasData(b) => record(env, "if_has_data", &[b.encode(env)]),
        Condition::HasSproc(b) => record(env, "if_has_sproc", &[b.encode(env)]),
        Condition::NodeExists(b) => record(env, "if_node_exists", &[b.encode(env)]),
        Condition::DataMatches(dm) => record(
            env,
            "if_data_matches",
            &[stored(env, &dm.pattern), stored(env, &dm.guards), undefined],
        ),
        Condition::PayloadVersion(cmp) => {
            record(env, "if_payload_version", &[encode_comparison(env, cmp)])
        }
        Condition::ChildListVersion(cmp) => {
            record(env, "if_child_list_version", &[encode_comparison(env, cmp)])
        }
        Condition::ChildListLength(cmp) => {
            record(env, "if_child_list_length", &[encode_comparison(env, cmp)])
        }
        Condition::Not(inner) => record(env, "if_not", &[encode_condition(env, inner)]),
        Condition::All(cs) => record(env, "if_all", &[encode_conditions(env, cs)]),
        Condition::Any(cs) => record(env, "if_any", &[encode_conditions(env, cs)]),
    }
}

fn encode_conditions<'a>(env: Env<'a>, cs: &[Condition]) -> Term<'a> {
    cs.iter()
        .map(|c| encode_condition(env, c))
        .collect::<Vec<_>>()
        .encode(env)
}

/// A pattern as a native pattern list.
pub fn encode_pattern<'a>(env: Env<'a>, pattern: &[Component]) -> Term<'a> {
    pattern
        .iter()
        .map(|c| match c {
            Component::Name(n) => encode_node_id(env, n),
            Component::Cond(cond) => encode_condition(env, cond),
        })
        .collect::<Vec<_>>()
        .encode(env)
}
