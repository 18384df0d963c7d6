//! Timely's communication fabric for one execution: allocator builders handed to whichever threads
//! step the workers, and the network threads of a cluster.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use timely::communication::allocator::{Allocator, AllocatorBuilder};
use timely::CommunicationConfig;

use crate::connect::PeerLoss;

/// Where an execution's workers live.
#[derive(Clone, Debug)]
pub enum Topology {
    /// `threads` workers in this process.
    Process { threads: usize },
    /// `threads` workers in each of the processes at `addresses`; this one is `process`.
    Cluster { threads: usize, process: usize, addresses: Vec<String>, connect_timeout: Duration },
}

struct Fabric {
    builders: Vec<Option<AllocatorBuilder>>,
    /// Sources on every local worker stop polling (drain signal, `AbortExecution`).
    draining: Arc<AtomicBool>,
    /// The drain comes from an `AbortExecution`: the unfinished epoch is not snapshotted (API.md §8).
    abort_execution: AtomicBool,
    /// Every local worker stops at once (a failure elsewhere, an interrupt).
    aborted: Arc<AtomicBool>,
    /// A cluster's addresses and its detector of lost peers.
    peers: Option<(Vec<String>, Arc<PeerLoss>)>,
    /// Keeps a cluster's network threads alive until released.
    _guard: Box<dyn Any + Send>,
}

fn registry() -> &'static Mutex<HashMap<u64, Fabric>> {
    static REGISTRY: OnceLock<Mutex<HashMap<u64, Fabric>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Builds the fabric; for a cluster this connects to every peer, so call it off the JS thread.
pub fn create(topology: Topology) -> Result<u64, String> {
    let mut peers: Option<(Vec<String>, Arc<PeerLoss>)> = None;
    let (builders, guard) = match topology {
        Topology::Process { threads: 0 } => return Err("a process needs at least one worker".into()),
        Topology::Process { threads: 1 } => CommunicationConfig::Thread.try_build()?,
        Topology::Process { threads } => CommunicationConfig::Process(threads).try_build()?,
        Topology::Cluster { threads, process, addresses, connect_timeout } => {
            if process >= addresses.len() {
                return Err(format!("process id {process} is not an index of {} addresses", addresses.len()));
            }
            let connected = crate::connect::connect(&addresses, process, threads, connect_timeout)?;
            let builders: Vec<AllocatorBuilder> = connected.builders.into_iter().map(AllocatorBuilder::Tcp).collect();
            peers = Some((addresses, connected.loss));
            (builders, Box::new(connected.guard) as Box<dyn Any + Send>)
        }
    };
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let fabric = Fabric {
        builders: builders.into_iter().map(Some).collect(),
        draining: Arc::default(),
        abort_execution: AtomicBool::new(false),
        aborted: Arc::default(),
        peers,
        _guard: guard,
    };
    registry().lock().unwrap_or_else(|e| e.into_inner()).insert(id, fabric);
    Ok(id)
}

/// Claims the allocator of local worker `index` (each exactly once), built on the calling thread.
pub fn take_allocator(fabric: u64, index: usize) -> Result<Allocator, String> {
    let builder = {
        let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
        let entry = reg.get_mut(&fabric).ok_or_else(|| format!("no communication fabric {fabric}"))?;
        let slot = entry.builders.get_mut(index).ok_or_else(|| format!("no local worker {index}"))?;
        slot.take().ok_or_else(|| format!("local worker {index} was already claimed"))?
    };
    Ok(match builder {
        AllocatorBuilder::Thread(_) => Allocator::Thread(timely::communication::allocator::Thread::default()),
        AllocatorBuilder::Process(p) => Allocator::Process(p.build()),
        AllocatorBuilder::Tcp(t) => Allocator::Tcp(t.build()),
    })
}

/// Claims every local allocator for workers that will all be stepped by the calling thread.
///
/// Building a multi-worker allocator waits for its local peers to be built too, so building them one
/// after another on one thread would deadlock. Each is built on a short-lived thread of its own and
/// then moved here.
pub fn take_all_allocators(fabric: u64) -> Result<Vec<Allocator>, String> {
    let count = local_workers(fabric).ok_or_else(|| format!("no communication fabric {fabric}"))?;
    if count == 1 {
        return Ok(vec![take_allocator(fabric, 0)?]);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|i| scope.spawn(move || take_allocator(fabric, i).map(MovedAllocator)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "building an allocator panicked".to_string())?.map(|m| m.0))
            .collect()
    })
}

/// An allocator moved, whole, off the thread that built it.
///
/// SAFETY: an `Allocator` is `!Send` because it holds `Rc`s; every one of them is owned by the
/// allocator itself (the building thread ends without keeping a clone), so moving the whole value
/// to another thread before first use cannot race. Its buzzer names the finished building thread;
/// unparking that thread is a no-op, and the worker that steps it never parks.
struct MovedAllocator(Allocator);
unsafe impl Send for MovedAllocator {}

/// Number of local workers of a fabric.
pub fn local_workers(fabric: u64) -> Option<usize> {
    with_fabric(fabric, |f| f.builders.len())
}

fn with_fabric<R>(fabric: u64, f: impl FnOnce(&Fabric) -> R) -> Option<R> {
    registry().lock().unwrap_or_else(|e| e.into_inner()).get(&fabric).map(f)
}

/// The drain flag shared by the fabric's local workers.
pub fn draining_flag(fabric: u64) -> Option<Arc<AtomicBool>> {
    with_fabric(fabric, |f| Arc::clone(&f.draining))
}

pub fn set_draining(fabric: u64) {
    with_fabric(fabric, |f| f.draining.store(true, Ordering::Relaxed));
}

pub fn is_draining(fabric: u64) -> bool {
    with_fabric(fabric, |f| f.draining.load(Ordering::Relaxed)).unwrap_or(false)
}

/// A drain caused by `AbortExecution` (it also drains).
pub fn set_abort_execution(fabric: u64) {
    with_fabric(fabric, |f| {
        f.abort_execution.store(true, Ordering::Relaxed);
        f.draining.store(true, Ordering::Relaxed);
    });
}

pub fn is_abort_execution(fabric: u64) -> bool {
    with_fabric(fabric, |f| f.abort_execution.load(Ordering::Relaxed)).unwrap_or(false)
}

pub fn set_aborted(fabric: u64) {
    with_fabric(fabric, |f| f.aborted.store(true, Ordering::Relaxed));
}

pub fn is_aborted(fabric: u64) -> bool {
    with_fabric(fabric, |f| f.aborted.load(Ordering::Relaxed)).unwrap_or(false)
}

/// The address of a peer process whose connection ended at least `after` ago.
pub fn lost_peer(fabric: u64, after: Duration) -> Option<String> {
    with_fabric(fabric, |f| {
        let (addresses, loss) = f.peers.as_ref()?;
        loss.lost_for(after).map(|p| format!("process {p} ({})", addresses[p]))
    })
    .flatten()
}

/// Drops the fabric (and a cluster's network threads) once every local worker is done.
pub fn release(fabric: u64) {
    let removed = registry().lock().unwrap_or_else(|e| e.into_inner()).remove(&fabric);
    // After a lost peer, dropping the network guard joins send threads that may never finish (a killed
    // peer poisons their queues): leak it instead, so the process can report CLUSTER_ERROR and exit.
    if let Some(f) = removed {
        if f.peers.as_ref().is_some_and(|(_, loss)| loss.lost_for(Duration::ZERO).is_some()) {
            std::mem::forget(f);
        }
    }
}
