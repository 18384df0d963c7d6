//! Communication fabrics: created once per execution, claimed by the threads that step workers.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weir_engine::communication::{self, Topology};

fn to_napi(message: String) -> Error {
  Error::new(Status::GenericFailure, message)
}

/// Creates the fabric of `workers` local workers in one process.
#[napi]
pub fn create_process_fabric(workers: u32) -> Result<u32> {
  communication::create(Topology::Process { threads: workers as usize })
    .map(|id| id as u32)
    .map_err(to_napi)
}

pub struct ConnectTask {
  topology: Option<Topology>,
}

impl Task for ConnectTask {
  type Output = u64;
  type JsValue = u32;

  fn compute(&mut self) -> Result<u64> {
    quiet_network_panics();
    let topology = self.topology.take().ok_or_else(|| to_napi("connect ran twice".into()))?;
    communication::create(topology).map_err(to_napi)
  }

  fn resolve(&mut self, _env: Env, id: u64) -> Result<u32> {
    Ok(id as u32)
  }
}

/// Timely's network threads panic when a peer's socket closes; weir reports that as CLUSTER_ERROR
/// through the fabric's loss detector, so those panics are not printed. Others keep the default hook.
fn quiet_network_panics() {
  static ONCE: std::sync::Once = std::sync::Once::new();
  ONCE.call_once(|| {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
      let message = info.payload().downcast_ref::<String>().map(String::as_str).or_else(|| info.payload().downcast_ref::<&str>().copied());
      if message.is_some_and(|m| m.starts_with("timely communication error") || m.starts_with("MergeQueue poisoned")) {
        return;
      }
      default(info);
    }));
  });
}

/// Connects this process to every peer of a cluster (off the JS thread); resolves to the fabric id.
#[napi]
pub fn connect_cluster_fabric(workers: u32, process_id: u32, addresses: Vec<String>, connect_timeout_ms: u32) -> AsyncTask<ConnectTask> {
  AsyncTask::new(ConnectTask {
    topology: Some(Topology::Cluster {
      threads: workers as usize,
      process: process_id as usize,
      addresses,
      connect_timeout: Duration::from_millis(u64::from(connect_timeout_ms)),
    }),
  })
}

/// Stops sources on every local worker of the fabric (drain: a signal or `AbortExecution`).
#[napi]
pub fn drain_fabric(fabric: u32) {
  communication::set_draining(u64::from(fabric));
}

/// Drains for an `AbortExecution`: like `drainFabric`, but the unfinished epoch is not snapshotted.
#[napi]
pub fn abort_execution_fabric(fabric: u32) {
  communication::set_abort_execution(u64::from(fabric));
}

/// Whether the fabric drains because of an `AbortExecution`.
#[napi]
pub fn fabric_aborting_execution(fabric: u32) -> bool {
  communication::is_abort_execution(u64::from(fabric))
}

/// Tells every local worker of the fabric to stop at once (a failure or an interrupt).
#[napi]
pub fn abort_fabric(fabric: u32) {
  communication::set_aborted(u64::from(fabric));
}

/// Drops the fabric once every local worker finished.
#[napi]
pub fn release_fabric(fabric: u32) {
  communication::release(u64::from(fabric));
}

/// Whether the fabric's sources were told to stop (drain signal or `AbortExecution`).
#[napi]
pub fn fabric_draining(fabric: u32) -> bool {
  communication::is_draining(u64::from(fabric))
}
