//! The host operator: hands each input batch to the host in epoch order and emits what it returns.
//!
//! It keeps a capability that follows its input frontier (the "epoch capability"), so that timers,
//! EOF output and pending Promises always have an epoch to emit at, and an epoch never closes while
//! the host still works on it.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::operators::generic::{InputHandleCore, OutputBuilder};
use timely::dataflow::operators::Capability;
use timely::dataflow::Scope;
use timely::progress::frontier::MutableAntichain;

use crate::dataflow::{exchange_pact, now_ms, pipeline_pact, until, PacketStream, Shared};
use crate::host::Reply;
use crate::packet::{Packet, Payload};
use crate::Epoch;

type Output = OutputBuilder<Epoch, CapacityContainerBuilder<Vec<Packet>>>;

pub fn host_op<'scope>(
    scope: Scope<'scope, Epoch>,
    name: &str,
    node: u32,
    inputs: Vec<(PacketStream<'scope>, bool)>,
    outputs: u32,
    notify_epochs: bool,
    shared: Rc<Shared>,
) -> Vec<PacketStream<'scope>> {
    let mut builder = OperatorBuilder::new(name.to_owned(), scope);
    let info = builder.operator_info();
    let activator = scope.activator_for(Rc::clone(&info.address));
    shared.activators.borrow_mut()[node as usize] = Some(activator.clone());

    // Boxed pullers so that exchanged and pipelined inputs share one type.
    let mut handles: Vec<Box<dyn FnMut(&mut dyn FnMut(Epoch, &mut Vec<Packet>))>> = Vec::new();
    for (stream, exchange) in inputs {
        if exchange {
            let mut h = builder.new_input(stream, exchange_pact());
            handles.push(Box::new(move |f| drain(&mut h, f)));
        } else {
            let mut h = builder.new_input(stream, pipeline_pact());
            handles.push(Box::new(move |f| drain(&mut h, f)));
        }
    }
    // Every operator has at least one output: a sink's carries nothing but lets the probe see its work
    // (all outputs are returned and probed; consumers only index the real ones).
    let mut outs: Vec<Output> = Vec::new();
    let mut streams = Vec::new();
    for _ in 0..outputs.max(1) {
        let (o, s) = builder.new_output::<Vec<Packet>>();
        outs.push(OutputBuilder::from(o));
        streams.push(s);
    }


    builder.build(move |caps| {
        // One capability per output port, kept at the least epoch the inputs can still deliver.
        let mut epoch_caps: Option<Vec<Capability<Epoch>>> = Some(caps);
        let mut buffered: BTreeMap<Epoch, Vec<(u32, Payload)>> = BTreeMap::new();
        let mut pending: HashMap<u64, Vec<Capability<Epoch>>> = HashMap::new();
        let mut wake_at_ms: Option<f64> = None;
        let mut closed_before: Epoch = shared.first_epoch;

        move |frontiers: &[MutableAntichain<Epoch>]| {
            if shared.failed() {
                epoch_caps = None;
                pending.clear();
                buffered.clear();
                return;
            }
            for (port, handle) in handles.iter_mut().enumerate() {
                handle(&mut |epoch, packets| {
                    let batch = buffered.entry(epoch).or_default();
                    batch.extend(packets.drain(..).map(|p| (port as u32, p.payload)));
                });
            }
            // The least epoch any input can still deliver; None: every input is at EOF.
            let frontier: Option<Epoch> = frontiers.iter().filter_map(|f| f.frontier().iter().min().copied()).min();

            let mut emit = |reply: Reply, at: &[Capability<Epoch>], wake: &mut Option<f64>| {
                for (port, packet) in reply.emits {
                    outs[port as usize].activate().session(&at[port as usize]).give(packet);
                }
                *wake = reply.wake_at_ms;
            };
            let delayed = |caps: &[Capability<Epoch>], epoch: Epoch| -> Vec<Capability<Epoch>> {
                caps.iter().map(|c| c.delayed(&epoch)).collect()
            };

            // Completions hold their own capabilities: handle them even after EOF released the epoch's.
            for (token, reply) in shared.take_completions(node as usize) {
                if let Some(at) = pending.remove(&token) {
                    emit(reply, &at, &mut wake_at_ms);
                }
            }
            let Some(caps) = epoch_caps.as_ref() else { return };
            // Deliver whole epochs in order, once no earlier epoch can arrive.
            while let Some(entry) = buffered.first_entry() {
                let epoch = *entry.key();
                if frontier.is_some_and(|f| epoch > f) {
                    break;
                }
                let batches = entry.remove();
                for (port, payload) in batches {
                    let Some(reply) = shared.call(|h| h.on_batch(node, port, epoch, payload)) else { return };
                    let at = delayed(caps, epoch);
                    if let Some(token) = reply.pending {
                        pending.insert(token, at.clone());
                    }
                    emit(reply, &at, &mut wake_at_ms);
                }
            }
            let current = *caps[0].time();
            if wake_at_ms.is_some_and(|at| at <= now_ms()) {
                let Some(reply) = shared.call(|h| h.on_wake(node, current)) else { return };
                let at = delayed(caps, current);
                if let Some(token) = reply.pending {
                    pending.insert(token, at.clone());
                }
                emit(reply, &at, &mut wake_at_ms);
            }
            match frontier {
                Some(f) => {
                    if notify_epochs && f > closed_before {
                        let closed = f - 1;
                        closed_before = f;
                        if closed >= shared.first_epoch {
                            let Some(reply) = shared.call(|h| h.on_epoch_closed(node, closed)) else { return };
                            let at = delayed(caps, current);
                            if let Some(token) = reply.pending {
                                pending.insert(token, at.clone());
                            }
                            emit(reply, &at, &mut wake_at_ms);
                        }
                    }
                    if let Some(caps) = epoch_caps.as_mut() {
                        for c in caps.iter_mut() {
                            if *c.time() < f {
                                c.downgrade(&f);
                            }
                        }
                    }
                    if let Some(at) = wake_at_ms {
                        activator.activate_after(until(at));
                    }
                }
                None => {
                    let last = current.max(shared.first_epoch);
                    let Some(reply) = shared.call(|h| h.on_eof(node, last)) else { return };
                    let at = delayed(caps, current);
                    if let Some(token) = reply.pending {
                        pending.insert(token, at.clone());
                    }
                    emit(reply, &at, &mut wake_at_ms);
                    if notify_epochs {
                        let Some(reply) = shared.call(|h| h.on_epoch_closed(node, last)) else { return };
                        if let Some(token) = reply.pending {
                            pending.insert(token, at.clone());
                        }
                        emit(reply, &at, &mut wake_at_ms);
                    }
                    epoch_caps = None;
                }
            }
        }
    });
    streams
}

fn drain<P>(handle: &mut InputHandleCore<Epoch, Vec<Packet>, P>, f: &mut dyn FnMut(Epoch, &mut Vec<Packet>))
where
    P: timely::communication::Pull<timely::dataflow::channels::Message<Epoch, Vec<Packet>>>,
{
    handle.for_each(|cap, data| {
        if let Some(epoch) = cap.least().copied() {
            f(epoch, data);
        }
    });
}
