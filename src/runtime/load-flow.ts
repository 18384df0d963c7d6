// Imports a flow module (TypeScript too) and takes its Dataflow from an export.
import { pathToFileURL } from "node:url";
import path from "node:path";
import { Dataflow } from "../dataflow.js";
import { WeirError } from "../errors.js";

let tsRegistered = false;

/** Registers tsx's loader once per thread so `.ts` flow modules import directly. */
async function registerTypeScript(): Promise<void> {
  if (tsRegistered) return;
  tsRegistered = true;
  const { register } = await import("tsx/esm/api");
  register();
}

export function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (module.startsWith("file:")) return module;
  return pathToFileURL(path.resolve(process.cwd(), module)).href;
}

export async function loadFlow(url: string, exportName: string | undefined, args: unknown[] = []): Promise<Dataflow> {
  if (/\.(c|m)?tsx?$/.test(new URL(url).pathname)) await registerTypeScript();
  const mod = (await import(url)) as Record<string, unknown>;
  const name = exportName ?? ("flow" in mod ? "flow" : "default");
  let value = mod[name];
  if (typeof value === "function") value = await (value as (...a: unknown[]) => unknown)(...args);
  if (!(value instanceof Dataflow)) {
    throw new WeirError("INVALID_CONFIG", `export '${name}' of ${url} is not a Dataflow (nor a function returning one)`);
  }
  return value;
}
