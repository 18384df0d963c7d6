// weir: stream processing for TypeScript on a Rust/Timely Dataflow core.
export { Dataflow, Stream, operator, type KeyedStream } from "./dataflow.js";
export * as op from "./operators.js";
export type { BranchOut } from "./operators.js";
export type { JoinInsertMode, JoinEmitMode, Sides, JoinRow } from "./join.js";
export { WeirError, type WeirErrorCode } from "./errors.js";
export { StatefulLogic, StatefulBatchLogic, type LogicResult } from "./stateful.js";
export * from "./ttlcache.js";
export { mapDictValue } from "./map-dict-value.js";
export type { Awaitable, Nullish, Comparable } from "./types.js";
export { run, type RunOptions, type RunResult } from "./runtime/run.js";
export { runModule, type RunModuleOptions } from "./runtime/run-module.js";
export * from "./inputs.js";
export * from "./outputs.js";
export * from "./recovery.js";
export * from "./testing.js";
