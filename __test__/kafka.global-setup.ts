// vitest global setup: one Kafka broker for all Kafka tests, started once and stopped by pid afterwards.
// Tests read its bootstrap servers with `inject("kafkaBrokers")`. Set WEIR_KAFKA_BROKERS=host:port[,host:port]
// to use a broker that is already running (e.g. `node scripts/kafka/broker.mjs start`) instead.
import type { TestProject } from "vitest/node";
import { startBroker, stopBrokerByPid, type RunningBroker } from "../scripts/kafka/broker.mjs";

declare module "vitest" {
  interface ProvidedContext {
    /** Bootstrap servers of the test Kafka broker. */
    kafkaBrokers: string[];
  }
}

let broker: RunningBroker | undefined;

export async function setup({ provide }: TestProject): Promise<void> {
  const external = process.env.WEIR_KAFKA_BROKERS;
  if (external !== undefined && external !== "") {
    provide("kafkaBrokers", external.split(","));
    return;
  }
  broker = await startBroker();
  provide("kafkaBrokers", broker.brokers);
}

export async function teardown(): Promise<void> {
  if (broker === undefined) return;
  const { pid } = broker;
  await broker.stop();
  await stopBrokerByPid(pid); // a no-op unless stop() was cut short
  broker = undefined;
}
