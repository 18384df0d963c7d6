// Imports a flow module (TypeScript too) and takes its Dataflow from an export.
import { pathToFileURL } from "node:url";
import path from "node:path";
import { Dataflow } from "../dataflow.js";
import { WeirError } from "../errors.js";

let tsRegistered = false;

/**
 * Registers tsx's ESM loader once per thread so `.ts`/`.mts` flow modules import directly. Flows are
 * ES modules: tsx's CommonJS path would load a second copy of weir (its classes would not match).
 */
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
  let ns: Record<string, unknown>;
  try {
    ns = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_REQUIRE_CYCLE_MODULE") {
      throw new WeirError("INVALID_CONFIG", `${url} must be an ES module: name it .mts, or add "type": "module" to its package.json`, { cause: e });
    }
    throw e;
  }
  // A CommonJS flow module's exports may only be visible on its default export.
  const cjs = ns.default !== null && typeof ns.default === "object" ? (ns.default as Record<string, unknown>) : {};
  const has = (n: string) => n in ns || n in cjs;
  const name = exportName ?? (has("flow") ? "flow" : "default");
  let value = name in ns ? ns[name] : cjs[name];
  if (typeof value === "function") value = await (value as (...a: unknown[]) => unknown)(...args);
  if (!(value instanceof Dataflow)) {
    throw new WeirError("INVALID_CONFIG", `export '${name}' of ${url} is not a Dataflow (nor a function returning one)`);
  }
  return value;
}
