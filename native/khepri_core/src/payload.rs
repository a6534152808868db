//! Node payloads.

use crate::bytes::Bytes;
use serde::{Deserialize, Serialize};

/// What a node holds. Terms are kept in Erlang's external term format, exactly as
/// the caller's `term_to_binary` produced them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// No payload (`'$__NO_PAYLOAD__'`).
    #[default]
    None,
    /// Data: any Erlang term.
    Data(Bytes),
    /// A stored procedure: an Erlang fun.
    Sproc(Bytes),
}

impl Payload {
    /// True unless this is `Payload::None`.
    pub fn is_some(&self) -> bool {
        !matches!(self, Payload::None)
    }
}
