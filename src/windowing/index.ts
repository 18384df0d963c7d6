//! `weir/windowing`: clocks, windowers and window operators (API.md §4). Conventionally
//! `import * as win from "weir/windowing"`.
export { UTC_MAX, UTC_MIN } from "./time.js";
export { Clock, EventClock, SystemClock, type ClockLogic, type EventClockOptions, type EventClockState } from "./clock.js";
export { Windower, type WindowerLogic } from "./windower.js";
export { SlidingWindower, TumblingWindower } from "./sliding.js";
export { LATE_SESSION_ID, SessionWindower } from "./session.js";
export type { WindowMetadata } from "./metadata.js";
export type { WindowLogic } from "./driver.js";
export {
  collectWindow, countWindow, foldWindow, joinWindow, maxWindow, minWindow, reduceWindow, windowOp,
  type JoinWindowOptions, type WindowOut,
} from "./operators.js";
