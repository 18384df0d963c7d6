//! The engine's `Host`, implemented by calling the worker's JS dispatcher synchronously.
//!
//! Calls happen only inside `NativeWorker.step()`, on the JS thread that owns the worker, so no
//! threadsafe function and no cross-thread wait is needed. The dispatcher never throws: it keeps
//! user errors on the JS side and answers with the FAILED flag.

use std::cell::Cell;

use napi::bindgen_prelude::*;
use napi::sys;
use weir_engine::{Host, HostError, Packet, Payload, Reply};

/// Dispatch kinds, mirrored in src/runtime/native.ts.
pub const POLL: u32 = 0;
pub const BATCH: u32 = 1;
pub const WAKE: u32 = 2;
pub const EPOCH_CLOSED: u32 = 3;
pub const EOF: u32 = 4;

const FLAG_PENDING: u32 = 1;
const FLAG_EOF: u32 = 2;
const FLAG_FAILED: u32 = 4;

thread_local! {
  /// The env of the `step()` call in progress on this thread.
  static CURRENT_ENV: Cell<sys::napi_env> = const { Cell::new(std::ptr::null_mut()) };
}

/// Runs `f` with `env` available to host calls made inside it.
pub fn with_env<R>(env: &Env, f: impl FnOnce() -> R) -> R {
  let previous = CURRENT_ENV.with(|c| c.replace(env.raw()));
  let result = f();
  CURRENT_ENV.with(|c| c.set(previous));
  result
}

type DispatchArgs = FnArgs<(u32, u32, u32, f64, Option<Either<f64, Buffer>>)>;
pub type Dispatch = FunctionRef<DispatchArgs, Option<Vec<Either<f64, Buffer>>>>;

pub struct JsHost {
  pub dispatch: Dispatch,
}

impl JsHost {
  fn call(&self, kind: u32, node: u32, port: u32, epoch: u64, payload: Option<Payload>) -> std::result::Result<Reply, HostError> {
    let raw = CURRENT_ENV.with(|c| c.get());
    if raw.is_null() {
      return Err(HostError("host called outside step()".into()));
    }
    let env = Env::from_raw(raw);
    let arg = payload.map(|p| match p {
      Payload::Local(handle) => Either::A(handle as f64),
      Payload::Bytes(bytes) => Either::B(Buffer::from(bytes)),
    });
    let f = self.dispatch.borrow_back(&env).map_err(|e| HostError(e.to_string()))?;
    let reply = f
      .call(FnArgs::from((kind, node, port, epoch as f64, arg)))
      .map_err(|e| HostError(format!("the dispatcher threw: {e}")))?;
    decode_reply(reply)
  }
}

/// `[wakeAtMs | -1, flags, token, (port, dest, handle | Buffer)*]`, or nothing for an empty reply.
pub fn decode_reply(reply: Option<Vec<Either<f64, Buffer>>>) -> std::result::Result<Reply, HostError> {
  let Some(values) = reply else { return Ok(Reply::default()) };
  let num = |i: usize| -> std::result::Result<f64, HostError> {
    match values.get(i) {
      Some(Either::A(x)) => Ok(*x),
      _ => Err(HostError(format!("malformed reply: slot {i} is not a number"))),
    }
  };
  let wake = num(0)?;
  let flags = num(1)? as u32;
  if flags & FLAG_FAILED != 0 {
    return Err(HostError("a callback failed".into()));
  }
  let mut out = Reply {
    wake_at_ms: (wake >= 0.0).then_some(wake),
    pending: (flags & FLAG_PENDING != 0).then(|| num(2).map(|t| t as u64)).transpose()?,
    eof: flags & FLAG_EOF != 0,
    emits: Vec::with_capacity((values.len().saturating_sub(3)) / 3),
  };
  let mut i = 3;
  while i + 2 < values.len() {
    let port = num(i)? as u32;
    let dest = num(i + 1)? as u32;
    let payload = match &values[i + 2] {
      Either::A(handle) => Payload::Local(*handle as u64),
      Either::B(buf) => Payload::Bytes(buf.to_vec()),
    };
    out.emits.push((port, Packet { dest, payload }));
    i += 3;
  }
  Ok(out)
}

impl Host for JsHost {
  fn poll(&mut self, node: u32, epoch: u64) -> std::result::Result<Reply, HostError> {
    self.call(POLL, node, 0, epoch, None)
  }
  fn on_batch(&mut self, node: u32, port: u32, epoch: u64, payload: Payload) -> std::result::Result<Reply, HostError> {
    self.call(BATCH, node, port, epoch, Some(payload))
  }
  fn on_wake(&mut self, node: u32, epoch: u64) -> std::result::Result<Reply, HostError> {
    self.call(WAKE, node, 0, epoch, None)
  }
  fn on_epoch_closed(&mut self, node: u32, closed_epoch: u64) -> std::result::Result<Reply, HostError> {
    self.call(EPOCH_CLOSED, node, 0, closed_epoch, None)
  }
  fn on_eof(&mut self, node: u32, epoch: u64) -> std::result::Result<Reply, HostError> {
    self.call(EOF, node, 0, epoch, None)
  }
}
