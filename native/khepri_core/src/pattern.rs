//! Path patterns: node names and conditions, one per tree level.

use crate::condition::Condition;
use crate::node_id::NodeId;
use serde::{Deserialize, Serialize};

/// One level of a pattern. Special components (`$/`, `$.`, `$^`) are resolved
/// before a pattern reaches the engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Component {
    /// Exactly this child.
    Name(NodeId),
    /// Every child satisfying the condition.
    Cond(Condition),
}

/// A pattern, from the root down.
pub type Pattern = Vec<Component>;

impl Component {
    /// The one name this component can match, if any.
    pub fn specific_name(&self) -> Option<&NodeId> {
        match self {
            Component::Name(n) => Some(n),
            Component::Cond(c) => c.specific_name(),
        }
    }

    /// Whether the component recurses into descendants (`**`-like).
    pub fn is_recursive(&self) -> bool {
        matches!(self, Component::Cond(c) if c.applies_to_grandchildren())
    }
}
