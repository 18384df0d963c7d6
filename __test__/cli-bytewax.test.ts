// The CLI's arguments (API.md §8): Bytewax 0.21.1's pytests/test_parse.py. Bytewax tests its parser function; weir's is internal,
// so each case runs `weir run` and checks what the parse decided. Bytewax's hostfile / pod-name fallbacks are not in weir (API.md
// §14); WEIR_ADDRESSES and WEIR_PROCESS_ID are its environment variables for the same settings.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { weir } from "./cli-helpers.js";
import { freePort } from "./ports-and-seeds.js";

const flows = path.join("__test__", "fixtures", "execution-flows.ts");


const printed = (stdout: string) => stdout.trim().split("\n").sort();

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("pytests/test_parse.py", () => {
  it("test_parse_args_environ (adapted): the process id and addresses come from WEIR_PROCESS_ID and WEIR_ADDRESSES", async () => {
    const port = await freePort();
    const r = await weir(["run", flows], { WEIR_ADDRESSES: `127.0.0.1:${port}`, WEIR_PROCESS_ID: "0", WEIR_WORKERS_PER_PROCESS: "2" });
    expect(r.code, r.stderr).toBe(0);
    expect(printed(r.stdout)).toEqual(["item 1", "item 2", "item 3"]);
  });

  it("-i without -a (from flags or the environment) is a usage error", async () => {
    const r = await weir(["run", flows, "-i", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("-i requires -a");
    const fromEnv = await weir(["run", flows], { WEIR_PROCESS_ID: "0" });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain("-i requires -a");
  });

  // Bytewax parses `--backup-interval 60` alone; API.md §8 makes -b without -r a usage error.
  it("test_parse_backup_interval (adapted): --backup-interval needs --recovery-directory", async () => {
    const r = await weir(["run", flows, "--backup-interval", "60"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("-b requires -r");
  });

  it("test_parse_backup_interval_zero: -r with -s 30 and -b 0 is accepted and runs", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "weir-cli-parse-"));
    const init = await weir(["recovery", "init", dir, "1"]);
    expect(init.code, init.stderr).toBe(0);
    const r = await weir(["run", flows, "--recovery-directory", dir, "--snapshot-interval", "30", "--backup-interval", "0"]);
    expect(r.code, r.stderr).toBe(0);
    expect(printed(r.stdout)).toEqual(["item 1", "item 2", "item 3"]);
  });

  it("a snapshot or backup interval that is not a whole number of seconds is a usage error", async () => {
    for (const args of [["-s", "1.5"], ["-s", "-1"], ["-r", ".", "-b", "x"]]) {
      const r = await weir(["run", flows, ...args]);
      expect(r.code, args.join(" ")).toBe(2);
    }
  });

  it("test_prepare_import_file (adapted): <file>:<export> picks the export; without one, `flow` then `default`", async () => {
    const named = await weir(["run", `${flows}:flow`]);
    expect(named.code, named.stderr).toBe(0);
    expect(printed(named.stdout)).toEqual(["item 1", "item 2", "item 3"]);
    const implicit = await weir(["run", flows]);
    expect(printed(implicit.stdout)).toEqual(["item 1", "item 2", "item 3"]);
    const fallback = await weir(["run", path.join("__test__", "fixtures", "default-export-flow.ts")]);
    expect(fallback.code, fallback.stderr).toBe(0);
    expect(fallback.stdout).toBe("from default\n");
  });

  it("an export that does not exist is a usage error naming it", async () => {
    const r = await weir(["run", `${flows}:nope`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'nope'");
  });
});
