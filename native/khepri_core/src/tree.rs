//! The tree of nodes and the primitive operations on it.

use crate::error::KhepriError;
use crate::node::Node;
use crate::node_id::{NodeId, Path};
use crate::payload::Payload;
use crate::props::{DeleteReason, NodeProps, PropsWanted};
use serde::{Deserialize, Serialize};

/// Nodes changed or removed by one write, with their properties
/// (see [`NodeProps`]); empty when the caller wanted no properties.
pub type Changes = Vec<(Path, NodeProps)>;

/// The whole tree. The root always exists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    /// The root node (`[]`).
    pub root: Node,
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
                .children
                .get(name)
                .ok_or_else(|| KhepriError::NodeNotFound {
                    node_name: name.clone(),
                    node_path: path[..=depth].to_vec(),
                    node_is_target: depth + 1 == path.len(),
                })?;
        }
        Ok(node)
    }

    /// Sets the payload of the node at `path`, creating it and any missing
    /// ancestor. Ancestors created here are `auto_created`; the target is not.
    pub fn put(&mut self, path: &[NodeId], payload: Payload, wanted: PropsWanted) -> Changes {
        let mut out = Collector::new(wanted);
        let mut cur = Vec::with_capacity(path.len());
        put_in(&mut self.root, path, payload, &mut cur, &mut out);
        out.changes
    }

    /// Removes the node at `path` with its whole subtree, then every
    /// auto-created ancestor left without payload and children. Deleting the
    /// root empties the tree but keeps the root.
    pub fn delete(&mut self, path: &[NodeId], wanted: PropsWanted) -> Changes {
        let mut out = Collector::new(wanted);
        if path.is_empty() {
            clear_root(&mut self.root, &mut out);
        } else {
            let mut cur = Vec::with_capacity(path.len());
            delete_in(&mut self.root, path, &mut cur, &mut out);
        }
        out.changes
    }

    /// Number of nodes, the root included.
    pub fn node_count(&self) -> usize {
        fn count(n: &Node) -> usize {
            1 + n.children.values().map(count).sum::<usize>()
        }
        count(&self.root)
    }
}

/// Gathers the properties of changed nodes, only when the caller wants them.
struct Collector {
    wanted: PropsWanted,
    changes: Changes,
}

impl Collector {
    fn new(wanted: PropsWanted) -> Self {
        Collector {
            wanted,
            changes: Vec::new(),
        }
    }

    fn record(
        &mut self,
        path: &[NodeId],
        old_payload: Payload,
        node: &Node,
        reason: Option<DeleteReason>,
    ) {
        if self.wanted.is_none() {
            return;
        }
        self.changes.push((
            path.to_vec(),
            NodeProps {
                payload: old_payload,
                payload_version: node.payload_version,
                child_list_version: node.child_list_version,
                child_list_length: node.children.len() as u32,
                delete_reason: reason,
            },
        ));
    }

    /// Records `node` and every descendant as removed.
    fn record_subtree(&mut self, path: &mut Path, node: &Node, reason: DeleteReason) {
        if self.wanted.is_none() {
            return;
        }
        self.record(path, node.payload.clone(), node, Some(reason));
        for (name, child) in node.children.iter() {
            path.push(name.clone());
            self.record_subtree(path, child, DeleteReason::Explicit);
            path.pop();
        }
    }
}

fn put_in(node: &mut Node, rest: &[NodeId], payload: Payload, cur: &mut Path, out: &mut Collector) {
    let Some((name, tail)) = rest.split_first() else {
        let old = std::mem::take(&mut node.payload);
        if old != payload {
            node.payload_version += 1;
        }
        node.payload = payload;
        out.record(cur, old, node, None);
        return;
    };
    cur.push(name.clone());
    if let Some(child) = node.children.get_mut(name) {
        put_in(child, tail, payload, cur, out);
        if child.is_reclaimable() {
            reclaim(node, name, cur, out);
        }
    } else {
        node.child_list_version += 1;
        let child = if tail.is_empty() {
            let fresh = Node::new(payload, false);
            out.record(cur, Payload::None, &fresh, None);
            fresh
        } else {
            let mut parent = Node::new(Payload::None, true);
            put_in(&mut parent, tail, payload, cur, out);
            parent
        };
        node.children.insert(name.clone(), child);
    }
    cur.pop();
}

/// Returns true when something under `node` was removed.
fn delete_in(node: &mut Node, rest: &[NodeId], cur: &mut Path, out: &mut Collector) -> bool {
    let Some((name, tail)) = rest.split_first() else {
        return false;
    };
    cur.push(name.clone());
    let changed = if tail.is_empty() {
        match node.children.remove(name) {
            Some(removed) => {
                node.child_list_version += 1;
                out.record_subtree(cur, &removed, DeleteReason::Explicit);
                true
            }
            None => false,
        }
    } else {
        match node.children.get_mut(name) {
            Some(child) => {
                let changed = delete_in(child, tail, cur, out);
                if changed && child.is_reclaimable() {
                    reclaim(node, name, cur, out);
                }
                changed
            }
            None => false,
        }
    };
    cur.pop();
    changed
}

/// Removes the auto-created child `name` of `node` (its implicit keep_while failed).
fn reclaim(node: &mut Node, name: &NodeId, cur: &mut Path, out: &mut Collector) {
    if let Some(removed) = node.children.remove(name) {
        node.child_list_version += 1;
        out.record(
            cur,
            removed.payload.clone(),
            &removed,
            Some(DeleteReason::KeepWhile),
        );
    }
}

fn clear_root(root: &mut Node, out: &mut Collector) {
    let old = std::mem::take(&mut root.payload);
    let had_payload = old.is_some();
    let children = std::mem::take(&mut root.children);
    if had_payload {
        root.payload_version += 1;
    }
    if !children.is_empty() {
        root.child_list_version += 1;
    }
    let mut cur = Vec::new();
    out.record(&cur, old, root, Some(DeleteReason::Explicit));
    for (name, child) in children.iter() {
        cur.push(name.clone());
        out.record_subtree(&mut cur, child, DeleteReason::Explicit);
        cur.pop();
    }
}
