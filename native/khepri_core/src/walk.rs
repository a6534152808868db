//! Finding the nodes a pattern matches.

use crate::condition::DataMatcher;
use crate::node::Node;
use crate::node_id::{NodeId, Path};
use crate::pattern::Component;
use std::collections::BTreeSet;

/// The existing nodes matched by `pattern`, parents before children, each
/// with its path. The root is included when the pattern is `[]`, or first
/// when `include_root` is set.
pub fn find_matching<'t>(
    root: &'t Node,
    pattern: &[Component],
    include_root: bool,
    dm: &dyn DataMatcher,
) -> Vec<(Path, &'t Node)> {
    let mut out = Vec::new();
    visit_matching(root, pattern, include_root, dm, &mut |path, node| {
        out.push((path.to_vec(), node))
    });
    out
}

/// Calls `visit` with each node [`find_matching`] returns, in the same
/// order, without allocating a path per match (large reads build their
/// result terms straight from the borrowed path).
pub fn visit_matching<'t>(
    root: &'t Node,
    pattern: &[Component],
    include_root: bool,
    dm: &dyn DataMatcher,
    visit: &mut dyn FnMut(&[NodeId], &'t Node),
) {
    if include_root && !pattern.is_empty() {
        visit(&[], root);
    }
    let mut path = Vec::new();
    // Several recursive components can reach one node along two routes:
    // only then are the paths seen remembered.
    if pattern.iter().filter(|c| c.is_recursive()).count() > 1 {
        let mut seen = BTreeSet::new();
        let mut once = |p: &[NodeId], n: &'t Node| {
            if seen.insert(p.to_vec()) {
                visit(p, n);
            }
        };
        walk(root, pattern, &mut path, dm, &mut once);
    } else {
        walk(root, pattern, &mut path, dm, visit);
    }
}

fn walk<'t>(
    node: &'t Node,
    rest: &[Component],
    path: &mut Path,
    dm: &dyn DataMatcher,
    out: &mut dyn FnMut(&[NodeId], &'t Node),
) {
    let Some((component, tail)) = rest.split_first() else {
        out(path, node);
        return;
    };
    match component {
        Component::Name(name) => {
            if let Some(child) = node.children().get(name) {
                path.push(name.clone());
                walk(child, tail, path, dm, out);
                path.pop();
            }
        }
        Component::Cond(cond) => {
            let recursive = cond.applies_to_grandchildren();
            // A condition bound to one name needs one lookup, not a scan.
            if let (Some(name), false) = (cond.specific_name(), recursive) {
                if let Some(child) = node.children().get(name) {
                    if cond.eval(name, child, dm).is_ok() {
                        path.push(name.clone());
                        walk(child, tail, path, dm, out);
                        path.pop();
                    }
                }
                return;
            }
            for (name, child) in node.children().iter() {
                if cond.eval(name, child, dm).is_err() {
                    continue;
                }
                path.push(name.clone());
                walk(child, tail, path, dm, out);
                if recursive {
                    // `**` consumes one or more levels: stay on it below.
                    walk(child, rest, path, dm, out);
                }
                path.pop();
            }
        }
    }
}
