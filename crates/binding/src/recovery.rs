//! `NativeStore`: the engine's SQLite recovery store, for the worker runtime. Errors carry their
//! WeirError code as a `CODE: message` prefix.

use std::path::Path;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weir_engine::recovery::{self, RecoveryError, ResumeInfo, Store};

fn to_napi(e: RecoveryError) -> Error {
  Error::new(Status::GenericFailure, format!("{}: {}", e.code(), e.message()))
}

/// Creates the partitions of a recovery store in an existing directory (idempotent).
#[napi(catch_unwind)]
pub fn init_recovery_store(dir: String, part_count: u32) -> Result<()> {
  recovery::init(Path::new(&dir), part_count as usize).map_err(to_napi)
}

#[napi(object)]
pub struct ResumePoint {
  pub ex: f64,
  pub resume_epoch: f64,
}

#[napi(object)]
pub struct StateRow {
  pub step_id: String,
  pub state_key: String,
  pub ser: Buffer,
}

#[napi]
pub struct NativeStore {
  inner: Option<Store>,
}

fn closed() -> Error {
  Error::new(Status::GenericFailure, "NativeStore is closed")
}

#[napi]
impl NativeStore {
  /// Opens every partition of the store in `dir`.
  #[napi(factory, catch_unwind)]
  pub fn open(dir: String) -> Result<NativeStore> {
    Ok(NativeStore { inner: Some(Store::open(Path::new(&dir)).map_err(to_napi)?) })
  }

  #[napi(getter)]
  pub fn part_count(&self) -> Result<u32> {
    Ok(self.inner.as_ref().ok_or_else(closed)?.part_count() as u32)
  }

  /// Where a new execution resumes.
  #[napi(catch_unwind)]
  pub fn resume_info(&self) -> Result<ResumePoint> {
    let info = self.inner.as_ref().ok_or_else(closed)?.resume_info().map_err(to_napi)?;
    Ok(ResumePoint { ex: info.ex as f64, resume_epoch: info.resume_epoch as f64 })
  }

  /// Records the start of an execution (the cluster's worker 0 only).
  #[napi(catch_unwind)]
  pub fn begin_execution(&self, ex: f64, resume_epoch: f64, worker_count: u32) -> Result<()> {
    let info = ResumeInfo { ex: ex as u64, resume_epoch: resume_epoch as u64 };
    self.inner.as_ref().ok_or_else(closed)?.begin_execution(&info, worker_count as usize).map_err(to_napi)
  }

  /// The newest live state of every key at or before `epoch`.
  #[napi(catch_unwind)]
  pub fn load(&self, epoch: f64) -> Result<Vec<StateRow>> {
    let rows = self.inner.as_ref().ok_or_else(closed)?.load(epoch as u64).map_err(to_napi)?;
    Ok(rows.into_iter().map(|(step_id, state_key, ser)| StateRow { step_id, state_key, ser: ser.into() }).collect())
  }

  /// Writes one worker's snapshots of `epoch` (a null value deletes the key), then its front.
  #[napi(catch_unwind)]
  pub fn write(&self, ex: f64, worker: u32, epoch: f64, step_ids: Vec<String>, keys: Vec<String>, values: Vec<Option<Buffer>>, now_ms: f64) -> Result<()> {
    let rows: Vec<(String, String, Option<Vec<u8>>)> = step_ids
      .into_iter()
      .zip(keys)
      .zip(values)
      .map(|((s, k), v)| (s, k, v.map(|b| b.to_vec())))
      .collect();
    self.inner.as_ref().ok_or_else(closed)?.write(ex as u64, worker as usize, epoch as u64, &rows, now_ms as i64).map_err(to_napi)
  }

  /// The least epoch every worker of execution `ex` completed, or null.
  #[napi(catch_unwind)]
  pub fn completed_by_all(&self, ex: f64, worker_count: u32) -> Result<Option<f64>> {
    let r = self.inner.as_ref().ok_or_else(closed)?.completed_by_all(ex as u64, worker_count as usize).map_err(to_napi)?;
    Ok(r.map(|e| e as f64))
  }

  /// Deletes versions superseded at or before `before`.
  #[napi(catch_unwind)]
  pub fn collect_garbage(&self, before: f64) -> Result<()> {
    self.inner.as_ref().ok_or_else(closed)?.collect_garbage(before as u64).map_err(to_napi)
  }

  #[napi]
  pub fn close(&mut self) {
    self.inner = None;
  }
}
