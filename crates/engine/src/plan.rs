//! The shape of a dataflow as the host describes it: sources and host-driven operators.

/// One input of a host operator: which node and output port feeds it, and whether items are routed.
#[derive(Clone, Debug)]
pub struct InputEdge {
    pub from_node: u32,
    pub from_port: u32,
    /// Route each packet to the worker named in `Packet::dest` (keyed steps, redistribute, fixed sinks).
    pub exchange: bool,
}

#[derive(Clone, Debug)]
pub enum NodePlan {
    /// A source step; the host polls its partitions on this worker. `outputs`: one per consumer.
    Source { name: String, outputs: u32 },
    /// A step run by the host batch by batch.
    Operator {
        name: String,
        inputs: Vec<InputEdge>,
        outputs: u32,
        /// Call `Host::on_epoch_closed` whenever the input frontier passes epochs (state, sinks).
        notify_epochs: bool,
    },
}

#[derive(Clone, Debug)]
pub struct Plan {
    /// Nodes in topological order: every input edge names an earlier node.
    pub nodes: Vec<NodePlan>,
    /// System time after which a source moves to its next epoch (0: after every poll).
    pub epoch_interval_ms: u64,
    /// The first epoch (1, or the resume epoch).
    pub first_epoch: u64,
}

impl Plan {
    /// Checks that edges point backwards at existing ports, so building cannot fail halfway.
    pub fn validate(&self) -> Result<(), String> {
        if self.first_epoch == 0 {
            return Err("epochs start at 1".into());
        }
        for (index, node) in self.nodes.iter().enumerate() {
            if let NodePlan::Operator { name, inputs, .. } = node {
                if inputs.is_empty() {
                    return Err(format!("operator '{name}' has no input"));
                }
                for edge in inputs {
                    let from = edge.from_node as usize;
                    let outputs = match self.nodes.get(from) {
                        Some(_) if from >= index => None,
                        Some(NodePlan::Source { outputs, .. }) => Some(*outputs),
                        Some(NodePlan::Operator { outputs, .. }) => Some(*outputs),
                        None => None,
                    };
                    match outputs {
                        Some(n) if edge.from_port < n => {}
                        _ => return Err(format!("operator '{name}' reads a missing port {}:{}", edge.from_node, edge.from_port)),
                    }
                }
            }
        }
        Ok(())
    }
}
