// weir's codec: v8.serialize semantics for whole batches that leave a JS thread (API.md §1).
import v8 from "node:v8";
import { WeirError } from "../errors.js";

export function encodeBatch(items: unknown[], stepId: string): Buffer {
  try {
    return v8.serialize(items);
  } catch (e) {
    throw new WeirError("SERIALIZATION", `could not serialise an item leaving step '${stepId}': ${(e as Error).message}`, { cause: e, stepId });
  }
}

export function decodeBatch(bytes: Buffer, stepId: string): unknown[] {
  try {
    return v8.deserialize(bytes) as unknown[];
  } catch (e) {
    throw new WeirError("SERIALIZATION", `could not deserialise a batch arriving at step '${stepId}': ${(e as Error).message}`, { cause: e, stepId });
  }
}
