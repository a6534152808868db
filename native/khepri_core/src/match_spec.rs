//! ETS match specifications, as `#if_data_matches{pattern = P, conditions = G}`
//! uses them: the condition holds when
//! `ets:match_spec_run([Data], ets:match_spec_compile([{P, G, [match]}]))`
//! is non-empty.
//!
//! [`compile`] checks the pattern and guards once, when the call is made, and
//! refuses (with [`Unsupported`]) everything ETS refuses plus the
//! non-deterministic `self()`, `node()` and `get_tcw()`: a condition is
//! evaluated on every member of the cluster and must give the same answer
//! everywhere. [`MatchSpec::matches`] then never fails: as in ETS, a guard that
//! raises (`badarg`, `badarith`, ...) or yields anything but `true` makes the
//! match fail.
//!
//! Semantics follow ETS (checked against OTP 25 by the fixture tests):
//! * pattern: `'_'` matches anything; `'$N'` (N a decimal number without
//!   leading zero, or `'$0'`) binds on first use and must be `=:=` the bound
//!   term on later uses; any other atom, and every other leaf, is a literal
//!   compared with `=:=`, except that literal floats compare bit for bit
//!   (`0.0` does not match `-0.0`); tuples and lists match element-wise; a map
//!   matches a map having at least the pattern's keys (literal keys; a key
//!   that is a variable or `'_'` is refused) with values matching;
//! * guards: type tests, comparisons, `and`/`or` (all arguments evaluated,
//!   each must be a boolean), `andalso`/`orelse` (left to right, the last
//!   argument's value is the result as it is), `not`/`xor`, arithmetic and
//!   bit operations, `abs element hd tl length size map_get map_size
//!   is_map_key binary_part byte_size bit_size float round trunc node/1
//!   is_record/3`, `'$N'`, `'$_'` (the whole data), `'$$'` (the bound
//!   variables in variable-number order), `{const, T}`, `{{...}}` tuple
//!   construction, list and map construction (keys and values evaluated),
//!   other atoms and leaves as constants;
//! * also supported although OTP 25's ETS refuses them (newer ETS accepts
//!   them): `tuple_size min max floor ceil is_boolean is_bitstring`.

use crate::term::{self, Term};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// Deepest nesting of pattern or guard expressions accepted (deeper ones are
/// [`Unsupported`]).
///
/// ETS has no such limit. Compiling, matching and evaluating recurse over the
/// pattern and guard structure (never over the data), so this bounds their
/// stack use: about 100 KB at the limit in a release build (measured; a debug
/// build needs about five times that).
pub const MAX_SPEC_DEPTH: usize = 100;

/// A pattern or guard that cannot be evaluated by the engine.
#[derive(Clone, Debug)]
pub struct Unsupported {
    /// The offending (sub-)expression.
    pub expression: Term,
    /// Why it is refused.
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unsupported match spec expression {}: {}",
            self.expression, self.reason
        )
    }
}

impl std::error::Error for Unsupported {}

fn unsupported<T>(expression: &Term, reason: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported {
        expression: expression.clone(),
        reason: reason.into(),
    })
}

/// A compiled match specification `{Pattern, Guards, [match]}`.
#[derive(Clone, Debug)]
pub struct MatchSpec {
    pattern: Term,
    guards: Vec<Term>,
    pat: Pat,
    conds: Vec<Expr>,
    slots: usize,
    /// Slots of the variables in variable-number order, for `'$$'`.
    by_number: Vec<usize>,
}

/// Compiles a pattern and its guard conditions.
pub fn compile(pattern: &Term, guards: &[Term]) -> Result<MatchSpec, Unsupported> {
    let mut vars: BTreeMap<i32, usize> = BTreeMap::new();
    let pat = compile_pat(pattern, &mut vars, 0)?;
    let conds = guards
        .iter()
        .map(|g| compile_expr(g, &vars, 0))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MatchSpec {
        pattern: pattern.clone(),
        guards: guards.to_vec(),
        pat,
        conds,
        slots: vars.len(),
        by_number: vars.values().copied().collect(),
    })
}

impl MatchSpec {
    /// True when the data matches the pattern and every guard evaluates to
    /// `true`. Never panics, never fails: an error in a guard means no match.
    pub fn matches(&self, data: &Term) -> bool {
        let mut binds: Vec<Option<Cow<'_, Term>>> = vec![None; self.slots];
        if !match_pat(&self.pat, data, &mut binds) {
            return false;
        }
        let env = Env {
            data,
            binds: &binds,
            by_number: &self.by_number,
        };
        self.conds
            .iter()
            .all(|c| matches!(eval(c, &env), Ok(v) if v.is_true()))
    }

    /// The pattern it was compiled from.
    pub fn pattern(&self) -> &Term {
        &self.pattern
    }

    /// The guard conditions it was compiled from.
    pub fn guards(&self) -> &[Term] {
        &self.guards
    }
}

/// Serialized as its source `(pattern, guards)`; deserializing compiles it
/// again.
impl serde::Serialize for MatchSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.pattern, &self.guards).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for MatchSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<MatchSpec, D::Error> {
        let (pattern, guards): (Term, Vec<Term>) = serde::Deserialize::deserialize(d)?;
        compile(&pattern, &guards).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Variables

/// The number of a match variable `'$N'`, as ETS reads it: digits without a
/// leading zero (or exactly `'$0'`), accumulated in a wrapping 32-bit int; a
/// negative result is not a variable (so `'$2147483648'` is a plain atom and
/// `'$4294967296'` is `'$0'`, exactly as ETS behaves).
fn variable_number(t: &Term) -> Option<i32> {
    let name = t.as_atom()?.as_bytes();
    let digits = name.strip_prefix(b"$")?;
    match digits {
        [] => None,
        [b'0'] => Some(0),
        [b'0', ..] => None,
        _ => {
            let mut n: i32 = 0;
            for d in digits {
                if !d.is_ascii_digit() {
                    return None;
                }
                n = n.wrapping_mul(10).wrapping_add((d - b'0') as i32);
            }
            (n >= 0).then_some(n)
        }
    }
}

fn is_atom(t: &Term, name: &str) -> bool {
    t.as_atom() == Some(name)
}

// ---------------------------------------------------------------------------
// Patterns

#[derive(Clone, Debug)]
enum Pat {
    Any,
    Bind(usize),
    Same(usize),
    Lit(Term),
    Tuple(Vec<Pat>),
    /// Cells, then the pattern for what follows them.
    List(Vec<Pat>, Box<Pat>),
    Map(Vec<(Term, Pat)>),
}

fn compile_pat(
    t: &Term,
    vars: &mut BTreeMap<i32, usize>,
    depth: usize,
) -> Result<Pat, Unsupported> {
    if depth > MAX_SPEC_DEPTH {
        return unsupported(t, "pattern nested too deeply");
    }
    Ok(match t {
        Term::Atom(_) if is_atom(t, "_") => Pat::Any,
        Term::Atom(_) => match variable_number(t) {
            Some(n) => match vars.get(&n) {
                Some(slot) => Pat::Same(*slot),
                None => {
                    let slot = vars.len();
                    vars.insert(n, slot);
                    Pat::Bind(slot)
                }
            },
            None => Pat::Lit(t.clone()),
        },
        Term::Tuple(es) => Pat::Tuple(
            es.iter()
                .map(|e| compile_pat(e, vars, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Term::List(..) => {
            let Some((elems, tail)) = t.list_parts() else {
                return unsupported(t, "malformed list");
            };
            let cells = elems
                .into_iter()
                .map(|e| compile_pat(e, vars, depth + 1))
                .collect::<Result<_, _>>()?;
            let tail = compile_pat(tail, vars, depth + 1)?;
            if matches!(tail, Pat::List(..)) {
                return unsupported(t, "malformed list");
            }
            Pat::List(cells, Box::new(tail))
        }
        Term::Map(m) => {
            let mut pairs = Vec::with_capacity(m.len());
            for (k, v) in m.iter() {
                if is_atom(k, "_") || variable_number(k).is_some() {
                    return unsupported(k, "a map key in a pattern must not be a variable");
                }
                pairs.push((k.clone(), compile_pat(v, vars, depth + 1)?));
            }
            Pat::Map(pairs)
        }
        _ => Pat::Lit(t.clone()),
    })
}

/// A pattern literal against data: `=:=`, but floats bit for bit (as ETS's
/// compiled float comparison does).
fn literal_eq(lit: &Term, d: &Term) -> bool {
    match (lit, d) {
        (Term::Float(x), Term::Float(y)) => x.to_bits() == y.to_bits(),
        _ => lit.exact_eq(d),
    }
}

fn match_pat<'a>(p: &Pat, d: &'a Term, binds: &mut [Option<Cow<'a, Term>>]) -> bool {
    match p {
        Pat::Any => true,
        Pat::Bind(s) => {
            binds[*s] = Some(Cow::Borrowed(d));
            true
        }
        Pat::Same(s) => binds[*s].as_ref().is_some_and(|b| b.exact_eq(d)),
        Pat::Lit(l) => literal_eq(l, d),
        Pat::Tuple(ps) => match d {
            Term::Tuple(es) if es.len() == ps.len() => {
                ps.iter().zip(es).all(|(p, e)| match_pat(p, e, binds))
            }
            _ => false,
        },
        Pat::Map(pairs) => match d {
            Term::Map(m) => pairs
                .iter()
                .all(|(k, p)| m.get(k).is_some_and(|v| match_pat(p, v, binds))),
            _ => false,
        },
        Pat::List(cells, tail) => {
            let Some((elems, end)) = d.list_parts() else {
                return false;
            };
            if elems.len() < cells.len() {
                return false;
            }
            for (p, e) in cells.iter().zip(&elems) {
                if !match_pat(p, e, binds) {
                    return false;
                }
            }
            let rest = &elems[cells.len()..];
            if rest.is_empty() {
                return match_pat(tail, end, binds);
            }
            // The data goes on with more cells: only a variable or '_' can
            // take a non-empty list here (list patterns are flattened).
            match &**tail {
                Pat::Any => true,
                Pat::Bind(s) => {
                    binds[*s] = Some(Cow::Owned(suffix(rest, end)));
                    true
                }
                Pat::Same(s) => binds[*s]
                    .as_ref()
                    .is_some_and(|b| b.exact_eq(&suffix(rest, end))),
                _ => false,
            }
        }
    }
}

fn suffix(rest: &[&Term], end: &Term) -> Term {
    Term::improper_list(rest.iter().map(|t| (*t).clone()).collect(), end.clone())
}

// ---------------------------------------------------------------------------
// Guard expressions

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bif {
    IsAtom,
    IsFloat,
    IsInteger,
    IsList,
    IsNumber,
    IsPid,
    IsPort,
    IsReference,
    IsTuple,
    IsMap,
    IsMapKey,
    IsBinary,
    IsBitstring,
    IsBoolean,
    IsFunction,
    IsRecord,
    Abs,
    Element,
    Hd,
    Tl,
    Length,
    MapGet,
    MapSize,
    Node,
    Round,
    Trunc,
    Floor,
    Ceil,
    Float,
    Size,
    BitSize,
    ByteSize,
    TupleSize,
    BinaryPart,
    Min,
    Max,
    Plus,
    Minus,
    Times,
    FDiv,
    Div,
    Rem,
    Band,
    Bor,
    Bxor,
    Bnot,
    Bsl,
    Bsr,
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    ExactEq,
    ExactNe,
    Not,
    Xor,
}

/// The guard functions by name and arity.
const BIFS: &[(&str, usize, Bif)] = &[
    ("is_atom", 1, Bif::IsAtom),
    ("is_float", 1, Bif::IsFloat),
    ("is_integer", 1, Bif::IsInteger),
    ("is_list", 1, Bif::IsList),
    ("is_number", 1, Bif::IsNumber),
    ("is_pid", 1, Bif::IsPid),
    ("is_port", 1, Bif::IsPort),
    ("is_reference", 1, Bif::IsReference),
    ("is_tuple", 1, Bif::IsTuple),
    ("is_map", 1, Bif::IsMap),
    ("is_map_key", 2, Bif::IsMapKey),
    ("is_binary", 1, Bif::IsBinary),
    ("is_bitstring", 1, Bif::IsBitstring),
    ("is_boolean", 1, Bif::IsBoolean),
    ("is_function", 1, Bif::IsFunction),
    ("is_record", 3, Bif::IsRecord),
    ("abs", 1, Bif::Abs),
    ("element", 2, Bif::Element),
    ("hd", 1, Bif::Hd),
    ("tl", 1, Bif::Tl),
    ("length", 1, Bif::Length),
    ("map_get", 2, Bif::MapGet),
    ("map_size", 1, Bif::MapSize),
    ("node", 1, Bif::Node),
    ("round", 1, Bif::Round),
    ("trunc", 1, Bif::Trunc),
    ("floor", 1, Bif::Floor),
    ("ceil", 1, Bif::Ceil),
    ("float", 1, Bif::Float),
    ("size", 1, Bif::Size),
    ("bit_size", 1, Bif::BitSize),
    ("byte_size", 1, Bif::ByteSize),
    ("tuple_size", 1, Bif::TupleSize),
    ("binary_part", 2, Bif::BinaryPart),
    ("binary_part", 3, Bif::BinaryPart),
    ("min", 2, Bif::Min),
    ("max", 2, Bif::Max),
    ("+", 1, Bif::Plus),
    ("+", 2, Bif::Plus),
    ("-", 1, Bif::Minus),
    ("-", 2, Bif::Minus),
    ("*", 2, Bif::Times),
    ("/", 2, Bif::FDiv),
    ("div", 2, Bif::Div),
    ("rem", 2, Bif::Rem),
    ("band", 2, Bif::Band),
    ("bor", 2, Bif::Bor),
    ("bxor", 2, Bif::Bxor),
    ("bnot", 1, Bif::Bnot),
    ("bsl", 2, Bif::Bsl),
    ("bsr", 2, Bif::Bsr),
    (">", 2, Bif::Gt),
    (">=", 2, Bif::Ge),
    ("<", 2, Bif::Lt),
    ("=<", 2, Bif::Le),
    ("==", 2, Bif::Eq),
    ("/=", 2, Bif::Ne),
    ("=:=", 2, Bif::ExactEq),
    ("=/=", 2, Bif::ExactNe),
    ("not", 1, Bif::Not),
    ("xor", 2, Bif::Xor),
];

/// Accepted by ETS but refused here: their value depends on where and when
/// the guard runs.
const NON_DETERMINISTIC: &[(&str, usize)] = &[("self", 0), ("node", 0), ("get_tcw", 0)];

#[derive(Clone, Copy, Debug)]
enum BoolOp {
    And,
    Or,
    AndAlso,
    OrElse,
}

#[derive(Clone, Debug)]
enum Expr {
    Const(Term),
    Var(usize),
    WholeObject,
    AllVars,
    Tuple(Vec<Expr>),
    /// List construction: cells, then the tail expression.
    List(Vec<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Call(Bif, Vec<Expr>),
    Bool(BoolOp, Vec<Expr>),
}

fn compile_expr(t: &Term, vars: &BTreeMap<i32, usize>, depth: usize) -> Result<Expr, Unsupported> {
    if depth > MAX_SPEC_DEPTH {
        return unsupported(t, "guard nested too deeply");
    }
    let sub = |e: &Term| compile_expr(e, vars, depth + 1);
    Ok(match t {
        Term::Atom(_) if is_atom(t, "$_") => Expr::WholeObject,
        Term::Atom(_) if is_atom(t, "$$") => Expr::AllVars,
        Term::Atom(_) => match variable_number(t) {
            Some(n) => match vars.get(&n) {
                Some(slot) => Expr::Var(*slot),
                None => return unsupported(t, "variable not bound in the pattern"),
            },
            None => Expr::Const(t.clone()),
        },
        Term::List(..) => {
            let Some((elems, tail)) = t.list_parts() else {
                return unsupported(t, "malformed list");
            };
            let cells = elems.into_iter().map(sub).collect::<Result<_, _>>()?;
            Expr::List(cells, Box::new(sub(tail)?))
        }
        Term::Map(m) => Expr::Map(
            m.iter()
                .map(|(k, v)| Ok((sub(k)?, sub(v)?)))
                .collect::<Result<_, Unsupported>>()?,
        ),
        Term::Tuple(es) => {
            let Some((head, args)) = es.split_first() else {
                return unsupported(t, "empty tuple is not an expression (use {{}})");
            };
            match head {
                Term::Tuple(inner) if args.is_empty() => {
                    Expr::Tuple(inner.iter().map(sub).collect::<Result<_, _>>()?)
                }
                Term::Atom(name) => {
                    let name: &str = name;
                    match (name, args.len()) {
                        ("const", 1) => Expr::Const(args[0].clone()),
                        ("and" | "or" | "andalso" | "orelse", n) if n >= 1 => {
                            let op = match name {
                                "and" => BoolOp::And,
                                "or" => BoolOp::Or,
                                "andalso" => BoolOp::AndAlso,
                                _ => BoolOp::OrElse,
                            };
                            Expr::Bool(op, args.iter().map(sub).collect::<Result<_, _>>()?)
                        }
                        _ if NON_DETERMINISTIC.contains(&(name, args.len())) => {
                            return unsupported(
                                t,
                                format!("{name}/{} is not deterministic", args.len()),
                            )
                        }
                        _ => match BIFS.iter().find(|(n, a, _)| *n == name && *a == args.len()) {
                            Some((_, _, bif)) => {
                                Expr::Call(*bif, args.iter().map(sub).collect::<Result<_, _>>()?)
                            }
                            None => {
                                return unsupported(
                                    t,
                                    format!("unknown guard function {name}/{}", args.len()),
                                )
                            }
                        },
                    }
                }
                _ => return unsupported(t, "not a guard function call"),
            }
        }
        _ => Expr::Const(t.clone()),
    })
}

// ---------------------------------------------------------------------------
// Evaluation

/// A guard failed (an exception, in Erlang terms).
#[derive(Debug)]
struct Fail;

impl From<term::arith::ArithError> for Fail {
    fn from(_: term::arith::ArithError) -> Fail {
        Fail
    }
}

type Val<'a> = Cow<'a, Term>;

struct Env<'a> {
    data: &'a Term,
    binds: &'a [Option<Cow<'a, Term>>],
    by_number: &'a [usize],
}

fn boolean<'a>(b: bool) -> Result<Val<'a>, Fail> {
    Ok(Cow::Owned(Term::boolean(b)))
}

fn as_bool(v: &Term) -> Result<bool, Fail> {
    match v.as_atom() {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        _ => Err(Fail),
    }
}

fn eval<'a>(e: &'a Expr, env: &Env<'a>) -> Result<Val<'a>, Fail> {
    match e {
        Expr::Const(t) => Ok(Cow::Borrowed(t)),
        Expr::Var(s) => match env.binds.get(*s) {
            Some(Some(v)) => Ok(Cow::Borrowed(&**v)),
            _ => Err(Fail),
        },
        Expr::WholeObject => Ok(Cow::Borrowed(env.data)),
        Expr::AllVars => {
            let mut vals = Vec::with_capacity(env.by_number.len());
            for s in env.by_number {
                match env.binds.get(*s) {
                    Some(Some(v)) => vals.push((**v).clone()),
                    _ => return Err(Fail),
                }
            }
            Ok(Cow::Owned(Term::list(vals)))
        }
        Expr::Tuple(es) => Ok(Cow::Owned(Term::Tuple(
            es.iter()
                .map(|x| eval(x, env).map(Cow::into_owned))
                .collect::<Result<_, _>>()?,
        ))),
        Expr::List(cells, tail) => {
            let elems = cells
                .iter()
                .map(|x| eval(x, env).map(Cow::into_owned))
                .collect::<Result<_, _>>()?;
            Ok(Cow::Owned(Term::improper_list(
                elems,
                eval(tail, env)?.into_owned(),
            )))
        }
        Expr::Map(pairs) => {
            let mut out = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                out.push((eval(k, env)?.into_owned(), eval(v, env)?.into_owned()));
            }
            Ok(Cow::Owned(Term::map(out)))
        }
        Expr::Bool(op, args) => eval_bool(*op, args, env),
        Expr::Call(bif, args) => {
            let mut vals: Vec<Val<'a>> = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(a, env)?);
            }
            call(*bif, vals)
        }
    }
}

fn eval_bool<'a>(op: BoolOp, args: &'a [Expr], env: &Env<'a>) -> Result<Val<'a>, Fail> {
    match op {
        BoolOp::And | BoolOp::Or => {
            let mut acc = matches!(op, BoolOp::And);
            for a in args {
                let b = as_bool(&*eval(a, env)?)?;
                acc = if matches!(op, BoolOp::And) {
                    acc && b
                } else {
                    acc || b
                };
            }
            boolean(acc)
        }
        BoolOp::AndAlso | BoolOp::OrElse => {
            let stop = matches!(op, BoolOp::OrElse);
            let Some((last, init)) = args.split_last() else {
                return Err(Fail);
            };
            for a in init {
                if as_bool(&*eval(a, env)?)? == stop {
                    return boolean(stop);
                }
            }
            // The last argument is the result, whatever it is.
            eval(last, env)
        }
    }
}

/// Narrows a value to a part of it: borrowed parts stay borrowed.
fn project<'a>(
    v: Val<'a>,
    f: impl for<'x> Fn(&'x Term) -> Option<&'x Term>,
) -> Result<Val<'a>, Fail> {
    match v {
        Cow::Borrowed(t) => f(t).map(Cow::Borrowed).ok_or(Fail),
        Cow::Owned(t) => f(&t).cloned().map(Cow::Owned).ok_or(Fail),
    }
}

fn small_int(t: &Term) -> Result<i64, Fail> {
    match t {
        Term::Int(v) => Ok(*v),
        _ => Err(Fail),
    }
}

fn owned<'a>(t: Term) -> Result<Val<'a>, Fail> {
    Ok(Cow::Owned(t))
}

fn call<'a>(bif: Bif, mut args: Vec<Val<'a>>) -> Result<Val<'a>, Fail> {
    use term::arith;
    let a = |i: usize| -> &Term { &args[i] };
    let a0 = a(0);
    match bif {
        Bif::IsAtom => boolean(matches!(a0, Term::Atom(_))),
        Bif::IsFloat => boolean(matches!(a0, Term::Float(_))),
        Bif::IsInteger => boolean(a0.is_integer()),
        Bif::IsList => boolean(a0.is_list()),
        Bif::IsNumber => boolean(a0.is_number()),
        Bif::IsPid => boolean(matches!(a0, Term::Pid(_))),
        Bif::IsPort => boolean(matches!(a0, Term::Port(_))),
        Bif::IsReference => boolean(matches!(a0, Term::Reference(_))),
        Bif::IsTuple => boolean(matches!(a0, Term::Tuple(_))),
        Bif::IsMap => boolean(matches!(a0, Term::Map(_))),
        Bif::IsBinary => boolean(matches!(a0, Term::Binary(_))),
        Bif::IsBitstring => boolean(matches!(a0, Term::Binary(_) | Term::Bitstring { .. })),
        Bif::IsBoolean => boolean(matches!(a0.as_atom(), Some("true" | "false"))),
        Bif::IsFunction => boolean(matches!(a0, Term::Fun(_) | Term::Export(_))),
        Bif::IsMapKey => match a(1) {
            Term::Map(m) => boolean(m.get(a0).is_some()),
            _ => Err(Fail),
        },
        Bif::IsRecord => {
            let (Term::Atom(_), Term::Int(size)) = (a(1), a(2)) else {
                return Err(Fail);
            };
            boolean(match a0 {
                Term::Tuple(es) => {
                    es.len() as i64 == *size && es.first().is_some_and(|e| e.exact_eq(a(1)))
                }
                _ => false,
            })
        }
        Bif::Abs => owned(arith::abs(a0)?),
        Bif::Element => {
            let n = small_int(a0)?;
            let t = args.swap_remove(1);
            project(t, |t| match t {
                Term::Tuple(es) if n >= 1 => es.get(n as usize - 1),
                _ => None,
            })
        }
        Bif::Hd => {
            let t = args.swap_remove(0);
            project(t, |t| match t {
                Term::List(es, tail) => es.first().or(match &**tail {
                    Term::List(more, _) => more.first(),
                    _ => None,
                }),
                _ => None,
            })
        }
        Bif::Tl => match a0.list_parts() {
            Some((elems, end)) if !elems.is_empty() => {
                if elems.len() == 1 {
                    let t = args.swap_remove(0);
                    project(t, |t| t.list_parts().map(|(_, end)| end))
                } else {
                    owned(suffix(&elems[1..], end))
                }
            }
            _ => Err(Fail),
        },
        Bif::Length => match a0.proper_list() {
            Some(elems) => owned(Term::Int(elems.len() as i64)),
            None if matches!(a0, Term::Nil) => owned(Term::Int(0)),
            None => Err(Fail),
        },
        Bif::MapGet => {
            let key = args.swap_remove(0);
            let m = args.swap_remove(0);
            project(m, |m| match m {
                Term::Map(m) => m.get(&key),
                _ => None,
            })
        }
        Bif::MapSize => match a0 {
            Term::Map(m) => owned(Term::Int(m.len() as i64)),
            _ => Err(Fail),
        },
        Bif::Node => match a0 {
            Term::Pid(p) => owned(Term::Atom(p.node().clone())),
            Term::Port(p) => owned(Term::Atom(p.node().clone())),
            Term::Reference(r) => owned(Term::Atom(r.node().clone())),
            _ => Err(Fail),
        },
        Bif::Round => owned(arith::to_integer(a0, arith::Rounding::Round)?),
        Bif::Trunc => owned(arith::to_integer(a0, arith::Rounding::Trunc)?),
        Bif::Floor => owned(arith::to_integer(a0, arith::Rounding::Floor)?),
        Bif::Ceil => owned(arith::to_integer(a0, arith::Rounding::Ceil)?),
        Bif::Float => owned(arith::float(a0)?),
        Bif::Size => match a0 {
            Term::Tuple(es) => owned(Term::Int(es.len() as i64)),
            Term::Binary(_) | Term::Bitstring { .. } => {
                owned(Term::Int((a0.bit_size().unwrap_or(0) / 8) as i64))
            }
            _ => Err(Fail),
        },
        Bif::BitSize => match a0.bit_size() {
            Some(n) => owned(Term::Int(n as i64)),
            None => Err(Fail),
        },
        Bif::ByteSize => match a0.bit_size() {
            Some(n) => owned(Term::Int(n.div_ceil(8) as i64)),
            None => Err(Fail),
        },
        Bif::TupleSize => match a0 {
            Term::Tuple(es) => owned(Term::Int(es.len() as i64)),
            _ => Err(Fail),
        },
        Bif::BinaryPart => {
            let (pos, len) = if args.len() == 2 {
                match a(1) {
                    Term::Tuple(pl) if pl.len() == 2 => (small_int(&pl[0])?, small_int(&pl[1])?),
                    _ => return Err(Fail),
                }
            } else {
                (small_int(a(1))?, small_int(a(2))?)
            };
            binary_part(a0, pos, len)
        }
        Bif::Min => {
            let second_smaller = term_cmp(a0, a(1), false) == Ordering::Greater;
            Ok(args.swap_remove(usize::from(second_smaller)))
        }
        Bif::Max => {
            let second_larger = term_cmp(a0, a(1), false) == Ordering::Less;
            Ok(args.swap_remove(usize::from(second_larger)))
        }
        Bif::Plus if args.len() == 1 => owned(arith::plus(a0)?),
        Bif::Plus => owned(arith::add(a0, a(1))?),
        Bif::Minus if args.len() == 1 => owned(arith::neg(a0)?),
        Bif::Minus => owned(arith::sub(a0, a(1))?),
        Bif::Times => owned(arith::mul(a0, a(1))?),
        Bif::FDiv => owned(arith::fdiv(a0, a(1))?),
        Bif::Div => owned(arith::int_div(a0, a(1))?),
        Bif::Rem => owned(arith::rem(a0, a(1))?),
        Bif::Band => owned(arith::band(a0, a(1))?),
        Bif::Bor => owned(arith::bor(a0, a(1))?),
        Bif::Bxor => owned(arith::bxor(a0, a(1))?),
        Bif::Bnot => owned(arith::bnot(a0)?),
        Bif::Bsl => owned(arith::shift(a0, a(1), true)?),
        Bif::Bsr => owned(arith::shift(a0, a(1), false)?),
        Bif::Gt => boolean(term_cmp(a0, a(1), false) == Ordering::Greater),
        Bif::Ge => boolean(term_cmp(a0, a(1), false) != Ordering::Less),
        Bif::Lt => boolean(term_cmp(a0, a(1), false) == Ordering::Less),
        Bif::Le => boolean(term_cmp(a0, a(1), false) != Ordering::Greater),
        Bif::Eq => boolean(term_cmp(a0, a(1), false) == Ordering::Equal),
        Bif::Ne => boolean(term_cmp(a0, a(1), false) != Ordering::Equal),
        Bif::ExactEq => boolean(term_cmp(a0, a(1), true) == Ordering::Equal),
        Bif::ExactNe => boolean(term_cmp(a0, a(1), true) != Ordering::Equal),
        Bif::Not => boolean(!as_bool(a0)?),
        Bif::Xor => boolean(as_bool(a0)? != as_bool(a(1))?),
    }
}

fn term_cmp(a: &Term, b: &Term, exact: bool) -> Ordering {
    if exact {
        a.cmp_exact(b)
    } else {
        a.cmp(b)
    }
}

/// `binary_part/2,3`: a negative length counts back from `pos`; the part
/// must lie within the whole bytes of the subject.
fn binary_part<'a>(subject: &Term, pos: i64, len: i64) -> Result<Val<'a>, Fail> {
    let bytes: &[u8] = match subject {
        Term::Binary(b) => b,
        Term::Bitstring { bytes, .. } => &bytes[..bytes.len().saturating_sub(1)],
        _ => return Err(Fail),
    };
    let (start, len) = if len < 0 {
        (
            pos.checked_add(len).ok_or(Fail)?,
            len.checked_neg().ok_or(Fail)?,
        )
    } else {
        (pos, len)
    };
    let end = start.checked_add(len).ok_or(Fail)?;
    if start < 0 || end as u64 > bytes.len() as u64 {
        return Err(Fail);
    }
    owned(Term::Binary(bytes[start as usize..end as usize].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Term {
        Term::atom(s)
    }

    fn t(es: Vec<Term>) -> Term {
        Term::Tuple(es)
    }

    #[test]
    fn pattern_binds_and_compares() {
        let ms = compile(&t(vec![a("$1"), a("$1"), a("_")]), &[]).unwrap();
        assert!(ms.matches(&t(vec![Term::Int(1), Term::Int(1), a("x")])));
        assert!(!ms.matches(&t(vec![Term::Int(1), Term::Float(1.0), a("x")])));
        let lit = compile(&t(vec![Term::Float(0.0)]), &[]).unwrap();
        assert!(!lit.matches(&t(vec![Term::Float(-0.0)])));
    }

    #[test]
    fn guards() {
        let g = t(vec![a(">"), a("$1"), Term::Int(3)]);
        let ms = compile(&a("$1"), &[g]).unwrap();
        assert!(ms.matches(&Term::Int(4)));
        assert!(ms.matches(&Term::atom("x")));
        assert!(!ms.matches(&Term::Int(2)));
        let err = t(vec![
            a("=="),
            t(vec![a("div"), a("$1"), Term::Int(0)]),
            Term::Int(0),
        ]);
        assert!(!compile(&a("$1"), &[err]).unwrap().matches(&Term::Int(1)));
    }

    #[test]
    fn refusals() {
        assert!(compile(&a("$1"), &[t(vec![a("=="), t(vec![a("self")]), a("$1")])]).is_err());
        assert!(compile(&a("$1"), &[t(vec![a("=="), a("$2"), Term::Int(1)])]).is_err());
        assert!(compile(&a("$1"), &[t(vec![a("foo"), Term::Int(1)])]).is_err());
        assert!(compile(&a("$1"), &[t(vec![a("node")])]).is_err());
        assert!(compile(&a("$1"), &[t(vec![a("get_tcw")])]).is_err());
    }

    #[test]
    fn variable_numbers_follow_ets() {
        assert_eq!(variable_number(&a("$0")), Some(0));
        assert_eq!(variable_number(&a("$01")), None);
        assert_eq!(variable_number(&a("$2147483648")), None);
        assert_eq!(variable_number(&a("$4294967296")), Some(0));
        assert_eq!(variable_number(&a("$1a")), None);
    }
}
