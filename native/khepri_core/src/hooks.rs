//! Projections and triggers: their registrations, which are replicated state
//! kept beside the tree, and the effects each applied command has on them.
//!
//! The engine only decides *what* happens; ETS tables and stored procedures
//! live in the BEAM. Trigger firings are part of the replicated state (a
//! queue of firings not yet acknowledged), so a new leader can run what the
//! old one did not confirm: at-least-once. Projection updates are not: every
//! member derives them from the commands it applies.

use crate::bytes::Bytes;
use crate::command::Command;
use crate::condition::DataMatcher;
use crate::error::KhepriError;
use crate::node::Node;
use crate::node_id::{NodeId, Path};
use crate::pattern::{Component, Pattern};
use crate::tree::Tree;
use crate::write::{Change, Event};
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How a projection turns nodes into ETS records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectionKind {
    /// The node's data is the record.
    Copy,
    /// `fun(Path, Data) -> Record`.
    Simple,
    /// `fun(Tables, Path, OldProps, NewProps)`: manages its tables itself.
    Extended,
}

/// A registered projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectionDef {
    /// Its name (an atom's UTF-8 name).
    pub name: String,
    /// The nodes it follows.
    pub pattern: Pattern,
    /// What it does with them.
    pub kind: ProjectionKind,
    /// The `#khepri_projection{}` record in external term format: opaque here.
    pub spec: Bytes,
}

/// The changes a trigger fires on, as a bit set.
pub mod actions {
    /// A node is created.
    pub const CREATE: u8 = 1;
    /// A node's payload changes.
    pub const UPDATE: u8 = 2;
    /// A node is deleted.
    pub const DELETE: u8 = 4;
    /// All three.
    pub const ALL: u8 = CREATE | UPDATE | DELETE;
}

/// A registered trigger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriggerDef {
    /// Its id (an atom's UTF-8 name).
    pub id: String,
    /// The nodes it watches.
    pub pattern: Pattern,
    /// Which changes fire it ([`actions`] bits).
    pub on: u8,
    /// Higher runs first among the triggers one command fires.
    pub priority: i64,
    /// The stored procedure it runs.
    pub sproc: Path,
}

/// One run of a trigger's stored procedure, owed until acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    /// Unique and increasing in log order, the same on every member.
    pub seq: u64,
    /// The trigger.
    pub trigger: String,
    /// The node that changed.
    pub path: Path,
    /// How it changed.
    pub change: Change,
    /// The stored procedure to run.
    pub sproc: Path,
}

/// The registrations and owed firings of one store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Hooks {
    /// Projections by name.
    #[serde(deserialize_with = "crate::cautious::ord_map")]
    pub projections: OrdMap<String, Arc<ProjectionDef>>,
    /// Triggers by id.
    #[serde(deserialize_with = "crate::cautious::ord_map")]
    pub triggers: OrdMap<String, Arc<TriggerDef>>,
    /// Firings not yet acknowledged, by sequence number.
    #[serde(deserialize_with = "crate::cautious::ord_map")]
    pub pending: OrdMap<u64, Arc<Firing>>,
    /// The sequence number of the next firing.
    pub next_seq: u64,
}

/// What one applied command means for the store process of a member.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Create the projection's tables and fill them from `tree`.
    Register(Arc<ProjectionDef>, Tree),
    /// Drop these projections' tables.
    Unregister(Vec<String>),
    /// A node changed: update the projections that follow it. `old` and
    /// `new` are the node before and after the command (`None`: absent).
    Project {
        /// The node's path.
        path: Path,
        /// The node before.
        old: Option<Node>,
        /// The node after.
        new: Option<Node>,
        /// The projections to update.
        projections: Vec<Arc<ProjectionDef>>,
    },
    /// A trigger fired (run it if this member leads).
    Fire(Arc<Firing>),
}

impl Hooks {
    /// Whether applying a write must keep the tree it started from: to find
    /// firings (every member) or projection updates (when `projecting`).
    fn watching(&self, projecting: bool) -> bool {
        !self.triggers.is_empty() || (projecting && !self.projections.is_empty())
    }
}

/// Applies `command` to `tree` (log entry `index`), records the trigger
/// firings it causes and, when `effects` is given, appends what the store
/// process must do. Never panics.
pub fn apply(
    command: &Command,
    tree: &mut Tree,
    dm: &dyn DataMatcher,
    index: u64,
    effects: Option<&mut Vec<Effect>>,
) -> crate::command::Reply {
    match command {
        Command::RegisterProjection { def } => {
            if tree.hooks.projections.contains_key(&def.name) {
                return Err(KhepriError::ProjectionAlreadyExists {
                    name: def.name.clone(),
                });
            }
            let def = Arc::new(def.clone());
            tree.hooks
                .projections
                .insert(def.name.clone(), Arc::clone(&def));
            if let Some(effects) = effects {
                effects.push(Effect::Register(def, tree.clone()));
            }
            Ok(Vec::new())
        }
        Command::UnregisterProjections { names } => {
            let gone: Vec<String> = match names {
                None => tree.hooks.projections.keys().cloned().collect(),
                Some(names) => names
                    .iter()
                    .filter(|n| tree.hooks.projections.contains_key(*n))
                    .cloned()
                    .collect(),
            };
            for name in &gone {
                tree.hooks.projections.remove(name);
            }
            if let (Some(effects), false) = (effects, gone.is_empty()) {
                effects.push(Effect::Unregister(gone));
            }
            Ok(Vec::new())
        }
        Command::RegisterTrigger { def } => {
            tree.hooks
                .triggers
                .insert(def.id.clone(), Arc::new(def.clone()));
            Ok(Vec::new())
        }
        Command::AckTriggers { seqs } => {
            for seq in seqs {
                tree.hooks.pending.remove(seq);
            }
            Ok(Vec::new())
        }
        _ => {
            let mut effects = effects;
            if !tree.hooks.watching(effects.is_some()) {
                return command.apply(tree, dm, index).reply;
            }
            // Keeping the whole tree from before the command makes the
            // command copy every B-tree node on its path (the old version
            // shares them): at 1M siblings, several microseconds per write.
            // A put that cannot cascade needs only its target's old node.
            let target = cascade_free_put(command, tree);
            let before = match &target {
                Some(path) => Before::Put {
                    target: path,
                    old: tree.get(path).cloned(),
                },
                None => Before::Tree(tree.clone()),
            };
            let applied = command.apply(tree, dm, index);
            if !applied.events.is_empty() {
                for firing in fire(&before, tree, &applied.events, dm) {
                    if let Some(effects) = effects.as_mut() {
                        effects.push(Effect::Fire(firing));
                    }
                }
                if let Some(effects) = effects {
                    project(&before, tree, &applied.events, dm, effects);
                }
            }
            applied.reply
        }
    }
}

/// What a command's effects are worked out from: the tree before it, or,
/// for a put that cannot delete anything, its target's old node (every
/// other node it touches is a parent it creates).
enum Before<'a> {
    Tree(Tree),
    Put {
        target: &'a [NodeId],
        old: Option<Node>,
    },
}

impl Before<'_> {
    /// The node at `path` before the command.
    fn node(&self, path: &[NodeId]) -> Option<Node> {
        match self {
            Before::Tree(t) => t.get(path).cloned(),
            Before::Put { target, old } => (*target == path).then(|| old.clone()).flatten(),
        }
    }

    /// The root to match a deleted node in (a put deletes nothing).
    fn root<'t>(&'t self, after: &'t Tree) -> &'t Node {
        match self {
            Before::Tree(t) => &t.root,
            Before::Put { .. } => &after.root,
        }
    }
}

/// The path a `put` of one node writes, when it can neither delete nor
/// touch any node but that one and the parents it creates: no keep_while
/// watches the path or any prefix of it (a change there is what makes
/// watchers re-evaluated, and possibly deleted).
fn cascade_free_put(command: &Command, tree: &Tree) -> Option<Vec<NodeId>> {
    let pattern = match command {
        Command::Put { pattern, .. } => pattern,
        Command::Once { command, .. } => return cascade_free_put(command, tree),
        _ => return None,
    };
    let path: Vec<NodeId> = pattern
        .iter()
        .map(|c| c.specific_name().cloned())
        .collect::<Option<_>>()?;
    let watched = !tree.watchers.is_empty()
        && (0..=path.len()).any(|n| tree.watchers.contains_key(&path[..n]));
    (!watched).then_some(path)
}

/// Records the firings `events` cause, in the order they must run:
/// priority descending, then trigger id, then path (SPEC 4.6). The trigger
/// set is the one from before the command; a deleted node is matched in the
/// tree it was deleted from.
fn fire(
    before: &Before,
    tree: &mut Tree,
    events: &[Event],
    dm: &dyn DataMatcher,
) -> Vec<Arc<Firing>> {
    if tree.hooks.triggers.is_empty() {
        return Vec::new();
    }
    // Commands other than registrations leave the trigger set as it was.
    let mut triggers: Vec<Arc<TriggerDef>> = tree.hooks.triggers.values().cloned().collect();
    triggers.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.id.cmp(&b.id)));
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by(|a, b| a.path.cmp(&b.path));
    let mut fired = Vec::new();
    for trigger in triggers {
        for event in &ordered {
            let (bit, root) = match event.change {
                Change::Create => (actions::CREATE, &tree.root),
                Change::Update => (actions::UPDATE, &tree.root),
                Change::Delete(_) => (actions::DELETE, before.root(tree)),
            };
            if trigger.on & bit == 0 || !matches_path(root, &trigger.pattern, &event.path, dm) {
                continue;
            }
            let seq = tree.hooks.next_seq;
            tree.hooks.next_seq += 1;
            let firing = Arc::new(Firing {
                seq,
                trigger: trigger.id.clone(),
                path: event.path.clone(),
                change: event.change,
                sproc: trigger.sproc.clone(),
            });
            tree.hooks.pending.insert(seq, Arc::clone(&firing));
            fired.push(firing);
        }
    }
    fired
}

/// One projection update per node `events` touched, with the node as it was
/// before the command and as it is after (a node created and removed by the
/// same command is skipped).
fn project(
    before: &Before,
    after: &Tree,
    events: &[Event],
    dm: &dyn DataMatcher,
    out: &mut Vec<Effect>,
) {
    // Commands other than registrations leave the projection set as it was.
    let projections = &after.hooks.projections;
    if projections.is_empty() {
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for event in events {
        if seen.insert(&event.path) {
            let change = (before.node(&event.path), after.get(&event.path).cloned());
            let roots = (before.root(after), &after.root);
            push_update(&event.path, change, roots, dm, projections, out);
        }
    }
}

/// The projection update for the node at `path`, which was `old` and is
/// `new`, given the roots before and after the change.
fn push_update(
    path: &[NodeId],
    (old, new): (Option<Node>, Option<Node>),
    (old_root, new_root): (&Node, &Node),
    dm: &dyn DataMatcher,
    projections: &OrdMap<String, Arc<ProjectionDef>>,
    out: &mut Vec<Effect>,
) {
    // Matched where the node is now, or where it was for a deletion.
    let root = match (&old, &new) {
        (None, None) => return,
        (_, Some(_)) => new_root,
        (Some(_), None) => old_root,
    };
    let matching: Vec<Arc<ProjectionDef>> = projections
        .values()
        .filter(|p| matches_path(root, &p.pattern, path, dm))
        .cloned()
        .collect();
    if !matching.is_empty() {
        out.push(Effect::Project {
            path: path.to_vec(),
            old,
            new,
            projections: matching,
        });
    }
}

/// What a member whose tree jumps from `old` to `new` (a snapshot install)
/// must do to its projections: drop those that went away or changed,
/// register new ones, and update the kept ones for every node that differs.
pub fn diff(old: &Tree, new: &Tree, dm: &dyn DataMatcher) -> Vec<Effect> {
    let mut out = Vec::new();
    let (old_p, new_p) = (&old.hooks.projections, &new.hooks.projections);
    let gone: Vec<String> = old_p
        .iter()
        .filter(|(name, def)| new_p.get(*name) != Some(def))
        .map(|(name, _)| name.clone())
        .collect();
    if !gone.is_empty() {
        out.push(Effect::Unregister(gone));
    }
    let kept: OrdMap<String, Arc<ProjectionDef>> = new_p
        .iter()
        .filter(|(name, def)| old_p.get(*name) == Some(def))
        .map(|(n, d)| (n.clone(), Arc::clone(d)))
        .collect();
    if !kept.is_empty() {
        let mut changed = Vec::new();
        changed_paths(
            Some(&old.root),
            Some(&new.root),
            &mut Vec::new(),
            &mut changed,
        );
        for path in changed {
            let change = (old.get(&path).cloned(), new.get(&path).cloned());
            push_update(&path, change, (&old.root, &new.root), dm, &kept, &mut out);
        }
    }
    for (name, def) in new_p.iter() {
        if old_p.get(name) != Some(def) {
            out.push(Effect::Register(Arc::clone(def), new.clone()));
        }
    }
    out
}

/// Paths of the nodes that differ between two trees (created, deleted, or
/// another payload or identity), parents first.
fn changed_paths(a: Option<&Node>, b: Option<&Node>, path: &mut Path, out: &mut Vec<Path>) {
    let differs = match (a, b) {
        (Some(a), Some(b)) => a.created != b.created || a.payload_version != b.payload_version,
        _ => true,
    };
    if differs {
        out.push(path.clone());
    }
    let mut names: Vec<&NodeId> = Vec::new();
    if let Some(a) = a {
        names.extend(a.children().keys());
    }
    if let Some(b) = b {
        names.extend(
            b.children()
                .keys()
                .filter(|n| a.is_none_or(|a| !a.children().contains_key(*n))),
        );
    }
    for name in names {
        path.push(name.clone());
        changed_paths(
            a.and_then(|a| a.children().get(name)),
            b.and_then(|b| b.children().get(name)),
            path,
            out,
        );
        path.pop();
    }
}

/// Whether the node at `path` is one that `pattern` matches in the tree
/// under `root` (the node must exist there).
pub fn matches_path(
    root: &Node,
    pattern: &[Component],
    path: &[NodeId],
    dm: &dyn DataMatcher,
) -> bool {
    match (pattern.split_first(), path.split_first()) {
        (None, None) => true,
        (Some((component, tail)), Some((name, rest))) => {
            let Some(child) = root.children().get(name) else {
                return false;
            };
            match component {
                Component::Name(n) => n == name && matches_path(child, tail, rest, dm),
                Component::Cond(cond) => {
                    cond.eval(name, child, dm).is_ok()
                        && (matches_path(child, tail, rest, dm)
                            || (cond.applies_to_grandchildren()
                                && matches_path(child, pattern, rest, dm)))
                }
            }
        }
        _ => false,
    }
}
