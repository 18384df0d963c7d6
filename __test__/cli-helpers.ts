// Shared by the CLI tests: run the built `weir` CLI from the repository root and collect its output.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));
export const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

export interface CliExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `weir <args>` with `env` added to this process's environment. */
export function weir(args: string[], env: Record<string, string> = {}): Promise<CliExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
