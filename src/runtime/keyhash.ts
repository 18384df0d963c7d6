// The stable key hash shared with the engine (crates/engine/src/hash.rs): 32-bit FNV-1a, one UTF-16 code unit per round.
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h >>> 0;
}
