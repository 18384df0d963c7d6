// Shared by dataflow-level tests: build a flow named "test_df" around an output array and run it.
import { Dataflow, run } from "../src/index.js";

export async function runFlow<T>(build: (flow: Dataflow, out: T[]) => void, workers = 1): Promise<T[]> {
  const flow = new Dataflow("test_df");
  const out: T[] = [];
  build(flow, out);
  await run(flow, { workers });
  return out;
}
