//! The host: whoever does the item-level work (the JS runtime, or a Rust closure in tests).

use crate::packet::Packet;
use crate::Epoch;

/// A host call failed; the host keeps the details (e.g. the JS error) and the run stops.
#[derive(Debug, Clone, PartialEq)]
pub struct HostError(pub String);

/// What a host call produced.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Reply {
    /// `(output port, packet)` pairs, emitted at the call's epoch.
    pub emits: Vec<(u32, Packet)>,
    /// The call is still running (e.g. awaiting a Promise): the epoch stays open until
    /// [`crate::EngineWorker::complete`] is called with this token.
    pub pending: Option<u64>,
    /// The node's earliest timer in ms since the Unix epoch (replaces the previous one); `None`: no timer.
    pub wake_at_ms: Option<f64>,
    /// Sources only: every partition of this source on this worker is at EOF.
    pub eof: bool,
}

/// Item-level work, called on the thread that steps the worker.
pub trait Host {
    /// Poll the source `node` for items of `epoch`.
    fn poll(&mut self, node: u32, epoch: Epoch) -> Result<Reply, HostError>;
    /// A batch reached input `port` of `node` at `epoch` (epochs arrive in order).
    fn on_batch(&mut self, node: u32, port: u32, epoch: Epoch, payload: crate::Payload) -> Result<Reply, HostError>;
    /// The node's timer is due; output belongs to `epoch`, the node's current epoch.
    fn on_wake(&mut self, node: u32, epoch: Epoch) -> Result<Reply, HostError>;
    /// Every epoch before `next_epoch` is complete at the node's inputs (only for `notify_epochs` nodes).
    fn on_epoch_closed(&mut self, node: u32, closed_epoch: Epoch) -> Result<Reply, HostError>;
    /// Every input of `node` is at EOF; output belongs to `epoch`, the last one.
    fn on_eof(&mut self, node: u32, epoch: Epoch) -> Result<Reply, HostError>;
}
