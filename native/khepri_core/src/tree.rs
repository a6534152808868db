//! The tree of nodes, with the reverse index of keep_while conditions.

use crate::dedup::Dedups;
use crate::error::KhepriError;
use crate::hooks::Hooks;
use crate::node::Node;
use crate::node_id::{NodeId, Path};
use imbl::{OrdMap, OrdSet};

/// The whole tree. The root always exists.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    /// The root node (`[]`).
    pub root: Node,
    /// keep_while reverse index: for each watched path prefix (the leading
    /// names of a key pattern), the nodes whose keep_while watches it. A change
    /// at a path re-evaluates the watchers indexed at each of its prefixes.
    pub watchers: OrdMap<Path, OrdSet<Path>>,
    /// Replies of commands applied at most once, until they expire.
    pub dedups: Dedups,
    /// Registered projections and triggers, and owed trigger firings.
    pub hooks: Hooks,
}

impl Tree {
    /// An empty tree: a root without payload or children.
    pub fn new() -> Self {
        Tree::default()
    }

    /// The node at `path`, or `node_not_found` naming the first missing component.
    pub fn find(&self, path: &[NodeId]) -> Result<&Node, KhepriError> {
        let mut node = &self.root;
        for (depth, name) in path.iter().enumerate() {
            node = node
                .children()
                .get(name)
                .ok_or_else(|| KhepriError::NodeNotFound {
                    node_name: name.clone(),
                    node_path: path[..=depth].to_vec(),
                    node_is_target: depth + 1 == path.len(),
                    condition: None,
                })?;
        }
        Ok(node)
    }

    /// The node at `path`, if it exists.
    pub fn get(&self, path: &[NodeId]) -> Option<&Node> {
        path.iter()
            .try_fold(&self.root, |node, name| node.children().get(name))
    }

    /// The node at `path`, mutable (copying shared chunks on the way).
    pub fn get_mut(&mut self, path: &[NodeId]) -> Option<&mut Node> {
        path.iter().try_fold(&mut self.root, |node, name| {
            node.children_mut().get_mut(name)
        })
    }

    /// Number of nodes, the root included.
    pub fn node_count(&self) -> usize {
        fn count(n: &Node) -> usize {
            1 + n.children().values().map(count).sum::<usize>()
        }
        count(&self.root)
    }

    /// Indexes `watcher` under each of `prefixes`.
    pub fn watch(&mut self, watcher: &Path, prefixes: impl IntoIterator<Item = Path>) {
        for prefix in prefixes {
            self.watchers
                .entry(prefix)
                .or_default()
                .insert(watcher.clone());
        }
    }

    /// Removes `watcher` from the index under each of `prefixes`.
    pub fn unwatch(&mut self, watcher: &Path, prefixes: impl IntoIterator<Item = Path>) {
        for prefix in prefixes {
            if let Some(set) = self.watchers.get_mut(&prefix) {
                set.remove(watcher);
                if set.is_empty() {
                    self.watchers.remove(&prefix);
                }
            }
        }
    }
}
