//! The engine alone, without JavaScript: what timely, the exchange and the recovery store cost per item, so the Rust
//! share of a weir run is known (issue 6). `npm run bench:engine` (= `cargo bench -p weir-engine --features bench`).
//!
//! - `batches`: a source polling batches of 1,000 items → one operator → done, with the batches as local handles
//!   (what a one-worker weir run passes through timely: a number per batch) and as 8 KB byte payloads.
//! - `exchange`: the same with the operator's input exchanged: every batch is sent to the next worker in turn, one
//!   timely worker per thread (as under `runModule`), 1 and 2 workers.
//! - `store_write`: recovery snapshots: an epoch's rows (1,000 keys of 64-byte states) into a 2-partition SQLite store.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use weir_engine::communication::{self, Topology};
use weir_engine::recovery::{self, Store};
use weir_engine::{EngineWorker, Host, HostError, InputEdge, NodePlan, Packet, Payload, Plan, Reply, StepOutcome};

const ITEMS_PER_BATCH: u64 = 1_000;
const BATCHES_PER_WORKER: u64 = 2_000;

/// Polls `batches` batches, then EOF; counts what the operator receives into `received_items`.
struct CountingHost {
    index: u64,
    peers: u64,
    batches_left: u64,
    bytes: bool,
    received_items: Arc<AtomicU64>,
}

impl Host for CountingHost {
    fn poll(&mut self, _node: u32, _epoch: u64) -> Result<Reply, HostError> {
        self.batches_left -= 1;
        // Round robin over the workers, starting with the next one: with 2 workers every batch crosses.
        let dest = ((self.index + self.batches_left + 1) % self.peers) as u32;
        let payload = if self.bytes { Payload::Bytes(vec![7; (ITEMS_PER_BATCH * 8) as usize]) } else { Payload::Local(ITEMS_PER_BATCH) };
        Ok(Reply { emits: vec![(0, Packet { dest, payload })], eof: self.batches_left == 0, ..Default::default() })
    }
    fn on_batch(&mut self, _node: u32, _port: u32, _epoch: u64, payload: Payload) -> Result<Reply, HostError> {
        let items = match payload {
            Payload::Local(items) => items,
            Payload::Bytes(b) => b.len() as u64 / 8,
        };
        self.received_items.fetch_add(items, Ordering::Relaxed);
        Ok(Reply::default())
    }
    fn on_wake(&mut self, _: u32, _: u64) -> Result<Reply, HostError> {
        Ok(Reply::default())
    }
    fn on_epoch_closed(&mut self, _: u32, _: u64) -> Result<Reply, HostError> {
        Ok(Reply::default())
    }
    fn on_eof(&mut self, _: u32, _: u64) -> Result<Reply, HostError> {
        Ok(Reply::default())
    }
}

fn plan(exchange: bool) -> Plan {
    Plan {
        nodes: vec![
            NodePlan::Source { name: "b.inp".into(), outputs: 1 },
            NodePlan::Operator {
                name: "b.op".into(),
                inputs: vec![InputEdge { from_node: 0, from_port: 0, exchange }],
                outputs: 0,
                notify_epochs: false,
            },
        ],
        epoch_interval_ms: 10_000,
        first_epoch: 1,
    }
}

/// Runs the dataflow with one thread per worker; returns the items all operators received.
fn run(workers: usize, exchange: bool, bytes: bool) -> u64 {
    let fabric = communication::create(Topology::Process { threads: workers }).unwrap();
    let received: u64 = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..workers)
            .map(|i| {
                scope.spawn(move || {
                    let mut worker = EngineWorker::new(communication::take_allocator(fabric, i).unwrap());
                    let counted = Arc::new(AtomicU64::new(0));
                    let host = CountingHost {
                        index: i as u64,
                        peers: workers as u64,
                        batches_left: BATCHES_PER_WORKER,
                        bytes,
                        received_items: Arc::clone(&counted),
                    };
                    worker.build(&plan(exchange), Box::new(host), Arc::new(AtomicBool::new(false))).unwrap();
                    loop {
                        match worker.step() {
                            StepOutcome::Finished => break,
                            StepOutcome::Failed(e) => panic!("{e:?}"),
                            _ => {}
                        }
                    }
                    counted.load(Ordering::Relaxed)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum()
    });
    communication::release(fabric);
    assert_eq!(received, workers as u64 * BATCHES_PER_WORKER * ITEMS_PER_BATCH, "every item arrives exactly once");
    received
}

fn batches(c: &mut Criterion) {
    let mut g = c.benchmark_group("batches");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BATCHES_PER_WORKER * ITEMS_PER_BATCH));
    g.bench_function("local handles, 1 worker", |b| b.iter(|| run(1, false, false)));
    g.bench_function("8 KB bytes, 1 worker", |b| b.iter(|| run(1, false, true)));
    g.finish();
}

fn exchange(c: &mut Criterion) {
    let mut g = c.benchmark_group("exchange");
    g.sample_size(10);
    for workers in [1usize, 2] {
        g.throughput(Throughput::Elements(workers as u64 * BATCHES_PER_WORKER * ITEMS_PER_BATCH));
        g.bench_with_input(BenchmarkId::new("8 KB bytes, every batch to the next worker", workers), &workers, |b, &w| {
            b.iter(|| run(w, true, true))
        });
    }
    g.finish();
}

fn store_write(c: &mut Criterion) {
    const KEYS: usize = 1_000;
    let dir = std::env::temp_dir().join(format!("weir-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    recovery::init(&dir, 2).unwrap();
    let store = Store::open(&dir).unwrap();
    let info = store.resume_info().unwrap();
    store.begin_execution(&info, 1).unwrap();
    let rows: Vec<(String, String, Option<Vec<u8>>)> =
        (0..KEYS).map(|k| ("b.state".to_string(), format!("key-{k}"), Some(vec![k as u8; 64]))).collect();
    let mut epoch = 0;
    let mut g = c.benchmark_group("store_write");
    g.sample_size(10);
    g.throughput(Throughput::Elements(KEYS as u64));
    g.bench_function("1,000 keys × 64 B per epoch, 2 partitions", |b| {
        b.iter(|| {
            epoch += 1;
            store.write(info.ex, 0, epoch, &rows, 0).unwrap();
            if epoch % 16 == 0 {
                store.collect_garbage(epoch - 1).unwrap();
            }
        })
    });
    g.finish();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, batches, exchange, store_write);
criterion_main!(benches);
