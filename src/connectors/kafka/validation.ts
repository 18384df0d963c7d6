// Constructor argument checks shared by the Kafka source and sink (INVALID_ARGUMENT at definition time).
import { describe, invalidArgument } from "../../errors.js";

/** A copy of `value` if it is a non-empty array of non-empty strings; a lone string gets a hint to wrap it. */
export function stringList(cls: string, name: string, value: unknown): string[] {
  if (typeof value === "string") throw invalidArgument(`${cls}: '${name}' must be an array of strings, not a string (wrap it: ['${value}'])`);
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string" && v.length > 0)) {
    throw invalidArgument(`${cls}: '${name}' must be a non-empty array of non-empty strings, got ${describe(value)}`);
  }
  return [...value];
}
