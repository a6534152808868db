//! Finding the nodes a pattern matches.

use crate::condition::DataMatcher;
use crate::node::Node;
use crate::node_id::Path;
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
    if include_root && !pattern.is_empty() {
        out.push((Vec::new(), root));
    }
    let mut path = Vec::new();
    walk(root, pattern, &mut path, dm, &mut out);
    // Several recursive components can reach one node along two routes.
    if pattern.iter().filter(|c| c.is_recursive()).count() > 1 {
        let mut seen = BTreeSet::new();
        out.retain(|(p, _)| seen.insert(p.clone()));
    }
    out
}

fn walk<'t>(
    node: &'t Node,
    rest: &[Component],
    path: &mut Path,
    dm: &dyn DataMatcher,
    out: &mut Vec<(Path, &'t Node)>,
) {
    let Some((component, tail)) = rest.split_first() else {
        out.push((path.clone(), node));
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
