#!/usr/bin/env node
// Creates benches/.venv (git-ignored) with Bytewax 0.21.1 if it is missing or holds another version.
//
//   node benches/bytewax-venv.mjs          # ensure the venv, print the path of its python
//   BENCH_PYTHON=python3.11 node benches/bytewax-venv.mjs
//
// Also importable: `ensureBytewaxVenv()` returns the venv's python executable.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BYTEWAX_VERSION = "0.21.1";
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const VENV_DIR = path.join(HERE, ".venv");
export const VENV_PYTHON = path.join(VENV_DIR, "bin", "python");

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.error) throw r.error;
  return r;
}

/** The installed Bytewax version in the venv, or null. */
export function installedBytewaxVersion(python = VENV_PYTHON) {
  if (!existsSync(python)) return null;
  const r = run(python, ["-c", 'import importlib.metadata as m, bytewax; print(m.version("bytewax"))']);
  return r.status === 0 ? r.stdout.trim() : null;
}

export function ensureBytewaxVenv({ quiet = false } = {}) {
  const log = quiet ? () => {} : (m) => process.stderr.write(`[bytewax-venv] ${m}\n`);
  if (installedBytewaxVersion() === BYTEWAX_VERSION) return VENV_PYTHON;
  const basePython = process.env.BENCH_PYTHON || "python3";
  if (!existsSync(VENV_PYTHON)) {
    log(`creating ${path.relative(process.cwd(), VENV_DIR) || VENV_DIR} with ${basePython}`);
    const r = run(basePython, ["-m", "venv", VENV_DIR], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`${basePython} -m venv failed (exit ${r.status})`);
  }
  log(`pip install bytewax==${BYTEWAX_VERSION}`);
  const r = run(VENV_PYTHON, ["-m", "pip", "install", "--quiet", `bytewax==${BYTEWAX_VERSION}`], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`pip install bytewax==${BYTEWAX_VERSION} failed (exit ${r.status})`);
  const v = installedBytewaxVersion();
  if (v !== BYTEWAX_VERSION) throw new Error(`expected bytewax ${BYTEWAX_VERSION} in the venv, found ${v}`);
  return VENV_PYTHON;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureBytewaxVenv());
  } catch (e) {
    console.error(`[bytewax-venv] ${e.message}`);
    process.exit(1);
  }
}
