// WeirError: every failure weir reports, with a stable code (API.md §10).

export type WeirErrorCode =
  | "INVALID_ID" | "DUPLICATE_STEP" | "INVALID_ARGUMENT"
  | "INVALID_FLOW" | "INVALID_CONFIG" | "ALREADY_RUNNING"
  | "NO_PARTITIONS" | "CALLBACK_ERROR" | "SOURCE_ERROR" | "SINK_ERROR"
  | "INVALID_RETURN" | "INVALID_KEY" | "SERIALIZATION" | "RAISED_ITEM" | "INTERRUPTED"
  | "RECOVERY_DIR_NOT_FOUND" | "RECOVERY_NO_PARTITIONS" | "RECOVERY_MISSING_PARTITIONS"
  | "RECOVERY_PART_COUNT_MISMATCH" | "RECOVERY_INCONSISTENT"
  | "CLUSTER_ERROR" | "INTERNAL";

export interface WeirErrorOptions {
  cause?: unknown;
  stepId?: string;
  workerIndex?: number;
}

export class WeirError extends Error {
  override readonly name = "WeirError" as const;
  readonly code: WeirErrorCode;
  declare readonly cause?: unknown;
  readonly stepId?: string;
  readonly workerIndex?: number;

  constructor(code: WeirErrorCode, message: string, opts: WeirErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    if (opts.stepId !== undefined) this.stepId = opts.stepId;
    if (opts.workerIndex !== undefined) this.workerIndex = opts.workerIndex;
  }
}

/** Wraps what a user callback threw: "error calling 'mapper' in step 'f.double'". */
export function callbackError(stepId: string, callback: string, cause: unknown,
  code: WeirErrorCode = "CALLBACK_ERROR"): WeirError {
  if (cause instanceof WeirError) return cause;
  return new WeirError(code, `error calling '${callback}' in step '${stepId}': ${describe(cause)}`, { cause, stepId });
}

/** A wrong return shape from user code (INVALID_RETURN, cause a TypeError). */
export function invalidReturn(stepId: string, callback: string, what: string): WeirError {
  const cause = new TypeError(`'${callback}' in step '${stepId}' ${what}`);
  return new WeirError("INVALID_RETURN", cause.message, { cause, stepId });
}

export function invalidArgument(message: string, stepId?: string): WeirError {
  return new WeirError("INVALID_ARGUMENT", message, stepId === undefined ? {} : { stepId });
}

export function describe(x: unknown): string {
  if (x instanceof Error) return `${x.name}: ${x.message}`;
  try {
    return typeof x === "string" ? x : String(x);
  } catch {
    return Object.prototype.toString.call(x);
  }
}
