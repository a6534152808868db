//! Conditions on tree nodes (the records of `include/khepri.hrl`), evaluated
//! in the engine identically on every member.

use crate::bytes::Bytes;
use crate::node::Node;
use crate::node::PayloadKind;
use crate::node_id::NodeId;
use crate::payload::Payload;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};

/// A comparison operator of `comparison_op/1`; a bare integer means `eq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `lt`
    Lt,
    /// `le`
    Le,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
}

/// `{Op, Value}` compared with a node's counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// The operator.
    pub op: CmpOp,
    /// The right-hand side (counters are never negative).
    pub value: i64,
    /// Whether it was written as a bare integer (for reporting it back).
    pub bare: bool,
}

impl Comparison {
    /// Whether `actual` satisfies the comparison.
    pub fn holds(&self, actual: u64) -> bool {
        let a = i128::from(actual);
        let v = i128::from(self.value);
        match self.op {
            CmpOp::Eq => a == v,
            CmpOp::Ne => a != v,
            CmpOp::Lt => a < v,
            CmpOp::Le => a <= v,
            CmpOp::Gt => a > v,
            CmpOp::Ge => a >= v,
        }
    }
}

/// A name pattern: `any` or a PCRE regex, matched against the name's bytes
/// (an atom's UTF-8 name or a binary's bytes).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum NameRegex {
    /// Matches every name.
    Any,
    /// A regex.
    Regex {
        /// The regex source, UTF-8.
        source: String,
        /// The Erlang term it was given as (a string or a binary), in external
        /// format, to report the condition back exactly.
        term: Bytes,
        /// Compiled on first use; `None` if it does not compile (the
        /// condition then never holds).
        #[serde(skip)]
        compiled: Arc<OnceLock<Option<pcre2::bytes::Regex>>>,
    },
}

impl PartialEq for NameRegex {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (NameRegex::Any, NameRegex::Any) => true,
            (NameRegex::Regex { source: a, .. }, NameRegex::Regex { source: b, .. }) => a == b,
            _ => false,
        }
    }
}

impl NameRegex {
    /// A regex condition from its source and original term.
    pub fn regex(source: String, term: Bytes) -> Self {
        NameRegex::Regex {
            source,
            term,
            compiled: Arc::default(),
        }
    }

    /// Compiles `source` the way the engine will; `Err` carries PCRE's message.
    pub fn check(source: &str) -> Result<(), String> {
        compile_regex(source).map(|_| ()).map_err(|e| e.to_string())
    }

    /// Whether `name` matches.
    pub fn matches(&self, name: &NodeId) -> bool {
        match self {
            NameRegex::Any => true,
            NameRegex::Regex {
                source, compiled, ..
            } => {
                let re = compiled.get_or_init(|| compile_regex(source).ok());
                let bytes = name
                    .as_atom()
                    .map_or_else(|| name.as_binary().unwrap_or_default(), str::as_bytes);
                re.as_ref()
                    .is_some_and(|re| re.is_match(bytes).unwrap_or(false))
            }
        }
    }
}

/// Compiled as `khepri_condition` does in Erlang: a regex with non-ASCII
/// characters in Unicode mode (where `.` is a character, and a name that is
/// not UTF-8 never matches), an ASCII one byte-wise.
fn compile_regex(source: &str) -> Result<pcre2::bytes::Regex, pcre2::Error> {
    // No JIT: identical behaviour everywhere matters more than speed here.
    pcre2::bytes::RegexBuilder::new()
        .jit(false)
        .utf(!source.is_ascii())
        .build(source)
}

/// `#if_data_matches{}`: an ETS match specification on the node's data. The
/// pattern and guards are kept as the external-format bytes they came in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataMatch {
    /// The match pattern (`'_'`, `'$N'` variables, literals).
    pub pattern: Bytes,
    /// The list of guards.
    pub guards: Bytes,
    /// Compiled on first use; `None` if it does not compile (never holds).
    #[serde(skip)]
    pub compiled: Arc<OnceLock<Option<crate::match_spec::MatchSpec>>>,
}

impl PartialEq for DataMatch {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern && self.guards == other.guards
    }
}

impl DataMatch {
    /// A data condition from the external format of its pattern and guards.
    pub fn new(pattern: Bytes, guards: Bytes) -> Self {
        DataMatch {
            pattern,
            guards,
            compiled: Arc::default(),
        }
    }
}

/// A condition on a node, given its name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Condition {
    /// A bare name inside `#if_all{}`/`#if_any{}`/`#if_not{}`: name equality.
    Name(NodeId),
    /// `?THIS_KHEPRI_NODE` used as a condition: always true.
    ThisNode,
    /// `#if_name_matches{}`
    NameMatches(NameRegex),
    /// `#if_path_matches{}`: like `NameMatches`, and recurses into descendants.
    PathMatches(NameRegex),
    /// `#if_has_payload{}`
    HasPayload(bool),
    /// `#if_has_data{}`
    HasData(bool),
    /// `#if_has_sproc{}`
    HasSproc(bool),
    /// `#if_data_matches{}`
    DataMatches(DataMatch),
    /// `#if_node_exists{}`
    NodeExists(bool),
    /// `#if_payload_version{}`
    PayloadVersion(Comparison),
    /// `#if_child_list_version{}`
    ChildListVersion(Comparison),
    /// `#if_child_list_length{}`
    ChildListLength(Comparison),
    /// `#if_not{}`
    Not(Box<Condition>),
    /// `#if_all{}`
    All(Vec<Condition>),
    /// `#if_any{}`
    Any(Vec<Condition>),
}

/// How a data condition is evaluated: supplied by the caller so this module
/// does not depend on the term decoder.
pub trait DataMatcher {
    /// Whether the data (external term format) matches.
    fn matches(&self, spec: &DataMatch, data: &[u8]) -> bool;
}

impl Condition {
    /// Evaluates the condition on an existing node named `name`. Returns
    /// `Ok(())` or `Err(failing)`, the innermost condition that failed (for
    /// `#if_all{}` the first failing member), as upstream reports it.
    pub fn eval<'c>(
        &'c self,
        name: &NodeId,
        node: &Node,
        dm: &dyn DataMatcher,
    ) -> Result<(), &'c Condition> {
        let ok = match self {
            Condition::Name(n) => n == name,
            Condition::ThisNode => true,
            Condition::NameMatches(re) | Condition::PathMatches(re) => re.matches(name),
            Condition::HasPayload(want) => node.has_payload() == *want,
            Condition::HasData(want) => (node.payload_kind() == PayloadKind::Data) == *want,
            Condition::HasSproc(want) => (node.payload_kind() == PayloadKind::Sproc) == *want,
            Condition::DataMatches(spec) => match node.payload() {
                Payload::Data(data) => dm.matches(spec, data.as_slice()),
                _ => false,
            },
            Condition::NodeExists(want) => *want,
            Condition::PayloadVersion(c) => c.holds(u64::from(node.payload_version)),
            Condition::ChildListVersion(c) => c.holds(u64::from(node.child_list_version)),
            Condition::ChildListLength(c) => c.holds(node.children().len() as u64),
            Condition::Not(inner) => inner.eval(name, node, dm).is_err(),
            Condition::All(conds) => {
                // Bare names first: the cheapest test, as upstream orders them.
                for c in conds.iter().filter(|c| matches!(c, Condition::Name(_))) {
                    c.eval(name, node, dm)?;
                }
                for c in conds.iter().filter(|c| !matches!(c, Condition::Name(_))) {
                    c.eval(name, node, dm)?;
                }
                true
            }
            Condition::Any(conds) => conds.iter().any(|c| c.eval(name, node, dm).is_ok()),
        };
        if ok {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// Whether the condition holds for a node that does not exist, i.e.
    /// whether a write may create the node: only `#if_node_exists{exists =
    /// false}` (and conditions made only of such, names and `$.`) allow it.
    pub fn allows_creation(&self, name: &NodeId) -> bool {
        match self {
            Condition::Name(n) => n == name,
            Condition::ThisNode => true,
            Condition::NodeExists(want) => !*want,
            Condition::All(conds) => conds.iter().all(|c| c.allows_creation(name)),
            Condition::Any(conds) => conds.iter().any(|c| c.allows_creation(name)),
            _ => false,
        }
    }

    /// Whether the condition also applies to descendants (contains
    /// `#if_path_matches{}`), making a pattern component recurse.
    pub fn applies_to_grandchildren(&self) -> bool {
        match self {
            Condition::PathMatches(_) => true,
            Condition::Not(c) => c.applies_to_grandchildren(),
            Condition::All(cs) | Condition::Any(cs) => {
                cs.iter().any(Condition::applies_to_grandchildren)
            }
            _ => false,
        }
    }

    /// The one name this condition can match, if it is bound to one: a bare
    /// name, an `#if_all{}` holding a name, an `#if_any{}` of one name.
    pub fn specific_name(&self) -> Option<&NodeId> {
        match self {
            Condition::Name(n) => Some(n),
            Condition::All(cs) => cs.iter().find_map(Condition::specific_name),
            Condition::Any(cs) => {
                let mut names = cs.iter().map(Condition::specific_name);
                let first = names.next()??;
                names.all(|n| n == Some(first)).then_some(first)
            }
            _ => None,
        }
    }
}
