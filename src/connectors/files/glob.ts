// Local-file connectors: Globs: `*` and `?` within one path segment, `[…]` classes (`!` or `^` negates), `**` as a whole segment for any depth.
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { isFile } from "./checks.js";

export interface CompiledGlob {
  regex: RegExp;
  /** How many path segments a match can have (Infinity with `**`). */
  maxDepth: number;
}

export function compileGlob(pattern: string): CompiledGlob {
  const segments = pattern.replace(/^(\.\/)+/, "").split("/").filter((s) => s !== "");
  let source = "";
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === "**") {
      source += last ? ".*" : "(?:[^/]*/)*";
    } else {
      source += segmentRegex(seg) + (last ? "" : "/");
    }
  });
  return { regex: new RegExp(`^${source}$`, "s"), maxDepth: segments.includes("**") ? Infinity : segments.length };
}

export function segmentRegex(seg: string): string {
  let out = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const cls = classRegex(seg, i);
      if (cls === null) out += "\\[";
      else {
        out += cls.regex;
        i = cls.end;
      }
    } else out += c.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
  }
  return out;
}

/** The class starting at `seg[open] === "["`, or null if it is never closed (then `[` is literal). */
export function classRegex(seg: string, open: number): { regex: string; end: number } | null {
  let i = open + 1;
  const negate = seg[i] === "!" || seg[i] === "^";
  if (negate) i++;
  let body = "";
  // A `]` right after the opening (or its negation) is a member.
  if (seg[i] === "]") {
    body += "\\]";
    i++;
  }
  for (; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "]") return { regex: negate ? `[^/${body}]` : `[${body}]`, end: i };
    body += c === "-" ? "-" : c.replace(/[\\^[\]]/g, "\\$&");
  }
  return null;
}

/** Regular files under `root` whose relative path (with `/`) matches, sorted. Symlinks to files count; directory symlinks are not followed. */
export async function listFiles(root: string, glob: CompiledGlob): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (depth + 1 < glob.maxDepth) await walk(full, relPath, depth + 1);
      } else if ((entry.isFile() || (entry.isSymbolicLink() && (await isFile(full)))) && glob.regex.test(relPath)) {
        found.push(relPath);
      }
    }
  };
  await walk(root, "", 0);
  return found.sort();
}
