// runModule: one JS thread per worker (API.md §8.1). Uses the built package (dist/), as users do.
import { describe, expect, it } from "vitest";
import { runModule, WeirError } from "../dist/index.js";

const flows = new URL("./fixtures/flows.ts", import.meta.url);

describe.each([1, 2])("runModule with %i worker thread(s)", (workers) => {
  it("collects TestingSink output from every thread", async () => {
    const r = await runModule(flows, { workers, exportName: "squares", args: [50], collect: true });
    expect(r.aborted).toBe(false);
    const [squares, counts] = r.collected!;
    expect((squares as number[]).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i * i));
    expect(new Map(counts as [string, number][])).toEqual(new Map([["even", 25], ["odd", 25]]));
  });

  it("rebuilds a thread's WeirError with code, step id and cause", async () => {
    const err = await runModule(flows, { workers, exportName: "failing" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: "CALLBACK_ERROR", stepId: "failing.double" });
    const cause = (err as WeirError).cause as Error;
    expect(cause.name).toBe("RangeError");
    expect(cause.message).toBe("three is not allowed");
  });

  it("reports INVALID_KEY from a thread", async () => {
    await expect(runModule(flows, { workers, exportName: "badKey" })).rejects.toMatchObject({ code: "INVALID_KEY", stepId: "bad_key.key" });
  });
});
