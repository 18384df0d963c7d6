// A kafkajs partition assigner that hands one fixed topic partition to a private consumer group.
import kafkajs from "kafkajs";
import type { PartitionAssigner } from "kafkajs";

const { AssignerProtocol } = kafkajs;
const PROTOCOL_VERSION = 1;

/**
 * kafkajs cannot assign partitions manually (its issue #373), only through a group. weir gives each source partition
 * a consumer group of its own with this assigner, so the group's single member gets exactly `partition` of `topic`,
 * never a rebalanced share. Should a second member appear (a reused group id), only the first one gets the partition.
 */
export function fixedPartitionAssigner(topic: string, partition: number): PartitionAssigner {
  return () => ({
    name: "WeirFixedPartition",
    version: PROTOCOL_VERSION,
    async assign({ members }) {
      const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
      return sorted.map((member, i) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: PROTOCOL_VERSION,
          assignment: i === 0 ? { [topic]: [partition] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: "WeirFixedPartition",
        metadata: AssignerProtocol.MemberMetadata.encode({ version: PROTOCOL_VERSION, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
