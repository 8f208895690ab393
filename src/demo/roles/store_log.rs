//! The store's append-only log: record codec and replay (pure), and the
//! file that holds it (open, repair a torn tail, compact, append).
//!
//! A record is `op:u8 ('P' put | 'D' delete) | key_len:u32le | value_len:u32le
//! | key | value | crc32:u32le` (the CRC covers everything before it). Replay
//! stops at the first record that is incomplete or fails its CRC: that is a
//! write torn by a crash, and the file is truncated back to the last whole
//! record.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

/// The log's file name inside the data directory.
pub const FILE_NAME: &str = "store.log";
/// Logs smaller than this are never compacted.
const COMPACT_MIN_BYTES: u64 = 64 * 1024;
/// Compact when the log is more than this many times the live data.
const COMPACT_RATIO: u64 = 2;
const HEADER: usize = 9;
const TRAILER: usize = 4;

/// One change to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put { key: String, value: Bytes },
    Delete { key: String },
}

/// Appends the encoding of `op` to `out`.
pub fn encode(op: &Op, out: &mut Vec<u8>) {
    let (tag, key, value) = match op {
        Op::Put { key, value } => (b'P', key, &value[..]),
        Op::Delete { key } => (b'D', key, &[][..]),
    };
    let start = out.len();
    out.push(tag);
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(value);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// The encoded size of a put of `key` and `value`.
pub fn put_len(key: &str, value: &[u8]) -> u64 {
    (HEADER + key.len() + value.len() + TRAILER) as u64
}

/// What a log replays to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replay {
    pub entries: BTreeMap<String, Bytes>,
    /// Bytes of whole, valid records from the start.
    pub valid_len: u64,
    pub records: u64,
    /// Why replay stopped before the end, if it did.
    pub torn: Option<&'static str>,
}

impl Replay {
    /// The size the live entries would take in a fresh log.
    pub fn live_len(&self) -> u64 {
        self.entries.iter().map(|(k, v)| put_len(k, v)).sum()
    }
}

/// Replays a whole log image.
pub fn replay(log: &[u8]) -> Replay {
    let mut replay = Replay::default();
    let mut pos = 0;
    while pos < log.len() {
        match decode(&log[pos..]) {
            Ok((op, len)) => {
                match op {
                    Op::Put { key, value } => {
                        replay.entries.insert(key, value);
                    }
                    Op::Delete { key } => {
                        replay.entries.remove(&key);
                    }
                }
                pos += len;
                replay.records += 1;
            }
            Err(reason) => {
                replay.torn = Some(reason);
                break;
            }
        }
    }
    replay.valid_len = pos as u64;
    replay
}

/// Decodes the record at the start of `bytes`; returns it and its length.
fn decode(bytes: &[u8]) -> Result<(Op, usize), &'static str> {
    let header = bytes.get(..HEADER).ok_or("record header cut short")?;
    let key_len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let value_len = u32::from_le_bytes([header[5], header[6], header[7], header[8]]) as usize;
    let body_end = HEADER
        .checked_add(key_len)
        .and_then(|n| n.checked_add(value_len))
        .ok_or("record lengths overflow")?;
    let total = body_end + TRAILER;
    let record = bytes.get(..total).ok_or("record cut short")?;
    let stored = &record[body_end..];
    let crc = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
    if crc != crc32(&record[..body_end]) {
        return Err("record checksum mismatch");
    }
    let key = std::str::from_utf8(&record[HEADER..HEADER + key_len])
        .map_err(|_| "key is not UTF-8")?
        .to_owned();
    let op = match header[0] {
        b'P' => Op::Put {
            key,
            value: Bytes::copy_from_slice(&record[HEADER + key_len..body_end]),
        },
        b'D' if value_len == 0 => Op::Delete { key },
        _ => return Err("unknown record type"),
    };
    Ok((op, total))
}

/// Whether a log of `file_len` bytes holding `live_len` bytes of live data
/// is worth rewriting.
pub fn needs_compaction(file_len: u64, live_len: u64) -> bool {
    file_len >= COMPACT_MIN_BYTES && file_len > live_len.saturating_mul(COMPACT_RATIO)
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// What opening the log found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    pub records: u64,
    pub keys: usize,
    /// Bytes cut from a torn tail.
    pub truncated: u64,
    /// The log's size before and after compaction, if it was compacted.
    pub compacted: Option<(u64, u64)>,
}

/// The open log, positioned for appending.
pub struct LogFile {
    file: File,
    path: PathBuf,
    len: u64,
    fsync: bool,
}

impl LogFile {
    /// Creates `dir` if needed, replays `dir/store.log`, repairs a torn tail
    /// and compacts when the log is much larger than its live data.
    pub fn open(
        dir: &Path,
        fsync: bool,
    ) -> io::Result<(Self, BTreeMap<String, Bytes>, OpenReport)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let image = match std::fs::read(&path) {
            Ok(image) => image,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let replayed = replay(&image);
        let file_len = image.len() as u64;
        let mut report = OpenReport {
            records: replayed.records,
            keys: replayed.entries.len(),
            truncated: file_len - replayed.valid_len,
            compacted: None,
        };
        let live_len = replayed.live_len();
        if needs_compaction(replayed.valid_len, live_len) {
            rewrite(dir, &path, &replayed.entries)?;
            report.compacted = Some((file_len, live_len));
        }
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)?;
        let len = if report.compacted.is_some() {
            live_len
        } else {
            if report.truncated > 0 {
                file.set_len(replayed.valid_len)?;
                file.sync_all()?;
            }
            replayed.valid_len
        };
        let log = Self {
            file,
            path,
            len,
            fsync,
        };
        Ok((log, replayed.entries, report))
    }

    /// Appends one record (fsynced if configured). On failure the file is
    /// cut back so no partial record stays in front of later ones.
    pub fn append(&mut self, op: &Op) -> io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let mut record = Vec::new();
        encode(op, &mut record);
        let result = (|| {
            self.file.seek(SeekFrom::Start(self.len))?;
            self.file.write_all(&record)?;
            if self.fsync {
                self.file.sync_data()?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.len += record.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.len);
                Err(e)
            }
        }
    }

    /// Flushes to disk (at shutdown).
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.len
    }
}

/// Writes the live entries to a new file and renames it over the log.
fn rewrite(dir: &Path, path: &Path, entries: &BTreeMap<String, Bytes>) -> io::Result<()> {
    let temp = dir.join(format!("{FILE_NAME}.compact"));
    let mut image = Vec::new();
    for (key, value) in entries {
        encode(
            &Op::Put {
                key: key.clone(),
                value: value.clone(),
            },
            &mut image,
        );
    }
    let mut file = File::create(&temp)?;
    file.write_all(&image)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path)?;
    // Make the rename itself durable.
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(key: &str, value: &str) -> Op {
        Op::Put {
            key: key.into(),
            value: Bytes::copy_from_slice(value.as_bytes()),
        }
    }

    fn image(ops: &[Op]) -> Vec<u8> {
        let mut out = Vec::new();
        for op in ops {
            encode(op, &mut out);
        }
        out
    }

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn encodes_the_documented_layout() {
        let bytes = image(&[put("k", "vv")]);
        assert_eq!(&bytes[..12], b"P\x01\x00\x00\x00\x02\x00\x00\x00kvv");
        assert_eq!(bytes.len() as u64, put_len("k", b"vv"));
        assert_eq!(&bytes[12..], &crc32(&bytes[..12]).to_le_bytes());
    }

    #[test]
    fn replays_puts_overwrites_and_deletes() {
        let log = image(&[
            put("a", "1"),
            put("b", "2"),
            put("a", "3"),
            Op::Delete { key: "b".into() },
            put("c", ""),
        ]);
        let r = replay(&log);
        assert_eq!(r.records, 5);
        assert_eq!(r.valid_len, log.len() as u64);
        assert_eq!(r.torn, None);
        assert_eq!(
            r.entries.into_iter().collect::<Vec<_>>(),
            [("a".into(), Bytes::from("3")), ("c".into(), Bytes::new())]
        );
    }

    #[test]
    fn a_torn_tail_at_any_byte_is_tolerated() {
        let whole = image(&[put("a", "1"), put("b", "22")]);
        let first = put_len("a", b"1") as usize;
        for cut in 0..whole.len() {
            let r = replay(&whole[..cut]);
            let expected = usize::from(cut >= first);
            assert_eq!(r.entries.len(), expected, "cut at {cut}");
            assert_eq!(r.valid_len as usize, if cut >= first { first } else { 0 });
            assert_eq!(r.torn.is_some(), cut != 0 && cut != first);
        }
    }

    #[test]
    fn garbage_and_flipped_bits_stop_replay() {
        let mut log = image(&[put("a", "1"), put("b", "2")]);
        let last = log.len() - 6;
        log[last] ^= 0x40; // inside the second record
        let r = replay(&log);
        assert_eq!((r.records, r.torn), (1, Some("record checksum mismatch")));
        let r = replay(&[0xff; 64]);
        assert_eq!(r.records, 0);
        assert!(r.torn.is_some());
    }

    #[test]
    fn compaction_threshold() {
        assert!(!needs_compaction(1000, 10), "small logs stay");
        assert!(needs_compaction(1 << 20, 1 << 18));
        assert!(!needs_compaction(1 << 20, 600 << 10));
    }

    #[test]
    fn open_repairs_a_torn_tail_and_appends_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = image(&[put("a", "1")]);
        bytes.extend_from_slice(b"P\x05\x00"); // torn header
        std::fs::write(dir.path().join(FILE_NAME), &bytes).unwrap();
        let (mut log, entries, report) = LogFile::open(dir.path(), true).unwrap();
        assert_eq!((report.records, report.keys, report.truncated), (1, 1, 3));
        assert_eq!(entries["a"], Bytes::from("1"));
        log.append(&put("b", "2")).unwrap();
        drop(log);
        let (_, entries, report) = LogFile::open(dir.path(), false).unwrap();
        assert_eq!((report.records, report.truncated), (2, 0));
        assert_eq!(entries["b"], Bytes::from("2"));
    }

    #[test]
    fn open_compacts_a_log_of_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let value = "x".repeat(1000);
        let ops: Vec<Op> = (0..200)
            .map(|_| put("hot", &value))
            .chain([put("cold", "c")])
            .collect();
        std::fs::write(dir.path().join(FILE_NAME), image(&ops)).unwrap();
        let (mut log, entries, report) = LogFile::open(dir.path(), false).unwrap();
        let live = put_len("hot", value.as_bytes()) + put_len("cold", b"c");
        assert_eq!(report.compacted.map(|c| c.1), Some(live));
        assert_eq!(log.len(), live);
        assert_eq!(std::fs::metadata(log.path()).unwrap().len(), live);
        assert_eq!(entries.len(), 2);
        log.append(&Op::Delete { key: "cold".into() }).unwrap();
        drop(log);
        let (_, entries, report) = LogFile::open(dir.path(), false).unwrap();
        assert_eq!((report.records, report.compacted), (3, None));
        assert_eq!(entries.keys().collect::<Vec<_>>(), ["hot"]);
        assert!(!dir.path().join(format!("{FILE_NAME}.compact")).exists());
    }
}
