//! The recovery store: N SQLite partitions (`part-<i>.sqlite3`) holding, per execution, the epoch each
//! worker completed and versioned snapshots of every stateful key, source and sink partition.
//!
//! A snapshot row is `(step_id, state_key, epoch) → bytes` (NULL: the state was deleted). A worker
//! writes its rows for an epoch, then its front (the epoch it completed); a resume uses the latest
//! epoch every worker of the previous execution completed and the newest rows at or before it, so
//! rows written after a crash's last complete epoch are ignored, then deleted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use crate::hash::key_hash;

/// Store errors, mapped one to one onto `WeirError` codes by the binding.
#[derive(Debug, Clone, PartialEq)]
pub enum RecoveryError {
    DirNotFound(String),
    NoPartitions(String),
    MissingPartitions(String),
    PartCountMismatch(String),
    Inconsistent(String),
    Io(String),
}

impl RecoveryError {
    pub fn code(&self) -> &'static str {
        match self {
            RecoveryError::DirNotFound(_) => "RECOVERY_DIR_NOT_FOUND",
            RecoveryError::NoPartitions(_) => "RECOVERY_NO_PARTITIONS",
            RecoveryError::MissingPartitions(_) => "RECOVERY_MISSING_PARTITIONS",
            RecoveryError::PartCountMismatch(_) => "RECOVERY_PART_COUNT_MISMATCH",
            RecoveryError::Inconsistent(_) => "RECOVERY_INCONSISTENT",
            RecoveryError::Io(_) => "INTERNAL",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            RecoveryError::DirNotFound(m)
            | RecoveryError::NoPartitions(m)
            | RecoveryError::MissingPartitions(m)
            | RecoveryError::PartCountMismatch(m)
            | RecoveryError::Inconsistent(m)
            | RecoveryError::Io(m) => m,
        }
    }
}

impl From<rusqlite::Error> for RecoveryError {
    fn from(e: rusqlite::Error) -> Self {
        RecoveryError::Io(format!("recovery store: {e}"))
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS executions (ex INTEGER PRIMARY KEY, worker_count INTEGER NOT NULL, resume_epoch INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fronts (ex INTEGER NOT NULL, worker INTEGER NOT NULL, epoch INTEGER NOT NULL, closed_at_ms INTEGER NOT NULL,
  PRIMARY KEY (ex, worker));
CREATE TABLE IF NOT EXISTS snaps (step_id TEXT NOT NULL, state_key TEXT NOT NULL, epoch INTEGER NOT NULL, ser BLOB,
  PRIMARY KEY (step_id, state_key, epoch));
";

fn part_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("part-{index}.sqlite3"))
}

fn open_conn(path: &Path) -> Result<Connection, RecoveryError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

/// Creates `part-0 … part-{count-1}` in an existing directory (idempotent).
pub fn init(dir: &Path, part_count: usize) -> Result<(), RecoveryError> {
    if !dir.is_dir() {
        return Err(RecoveryError::DirNotFound(format!("recovery directory '{}' does not exist: create it first", dir.display())));
    }
    for index in 0..part_count {
        let conn = open_conn(&part_path(dir, index))?;
        conn.execute_batch(SCHEMA)?;
        conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('part_index', ?1), ('part_count', ?2), ('format', 1)",
            params![index as i64, part_count as i64])?;
    }
    Ok(())
}

/// Where a run resumes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumeInfo {
    /// The number of the new execution.
    pub ex: u64,
    /// The epoch whose end state is restored (0: start from scratch).
    pub resume_epoch: u64,
}

pub struct Store {
    conns: Vec<Connection>,
}

impl Store {
    /// Opens every partition of `dir`, checking they form one complete store.
    pub fn open(dir: &Path) -> Result<Store, RecoveryError> {
        if !dir.is_dir() {
            return Err(RecoveryError::DirNotFound(format!("recovery directory '{}' does not exist: create it and run `weir recovery init`", dir.display())));
        }
        let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
            .map_err(|e| RecoveryError::Io(e.to_string()))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let index = name.strip_prefix("part-")?.strip_suffix(".sqlite3")?.parse().ok()?;
                Some((index, e.path()))
            })
            .collect();
        if found.is_empty() {
            return Err(RecoveryError::NoPartitions(format!(
                "recovery directory '{}' has no partitions: run `weir recovery init {} <partCount>`",
                dir.display(),
                dir.display()
            )));
        }
        found.sort();
        let mut conns = Vec::with_capacity(found.len());
        let mut counts = Vec::new();
        for (index, path) in &found {
            let corrupt = |e: RecoveryError| {
                RecoveryError::Inconsistent(format!("partition '{}' is corrupt or not a weir recovery partition ({}): restore it from a backup", path.display(), e.message()))
            };
            let conn = open_conn(path).map_err(corrupt)?;
            let count: Option<i64> = conn
                .query_row("SELECT value FROM meta WHERE name = 'part_count'", [], |r| r.get(0))
                .optional()
                .map_err(|e| RecoveryError::Inconsistent(format!("partition '{}' is not a weir recovery partition: {e}", path.display())))?;
            let count = count.ok_or_else(|| RecoveryError::Inconsistent(format!("partition '{}' has no part count", path.display())))?;
            counts.push((*index, count as usize));
            conns.push(conn);
        }
        let expected = counts[0].1;
        if let Some((index, count)) = counts.iter().find(|(_, c)| *c != expected) {
            return Err(RecoveryError::PartCountMismatch(format!(
                "partition {index} says the store has {count} partitions, partition {} says {expected}: the files come from different stores",
                counts[0].0
            )));
        }
        let present: Vec<usize> = counts.iter().map(|(i, _)| *i).collect();
        let missing: Vec<String> = (0..expected).filter(|i| !present.contains(i)).map(|i| i.to_string()).collect();
        if !missing.is_empty() || present.len() != expected {
            return Err(RecoveryError::MissingPartitions(format!(
                "recovery directory '{}' lacks partitions {} of {expected}: restore them from the same backup",
                dir.display(),
                missing.join(", ")
            )));
        }
        Ok(Store { conns })
    }

    pub fn part_count(&self) -> usize {
        self.conns.len()
    }

    fn part_for(&self, step_id: &str, key: &str) -> usize {
        (key_hash(step_id) ^ key_hash(key)) as usize % self.conns.len()
    }

    /// The resume point: the latest epoch every worker of the previous execution completed.
    pub fn resume_info(&self) -> Result<ResumeInfo, RecoveryError> {
        let mut last: Option<(u64, u64, u64)> = None; // (ex, worker_count, resume_epoch)
        for conn in &self.conns {
            let row: Option<(i64, i64, i64)> = conn
                .query_row("SELECT ex, worker_count, resume_epoch FROM executions ORDER BY ex DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            if let Some((ex, wc, re)) = row {
                if last.is_none_or(|(l, _, _)| ex as u64 > l) {
                    last = Some((ex as u64, wc as u64, re as u64));
                }
            }
        }
        // No execution recorded anywhere: a fresh store, which must still pass the check below so that
        // partitions restored from another time than the others are caught.
        let (ex, resume_epoch) = match last {
            None => (0, 0),
            Some((ex, worker_count, started_at)) => (ex + 1, self.least_front(ex, worker_count, started_at)?),
        };
        for (index, conn) in self.conns.iter().enumerate() {
            let collected: Option<i64> = conn.query_row("SELECT value FROM meta WHERE name = 'collected_before'", [], |r| r.get(0)).optional()?;
            if let Some(c) = collected {
                if c as u64 > resume_epoch {
                    return Err(RecoveryError::Inconsistent(format!(
                        "partition {index} was garbage-collected up to epoch {c}, past the resume epoch {resume_epoch}: \
                         its files were restored from a different time than the others"
                    )));
                }
            }
        }
        Ok(ResumeInfo { ex, resume_epoch })
    }

    /// The least epoch the workers of execution `ex` completed (`started_at` for one that completed none).
    fn least_front(&self, ex: u64, worker_count: u64, started_at: u64) -> Result<u64, RecoveryError> {
        let mut resume = started_at;
        let mut least = u64::MAX;
        for worker in 0..worker_count {
            let mut front = started_at;
            for conn in &self.conns {
                let e: Option<i64> = conn
                    .query_row("SELECT epoch FROM fronts WHERE ex = ?1 AND worker = ?2", params![ex as i64, worker as i64], |r| r.get(0))
                    .optional()?;
                if let Some(e) = e {
                    front = front.max(e as u64);
                }
            }
            least = least.min(front);
        }
        if least != u64::MAX {
            resume = least;
        }
        Ok(resume)
    }

    /// Starts execution `info.ex` (worker 0 of the cluster only): forgets rows written after the resume epoch.
    pub fn begin_execution(&self, info: &ResumeInfo, worker_count: usize) -> Result<(), RecoveryError> {
        for conn in &self.conns {
            conn.execute("DELETE FROM snaps WHERE epoch > ?1", params![info.resume_epoch as i64])?;
        }
        // In every partition, so that any one restored from a backup still knows the executions.
        for conn in &self.conns {
            conn.execute(
                "INSERT OR REPLACE INTO executions (ex, worker_count, resume_epoch) VALUES (?1, ?2, ?3)",
                params![info.ex as i64, worker_count as i64, info.resume_epoch as i64],
            )?;
        }
        Ok(())
    }

    /// The newest live state of every key at or before `epoch`: `(step_id, state_key, bytes)`.
    pub fn load(&self, epoch: u64) -> Result<Vec<(String, String, Vec<u8>)>, RecoveryError> {
        let mut out = Vec::new();
        for conn in &self.conns {
            let mut stmt = conn.prepare(
                "SELECT step_id, state_key, ser FROM snaps s WHERE epoch = (SELECT MAX(epoch) FROM snaps t \
                 WHERE t.step_id = s.step_id AND t.state_key = s.state_key AND t.epoch <= ?1) AND ser IS NOT NULL",
            )?;
            let rows = stmt.query_map(params![epoch as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            for row in rows {
                out.push(row?);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Writes a worker's snapshots for `epoch`, then its front: one transaction per partition.
    pub fn write(&self, ex: u64, worker: usize, epoch: u64, rows: &[(String, String, Option<Vec<u8>>)], now_ms: i64) -> Result<(), RecoveryError> {
        let mut by_part: Vec<Vec<&(String, String, Option<Vec<u8>>)>> = vec![Vec::new(); self.conns.len()];
        for row in rows {
            by_part[self.part_for(&row.0, &row.1)].push(row);
        }
        for (part, rows) in by_part.iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let conn = &self.conns[part];
            let tx = conn.unchecked_transaction()?;
            {
                let mut stmt = tx.prepare_cached("INSERT OR REPLACE INTO snaps (step_id, state_key, epoch, ser) VALUES (?1, ?2, ?3, ?4)")?;
                for (step_id, key, ser) in rows {
                    stmt.execute(params![step_id, key, epoch as i64, ser])?;
                }
            }
            tx.commit()?;
        }
        crash_point_before_front();
        self.conns[worker % self.conns.len()].execute(
            "INSERT OR REPLACE INTO fronts (ex, worker, epoch, closed_at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![ex as i64, worker as i64, epoch as i64, now_ms],
        )?;
        Ok(())
    }

    /// Deletes versions superseded at or before `before` (they can no longer be a resume point).
    pub fn collect_garbage(&self, before: u64) -> Result<(), RecoveryError> {
        for conn in &self.conns {
            let tx = conn.unchecked_transaction()?;
            tx.execute(
                "DELETE FROM snaps WHERE epoch < (SELECT MAX(t.epoch) FROM snaps t WHERE t.step_id = snaps.step_id \
                 AND t.state_key = snaps.state_key AND t.epoch <= ?1)",
                params![before as i64],
            )?;
            tx.execute("DELETE FROM snaps WHERE ser IS NULL AND epoch <= ?1", params![before as i64])?;
            tx.execute("INSERT INTO meta (name, value) VALUES ('collected_before', ?1) \
                        ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)", params![before as i64])?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The least epoch every worker of execution `ex` completed (None until all wrote one).
    pub fn completed_by_all(&self, ex: u64, worker_count: usize) -> Result<Option<u64>, RecoveryError> {
        let mut least: Option<u64> = None;
        for worker in 0..worker_count {
            let mut front: Option<u64> = None;
            for conn in &self.conns {
                let e: Option<i64> = conn
                    .query_row("SELECT epoch FROM fronts WHERE ex = ?1 AND worker = ?2", params![ex as i64, worker as i64], |r| r.get(0))
                    .optional()?;
                if let Some(e) = e {
                    front = Some(front.map_or(e as u64, |f: u64| f.max(e as u64)));
                }
            }
            let Some(front) = front else { return Ok(None) };
            least = Some(least.map_or(front, |l| l.min(front)));
        }
        Ok(least)
    }
}

/// Test-only crash hook: with `WEIR_TEST_CRASH_BEFORE_FRONT=<n>`, the process dies (SIGABRT) on its
/// n-th epoch write, after the snapshot rows are committed and before the front that validates them.
fn crash_point_before_front() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let Ok(n) = std::env::var("WEIR_TEST_CRASH_BEFORE_FRONT") else { return };
    if n.parse::<u64>().is_ok_and(|n| WRITES.fetch_add(1, Ordering::SeqCst) + 1 == n) {
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weir-recovery-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn row(step: &str, key: &str, v: Option<u8>) -> (String, String, Option<Vec<u8>>) {
        (step.into(), key.into(), v.map(|b| vec![b]))
    }

    #[test]
    fn resumes_from_the_epoch_every_worker_completed() {
        let dir = temp_dir("resume");
        init(&dir, 3).unwrap();
        let store = Store::open(&dir).unwrap();
        let info = store.resume_info().unwrap();
        assert_eq!(info, ResumeInfo { ex: 0, resume_epoch: 0 });
        store.begin_execution(&info, 2).unwrap();
        store.write(0, 0, 1, &[row("f.s", "a", Some(1))], 0).unwrap();
        store.write(0, 1, 1, &[row("f.s", "b", Some(2))], 0).unwrap();
        store.write(0, 0, 2, &[row("f.s", "a", Some(3)), row("f.s", "c", Some(9))], 0).unwrap();
        // Worker 1 crashed before completing epoch 2: resume from 1.
        let info = Store::open(&dir).unwrap().resume_info().unwrap();
        assert_eq!(info, ResumeInfo { ex: 1, resume_epoch: 1 });
        let state = store.load(info.resume_epoch).unwrap();
        assert_eq!(state, vec![("f.s".into(), "a".into(), vec![1]), ("f.s".into(), "b".into(), vec![2])]);
        store.begin_execution(&info, 1).unwrap();
        assert_eq!(store.load(5).unwrap().len(), 2, "rows after the resume epoch are forgotten");
        store.write(1, 0, 2, &[row("f.s", "a", None)], 0).unwrap();
        let info = store.resume_info().unwrap();
        assert_eq!(info, ResumeInfo { ex: 2, resume_epoch: 2 });
        assert_eq!(store.load(2).unwrap(), vec![("f.s".into(), "b".into(), vec![2])], "a deletion hides older versions");
    }

    #[test]
    fn garbage_collection_keeps_the_newest_version() {
        let dir = temp_dir("gc");
        init(&dir, 2).unwrap();
        let store = Store::open(&dir).unwrap();
        store.begin_execution(&ResumeInfo { ex: 0, resume_epoch: 0 }, 1).unwrap();
        for e in 1..=4 {
            store.write(0, 0, e, &[row("f.s", "a", Some(e as u8))], 0).unwrap();
        }
        store.collect_garbage(3).unwrap();
        assert_eq!(store.load(4).unwrap()[0].2, vec![4]);
        assert_eq!(store.load(3).unwrap()[0].2, vec![3]);
        assert!(store.load(2).unwrap().is_empty(), "epoch 2 was collected");
    }

    #[test]
    fn reports_broken_stores() {
        let dir = temp_dir("broken");
        assert!(matches!(Store::open(&dir.join("nope")), Err(RecoveryError::DirNotFound(_))));
        assert!(matches!(Store::open(&dir), Err(RecoveryError::NoPartitions(_))));
        init(&dir, 3).unwrap();
        std::fs::remove_file(dir.join("part-1.sqlite3")).unwrap();
        assert!(matches!(Store::open(&dir), Err(RecoveryError::MissingPartitions(_))));
        let other = temp_dir("other");
        init(&other, 2).unwrap();
        std::fs::copy(other.join("part-1.sqlite3"), dir.join("part-1.sqlite3")).unwrap();
        assert!(matches!(Store::open(&dir), Err(RecoveryError::PartCountMismatch(_))));
    }

    #[test]
    fn a_partition_collected_past_the_resume_epoch_is_inconsistent() {
        let dir = temp_dir("inconsistent");
        init(&dir, 2).unwrap();
        let store = Store::open(&dir).unwrap();
        store.begin_execution(&ResumeInfo { ex: 0, resume_epoch: 0 }, 1).unwrap();
        store.write(0, 0, 1, &[row("f.s", "a", Some(1))], 0).unwrap();
        store.conns[1].execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('collected_before', 7)", []).unwrap();
        assert!(matches!(store.resume_info(), Err(RecoveryError::Inconsistent(_))));
    }
}
