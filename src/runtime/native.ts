// Loads the napi addon (built by `napi build` into the package root as index.cjs + weir.<triple>.node).
import { createRequire } from "node:module";
import type * as Native from "../../index.js";

const require = createRequire(import.meta.url);
export const native: typeof Native = require("../../index.cjs");
export type NativeWorker = Native.NativeWorker;
export type PlanSpec = Native.PlanSpec;
export type NodeSpec = Native.NodeSpec;

/** Dispatch kinds, mirrored in crates/binding/src/host.rs. */
export const POLL = 0, BATCH = 1, WAKE = 2, EPOCH_CLOSED = 3, EOF = 4;
/** Reply flags. */
export const FLAG_PENDING = 1, FLAG_EOF = 2, FLAG_FAILED = 4;
/** `step()` codes (an idle delay in ms is ≥ 0). */
export const STEP_BUSY = -1, STEP_IDLE = -2, STEP_FINISHED = -3, STEP_FAILED = -4;
