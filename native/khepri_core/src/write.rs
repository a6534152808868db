//! Applying writes: single-node and pattern puts, deletes and payload
//! clears, with their version bumps, change events and keep_while cascades.
//!
//! Single-node writes are validated before anything changes (path
//! conditions, then keep_while on other nodes), so a failed write leaves the
//! tree as it was without keeping a copy to roll back to.

use crate::condition::{Condition, DataMatcher};
use crate::error::{KeepWhileReason, KhepriError};
use crate::node::{KeepWhile, Node};
use crate::node_id::{NodeId, Path};
use crate::pattern::{Component, Pattern};
use crate::payload::Payload;
use crate::props::{DeleteReason, NodeProps, PropsWanted};
use crate::tree::Tree;
use crate::walk::find_matching;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// Nodes changed or removed by one write, with their properties (old payload,
/// new versions); empty when the caller wanted no properties.
pub type Changes = Vec<(Path, NodeProps)>;

/// What happened to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// Created (auto-created ancestors included).
    Create,
    /// Payload changed.
    Update,
    /// Removed.
    Delete(DeleteReason),
}

/// One node changed by a write. Events drive keep_while cascades here, and
/// triggers and projections above the engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The node.
    pub path: Path,
    /// What happened to it.
    pub change: Change,
}

/// Options of a write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WriteOpts {
    /// Whether to report the nodes written and removed (`khepri_adv`); the
    /// simple API does not, and then nothing is gathered.
    pub report: bool,
    /// Properties to report.
    pub wanted: PropsWanted,
    /// `keep_while` of a put (absolute keys); `None` keeps the node's own.
    pub keep_while: Option<KeepWhile>,
    /// Report nodes removed by keep_while cascades.
    pub return_indirect_deletes: bool,
}

impl WriteOpts {
    /// No report, no keep_while, indirect deletes returned.
    pub const NONE: WriteOpts = WriteOpts {
        report: false,
        wanted: PropsWanted::NONE,
        keep_while: None,
        return_indirect_deletes: true,
    };
}

impl Default for WriteOpts {
    fn default() -> Self {
        WriteOpts::NONE
    }
}

/// Applies one write operation to a tree.
pub struct Writer<'a> {
    tree: &'a mut Tree,
    dm: &'a dyn DataMatcher,
    report: bool,
    wanted: PropsWanted,
    return_indirect: bool,
    changes: Changes,
    events: Vec<Event>,
    /// Nodes whose child list version this operation already bumped (or
    /// created: a new node keeps 1/1 whatever is added below it).
    bumped: HashSet<Path>,
    /// Nodes created, or given a keep_while, by this operation: their
    /// keep_while is not evaluated until a later write.
    fresh: HashSet<Path>,
    /// Creation stamp of the nodes this operation creates.
    stamp: u64,
}

impl<'a> Writer<'a> {
    /// A writer for one operation on `tree`, applied by log entry `stamp`.
    pub fn new(tree: &'a mut Tree, dm: &'a dyn DataMatcher, opts: &WriteOpts, stamp: u64) -> Self {
        Writer {
            tree,
            dm,
            report: opts.report,
            wanted: opts.wanted,
            return_indirect: opts.return_indirect_deletes,
            changes: Vec::new(),
            events: Vec::new(),
            bumped: HashSet::new(),
            fresh: HashSet::new(),
            stamp,
        }
    }

    /// Runs the keep_while cascades and returns what the operation did.
    pub fn finish(mut self) -> (Changes, Vec<Event>) {
        self.settle();
        (merge_changes(self.changes), self.events)
    }

    // ---------------------------------------------------------------- puts

    /// `put` on one node: validates the path conditions and keep_while, then
    /// writes. Each component must name one node (the API checks this).
    pub fn put(
        &mut self,
        pattern: &[Component],
        payload: Payload,
        keep_while: Option<&KeepWhile>,
    ) -> Result<(), KhepriError> {
        let path = check_single_write(self.tree, pattern, self.dm)?;
        if let Some(kw) = keep_while {
            check_keep_while(self.tree, &path, kw, self.dm)?;
        }
        self.put_node(&path, payload, keep_while);
        Ok(())
    }

    /// `put_many`: the condition components visit existing nodes only; the
    /// trailing names are created under each match.
    pub fn put_many(
        &mut self,
        pattern: &[Component],
        payload: Payload,
        keep_while: Option<&KeepWhile>,
    ) -> Result<(), KhepriError> {
        let targets: Vec<Path> = match pattern
            .iter()
            .rposition(|c| matches!(c, Component::Cond(_)))
        {
            None => vec![pattern
                .iter()
                .filter_map(|c| c.specific_name().cloned())
                .collect()],
            Some(last) => {
                let trailing: Vec<NodeId> = pattern[last + 1..]
                    .iter()
                    .filter_map(|c| c.specific_name().cloned())
                    .collect();
                find_matching(&self.tree.root, &pattern[..=last], false, self.dm)
                    .into_iter()
                    .map(|(mut p, _)| {
                        p.extend(trailing.iter().cloned());
                        p
                    })
                    .collect()
            }
        };
        if let Some(kw) = keep_while {
            for t in &targets {
                check_keep_while(self.tree, t, kw, self.dm)?;
            }
        }
        for t in &targets {
            self.put_node(t, payload.clone(), keep_while);
        }
        Ok(())
    }

    fn put_node(&mut self, path: &[NodeId], payload: Payload, keep_while: Option<&KeepWhile>) {
        let existing = existing_depth(self.tree, path);
        if existing == path.len() {
            let reports = self.reports();
            let node = self.tree.get_mut(path).expect("exists");
            let old = if reports {
                node.payload()
            } else {
                Payload::None
            };
            let changed = node.set_payload(&payload);
            if changed {
                node.payload_version += 1;
            }
            if reports {
                let props = NodeProps::of(node, old, self.wanted, None);
                self.changes.push((path.to_vec(), props));
            }
            if changed {
                self.event(path, Change::Update);
            }
        } else {
            for depth in existing..path.len() {
                let is_target = depth + 1 == path.len();
                self.bump_children(&path[..depth]);
                let node = if is_target {
                    Node::new(payload.clone(), false, self.stamp)
                } else {
                    Node::new(Payload::None, true, self.stamp)
                };
                if is_target && self.reports() {
                    let props = NodeProps::of(&node, Payload::None, self.wanted, None);
                    self.changes.push((path.to_vec(), props));
                }
                let parent = self.tree.get_mut(&path[..depth]).expect("parent exists");
                parent.children_mut().insert(path[depth].clone(), node);
                let created = path[..=depth].to_vec();
                self.bumped.insert(created.clone());
                self.fresh.insert(created);
                self.event(&path[..=depth], Change::Create);
            }
        }
        if let Some(kw) = keep_while {
            self.set_keep_while(path, kw);
        }
    }

    fn set_keep_while(&mut self, path: &[NodeId], kw: &KeepWhile) {
        let node = self.tree.get_mut(path).expect("just written");
        node.set_auto_created(false);
        let old = node.set_keep_while((!kw.is_empty()).then(|| Arc::new(kw.clone())));
        let watcher = path.to_vec();
        if let Some(old) = old {
            self.tree.unwatch(&watcher, index_prefixes(&old));
        }
        self.tree.watch(&watcher, index_prefixes(kw));
        self.fresh.insert(watcher);
    }

    // ------------------------------------------------------------- deletes

    /// Deletes every node `pattern` matches, with its subtree. `[]` empties the
    /// tree but keeps the root.
    pub fn delete_many(&mut self, pattern: &[Component]) {
        if pattern.is_empty() {
            self.clear_root();
            return;
        }
        let targets: Vec<Path> = find_matching(&self.tree.root, pattern, false, self.dm)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        for t in targets {
            self.delete_node(&t, DeleteReason::Explicit);
        }
    }

    fn delete_node(&mut self, path: &[NodeId], reason: DeleteReason) {
        let Some((name, parent)) = path.split_last() else {
            return;
        };
        let Some(removed) = self
            .tree
            .get_mut(parent)
            .and_then(|p| p.children_mut().remove(name))
        else {
            return; // already removed with an ancestor
        };
        self.bump_children(parent);
        let mut at = path.to_vec();
        self.record_removed(&mut at, &removed, reason);
    }

    fn record_removed(&mut self, path: &mut Path, node: &Node, reason: DeleteReason) {
        if let Some(kw) = node.keep_while() {
            self.tree.unwatch(path, index_prefixes(kw));
        }
        if self.reports() && (reason == DeleteReason::Explicit || self.return_indirect) {
            let props = NodeProps::of(node, node.payload(), self.wanted, Some(reason));
            self.changes.push((path.clone(), props));
        }
        self.event(path, Change::Delete(reason));
        for (name, child) in node.children().iter() {
            path.push(name.clone());
            self.record_removed(path, child, reason);
            path.pop();
        }
    }

    fn clear_root(&mut self) {
        let root = &mut self.tree.root;
        let old = root.payload();
        root.clear_payload();
        let children = root.take_children();
        if old.is_some() {
            root.payload_version += 1;
        }
        if !children.is_empty() {
            root.child_list_version += 1;
        }
        if self.reports() {
            let props = NodeProps::of(
                &self.tree.root,
                old,
                self.wanted,
                Some(DeleteReason::Explicit),
            );
            self.changes.push((Vec::new(), props));
        }
        let mut path = Vec::new();
        for (name, child) in children.iter() {
            path.push(name.clone());
            self.record_removed(&mut path, child, DeleteReason::Explicit);
            path.pop();
        }
    }

    // -------------------------------------------------------------- clears

    /// Removes the payload of every node `pattern` matches (missing: no-op).
    pub fn clear_payloads(&mut self, pattern: &[Component]) {
        let targets: Vec<Path> = find_matching(&self.tree.root, pattern, false, self.dm)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let reports = self.reports();
        for t in targets {
            let Some(node) = self.tree.get_mut(&t) else {
                continue;
            };
            let old = if reports {
                node.payload()
            } else {
                Payload::None
            };
            let changed = node.clear_payload();
            if changed {
                node.payload_version += 1;
            }
            if reports {
                let props = NodeProps::of(node, old, self.wanted, None);
                self.changes.push((t.clone(), props));
            }
            if changed {
                self.event(&t, Change::Update);
            }
        }
    }

    // ----------------------------------------------------------- cascades

    /// Processes events until none is left: auto-created ancestors without
    /// payload or children go, and so do watchers whose keep_while fails.
    fn settle(&mut self) {
        let mut i = 0;
        while i < self.events.len() {
            let Event { path, change } = self.events[i].clone();
            match change {
                Change::Delete(_) if path.len() >= 2 => self.reclaim(&path[..path.len() - 1]),
                Change::Update => self.reclaim(&path),
                _ => {}
            }
            for depth in 0..=path.len() {
                let Some(watchers) = self.tree.watchers.get(&path[..depth]).cloned() else {
                    continue;
                };
                for watcher in watchers {
                    self.check_watcher(&watcher);
                }
            }
            i += 1;
        }
    }

    fn reclaim(&mut self, path: &[NodeId]) {
        if self.tree.get(path).is_some_and(Node::is_reclaimable) {
            self.delete_node(path, DeleteReason::KeepWhile);
        }
    }

    fn check_watcher(&mut self, watcher: &Path) {
        if self.fresh.contains(watcher) {
            return;
        }
        let Some(kw) = self.tree.get(watcher).and_then(|n| n.keep_while().cloned()) else {
            return;
        };
        if keep_while_met(self.tree, &kw, self.dm).is_err() {
            self.delete_node(watcher, DeleteReason::KeepWhile);
        }
    }

    // ------------------------------------------------------------ helpers

    fn reports(&self) -> bool {
        self.report
    }

    fn event(&mut self, path: &[NodeId], change: Change) {
        self.events.push(Event {
            path: path.to_vec(),
            change,
        });
    }

    /// Bumps the child list version of `parent`, at most once per operation.
    fn bump_children(&mut self, parent: &[NodeId]) {
        if self.bumped.insert(parent.to_vec()) {
            if let Some(node) = self.tree.get_mut(parent) {
                node.child_list_version += 1;
            }
        }
    }
}

/// One entry per path: a node written and then removed by a cascade of the
/// same operation is reported once, with the payload it had before the
/// operation and its final versions and delete reason.
fn merge_changes(changes: Changes) -> Changes {
    if changes.len() < 2 {
        return changes;
    }
    let mut index: std::collections::HashMap<Path, usize> = std::collections::HashMap::new();
    let mut merged: Changes = Vec::with_capacity(changes.len());
    for (path, props) in changes {
        match index.get(&path) {
            Some(&i) => {
                let first_payload = std::mem::take(&mut merged[i].1.payload);
                merged[i].1 = NodeProps {
                    payload: first_payload,
                    ..props
                };
            }
            None => {
                index.insert(path.clone(), merged.len());
                merged.push((path, props));
            }
        }
    }
    merged
}

/// How many leading components of `path` exist.
fn existing_depth(tree: &Tree, path: &[NodeId]) -> usize {
    let mut node = &tree.root;
    for (depth, name) in path.iter().enumerate() {
        match node.children().get(name) {
            Some(child) => node = child,
            None => return depth,
        }
    }
    path.len()
}

/// The default properties reported for a node in `mismatching_node`.
fn default_props(node: &Node) -> NodeProps {
    NodeProps::of(node, node.payload(), PropsWanted::DEFAULT, None)
}

/// Checks the path conditions of a single-node write and returns the target
/// path. An existing node must satisfy its component's condition
/// (`mismatching_node`); a missing one is created only if its condition
/// allows it (`node_not_found`).
pub fn check_single_write(
    tree: &Tree,
    pattern: &[Component],
    dm: &dyn DataMatcher,
) -> Result<Path, KhepriError> {
    let mut path = Vec::with_capacity(pattern.len());
    let mut node = Some(&tree.root);
    for (depth, component) in pattern.iter().enumerate() {
        let is_target = depth + 1 == pattern.len();
        let name = component
            .specific_name()
            .ok_or_else(|| not_found_at(component, &path, is_target))?
            .clone();
        path.push(name.clone());
        let child = node.and_then(|n| n.children().get(&name));
        match (child, component) {
            (Some(child), Component::Cond(cond)) => {
                if let Err(failed) = cond.eval(&name, child, dm) {
                    return Err(KhepriError::MismatchingNode {
                        node_name: name,
                        node_path: path,
                        node_is_target: is_target,
                        node_props: Box::new(default_props(child)),
                        condition: Box::new(failed.clone()),
                    });
                }
            }
            (None, Component::Cond(cond)) if !cond.allows_creation(&name) => {
                return Err(KhepriError::NodeNotFound {
                    node_name: name,
                    node_path: path,
                    node_is_target: is_target,
                    condition: Some(Box::new(cond.clone())),
                });
            }
            _ => {}
        }
        node = child;
    }
    Ok(path)
}

fn not_found_at(component: &Component, path: &[NodeId], is_target: bool) -> KhepriError {
    // Unreachable through the API (it refuses such patterns); answer sensibly.
    KhepriError::NodeNotFound {
        node_name: NodeId::binary(b""),
        node_path: path.to_vec(),
        node_is_target: is_target,
        condition: match component {
            Component::Cond(c) => Some(Box::new(c.clone())),
            Component::Name(_) => None,
        },
    }
}

/// The index prefixes of a keep_while: each key's leading names.
fn index_prefixes(kw: &KeepWhile) -> Vec<Path> {
    kw.iter().map(|(key, _)| leading_names(key)).collect()
}

fn leading_names(pattern: &Pattern) -> Path {
    pattern
        .iter()
        .map_while(|c| match c {
            Component::Name(n) => Some(n.clone()),
            Component::Cond(_) => None,
        })
        .collect()
}

/// Whether every key of `kw` holds: each node a key matches satisfies the
/// key's condition; a key matching nothing holds only for `exists = false`.
pub fn keep_while_met(
    tree: &Tree,
    kw: &KeepWhile,
    dm: &dyn DataMatcher,
) -> Result<(), KeepWhileReason> {
    for (key, cond) in kw {
        let matches = find_matching(&tree.root, key, false, dm);
        if matches.is_empty() {
            if *cond != Condition::NodeExists(false) {
                return Err(KeepWhileReason::PatternMatchesNoNodes(key.clone()));
            }
            continue;
        }
        for (path, node) in matches {
            let root_name = NodeId::binary(b"");
            let name = path.last().unwrap_or(&root_name);
            if let Err(failed) = cond.eval(name, node, dm) {
                return Err(KeepWhileReason::Failed(failed.clone()));
            }
        }
    }
    Ok(())
}

/// At write time, the keep_while of the node at `path` must hold on other
/// nodes; conditions on the node itself and its descendants are not checked.
fn check_keep_while(
    tree: &Tree,
    path: &[NodeId],
    kw: &KeepWhile,
    dm: &dyn DataMatcher,
) -> Result<(), KhepriError> {
    let others: KeepWhile = kw
        .iter()
        .filter(|(key, _)| !leading_names(key).starts_with(path))
        .cloned()
        .collect();
    keep_while_met(tree, &others, dm).map_err(|reason| KhepriError::KeepWhileConditionsNotMet {
        node_name: path.last().cloned().unwrap_or_else(|| NodeId::binary(b"")),
        node_path: path.to_vec(),
        keep_while_reason: Box::new(reason),
    })
}
