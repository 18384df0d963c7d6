//! What timely carries: whole batches, either a handle into the host's own table or encoded bytes.

use serde::{Deserialize, Serialize};

/// A batch of items. `Local` never leaves the worker's own isolate; `Bytes` can cross threads and processes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Payload {
    /// A handle the host resolves to a batch it keeps (no encoding).
    Local(u64),
    /// A batch encoded by the host's codec.
    Bytes(Vec<u8>),
}

/// A batch with the worker it must reach (used only on exchange edges; pipelines ignore it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Packet {
    pub dest: u32,
    pub payload: Payload,
}
