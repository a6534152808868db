//! The fuzz targets: one decoder (and what runs on its output) each.

pub mod command;
pub mod etf;
pub mod log;
pub mod snapshot;

/// One decoder under test.
pub trait Target: Send {
    /// Name on the command line and of the corpus directory.
    fn name(&self) -> &'static str;

    /// Seed inputs made from real encodings (written to the corpus by
    /// `khepri-fuzz seeds`).
    fn seeds(&self) -> Vec<Vec<u8>>;

    /// Repairs checksums (and the like) of a mutant so that it gets past the
    /// integrity check into the decoding behind it. Most targets have none.
    fn fix_up(&self, _input: &mut Vec<u8>) {}

    /// Feeds one input to the decoder. Returns whether it was accepted
    /// (decoded without error). Any panic is a bug.
    fn run(&mut self, input: &[u8]) -> bool;
}

/// Names of every target, in a fixed order.
pub const NAMES: [&str; 4] = ["log", "snapshot", "etf", "command"];

/// The target called `name`.
pub fn by_name(name: &str) -> Option<Box<dyn Target>> {
    match name {
        "log" => Some(Box::new(log::LogTarget::new())),
        "snapshot" => Some(Box::new(snapshot::SnapshotTarget)),
        "etf" => Some(Box::new(etf::EtfTarget)),
        "command" => Some(Box::new(command::CommandTarget::new())),
        _ => None,
    }
}
