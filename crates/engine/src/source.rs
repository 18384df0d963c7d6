//! The input operator: polls a source's partitions through the host, epoch by epoch.
//!
//! It holds a capability for the current epoch, moves to the next one once `epoch_interval_ms` has
//! passed (or after every poll when it is 0), and does not poll for epoch n+1 until the probe shows
//! every epoch up to n complete downstream (the barrier: back-pressure and consistent snapshots).

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::operators::generic::OutputBuilder;
use timely::dataflow::operators::Capability;
use timely::dataflow::Scope;
use timely::container::CapacityContainerBuilder;

use crate::dataflow::{now_ms, until, PacketStream, Shared};
use crate::host::Reply;
use crate::packet::Packet;
use crate::Epoch;

/// How often a source blocked by the barrier looks again.
const BARRIER_RETRY: Duration = Duration::from_micros(200);

pub fn source<'scope>(scope: Scope<'scope, Epoch>, name: &str, node: u32, outputs: u32, shared: Rc<Shared>) -> Vec<PacketStream<'scope>> {
    let mut builder = OperatorBuilder::new(name.to_owned(), scope);
    let info = builder.operator_info();
    // One output per consumer; a source nobody reads still has one, so the probe sees its epochs.
    let mut outs: Vec<OutputBuilder<Epoch, CapacityContainerBuilder<Vec<Packet>>>> = Vec::new();
    let mut streams = Vec::new();
    for _ in 0..outputs.max(1) {
        let (output, stream) = builder.new_output::<Vec<Packet>>();
        outs.push(OutputBuilder::from(output));
        streams.push(stream);
    }
    let activator = scope.activator_for(Rc::clone(&info.address));
    shared.activators.borrow_mut()[node as usize] = Some(activator.clone());

    builder.build(move |caps| {
        // One capability per output, moved together.
        let mut cap: Option<Vec<Capability<Epoch>>> = Some(caps);
        let mut epoch = shared.first_epoch;
        if let Some(cs) = cap.as_mut() {
            for c in cs.iter_mut() {
                c.downgrade(&epoch);
            }
        }
        let mut epoch_started_ms = now_ms();
        // Capabilities of polls whose Promise has not settled: their items belong to the epoch they started in.
        let mut pending: HashMap<u64, Vec<Capability<Epoch>>> = HashMap::new();
        let mut wake_at_ms: Option<f64> = None;
        let mut polled_this_epoch = false;
        let mut eof = false;

        move |_frontiers| {
            if shared.failed() {
                cap = None;
                pending.clear();
                return;
            }
            let mut handle = |reply: Reply, at: &[Capability<Epoch>], wake: &mut Option<f64>, eof: &mut bool| {
                for (port, packet) in reply.emits {
                    outs[port as usize].activate().session(&at[port as usize]).give(packet);
                }
                *wake = reply.wake_at_ms;
                *eof |= reply.eof;
            };
            for (token, reply) in shared.take_completions(node as usize) {
                if let Some(at) = pending.remove(&token) {
                    handle(reply, &at, &mut wake_at_ms, &mut eof);
                }
            }
            if eof || shared.draining() {
                cap = None;
                return;
            }
            let Some(current) = cap.as_mut() else { return };
            let now = now_ms();
            let interval = shared.epoch_interval_ms as f64;
            let epoch_due = if shared.epoch_interval_ms == 0 {
                polled_this_epoch
            } else {
                now - epoch_started_ms >= interval
            };
            if epoch_due {
                epoch += 1;
                for c in current.iter_mut() {
                    c.downgrade(&epoch);
                }
                epoch_started_ms = now;
                polled_this_epoch = false;
            }
            if !pending.is_empty() {
                return; // polls of one source never overlap; the completion activates us
            }
            if shared.probe.less_than(&epoch) {
                activator.activate_after(BARRIER_RETRY);
                return;
            }
            if let Some(at) = wake_at_ms {
                if at > now {
                    let mut delay = until(at);
                    if shared.epoch_interval_ms > 0 {
                        delay = delay.min(until(epoch_started_ms + interval));
                    }
                    activator.activate_after(delay);
                    return;
                }
            }
            let Some(reply) = shared.call(|h| h.poll(node, epoch)) else { return };
            polled_this_epoch = true;
            if let Some(token) = reply.pending {
                pending.insert(token, current.clone());
                wake_at_ms = reply.wake_at_ms;
                return;
            }
            let at = current.clone();
            handle(reply, &at, &mut wake_at_ms, &mut eof);
            if eof {
                cap = None;
                return;
            }
            match wake_at_ms {
                Some(at) if at > now_ms() => {
                    let mut delay = until(at);
                    if shared.epoch_interval_ms > 0 {
                        delay = delay.min(until(epoch_started_ms + interval));
                    }
                    activator.activate_after(delay)
                }
                _ => activator.activate(),
            }
        }
    });

    streams
}
