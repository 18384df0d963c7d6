// weir's kafkajs defaults, and how user config overrides them.
import kafkajs from "kafkajs";
import type { ConsumerConfig, KafkaConfig, ProducerConfig, RetryOptions } from "kafkajs";

/**
 * Retries are short: a stream processor should notice a dead broker in seconds and fail the run (Bytewax's
 * librdkafka does the same), rather than kafkajs's default of up to minutes of nested back-off.
 */
const DEFAULT_RETRY: RetryOptions = { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 };

/** The client config: weir's defaults, then `addConfig` (one level deep for `retry`), then `brokers`. */
export function clientConfig(brokers: string[], addConfig: Partial<KafkaConfig> = {}): KafkaConfig {
  return {
    clientId: "weir",
    // weir reports failures itself (SOURCE_ERROR, SINK_ERROR, KafkaError items); kafkajs's own logging would only
    // repeat them on the console. Pass `logLevel` in `addConfig` to see it.
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 3_000,
    ...addConfig,
    retry: { ...DEFAULT_RETRY, ...addConfig.retry },
    brokers,
  };
}

/**
 * The consumer config of one source partition. `groupId` and `partitionAssigners` are weir's: they implement the
 * one-partition-per-consumer mechanism (see source-partition.ts). `shouldRestart` is weir's too: it decides whether
 * kafkajs restarts a crashed consumer (it consults a user `retry.restartOnFailure` when errors are items).
 */
export function consumerConfig(
  user: Partial<ConsumerConfig>,
  own: Pick<ConsumerConfig, "groupId" | "partitionAssigners">,
  shouldRestart: (err: Error) => Promise<boolean>,
): ConsumerConfig {
  return {
    // Short long-polls: an idle partition answers in 100 ms, so closing and resuming after a pause are quick.
    maxWaitTimeInMs: 100,
    ...user,
    retry: { ...DEFAULT_RETRY, ...user.retry, restartOnFailure: shouldRestart },
    ...own,
  };
}

/**
 * The producer config of a sink partition: weir's defaults, then `producerConfig`.
 *
 * Idempotent by default: kafkajs retries a whole produce request when any partition in it fails, re-sending the
 * partitions that had already succeeded; with a producer id and sequence numbers the broker drops those repeats.
 * (kafkajs then requires `acks: -1`, which `writeBatch` uses.)
 */
export function producerConfig(user: Partial<ProducerConfig> = {}): ProducerConfig {
  return {
    idempotent: true,
    ...user,
    retry: { ...DEFAULT_RETRY, ...user.retry },
  };
}
