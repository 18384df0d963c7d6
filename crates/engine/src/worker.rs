//! One timely worker, stepped by the thread that owns its host (never on a thread of its own).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use timely::communication::allocator::Allocator;
use timely::dataflow::ProbeHandle;
use timely::worker::Worker;
use timely::WorkerConfig;

use crate::dataflow::{self, Shared};
use crate::host::{Host, HostError, Reply};
use crate::plan::Plan;

/// What one step found.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// There is more to do at once.
    Busy,
    /// Nothing to do until the given delay passes (`None`: until data arrives from another worker
    /// or a pending call completes).
    Idle(Option<Duration>),
    /// The dataflow completed on this worker.
    Finished,
    /// A host call failed; the dataflow was dropped.
    Failed(HostError),
}

pub struct EngineWorker {
    worker: Worker,
    run: Option<Run>,
    gather: Option<crate::gather::Gather>,
}

struct Run {
    dataflow_id: usize,
    shared: Rc<Shared>,
}

impl EngineWorker {
    pub fn new(allocator: Allocator) -> Self {
        let worker = Worker::new(WorkerConfig::default(), allocator, Some(std::time::Instant::now()));
        EngineWorker { worker, run: None, gather: None }
    }

    /// A single worker with no peers (tests, `runMain`).
    pub fn solo() -> Self {
        Self::new(Allocator::Thread(timely::communication::allocator::Thread::default()))
    }

    pub fn index(&self) -> usize {
        self.worker.index()
    }

    pub fn peers(&self) -> usize {
        self.worker.peers()
    }

    /// Installs the run's dataflow. Every worker of the execution MUST build the same plan.
    pub fn build(&mut self, plan: &Plan, host: Box<dyn Host>, draining: Arc<AtomicBool>) -> Result<(), String> {
        if self.run.is_some() {
            return Err("this worker already runs a dataflow".into());
        }
        plan.validate()?;
        let shared = Rc::new(Shared {
            host: RefCell::new(host),
            failure: RefCell::new(None),
            completions: plan.nodes.iter().map(|_| RefCell::new(VecDeque::new())).collect(),
            activators: RefCell::new(plan.nodes.iter().map(|_| None).collect()),
            draining,
            calls: Cell::new(0),
            probe: ProbeHandle::new(),
            epoch_interval_ms: plan.epoch_interval_ms,
            first_epoch: plan.first_epoch,
        });
        let dataflow_id = self.worker.next_dataflow_index();
        self.worker.dataflow::<crate::Epoch, _, _>(|scope| dataflow::build(scope, plan, &shared));
        self.run = Some(Run { dataflow_id, shared });
        Ok(())
    }

    /// The reply to a call that returned `pending: Some(token)`. Safe to call between steps only.
    pub fn complete(&self, node: u32, token: u64, reply: Reply) {
        let Some(run) = &self.run else { return };
        let Some(queue) = run.shared.completions.get(node as usize) else { return };
        queue.borrow_mut().push_back((token, reply));
        if let Some(Some(activator)) = run.shared.activators.borrow().get(node as usize) {
            activator.activate();
        }
    }

    /// Wakes every operator, e.g. so that sources notice a drain.
    pub fn activate_all(&self) {
        if let Some(run) = &self.run {
            for activator in run.shared.activators.borrow().iter().flatten() {
                activator.activate();
            }
        }
    }

    /// Runs every operator that has work once, without blocking.
    pub fn step(&mut self) -> StepOutcome {
        let Some(run) = &self.run else { return StepOutcome::Finished };
        let calls_before = run.shared.calls.get();
        self.worker.step();
        let shared = Rc::clone(&run.shared);
        if let Some(err) = shared.failure.borrow().clone() {
            self.abort();
            return StepOutcome::Failed(err);
        }
        if !self.worker.has_dataflows() {
            self.run = None;
            return StepOutcome::Finished;
        }
        if shared.calls.get() != calls_before {
            return StepOutcome::Busy;
        }
        match self.worker.activations().borrow().empty_for() {
            Some(d) if d.is_zero() => StepOutcome::Busy,
            other => StepOutcome::Idle(other),
        }
    }

    /// Drops the run's dataflow at once (the execution is failing or interrupted everywhere).
    pub fn abort(&mut self) {
        if let Some(run) = self.run.take() {
            self.worker.drop_dataflow(run.dataflow_id);
        }
    }

    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// Starts an all-gather of `bytes` with every worker of the execution (see [`crate::gather`]).
    pub fn start_gather(&mut self, bytes: Vec<u8>) {
        self.gather = Some(crate::gather::Gather::start(&mut self.worker, bytes));
    }

    /// Steps once; every worker's contribution in worker order once all arrived.
    pub fn step_gather(&mut self) -> Option<Vec<Vec<u8>>> {
        self.worker.step();
        self.gather.as_ref()?.result()
    }
}
