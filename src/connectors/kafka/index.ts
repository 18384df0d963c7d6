// weir/connectors/kafka: Kafka source, sink, message helpers and the `kop` operators (API.md §6). Needs kafkajs ^2.
export { KafkaSource, type KafkaSourceItem } from "./source.js";
export { KafkaSink } from "./sink.js";
export { isKafkaError, toSink } from "./message.js";
export {
  OFFSET_BEGINNING, OFFSET_END,
  type Bytes, type KafkaSourceMessage, type KafkaSinkMessage, type KafkaError, type KafkaErrorCode,
  type KafkaSourceOptions, type KafkaSinkOptions, type SerializationContext, type KafkaDeserializer, type KafkaSerializer,
  type Msg, type SrcMsg,
} from "./types.js";
export type { KafkaOpOut, KafkaInputOptions, KafkaOutputOptions } from "./operators.js";
export * as kop from "./operators.js";
