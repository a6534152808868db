//! Commands as the log carries them: MessagePack (`rmp_serde`) of
//! `khepri_core::Command`, decoded and, when that works, applied to a tree
//! the way the state machine does (`hooks::apply`).
//! Applying must never panic: a panic would be replayed on every member.

use super::Target;
use crate::samples;
use khepri_core::data_match::TermMatcher;
use khepri_core::{hooks, image, Command, Tree};

/// The command decoder and `Command::apply`.
pub struct CommandTarget {
    /// The tree commands are applied to (a copy of it each time).
    base: Tree,
}

impl CommandTarget {
    /// With a base tree holding data, a stored procedure and keep_while.
    pub fn new() -> Self {
        let mut base = Tree::new();
        for (i, c) in samples::commands().iter().enumerate() {
            let _ = hooks::apply(c, &mut base, &TermMatcher, i as u64 + 1, None);
        }
        CommandTarget { base }
    }
}

impl Default for CommandTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl Target for CommandTarget {
    fn name(&self) -> &'static str {
        "command"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        samples::commands()
            .iter()
            .map(|c| rmp_serde::to_vec(c).expect("commands encode"))
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> bool {
        // A log record holds a whole openraft entry around the command.
        let _ = rmp_serde::from_slice::<khepri_raft::types::Entry>(input);
        let Ok(command) = rmp_serde::from_slice::<Command>(input) else {
            return false;
        };
        // As the state machine applies it: projections, triggers and their
        // firings included, with the effects it would hand the store process.
        let mut tree = self.base.clone();
        let mut effects = Vec::new();
        let _ = hooks::apply(&command, &mut tree, &TermMatcher, 1_000, Some(&mut effects));
        let _ = hooks::apply(&command, &mut tree, &TermMatcher, 1_001, Some(&mut effects));
        // Whatever a command made must snapshot and load again.
        let img = image::encode(&tree).expect("a tree made by commands has an image");
        let back = image::decode(&img).expect("an image we made decodes");
        assert!(back == tree, "image round trip changed the tree");
        true
    }
}
