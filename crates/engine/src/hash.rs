//! The stable key hash: 32-bit FNV-1a over a key's UTF-16 code units.
//!
//! Every thread, process and weir version routes a key the same way (never `DefaultHasher`),
//! and recovery stores stay valid across upgrades. The TypeScript layer has the same function;
//! both are checked against the same test vectors.

const OFFSET_BASIS: u32 = 0x811c_9dc5;
const PRIME: u32 = 0x0100_0193;

/// FNV-1a of `key`, folding in one UTF-16 code unit per round (as JavaScript's `charCodeAt`).
pub fn key_hash(key: &str) -> u32 {
    key.encode_utf16()
        .fold(OFFSET_BASIS, |h, unit| (h ^ u32::from(unit)).wrapping_mul(PRIME))
}

/// The worker a key belongs to among `workers`.
pub fn worker_for_key(key: &str, workers: usize) -> usize {
    key_hash(key) as usize % workers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_shared_vectors() {
        // Vectors shared with __test__/hash.test.ts.
        assert_eq!(key_hash(""), 0x811c_9dc5);
        assert_eq!(key_hash("a"), 0xe40c_292c);
        assert_eq!(key_hash("hello"), 0x4f9f_2cab);
        assert_eq!(key_hash("é€😀"), 0x0c5e_230d);
    }

    #[test]
    fn spreads_keys_over_workers() {
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            counts[worker_for_key(&format!("key-{i}"), 4)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
    }
}
