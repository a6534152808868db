//! Reads: one node by a specific pattern, or every node a pattern matches.

use crate::condition::DataMatcher;
use crate::error::KhepriError;
use crate::node::Node;
use crate::node_id::{NodeId, Path};
use crate::pattern::Component;
use crate::tree::Tree;
use crate::walk::{find_matching, visit_matching};

/// The node a single-node read targets. A missing node, or one failing its
/// component's condition, is `node_not_found` (SPEC 5d.1: a failing
/// condition makes the node not match).
pub fn get_one<'t>(
    tree: &'t Tree,
    pattern: &[Component],
    dm: &dyn DataMatcher,
) -> Result<(Path, &'t Node), KhepriError> {
    let mut node = &tree.root;
    let mut path = Vec::with_capacity(pattern.len());
    for (depth, component) in pattern.iter().enumerate() {
        let is_target = depth + 1 == pattern.len();
        let cond = match component {
            Component::Cond(c) => Some(c),
            Component::Name(_) => None,
        };
        let missing = |path: &Path| KhepriError::NodeNotFound {
            node_name: path
                .last()
                .cloned()
                .unwrap_or_else(|| crate::NodeId::binary(b"")),
            node_path: path.clone(),
            node_is_target: is_target,
            condition: cond.cloned().map(Box::new),
        };
        let Some(name) = component.specific_name() else {
            return Err(missing(&path));
        };
        path.push(name.clone());
        let child = node.children().get(name).ok_or_else(|| missing(&path))?;
        if let Some(c) = cond {
            if c.eval(name, child, dm).is_err() {
                return Err(KhepriError::NodeNotFound {
                    node_name: name.clone(),
                    node_path: path,
                    node_is_target: true,
                    condition: Some(Box::new(c.clone())),
                });
            }
        }
        node = child;
    }
    Ok((path, node))
}

/// Every node `pattern` matches (see [`find_matching`]).
pub fn get_many<'t>(
    tree: &'t Tree,
    pattern: &[Component],
    include_root: bool,
    dm: &dyn DataMatcher,
) -> Vec<(Path, &'t Node)> {
    find_matching(&tree.root, pattern, include_root, dm)
}

/// Calls `visit` with every node `pattern` matches and its path, in the
/// order of [`get_many`], without a path allocation per match.
pub fn visit_many<'t>(
    tree: &'t Tree,
    pattern: &[Component],
    include_root: bool,
    dm: &dyn DataMatcher,
    visit: &mut dyn FnMut(&[NodeId], &'t Node),
) {
    visit_matching(&tree.root, pattern, include_root, dm, visit)
}
