//! End-to-end runs of the engine with a Rust host: sources, exchange, epochs, async completions.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use weir_engine::communication::{self, Topology};
use weir_engine::{EngineWorker, Host, HostError, InputEdge, NodePlan, Packet, Payload, Plan, Reply, StepOutcome};

fn encode(xs: &[u64]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn decode(b: &[u8]) -> Vec<u64> {
    b.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
}

/// Source: numbers `worker, worker + peers, …` below `n`, 10 per poll.
/// Node 1 doubles and routes by value; node 2 collects `(epoch, value)`.
struct TestHost {
    index: u64,
    peers: u64,
    n: u64,
    next: u64,
    sink: Rc<RefCell<Vec<(u64, u64)>>>,
    fail_on: Option<u64>,
    /// Hold node 1's replies for completion later (as a Promise would).
    deferred: Rc<RefCell<Vec<(u64, Reply)>>>,
    async_map: bool,
}

impl Host for TestHost {
    fn poll(&mut self, _node: u32, _epoch: u64) -> Result<Reply, HostError> {
        let mut batch = Vec::new();
        while self.next < self.n && batch.len() < 10 {
            batch.push(self.next);
            self.next += self.peers;
        }
        let eof = self.next >= self.n;
        Ok(Reply { emits: vec![(0, Packet { dest: 0, payload: Payload::Bytes(encode(&batch)) })], eof, ..Default::default() })
    }
    fn on_batch(&mut self, node: u32, _port: u32, epoch: u64, payload: Payload) -> Result<Reply, HostError> {
        let Payload::Bytes(b) = payload else { panic!("tests use bytes") };
        let xs = decode(&b);
        match node {
            1 => {
                if let Some(bad) = self.fail_on {
                    if xs.contains(&bad) {
                        return Err(HostError(format!("failed on {bad}")));
                    }
                }
                let mut per_dest = vec![Vec::new(); self.peers as usize];
                for x in xs {
                    per_dest[(x % self.peers) as usize].push(x * 2);
                }
                let emits = per_dest
                    .into_iter()
                    .enumerate()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(d, v)| (0, Packet { dest: d as u32, payload: Payload::Bytes(encode(&v)) }))
                    .collect();
                if self.async_map {
                    let token = self.deferred.borrow().len() as u64 + 1000 * self.index;
                    self.deferred.borrow_mut().push((token, Reply { emits, ..Default::default() }));
                    return Ok(Reply { pending: Some(token), ..Default::default() });
                }
                Ok(Reply { emits, ..Default::default() })
            }
            _ => {
                self.sink.borrow_mut().extend(xs.into_iter().map(|x| (epoch, x)));
                Ok(Reply::default())
            }
        }
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

fn plan(epoch_interval_ms: u64) -> Plan {
    let edge = |from_node, exchange| InputEdge { from_node, from_port: 0, exchange };
    Plan {
        nodes: vec![
            NodePlan::Source { name: "f.inp".into(), outputs: 1 },
            NodePlan::Operator { name: "f.double".into(), inputs: vec![edge(0, false)], outputs: 1, notify_epochs: false },
            NodePlan::Operator { name: "f.out".into(), inputs: vec![edge(1, true)], outputs: 0, notify_epochs: true },
        ],
        epoch_interval_ms,
        first_epoch: 1,
    }
}

struct Harness {
    workers: Vec<EngineWorker>,
    sinks: Vec<Rc<RefCell<Vec<(u64, u64)>>>>,
    deferred: Vec<Rc<RefCell<Vec<(u64, Reply)>>>>,
}

fn harness(peers: usize, n: u64, fail_on: Option<u64>, async_map: bool, epoch_interval_ms: u64) -> Harness {
    let fabric = communication::create(Topology::Process { threads: peers }).unwrap();
    let allocators = communication::take_all_allocators(fabric).unwrap();
    communication::release(fabric);
    harness_from(allocators.into_iter().map(EngineWorker::new).collect(), n, fail_on, async_map, epoch_interval_ms)
}

fn harness_from(workers: Vec<EngineWorker>, n: u64, fail_on: Option<u64>, async_map: bool, epoch_interval_ms: u64) -> Harness {
    let mut h = Harness { workers: vec![], sinks: vec![], deferred: vec![] };
    for mut w in workers {
        let i = w.index();
        let peers = w.peers();
        let sink = Rc::new(RefCell::new(Vec::new()));
        let deferred = Rc::new(RefCell::new(Vec::new()));
        let host = TestHost {
            index: i as u64,
            peers: peers as u64,
            n,
            next: i as u64,
            sink: Rc::clone(&sink),
            fail_on,
            deferred: Rc::clone(&deferred),
            async_map,
        };
        w.build(&plan(epoch_interval_ms), Box::new(host), Arc::new(AtomicBool::new(false))).unwrap();
        h.workers.push(w);
        h.sinks.push(sink);
        h.deferred.push(deferred);
    }
    h
}

/// Steps every worker round-robin on this thread until all finish; returns the first failure.
fn run(h: &mut Harness) -> Option<HostError> {
    let mut done = vec![false; h.workers.len()];
    for _ in 0..1_000_000 {
        for (i, w) in h.workers.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            let replies: Vec<_> = h.deferred[i].borrow_mut().drain(..).collect();
            for (token, reply) in replies {
                w.complete(1, token, reply);
            }
            match w.step() {
                StepOutcome::Finished => done[i] = true,
                StepOutcome::Failed(e) => {
                    for w in h.workers.iter_mut() {
                        w.abort();
                    }
                    return Some(e);
                }
                _ => {}
            }
        }
        if done.iter().all(|d| *d) {
            return None;
        }
    }
    panic!("the dataflow did not finish");
}

fn outputs(h: &Harness) -> Vec<u64> {
    let mut all: Vec<u64> = h.sinks.iter().flat_map(|s| s.borrow().iter().map(|(_, x)| *x).collect::<Vec<_>>()).collect();
    all.sort();
    all
}

#[test]
fn one_worker_maps_every_item() {
    let mut h = harness(1, 100, None, false, 10_000);
    assert_eq!(run(&mut h), None);
    assert_eq!(outputs(&h), (0..100).map(|x| x * 2).collect::<Vec<_>>());
}

#[test]
fn two_workers_route_by_dest() {
    let mut h = harness(2, 101, None, false, 10_000);
    assert_eq!(run(&mut h), None);
    assert_eq!(outputs(&h), (0..101).map(|x| x * 2).collect::<Vec<_>>());
    // Each worker's sink got exactly the values routed to it: x % 2 == worker.
    for (i, sink) in h.sinks.iter().enumerate() {
        assert!(sink.borrow().iter().all(|(_, v)| (v / 2) % 2 == i as u64));
    }
}

#[test]
fn interval_zero_gives_one_epoch_per_poll_in_order() {
    let mut h = harness(1, 35, None, false, 0);
    assert_eq!(run(&mut h), None);
    let epochs: Vec<u64> = h.sinks[0].borrow().iter().map(|(e, _)| *e).collect();
    let mut sorted = epochs.clone();
    sorted.sort();
    assert_eq!(epochs, sorted, "the sink sees epochs in order");
    sorted.dedup();
    assert_eq!(sorted, vec![1, 2, 3, 4], "10 items per poll, a new epoch after each poll");
}

#[test]
fn pending_calls_complete_later() {
    let mut h = harness(2, 60, None, true, 0);
    assert_eq!(run(&mut h), None);
    assert_eq!(outputs(&h), (0..60).map(|x| x * 2).collect::<Vec<_>>());
}

#[test]
fn a_host_error_stops_every_worker() {
    let mut h = harness(2, 1000, Some(7), false, 10_000);
    assert_eq!(run(&mut h), Some(HostError("failed on 7".into())));
    assert!(h.workers.iter().all(|w| !w.is_running()));
}

#[test]
fn two_processes_exchange_over_tcp() {
    // Two "processes" of one worker each, connected over loopback, each stepped by its own thread.
    let port = 23_000 + (std::process::id() % 2000) as u16;
    let addresses = vec![format!("127.0.0.1:{port}"), format!("127.0.0.1:{}", port + 1)];
    let processes: Vec<_> = (0..2)
        .map(|p| {
            let addresses = addresses.clone();
            std::thread::spawn(move || {
                let topology = Topology::Cluster { threads: 1, process: p, addresses, connect_timeout: std::time::Duration::from_secs(10) };
                let fabric = communication::create(topology).unwrap();
                let worker = EngineWorker::new(communication::take_allocator(fabric, 0).unwrap());
                let mut h = harness_from(vec![worker], 77, None, false, 10_000);
                // The harness numbers hosts by position; this process's worker is `p` of 2.
                assert_eq!(run(&mut h), None);
                let out = outputs(&h);
                drop(h);
                communication::release(fabric);
                out
            })
        })
        .collect();
    let mut all: Vec<u64> = processes.into_iter().flat_map(|t| t.join().unwrap()).collect();
    all.sort();
    assert_eq!(all, (0..77).map(|x| x * 2).collect::<Vec<_>>());
}

#[test]
fn connecting_to_a_missing_peer_times_out() {
    let addresses = vec!["127.0.0.1:1".to_string(), "127.0.0.1:0".to_string()];
    let err = communication::create(Topology::Cluster { threads: 1, process: 1, addresses, connect_timeout: std::time::Duration::from_millis(300) })
        .unwrap_err();
    assert!(err.contains("cannot connect to 127.0.0.1:1"), "{err}");
}
