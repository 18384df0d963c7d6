//! All-gather before a run: every worker contributes bytes and receives every worker's contribution.
//!
//! Used to agree on partition lists (each worker lists what it can reach), so every worker computes
//! the same assignment. A small dataflow of its own, run to completion before the run's dataflow.

use std::cell::RefCell;
use std::rc::Rc;

use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::operators::generic::Operator;
use timely::worker::Worker;

type Contribution = (u32, u32, Vec<u8>); // (destination, sender, bytes)

/// The contributions gathered so far, by sender; complete once every worker's has arrived.
pub struct Gather {
    received: Rc<RefCell<Vec<Option<Vec<u8>>>>>,
    dataflow_id: usize,
}

impl Gather {
    /// Installs the gather dataflow on `worker` with this worker's contribution.
    pub fn start(worker: &mut Worker, bytes: Vec<u8>) -> Gather {
        let peers = worker.peers();
        let me = worker.index() as u32;
        let received = Rc::new(RefCell::new(vec![None; peers]));
        let sink = Rc::clone(&received);
        let dataflow_id = worker.next_dataflow_index();
        worker.dataflow::<u64, _, _>(move |scope| {
            let mut payload = Some(bytes);
            source::<_, CapacityContainerBuilder<Vec<Contribution>>, _, _>(scope, "weir.gather.send", move |cap, _info| {
                let mut cap = Some(cap);
                move |output| {
                    if let (Some(c), Some(bytes)) = (cap.take(), payload.take()) {
                        let mut session = output.session(&c);
                        for dest in 0..peers as u32 {
                            session.give((dest, me, bytes.clone()));
                        }
                    }
                }
            })
            .sink(Exchange::new(|c: &Contribution| u64::from(c.0)), "weir.gather.collect", move |(input, _frontier)| {
                input.for_each(|_cap, data| {
                    for (_dest, from, bytes) in data.drain(..) {
                        sink.borrow_mut()[from as usize] = Some(bytes);
                    }
                });
            });
        });
        Gather { received, dataflow_id }
    }

    /// Every worker's contribution in worker order, once all arrived.
    pub fn result(&self) -> Option<Vec<Vec<u8>>> {
        let received = self.received.borrow();
        received.iter().all(Option::is_some).then(|| received.iter().flatten().cloned().collect())
    }

    pub fn dataflow_id(&self) -> usize {
        self.dataflow_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communication::{self, Topology};

    #[test]
    fn every_worker_receives_every_contribution() {
        let fabric = communication::create(Topology::Process { threads: 3 }).unwrap();
        let mut workers: Vec<Worker> = communication::take_all_allocators(fabric)
            .unwrap()
            .into_iter()
            .map(|a| Worker::new(Default::default(), a, Some(std::time::Instant::now())))
            .collect();
        let gathers: Vec<Gather> = workers.iter_mut().map(|w| { let i = w.index(); Gather::start(w, vec![i as u8; i + 1]) }).collect();
        for _ in 0..10_000 {
            for w in workers.iter_mut() {
                w.step();
            }
            if gathers.iter().all(|g| g.result().is_some()) {
                break;
            }
        }
        for g in &gathers {
            assert_eq!(g.result().unwrap(), vec![vec![0], vec![1, 1], vec![2, 2, 2]]);
        }
        communication::release(fabric);
    }
}
