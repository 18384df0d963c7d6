//! The recovery store: N SQLite partitions (`part-<i>.sqlite3`) holding the executions of a flow,
//! how far each worker wrote into each partition (its *front* there), and versioned snapshots of
//! every stateful key, source and sink partition.
//!
//! A snapshot row is `(step_id, state_key, epoch) → bytes` (NULL: the state was deleted). At each
//! epoch close a worker writes, partition after partition, one transaction holding its rows for that
//! partition and its front there, so every partition on its own tells the epoch through which it
//! holds every worker's rows. A resume takes the least such epoch over all partitions (a partition
//! restored from an older backup, or one a crash did not reach, holds the others back), loads the
//! newest rows at or before it and deletes later ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

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

/// What to do about a damaged partition, for every message that reports one.
const RESTORE_HINT: &str = "restore it from a backup (and delete any '-wal' or '-shm' file left next to it), \
                            or start over: delete the store's files and run `weir recovery init` again";

/// An SQLite error on the partition at `path`: RECOVERY_INCONSISTENT when the file is damaged (SQLite
/// finds it malformed or not a database, or a value has the wrong type), else INTERNAL.
fn sql_error(path: &Path, e: rusqlite::Error) -> RecoveryError {
    let damaged = matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase))
        || matches!(
            e,
            rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::IntegralValueOutOfRange(..)
        );
    if damaged {
        RecoveryError::Inconsistent(format!("recovery partition '{}' is corrupt ({e}): {RESTORE_HINT}", path.display()))
    } else {
        RecoveryError::Io(format!("recovery partition '{}': {e}", path.display()))
    }
}

/// The layout written by this version. Stores of format 1 kept each worker's front in one partition only.
const FORMAT: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS executions (ex INTEGER PRIMARY KEY, worker_count INTEGER NOT NULL, resume_epoch INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fronts (ex INTEGER NOT NULL, worker INTEGER NOT NULL, epoch INTEGER NOT NULL, closed_at_ms INTEGER NOT NULL,
  PRIMARY KEY (ex, worker));
CREATE TABLE IF NOT EXISTS snaps (step_id TEXT NOT NULL, state_key TEXT NOT NULL, epoch INTEGER NOT NULL, ser BLOB,
  PRIMARY KEY (step_id, state_key, epoch));
";

fn part_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("part-{index}.sqlite3"))
}

/// Opens a partition in WAL mode with `synchronous=FULL`: a commit returns once its WAL frames are
/// fsynced, so an epoch counts as snapshotted only once it would survive a power loss too. (NORMAL
/// survives a process crash, but after a power loss some partitions could lose their last commits
/// while another kept a garbage collection past them: a store that can no longer resume.)
fn open_conn(path: &Path) -> Result<Connection, RecoveryError> {
    let err = |e| sql_error(path, e);
    let conn = Connection::open(path).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(err)?;
    Ok(conn)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Creates `part-0 … part-{count-1}` in an existing directory (idempotent).
pub fn init(dir: &Path, part_count: usize) -> Result<(), RecoveryError> {
    if !dir.is_dir() {
        return Err(RecoveryError::DirNotFound(format!("recovery directory '{}' does not exist: create it first", dir.display())));
    }
    for index in 0..part_count {
        let path = part_path(dir, index);
        let conn = open_conn(&path)?;
        conn.execute_batch(SCHEMA).map_err(|e| sql_error(&path, e))?;
        conn.execute(
            "INSERT OR IGNORE INTO meta (name, value) VALUES ('part_index', ?1), ('part_count', ?2), ('format', ?3)",
            params![index as i64, part_count as i64, FORMAT],
        )
        .map_err(|e| sql_error(&path, e))?;
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

/// One partition file and its connection.
struct Part {
    path: PathBuf,
    conn: Connection,
}

impl Part {
    fn err(&self, e: rusqlite::Error) -> RecoveryError {
        sql_error(&self.path, e)
    }

    /// Checks the file is a sound weir partition of this format; returns its part count.
    fn check(&self) -> Result<usize, RecoveryError> {
        let shown = self.path.display();
        let meta = |name: &str| -> Result<Option<i64>, RecoveryError> {
            self.conn
                .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| r.get(0))
                .optional()
                .map_err(|e| RecoveryError::Inconsistent(format!("'{shown}' is not a weir recovery partition ({e}): {RESTORE_HINT}")))
        };
        let count = meta("part_count")?
            .ok_or_else(|| RecoveryError::Inconsistent(format!("'{shown}' is not a weir recovery partition (it has no part count): {RESTORE_HINT}")))?;
        let format = meta("format")?.unwrap_or(0);
        if format != FORMAT {
            return Err(RecoveryError::Inconsistent(format!(
                "recovery partition '{shown}' has format {format}, this weir reads format {FORMAT}: \
                 delete the store's files and run `weir recovery init` again"
            )));
        }
        Ok(count as usize)
    }

    /// Reads the whole file, checking its structure (`PRAGMA quick_check`).
    fn quick_check(&self) -> Result<(), RecoveryError> {
        let problem: String = self.conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        if problem != "ok" {
            let shown = self.path.display();
            return Err(RecoveryError::Inconsistent(format!("recovery partition '{shown}' is corrupt (SQLite quick_check: {problem}): {RESTORE_HINT}")));
        }
        Ok(())
    }

    /// Every execution this partition recorded: `ex → (worker_count, resume_epoch, started_at_ms)`.
    fn executions(&self) -> Result<Vec<(u64, (u64, u64, i64))>, RecoveryError> {
        let mut stmt = self.conn.prepare("SELECT ex, worker_count, resume_epoch, started_at_ms FROM executions ORDER BY ex").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64, r.get(3)?))))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The epoch through which every worker of execution `ex` wrote its rows into this partition
    /// (`started_at` for a worker that wrote none); None when some worker has no front here and
    /// `started_at` is None.
    fn least_front(&self, ex: u64, worker_count: u64, started_at: Option<u64>) -> Result<Option<u64>, RecoveryError> {
        let mut stmt = self.conn.prepare_cached("SELECT worker, epoch FROM fronts WHERE ex = ?1").map_err(|e| self.err(e))?;
        let fronts: BTreeMap<u64, u64> = stmt
            .query_map([ex as i64], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)))
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let mut least: Option<u64> = None;
        for worker in 0..worker_count {
            let Some(front) = fronts.get(&worker).copied().or(started_at) else { return Ok(None) };
            least = Some(least.map_or(front, |l| l.min(front)));
        }
        Ok(least.or(started_at))
    }

    fn collected_before(&self) -> Result<Option<u64>, RecoveryError> {
        let c: Option<i64> = self
            .conn
            .query_row("SELECT value FROM meta WHERE name = 'collected_before'", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(c.map(|c| c as u64))
    }
}

pub struct Store {
    parts: Vec<Part>,
}

impl Store {
    /// Opens every partition of `dir`, checking they form one complete store.
    pub fn open(dir: &Path) -> Result<Store, RecoveryError> {
        if !dir.is_dir() {
            return Err(RecoveryError::DirNotFound(format!("recovery directory '{}' does not exist: create it and run `weir recovery init`", dir.display())));
        }
        let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
            .map_err(|e| RecoveryError::Io(format!("recovery directory '{}': {e}", dir.display())))?
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
        let mut parts = Vec::with_capacity(found.len());
        let mut counts = Vec::new();
        for (index, path) in found {
            let part = Part { conn: open_conn(&path)?, path };
            counts.push((index, part.check()?));
            parts.push(part);
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
        Ok(Store { parts })
    }

    pub fn part_count(&self) -> usize {
        self.parts.len()
    }

    fn part_for(&self, step_id: &str, key: &str) -> usize {
        (key_hash(step_id) ^ key_hash(key)) as usize % self.parts.len()
    }

    /// The resume point: the least epoch through which every partition holds the rows of every
    /// worker, in the line of executions that led to the newest one.
    ///
    /// A partition vouches for epochs up to the least front of the newest execution it recorded. If
    /// that execution is older than the store's newest (the file was restored from a backup), its
    /// rows are valid only up to the resume epoch of every later execution: past it, a later
    /// execution redid the epochs, perhaps with other contents.
    ///
    /// It first reads every partition through (`PRAGMA quick_check`), so that a damaged file is
    /// reported at start-up rather than when a write first reaches the damaged page.
    pub fn resume_info(&self) -> Result<ResumeInfo, RecoveryError> {
        for part in &self.parts {
            part.quick_check()?;
        }
        let mut exs: BTreeMap<u64, ((u64, u64, i64), usize)> = BTreeMap::new(); // ex → (row, first partition holding it)
        let mut newest: Vec<Option<u64>> = Vec::with_capacity(self.parts.len());
        for (index, part) in self.parts.iter().enumerate() {
            let rows = part.executions()?;
            for (ex, row) in &rows {
                let (seen, by) = *exs.entry(*ex).or_insert((*row, index));
                if seen != *row {
                    return Err(RecoveryError::Inconsistent(format!(
                        "partitions {by} and {index} record different executions number {ex}: they come from different runs; {RESTORE_HINT}"
                    )));
                }
            }
            newest.push(rows.last().map(|(ex, _)| *ex));
        }
        let Some((&last_ex, _)) = exs.last_key_value() else {
            // A fresh store: still checked below, so a partition of a used store mixed in is caught.
            return self.checked(ResumeInfo { ex: 0, resume_epoch: 0 }, None);
        };
        let mut resume: Option<(u64, usize)> = None; // (epoch, partition that sets it)
        for (index, part) in self.parts.iter().enumerate() {
            let through = match newest[index] {
                // It never saw an execution: it was restored from before the first.
                None => 0,
                Some(ex) => {
                    let ((worker_count, started_at, _), _) = exs[&ex];
                    let front = part.least_front(ex, worker_count, Some(started_at))?.unwrap_or(started_at);
                    let redone = exs.range(ex + 1..).map(|(_, ((_, r, _), _))| *r).min().unwrap_or(u64::MAX);
                    front.min(redone)
                }
            };
            if resume.is_none_or(|(r, _)| through < r) {
                resume = Some((through, index));
            }
        }
        let (resume_epoch, limiting) = resume.expect("a store has partitions");
        self.checked(ResumeInfo { ex: last_ex + 1, resume_epoch }, Some(limiting))
    }

    /// Fails when a partition no longer holds the versions as of the resume epoch.
    fn checked(&self, info: ResumeInfo, limiting: Option<usize>) -> Result<ResumeInfo, RecoveryError> {
        for (index, part) in self.parts.iter().enumerate() {
            if let Some(c) = part.collected_before()? {
                if c > info.resume_epoch {
                    let why = match limiting {
                        Some(l) if l != index => format!("partition {l} holds snapshots only up to epoch {}", info.resume_epoch),
                        _ => format!("the resume epoch is {}", info.resume_epoch),
                    };
                    return Err(RecoveryError::Inconsistent(format!(
                        "partition {index} was garbage-collected up to epoch {c}, but {why}: the partitions were restored from \
                         backups taken further apart than the backup interval; restore them from one backup, or from backups \
                         taken less than the backup interval (-b) apart"
                    )));
                }
            }
        }
        Ok(info)
    }

    /// Starts execution `info.ex` (worker 0 of the cluster only): forgets rows written after the resume epoch.
    pub fn begin_execution(&self, info: &ResumeInfo, worker_count: usize) -> Result<(), RecoveryError> {
        for part in &self.parts {
            part.conn.execute("DELETE FROM snaps WHERE epoch > ?1", params![info.resume_epoch as i64]).map_err(|e| part.err(e))?;
        }
        // In every partition, so that any one restored from a backup still knows the executions.
        let started = now_ms();
        for part in &self.parts {
            part.conn
                .execute(
                    "INSERT OR REPLACE INTO executions (ex, worker_count, resume_epoch, started_at_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![info.ex as i64, worker_count as i64, info.resume_epoch as i64, started],
                )
                .map_err(|e| part.err(e))?;
        }
        Ok(())
    }

    /// The newest live state of every key at or before `epoch`: `(step_id, state_key, bytes)`.
    pub fn load(&self, epoch: u64) -> Result<Vec<(String, String, Vec<u8>)>, RecoveryError> {
        let mut out = Vec::new();
        for part in &self.parts {
            let mut stmt = part
                .conn
                .prepare(
                    "SELECT step_id, state_key, ser FROM snaps s WHERE epoch = (SELECT MAX(epoch) FROM snaps t \
                     WHERE t.step_id = s.step_id AND t.state_key = s.state_key AND t.epoch <= ?1) AND ser IS NOT NULL",
                )
                .map_err(|e| part.err(e))?;
            let rows = stmt.query_map(params![epoch as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(|e| part.err(e))?;
            for row in rows {
                out.push(row.map_err(|e| part.err(e))?);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Writes a worker's snapshots for `epoch`: into every partition, one transaction with its rows
    /// there (if any) and the worker's front, so each partition records that it holds them.
    pub fn write(&self, ex: u64, worker: usize, epoch: u64, rows: &[(String, String, Option<Vec<u8>>)], now_ms: i64) -> Result<(), RecoveryError> {
        let mut by_part: Vec<Vec<&(String, String, Option<Vec<u8>>)>> = vec![Vec::new(); self.parts.len()];
        for row in rows {
            by_part[self.part_for(&row.0, &row.1)].push(row);
        }
        for (index, rows) in by_part.iter().enumerate() {
            let part = &self.parts[index];
            let err = |e| part.err(e);
            let tx = part.conn.unchecked_transaction().map_err(err)?;
            {
                let mut stmt = tx.prepare_cached("INSERT OR REPLACE INTO snaps (step_id, state_key, epoch, ser) VALUES (?1, ?2, ?3, ?4)").map_err(err)?;
                for (step_id, key, ser) in rows {
                    stmt.execute(params![step_id, key, epoch as i64, ser]).map_err(err)?;
                }
            }
            tx.prepare_cached("INSERT OR REPLACE INTO fronts (ex, worker, epoch, closed_at_ms) VALUES (?1, ?2, ?3, ?4)")
                .and_then(|mut s| s.execute(params![ex as i64, worker as i64, epoch as i64, now_ms]))
                .map_err(err)?;
            tx.commit().map_err(err)?;
            if index == 0 {
                crash_point_in_write();
            }
        }
        Ok(())
    }

    /// Deletes versions superseded at or before `before` (they can no longer be a resume point).
    pub fn collect_garbage(&self, before: u64) -> Result<(), RecoveryError> {
        for part in &self.parts {
            let err = |e| part.err(e);
            let tx = part.conn.unchecked_transaction().map_err(err)?;
            tx.execute(
                "DELETE FROM snaps WHERE epoch < (SELECT MAX(t.epoch) FROM snaps t WHERE t.step_id = snaps.step_id \
                 AND t.state_key = snaps.state_key AND t.epoch <= ?1)",
                params![before as i64],
            )
            .map_err(err)?;
            tx.execute("DELETE FROM snaps WHERE ser IS NULL AND epoch <= ?1", params![before as i64]).map_err(err)?;
            tx.execute(
                "INSERT INTO meta (name, value) VALUES ('collected_before', ?1) \
                 ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
                params![before as i64],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(())
    }

    /// The least epoch every worker of execution `ex` wrote into every partition (None until all did).
    pub fn completed_by_all(&self, ex: u64, worker_count: usize) -> Result<Option<u64>, RecoveryError> {
        let mut least: Option<u64> = None;
        for part in &self.parts {
            let Some(front) = part.least_front(ex, worker_count as u64, None)? else { return Ok(None) };
            least = Some(least.map_or(front, |l| l.min(front)));
        }
        Ok(least)
    }
}

/// Test-only crash hook: with `WEIR_TEST_CRASH_IN_WRITE=<n>`, the process dies (SIGABRT) in its n-th
/// epoch write, once partition 0 has committed and before the other partitions do (with one
/// partition: once the write is complete).
fn crash_point_in_write() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let Ok(n) = std::env::var("WEIR_TEST_CRASH_IN_WRITE") else { return };
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

    /// Ten keys, spread over the partitions, all with state `v`.
    fn ten_keys(v: u8) -> Vec<(String, String, Option<Vec<u8>>)> {
        (0..10).map(|k| row("f.s", &format!("k{k}"), Some(v))).collect()
    }

    /// Starts the next execution with one worker and writes epochs `epochs` (state = the epoch).
    fn execution(dir: &Path, epochs: std::ops::RangeInclusive<u64>) -> ResumeInfo {
        let store = Store::open(dir).unwrap();
        let info = store.resume_info().unwrap();
        store.begin_execution(&info, 1).unwrap();
        for e in epochs {
            store.write(info.ex, 0, e, &ten_keys(e as u8), 0).unwrap();
        }
        info
    }

    /// Copies a closed partition file (no `-wal`: the last connection checkpointed it).
    fn copy_part(from: &Path, to: &Path, index: usize) {
        let name = format!("part-{index}.sqlite3");
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(to.join(format!("{name}{suffix}")));
        }
        std::fs::copy(from.join(&name), to.join(&name)).unwrap();
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
    fn a_write_that_reached_only_some_partitions_does_not_count() {
        let dir = temp_dir("half-write");
        init(&dir, 2).unwrap();
        execution(&dir, 1..=2);
        // A crash in epoch 3's write, after partition 0 committed: partition 1 still says epoch 2.
        let store = Store::open(&dir).unwrap();
        store.write(0, 0, 3, &ten_keys(3), 0).unwrap();
        store.parts[1].conn.execute("DELETE FROM snaps WHERE epoch = 3", []).unwrap();
        store.parts[1].conn.execute("UPDATE fronts SET epoch = 2", []).unwrap();
        assert_eq!(store.resume_info().unwrap(), ResumeInfo { ex: 1, resume_epoch: 2 });
        assert_eq!(store.completed_by_all(0, 1).unwrap(), Some(2));
    }

    #[test]
    fn a_partition_restored_from_an_older_backup_sets_the_resume_point() {
        for older in [0, 1] {
            let dir = temp_dir(&format!("older-{older}"));
            let backup = temp_dir(&format!("older-{older}-backup"));
            init(&dir, 2).unwrap();
            execution(&dir, 1..=2);
            copy_part(&dir, &backup, older);
            assert_eq!(execution(&dir, 3..=4), ResumeInfo { ex: 1, resume_epoch: 2 });
            copy_part(&backup, &dir, older);
            let store = Store::open(&dir).unwrap();
            assert_eq!(store.resume_info().unwrap(), ResumeInfo { ex: 2, resume_epoch: 2 }, "partition {older} older");
            let state = store.load(2).unwrap();
            assert_eq!(state.len(), 10);
            assert!(state.iter().all(|(_, _, v)| v == &vec![2]), "partition {older} older: {state:?}");
        }
    }

    #[test]
    fn a_backup_from_a_line_of_executions_that_was_redone_counts_only_up_to_where_they_part() {
        let dir = temp_dir("redone");
        let b0 = temp_dir("redone-b0");
        let b1 = temp_dir("redone-b1");
        init(&dir, 2).unwrap();
        execution(&dir, 1..=3);
        copy_part(&dir, &b0, 0);
        execution(&dir, 4..=5);
        copy_part(&dir, &b1, 1); // knows execution 1 up to epoch 5
        copy_part(&b0, &dir, 0); // back to epoch 3: execution 2 redoes epochs 4 and 5
        assert_eq!(execution(&dir, 4..=8), ResumeInfo { ex: 2, resume_epoch: 3 });
        copy_part(&b1, &dir, 1);
        // Partition 1's epochs 4 and 5 are not those of execution 2: only up to 3 do the partitions agree.
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.resume_info().unwrap(), ResumeInfo { ex: 3, resume_epoch: 3 });
    }

    #[test]
    fn partitions_of_different_runs_are_inconsistent() {
        let one = temp_dir("run-one");
        let two = temp_dir("run-two");
        for (dir, workers) in [(&one, 1), (&two, 2)] {
            init(dir, 2).unwrap();
            let store = Store::open(dir).unwrap();
            store.begin_execution(&store.resume_info().unwrap(), workers).unwrap();
        }
        copy_part(&two, &one, 1);
        let err = Store::open(&one).unwrap().resume_info().unwrap_err();
        assert!(matches!(err, RecoveryError::Inconsistent(_)), "{err:?}");
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
    fn a_store_of_another_format_is_inconsistent() {
        let dir = temp_dir("format");
        init(&dir, 1).unwrap();
        Connection::open(part_path(&dir, 0)).unwrap().execute("UPDATE meta SET value = 1 WHERE name = 'format'", []).unwrap();
        let err = Store::open(&dir).err().unwrap();
        assert!(matches!(&err, RecoveryError::Inconsistent(m) if m.contains("format 1")), "{err:?}");
    }

    #[test]
    fn a_garbled_page_is_inconsistent_and_names_the_file() {
        let dir = temp_dir("garbled");
        init(&dir, 1).unwrap();
        let store = Store::open(&dir).unwrap();
        store.begin_execution(&ResumeInfo { ex: 0, resume_epoch: 0 }, 1).unwrap();
        let rows: Vec<_> = (0..400).map(|k| (String::from("f.s"), format!("key-{k:04}"), Some(vec![k as u8; 200]))).collect();
        store.write(0, 0, 1, &rows, 0).unwrap();
        drop(store);
        let path = part_path(&dir, 0);
        let mut bytes = std::fs::read(&path).unwrap();
        let pages = bytes.len() / 4096;
        assert!(pages > 10, "{pages} pages");
        let at = pages / 2 * 4096;
        for (i, b) in bytes[at..at + 4096].iter_mut().enumerate() {
            *b = (i * 7919) as u8;
        }
        std::fs::write(&path, bytes).unwrap();
        let err = Store::open(&dir).and_then(|s| s.resume_info()).unwrap_err();
        assert!(matches!(&err, RecoveryError::Inconsistent(m) if m.contains("part-0.sqlite3") && m.contains("corrupt")), "{err:?}");
    }

    #[test]
    fn a_partition_collected_past_the_resume_epoch_is_inconsistent() {
        let dir = temp_dir("inconsistent");
        init(&dir, 2).unwrap();
        let store = Store::open(&dir).unwrap();
        store.begin_execution(&ResumeInfo { ex: 0, resume_epoch: 0 }, 1).unwrap();
        store.write(0, 0, 1, &[row("f.s", "a", Some(1))], 0).unwrap();
        store.parts[1].conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('collected_before', 7)", []).unwrap();
        assert!(matches!(store.resume_info(), Err(RecoveryError::Inconsistent(_))));
    }
}
