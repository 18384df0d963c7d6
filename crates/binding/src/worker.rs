//! `NativeWorker`: one timely worker owned and stepped by a JS thread.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weir_engine::communication;
use weir_engine::{EngineWorker, InputEdge, NodePlan, Plan, StepOutcome};

use crate::host::{decode_reply, with_env, Dispatch, JsHost};

/// `step()` results other than an idle delay in ms (≥ 0).
const STEP_BUSY: f64 = -1.0;
const STEP_IDLE: f64 = -2.0;
const STEP_FINISHED: f64 = -3.0;
const STEP_FAILED: f64 = -4.0;

/// How long a lost peer connection may precede this worker's own completion.
const PEER_LOSS_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

#[napi(object)]
pub struct InputEdgeSpec {
  pub from_node: u32,
  pub from_port: u32,
  pub exchange: bool,
}

#[napi(object)]
pub struct NodeSpec {
  /// "source" or "operator".
  pub kind: String,
  pub name: String,
  pub inputs: Vec<InputEdgeSpec>,
  pub outputs: u32,
  pub notify_epochs: bool,
}

#[napi(object)]
pub struct PlanSpec {
  pub nodes: Vec<NodeSpec>,
  pub epoch_interval_ms: f64,
  pub first_epoch: f64,
}

fn to_plan(spec: PlanSpec) -> Result<Plan> {
  let nodes = spec
    .nodes
    .into_iter()
    .map(|n| match n.kind.as_str() {
      "source" => Ok(NodePlan::Source { name: n.name, outputs: n.outputs }),
      "operator" => Ok(NodePlan::Operator {
        name: n.name,
        inputs: n
          .inputs
          .into_iter()
          .map(|e| InputEdge { from_node: e.from_node, from_port: e.from_port, exchange: e.exchange })
          .collect(),
        outputs: n.outputs,
        notify_epochs: n.notify_epochs,
      }),
      other => Err(Error::new(Status::InvalidArg, format!("unknown node kind '{other}'"))),
    })
    .collect::<Result<Vec<_>>>()?;
  Ok(Plan { nodes, epoch_interval_ms: spec.epoch_interval_ms.max(0.0) as u64, first_epoch: spec.first_epoch.max(1.0) as u64 })
}

#[napi]
pub struct NativeWorker {
  inner: Option<EngineWorker>,
  fabric: u64,
  /// Why the worker stopped, when a host call failed or the engine panicked.
  failure: Option<String>,
}

fn closed() -> Error {
  Error::new(Status::GenericFailure, "NativeWorker is closed")
}

#[napi]
impl NativeWorker {
  /// Claims local worker `index` of `fabric`, for a JS thread that steps only this worker.
  #[napi(factory, catch_unwind)]
  pub fn claim(fabric: u32, index: u32) -> Result<NativeWorker> {
    let allocator = communication::take_allocator(u64::from(fabric), index as usize).map_err(|e| Error::new(Status::GenericFailure, e))?;
    Ok(NativeWorker { inner: Some(EngineWorker::new(allocator)), fabric: u64::from(fabric), failure: None })
  }

  /// Claims every local worker of `fabric`, all to be stepped by the calling JS thread.
  #[napi(catch_unwind)]
  pub fn claim_all(fabric: u32) -> Result<Vec<NativeWorker>> {
    let allocators = communication::take_all_allocators(u64::from(fabric)).map_err(|e| Error::new(Status::GenericFailure, e))?;
    Ok(allocators
      .into_iter()
      .map(|a| NativeWorker { inner: Some(EngineWorker::new(a)), fabric: u64::from(fabric), failure: None })
      .collect())
  }

  #[napi(getter)]
  pub fn index(&self) -> Result<u32> {
    Ok(self.inner.as_ref().ok_or_else(closed)?.index() as u32)
  }

  #[napi(getter)]
  pub fn peers(&self) -> Result<u32> {
    Ok(self.inner.as_ref().ok_or_else(closed)?.peers() as u32)
  }

  /// Starts an all-gather of `bytes` with every worker (partition lists before a run).
  #[napi(catch_unwind)]
  pub fn start_gather(&mut self, bytes: Buffer) -> Result<()> {
    self.inner.as_mut().ok_or_else(closed)?.start_gather(bytes.to_vec());
    Ok(())
  }

  /// Steps the gather once: every worker's contribution in worker order, or null while incomplete.
  #[napi(catch_unwind)]
  pub fn step_gather(&mut self) -> Result<Option<Vec<Buffer>>> {
    if communication::is_aborted(self.fabric) {
      return Err(Error::new(Status::Cancelled, "the execution was aborted"));
    }
    if let Some(peer) = communication::lost_peer(self.fabric, PEER_LOSS_GRACE) {
      return Err(Error::new(Status::GenericFailure, format!("CLUSTER_ERROR: {peer} disconnected before the execution started")));
    }
    let worker = self.inner.as_mut().ok_or_else(closed)?;
    Ok(worker.step_gather().map(|all| all.into_iter().map(Buffer::from).collect()))
  }

  /// Installs the run's dataflow; `dispatch(kind, node, port, epoch, payload)` does the item work.
  #[napi(catch_unwind)]
  pub fn build(&mut self, plan: PlanSpec, dispatch: Function<'_, FnArgs<(u32, u32, u32, f64, Option<Either<f64, Buffer>>)>, Option<Vec<Either<f64, Buffer>>>>) -> Result<()> {
    let plan = to_plan(plan)?;
    let dispatch: Dispatch = dispatch.create_ref()?;
    let draining = communication::draining_flag(self.fabric).ok_or_else(|| Error::new(Status::GenericFailure, "the fabric was released"))?;
    let worker = self.inner.as_mut().ok_or_else(closed)?;
    worker.build(&plan, Box::new(JsHost { dispatch }), draining).map_err(|e| Error::new(Status::InvalidArg, e))
  }

  /// Runs every operator with work once. Returns an idle delay in ms (≥ 0) or one of the STEP_* codes.
  #[napi]
  pub fn step(&mut self, env: Env) -> f64 {
    let Some(worker) = self.inner.as_mut() else { return STEP_FINISHED };
    if communication::is_aborted(self.fabric) {
      worker.abort();
      return STEP_FINISHED;
    }
    if communication::is_draining(self.fabric) {
      worker.activate_all();
    }
    // A peer whose connection ended while this worker still runs has failed (a clean shutdown
    // happens only after the dataflow completed everywhere, and this worker then finishes promptly).
    if let Some(peer) = communication::lost_peer(self.fabric, PEER_LOSS_GRACE) {
      worker.abort();
      self.failure = Some(format!("CLUSTER_ERROR: {peer} disconnected before the execution finished"));
      return STEP_FAILED;
    }
    let outcome = with_env(&env, || catch_unwind(AssertUnwindSafe(|| worker.step())));
    match outcome {
      Ok(StepOutcome::Busy) => STEP_BUSY,
      Ok(StepOutcome::Idle(None)) => STEP_IDLE,
      Ok(StepOutcome::Idle(Some(d))) => d.as_secs_f64() * 1000.0,
      Ok(StepOutcome::Finished) => STEP_FINISHED,
      Ok(StepOutcome::Failed(e)) => {
        self.failure = Some(e.0);
        STEP_FAILED
      }
      Err(panic) => {
        let message = panic
          .downcast_ref::<String>()
          .cloned()
          .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
          .unwrap_or_else(|| "unknown panic".into());
        // A worker whose peer died sees its network queues poisoned: that is the peer's failure, not a weir defect.
        self.failure = Some(match communication::lost_peer(self.fabric, std::time::Duration::ZERO) {
          Some(peer) => format!("CLUSTER_ERROR: {peer} disconnected before the execution finished"),
          None => format!("engine panic: {message}"),
        });
        // A panicked timely worker cannot be trusted again: forget it without running its drops.
        if let Some(w) = self.inner.take() {
          std::mem::forget(w);
        }
        STEP_FAILED
      }
    }
  }

  /// Why the last `step()` returned FAILED.
  #[napi(getter)]
  pub fn failure(&self) -> Option<String> {
    self.failure.clone()
  }

  /// The reply to a dispatch that answered PENDING with `token`.
  #[napi(catch_unwind)]
  pub fn complete(&mut self, node: u32, token: f64, reply: Option<Vec<Either<f64, Buffer>>>) -> Result<()> {
    let reply = decode_reply(reply).map_err(|e| Error::new(Status::InvalidArg, e.0))?;
    self.inner.as_ref().ok_or_else(closed)?.complete(node, token as u64, reply);
    Ok(())
  }

  /// Drops the dataflow at once.
  #[napi]
  pub fn abort(&mut self) {
    if let Some(w) = self.inner.as_mut() {
      w.abort();
    }
  }

  /// Releases the worker; later calls fail with "NativeWorker is closed".
  #[napi]
  pub fn close(&mut self) {
    if let Some(mut w) = self.inner.take() {
      w.abort();
    }
  }
}
