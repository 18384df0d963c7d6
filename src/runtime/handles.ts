// Batches that stay in this isolate travel through timely as numeric handles into this table.
const batches = new Map<number, unknown[]>();
let nextHandle = 1;

export function stash(items: unknown[]): number {
  const h = nextHandle++;
  batches.set(h, items);
  return h;
}

export function unstash(handle: number): unknown[] {
  const items = batches.get(handle);
  if (items === undefined) throw new Error(`weir internal: unknown batch handle ${handle}`);
  batches.delete(handle);
  return items;
}
