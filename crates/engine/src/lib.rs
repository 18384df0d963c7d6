//! weir's dataflow engine: timely dataflow driven from the thread that owns the host (a JS isolate).
//!
//! The engine knows nothing of Node. It builds one timely dataflow per run from a [`plan::Plan`],
//! moves [`packet::Packet`]s between operators and workers, tracks epochs, and calls a [`host::Host`]
//! for every batch, timer, epoch close and EOF. The host does the item-level work.

pub mod communication;
pub mod connect;
pub mod dataflow;
pub mod gather;
pub mod hash;
pub mod host;
pub mod host_op;
pub mod packet;
pub mod plan;
pub mod recovery;
pub mod source;
pub mod worker;

pub use host::{Host, HostError, Reply};
pub use packet::{Packet, Payload};
pub use plan::{InputEdge, NodePlan, Plan};
pub use worker::{EngineWorker, StepOutcome};

/// Epochs are positive integers; timely's timestamp.
pub type Epoch = u64;
