// The public surface of API.md §1–§11, imported by the package's own name (package.json "exports", i.e. the built dist/ that users
// get): every module path exists and exports every value API.md lists, with the right kind, and the classes have the static and
// prototype members the contract names. Types are checked by compiling fixtures/api-surface-types.ts against the .d.ts files.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

type Kind = "function" | "class" | "object" | "number" | "date" | "namespace";

/** Every runtime (non-type) name API.md lists, per module path. */
const SURFACE: Record<string, Record<string, Kind>> = {
  "weir/inputs": {
    Source: "class", FixedPartitionedSource: "class", DynamicSource: "class", StatelessSourcePartition: "class",
    StatefulSourcePartition: "class", AbortExecution: "class", AsyncIterableSource: "class",
  },
  "weir/outputs": {
    Sink: "class", FixedPartitionedSink: "class", DynamicSink: "class", StatelessSinkPartition: "class",
    StatefulSinkPartition: "class", AbortExecution: "class", adler32: "function",
  },
  "weir/testing": {
    TestingSource: "class", TestingSink: "class", runMain: "function", clusterMain: "function", TimeTestingGetter: "class",
    pollNextBatch: "function",
  },
  "weir/recovery": { RecoveryConfig: "class", initDbDir: "function" },
  "weir/operators": Object.fromEntries([
    "input", "output", "inspect", "inspectDebug", "map", "mapValue", "filter", "filterValue", "filterMap", "filterMapValue", "flatMap",
    "flatMapValue", "flatMapBatch", "flatten", "keyOn", "keyRm", "branch", "merge", "redistribute", "raises", "stateful",
    "statefulBatch", "statefulMap", "statefulFlatMap", "collect", "foldFinal", "reduceFinal", "countFinal", "maxFinal", "minFinal",
    "join", "enrichCached",
  ].map((n) => [n, "function" as Kind])),
  "weir/windowing": {
    UTC_MIN: "date", UTC_MAX: "date", LATE_SESSION_ID: "number", Clock: "class", SystemClock: "class", EventClock: "class",
    Windower: "class", SlidingWindower: "class", TumblingWindower: "class", SessionWindower: "class", windowOp: "function",
    collectWindow: "function", countWindow: "function", foldWindow: "function", reduceWindow: "function", maxWindow: "function",
    minWindow: "function", joinWindow: "function",
  },
  "weir/visualize": { toRendered: "function", toJson: "function", toMermaid: "function", toPlantuml: "function" },
  "weir/connectors/files": { FileSource: "class", DirSource: "class", CSVSource: "class", FileSink: "class", DirSink: "class" },
  "weir/connectors/stdio": { StdOutSink: "class" },
  "weir/connectors/demo": { RandomMetricSource: "class" },
  "weir/connectors/kafka": {
    OFFSET_BEGINNING: "number", OFFSET_END: "number", isKafkaError: "function", toSink: "function", KafkaSource: "class",
    KafkaSink: "class", kop: "namespace",
  },
  "weir/connectors/kafka/operators": Object.fromEntries([
    "input", "output", "deserializeKey", "deserializeValue", "deserialize", "serializeKey", "serializeValue", "serialize",
  ].map((n) => [n, "function" as Kind])),
};

/** `weir` itself: its own names plus all of inputs, outputs, recovery and testing (API.md §1). */
const WEIR: Record<string, Kind> = {
  Dataflow: "class", Stream: "class", op: "namespace", operator: "function", run: "function", runModule: "function",
  WeirError: "class", StatefulLogic: "class", StatefulBatchLogic: "class", TTLCache: "class", mapDictValue: "function",
  ...SURFACE["weir/inputs"], ...SURFACE["weir/outputs"], ...SURFACE["weir/recovery"], ...SURFACE["weir/testing"],
};

function checkKind(mod: Record<string, unknown>, name: string, kind: Kind): void {
  const v = mod[name];
  expect(v, `${name} is missing`).toBeDefined();
  switch (kind) {
    case "function":
      expect(typeof v, name).toBe("function");
      break;
    case "class":
      expect(typeof v, name).toBe("function");
      // A class has a prototype object; an arrow function or bound function has none.
      expect(typeof (v as { prototype?: unknown }).prototype, name).toBe("object");
      break;
    case "number":
      expect(typeof v, name).toBe("number");
      break;
    case "date":
      expect(v, name).toBeInstanceOf(Date);
      break;
    case "namespace":
    case "object":
      expect(typeof v, name).toBe("object");
      break;
  }
}

describe("every module path of API.md §1 exports every listed value", () => {
  it.each(Object.keys(SURFACE))("%s", async (spec) => {
    const mod = (await import(spec)) as Record<string, unknown>;
    for (const [name, kind] of Object.entries(SURFACE[spec]!)) checkKind(mod, name, kind);
  });

  it("weir", async () => {
    const mod = (await import("weir")) as Record<string, unknown>;
    for (const [name, kind] of Object.entries(WEIR)) checkKind(mod, name, kind);
  });

  it("weir's op is the module weir/operators, and the kafka kop is weir/connectors/kafka/operators", async () => {
    const weir = await import("weir");
    const ops = (await import("weir/operators")) as Record<string, unknown>;
    for (const name of Object.keys(SURFACE["weir/operators"]!)) expect((weir.op as Record<string, unknown>)[name], name).toBe(ops[name]);
    const kafka = await import("weir/connectors/kafka");
    const kops = (await import("weir/connectors/kafka/operators")) as Record<string, unknown>;
    for (const name of Object.keys(SURFACE["weir/connectors/kafka/operators"]!)) {
      expect((kafka.kop as Record<string, unknown>)[name], name).toBe(kops[name]);
    }
  });

  it("there is one copy of every class: weir re-exports the same objects as the submodules", async () => {
    const weir = (await import("weir")) as Record<string, unknown>;
    for (const spec of ["weir/inputs", "weir/outputs", "weir/recovery", "weir/testing"]) {
      const mod = (await import(spec)) as Record<string, unknown>;
      for (const name of Object.keys(SURFACE[spec]!)) expect(weir[name], `${spec} ${name}`).toBe(mod[name]);
    }
    const inputs = await import("weir/inputs");
    const outputs = await import("weir/outputs");
    expect(outputs.AbortExecution).toBe(inputs.AbortExecution);
  });
});

describe("CommonJS (API.md §1: require() works on Node >= 20.19, with one copy of every class)", () => {
  it("require() of every module path gives the same objects as import()", () => {
    const specs = ["weir", ...Object.keys(SURFACE)];
    const script = `
      const { createRequire } = await import("node:module");
      const require = createRequire(process.cwd() + "/probe.cjs");
      const bad = [];
      for (const spec of ${JSON.stringify(specs)}) {
        const viaRequire = require(spec);
        const viaImport = await import(spec);
        for (const name of Object.keys(viaImport)) if (viaRequire[name] !== viaImport[name]) bad.push(spec + " " + name);
      }
      console.log(JSON.stringify(bad));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8", stdio: "pipe" });
    expect(JSON.parse(out.trim())).toEqual([]);
  });
});

describe("values and members API.md fixes", () => {
  it("constants", async () => {
    const win = await import("weir/windowing");
    expect(win.UTC_MIN.getTime()).toBe(-8.64e15);
    expect(win.UTC_MAX.getTime()).toBe(8.64e15);
    expect(win.LATE_SESSION_ID).toBe(-1);
    const kafka = await import("weir/connectors/kafka");
    expect(kafka.OFFSET_BEGINNING).toBe(-2);
    expect(kafka.OFFSET_END).toBe(-1);
  });

  it("StatefulBatchLogic / StatefulLogic: RETAIN, DISCARD and the default methods", async () => {
    const { StatefulBatchLogic, StatefulLogic } = await import("weir");
    for (const Logic of [StatefulBatchLogic, StatefulLogic]) {
      expect(Logic.RETAIN).toBe(false);
      expect(Logic.DISCARD).toBe(true);
      const proto = Logic.prototype as unknown as Record<string, (this: unknown) => unknown>;
      expect(proto.onNotify!.call({})).toEqual([[], false]);
      expect(proto.onEof!.call({})).toEqual([[], false]);
      expect(proto.notifyAt!.call({})).toBeUndefined();
    }
  });

  it("source and sink partitions: default nextAwake (undefined) and close (no-op)", async () => {
    const { StatelessSourcePartition, StatelessSinkPartition, FixedPartitionedSink } = await import("weir");
    expect(StatelessSourcePartition.prototype.nextAwake.call({})).toBeUndefined();
    expect(StatelessSourcePartition.prototype.close.call({})).toBeUndefined();
    expect(StatelessSinkPartition.prototype.close.call({})).toBeUndefined();
    expect(FixedPartitionedSink.prototype.partFn.call({}, "Wikipedia")).toBe(0x11e60398);
  });

  it("Dataflow, Stream and WeirError members", async () => {
    const { Dataflow, op, TestingSource, WeirError } = await import("weir");
    const flow = new Dataflow("f");
    expect(flow.flowId).toBe("f");
    const s = op.input("inp", flow, new TestingSource([1]));
    expect(s.streamId).toBe("f.inp.down");
    expect(s.flow()).toBe(flow);
    expect(typeof s.then).toBe("function");
    const cause = new Error("c");
    const e = new WeirError("INVALID_ARGUMENT", "m", { cause, stepId: "f.x", workerIndex: 2 });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: "WeirError", code: "INVALID_ARGUMENT", message: "m", cause, stepId: "f.x", workerIndex: 2 });
  });

  it("TestingSource sentinels, TimeTestingGetter, RecoveryConfig, TTLCache", async () => {
    const { TestingSource, TimeTestingGetter, RecoveryConfig, TTLCache } = await import("weir");
    expect(TestingSource.EOF().kind).toBe("EOF");
    expect(TestingSource.ABORT().kind).toBe("ABORT");
    expect(TestingSource.PAUSE(1).kind).toBe("PAUSE");
    const t = new TimeTestingGetter(new Date(0));
    const get = t.get;
    t.advance(5);
    expect(get()).toEqual(new Date(5));
    expect(t.now).toEqual(new Date(5));
    const rc = new RecoveryConfig("db");
    expect([rc.dbDir, rc.backupIntervalMs]).toEqual(["db", 0]);
    expect(new RecoveryConfig("db", 30_000).backupIntervalMs).toBe(30_000);
    let n = 0;
    const cache = new TTLCache((k: string) => `${k}${n++}`, () => new Date(0), 1000);
    expect([cache.get("a"), cache.get("a")]).toEqual(["a0", "a0"]);
    cache.remove("a");
    cache.remove("missing");
    expect(cache.get("a")).toBe("a1");
  });

  it("windowing classes take one options object", async () => {
    const win = await import("weir/windowing");
    expect(new win.SlidingWindower({ lengthMs: 10, offsetMs: 5, alignTo: new Date(0) })).toBeInstanceOf(win.Windower);
    expect(new win.TumblingWindower({ lengthMs: 10, alignTo: new Date(0) })).toBeInstanceOf(win.Windower);
    expect(new win.SessionWindower({ gapMs: 10 })).toBeInstanceOf(win.Windower);
    expect(new win.SystemClock()).toBeInstanceOf(win.Clock);
    expect(new win.EventClock({ tsGetter: (v: Date) => v, waitForSystemDurationMs: 0 })).toBeInstanceOf(win.Clock);
  });

  it("connector classes extend the source and sink kinds of §6", async () => {
    const { FixedPartitionedSource, FixedPartitionedSink, DynamicSink } = await import("weir");
    const files = await import("weir/connectors/files");
    const { StdOutSink } = await import("weir/connectors/stdio");
    const { RandomMetricSource } = await import("weir/connectors/demo");
    const kafka = await import("weir/connectors/kafka");
    for (const C of [files.FileSource, files.DirSource, files.CSVSource, RandomMetricSource, kafka.KafkaSource]) {
      expect(C.prototype, C.name).toBeInstanceOf(FixedPartitionedSource);
    }
    for (const C of [files.FileSink, files.DirSink]) expect(C.prototype, C.name).toBeInstanceOf(FixedPartitionedSink);
    for (const C of [StdOutSink, kafka.KafkaSink]) expect(C.prototype, C.name).toBeInstanceOf(DynamicSink);
  });
});

describe("types and signatures", () => {
  it("fixtures/api-surface-types.ts (names, argument order, options of API.md) compiles against the published .d.ts", () => {
    const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
    const file = path.join(root, "__test__", "fixtures", "api-surface-types.ts");
    const args = [tsc, "--noEmit", "--strict", "--skipLibCheck", "--target", "ES2022", "--module", "NodeNext", "--moduleResolution",
      "NodeNext", "--types", "node", file];
    let output = "";
    try {
      execFileSync(process.execPath, args, { cwd: root, encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(output).toBe("");
  }, 60_000);
});
