//! Shipped offsets per file content, saved atomically and durably.
//!
//! Keys are content [`Fingerprint`]s rather than paths, so progress follows a log when Zeek
//! renames it and when an archiver compresses it.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::logfile::{Fingerprint, Resume};

const STATE_VERSION: u32 = 1;

/// How far one file's content has been shipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProgress {
    /// Decompressed bytes accepted by the server (or skipped as rejected), ending a line.
    pub offset: u64,
    /// Lines in those bytes.
    pub line: u64,
    /// The TSV header block in effect at `offset`, so a resume mid-file can prefix batches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Where the file was last read, for people reading the state file.
    pub path: PathBuf,
    /// Unix seconds of the last change.
    pub updated: u64,
}

impl FileProgress {
    /// Where reading resumes.
    pub fn resume(&self) -> Resume {
        Resume {
            offset: self.offset,
            line: self.line,
            header: self.header.as_deref().map(|h| Arc::from(h.as_bytes())),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    files: BTreeMap<String, FileProgress>,
}

/// Errors loading or saving the state file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "state file {path} is not a collector state file ({reason}); move it away to start over"
    )]
    Corrupt { path: PathBuf, reason: String },
}

/// Progress per fingerprint, in memory.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Offsets {
    files: BTreeMap<Fingerprint, FileProgress>,
}

impl Offsets {
    pub fn get(&self, fingerprint: &Fingerprint) -> Option<&FileProgress> {
        self.files.get(fingerprint)
    }

    pub fn set(&mut self, fingerprint: Fingerprint, progress: FileProgress) {
        self.files.insert(fingerprint, progress);
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Reads a state file; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<Self, StateError> {
        let text = match fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(StateError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let corrupt = |reason: String| StateError::Corrupt {
            path: path.to_owned(),
            reason,
        };
        let file: StateFile = serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
        if file.version != STATE_VERSION {
            return Err(corrupt(format!("version {}", file.version)));
        }
        let mut files = BTreeMap::new();
        for (key, progress) in file.files {
            let fingerprint =
                Fingerprint::from_hex(&key).ok_or_else(|| corrupt(format!("bad key {key:?}")))?;
            files.insert(fingerprint, progress);
        }
        Ok(Self { files })
    }

    /// Replaces the state file atomically and durably: a temporary file beside it is written and
    /// synced, renamed over it, and the directory is synced so the rename survives a crash.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let io_error = |source| StateError::Io {
            path: path.to_owned(),
            source,
        };
        let file = StateFile {
            version: STATE_VERSION,
            files: self
                .files
                .iter()
                .map(|(fp, progress)| (fp.to_hex(), progress.clone()))
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(io::Error::other)
            .map_err(io_error)?;
        let temp = temp_path(path);
        let mut out = File::create(&temp).map_err(io_error)?;
        out.write_all(&json).map_err(io_error)?;
        out.sync_all().map_err(io_error)?;
        drop(out);
        fs::rename(&temp, path).map_err(io_error)?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir).and_then(|d| d.sync_all()).map_err(io_error)
    }
}

/// The temporary file a save writes before renaming it over `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    path.with_file_name(name)
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Offsets shared by the workers, saved by one background task that coalesces updates: each
/// save writes everything accepted so far, and updates made during a save go into the next one.
#[derive(Debug)]
pub struct SharedState {
    path: PathBuf,
    inner: Mutex<Inner>,
    changed: Notify,
    /// Held while writing the file, with the version last written: saves never overlap (they
    /// share the temporary file) and an older snapshot never replaces a newer one, even when
    /// the task that started a save was dropped while its thread still writes.
    written: Arc<Mutex<u64>>,
}

#[derive(Debug)]
struct Inner {
    offsets: Offsets,
    /// Bumped on every update; compared with `saved` to know whether a save is due.
    version: u64,
    saved: u64,
}

impl SharedState {
    pub fn load(path: PathBuf) -> Result<Arc<Self>, StateError> {
        let offsets = Offsets::load(&path)?;
        Ok(Arc::new(Self {
            path,
            inner: Mutex::new(Inner {
                offsets,
                version: 0,
                saved: 0,
            }),
            changed: Notify::new(),
            written: Arc::new(Mutex::new(0)),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, fingerprint: &Fingerprint) -> Option<FileProgress> {
        self.lock().offsets.get(fingerprint).cloned()
    }

    /// Records progress the server has accepted; it is saved shortly after.
    pub fn commit(&self, fingerprint: Fingerprint, progress: FileProgress) {
        let mut inner = self.lock();
        inner.offsets.set(fingerprint, progress);
        inner.version += 1;
        drop(inner);
        self.changed.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves plain data behind: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Saves if anything changed since the last save.
    pub async fn flush(self: &Arc<Self>) -> Result<(), StateError> {
        let (snapshot, version) = {
            let inner = self.lock();
            if inner.version == inner.saved {
                return Ok(());
            }
            (inner.offsets.clone(), inner.version)
        };
        let path = self.path.clone();
        let written = self.written.clone();
        tokio::task::spawn_blocking(move || {
            let mut last = written.lock().unwrap_or_else(|e| e.into_inner());
            if *last >= version {
                return Ok(());
            }
            snapshot.save(&path)?;
            *last = version;
            Ok(())
        })
        .await
        .map_err(|e| StateError::Io {
            path: self.path.clone(),
            source: io::Error::other(e),
        })??;
        let mut inner = self.lock();
        inner.saved = inner.saved.max(version);
        Ok(())
    }

    /// Saves after every change until the task is dropped; a failed save is logged and retried
    /// on the next change.
    pub async fn save_loop(self: Arc<Self>) {
        loop {
            self.changed.notified().await;
            if let Err(e) = self.flush().await {
                tracing::error!("{e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(offset: u64) -> FileProgress {
        FileProgress {
            offset,
            line: offset / 10,
            header: Some("#separator \\x09\n#fields\tts\n".into()),
            path: "/logs/conn.log".into(),
            updated: 1,
        }
    }

    #[test]
    fn saved_state_loads_back_equal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(Offsets::load(&path).unwrap().is_empty());
        let mut offsets = Offsets::default();
        offsets.set(Fingerprint([1; 16]), progress(1234));
        offsets.set(Fingerprint([2; 16]), progress(99));
        offsets.save(&path).unwrap();
        assert_eq!(Offsets::load(&path).unwrap(), offsets);
        assert!(!temp_path(&path).exists());
        offsets.set(Fingerprint([1; 16]), progress(5000));
        offsets.save(&path).unwrap();
        let loaded = Offsets::load(&path).unwrap();
        assert_eq!(loaded.get(&Fingerprint([1; 16])).unwrap().offset, 5000);
        assert_eq!(
            loaded
                .get(&Fingerprint([1; 16]))
                .unwrap()
                .resume()
                .header
                .as_deref(),
            Some(&b"#separator \\x09\n#fields\tts\n"[..])
        );
    }

    #[test]
    fn a_damaged_state_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        fs::write(&path, b"{\"version\":1,\"files\":{\"zz\":").unwrap();
        let err = Offsets::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("state.json") && err.contains("not a collector state file"),
            "{err}"
        );
        fs::write(
            &path,
            br#"{"version":1,"files":{"nothex":{"offset":1,"line":1,"path":"x","updated":0}}}"#,
        )
        .unwrap();
        assert!(
            Offsets::load(&path)
                .unwrap_err()
                .to_string()
                .contains("bad key")
        );
    }

    #[tokio::test]
    async fn shared_state_saves_committed_progress() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let shared = SharedState::load(path.clone()).unwrap();
        shared.commit(Fingerprint([9; 16]), progress(42));
        shared.flush().await.unwrap();
        let loaded = Offsets::load(&path).unwrap();
        assert_eq!(loaded.get(&Fingerprint([9; 16])), Some(&progress(42)));
        // Nothing changed: no rewrite.
        fs::remove_file(&path).unwrap();
        shared.flush().await.unwrap();
        assert!(!path.exists());
    }
}
