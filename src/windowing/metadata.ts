//! WindowMetadata: what the `meta` port reports about a closed window (API.md §4).

/**
 * Metadata about a window, emitted once on the `meta` port when it closes.
 *
 * `closeTime` is exclusive for sliding and tumbling windows and inclusive for sessions. `mergedIds` lists the
 * ids of windows merged into this one (sessions only), including those merged into them before.
 */
export interface WindowMetadata {
  openTime: Date;
  closeTime: Date;
  mergedIds: Set<number>;
}

/** A fresh metadata object (nothing shared with windower state). */
export function windowMetadata(openMs: number, closeMs: number, mergedIds: Iterable<number> = []): WindowMetadata {
  return { openTime: new Date(openMs), closeTime: new Date(closeMs), mergedIds: new Set(mergedIds) };
}
