//! Builds one run's timely dataflow from a [`Plan`] and holds what its operators share.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::Probe;
use timely::dataflow::{ProbeHandle, Scope, Stream};
use timely::scheduling::Activator;

use crate::host::{Host, HostError, Reply};
use crate::packet::Packet;
use crate::plan::{NodePlan, Plan};
use crate::{host_op, source, Epoch};

pub type PacketStream<'scope> = Stream<'scope, Epoch, Vec<Packet>>;

/// What every operator of one dataflow on one worker shares.
pub struct Shared {
    pub host: RefCell<Box<dyn Host>>,
    /// The first host error; once set, operators stop calling the host and drop their capabilities.
    pub failure: RefCell<Option<HostError>>,
    /// Replies to pending calls, per node, queued by `EngineWorker::complete`.
    pub completions: Vec<RefCell<VecDeque<(u64, Reply)>>>,
    pub activators: RefCell<Vec<Option<Activator>>>,
    /// Set by a drain (signal or `AbortExecution` on any local worker): sources stop polling.
    pub draining: Arc<AtomicBool>,
    /// Host calls made, so the stepping loop can tell busy from idle.
    pub calls: Cell<u64>,
    pub probe: ProbeHandle<Epoch>,
    pub epoch_interval_ms: u64,
    pub first_epoch: Epoch,
}

impl Shared {
    /// Calls the host unless the run already failed; records the first failure.
    pub fn call(&self, f: impl FnOnce(&mut dyn Host) -> Result<Reply, HostError>) -> Option<Reply> {
        if self.failed() {
            return None;
        }
        self.calls.set(self.calls.get() + 1);
        let result = f(&mut **self.host.borrow_mut());
        match result {
            Ok(reply) => Some(reply),
            Err(err) => {
                self.failure.borrow_mut().get_or_insert(err);
                None
            }
        }
    }

    pub fn failed(&self) -> bool {
        self.failure.borrow().is_some()
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn take_completions(&self, node: usize) -> Vec<(u64, Reply)> {
        self.completions[node].borrow_mut().drain(..).collect()
    }
}

/// Milliseconds since the Unix epoch, as JavaScript's `Date.now()`.
pub fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

/// How long until `at_ms` (zero if past).
pub fn until(at_ms: f64) -> Duration {
    Duration::from_secs_f64(((at_ms - now_ms()) / 1000.0).max(0.0))
}

/// Installs the plan's dataflow in `scope`.
pub fn build<'scope>(scope: Scope<'scope, Epoch>, plan: &Plan, shared: &Rc<Shared>) {
    let mut streams: Vec<Vec<PacketStream<'scope>>> = Vec::with_capacity(plan.nodes.len());
    for (index, node) in plan.nodes.iter().enumerate() {
        let node_id = index as u32;
        let outs = match node {
            NodePlan::Source { name, outputs } => source::source(scope, name, node_id, *outputs, Rc::clone(shared)),
            NodePlan::Operator { name, inputs, outputs, notify_epochs } => {
                let ins: Vec<(PacketStream<'scope>, bool)> = inputs
                    .iter()
                    .map(|e| (streams[e.from_node as usize][e.from_port as usize].clone(), e.exchange))
                    .collect();
                host_op::host_op(scope, name, node_id, ins, *outputs, *notify_epochs, Rc::clone(shared))
            }
        };
        for s in &outs {
            s.clone().probe_with(&shared.probe);
        }
        streams.push(outs);
    }
}

pub fn exchange_pact() -> Exchange<Packet, impl FnMut(&Packet) -> u64 + 'static> {
    Exchange::new(|p: &Packet| u64::from(p.dest))
}

pub fn pipeline_pact() -> Pipeline {
    Pipeline
}
