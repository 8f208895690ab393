//! The image every understudy container runs (`understudy:latest`), built
//! offline through the Engine API from an in-memory context: this very
//! binary plus the shared libraries it has loaded, `FROM scratch`. No
//! registry, no docker CLI, no Dockerfile syntax directive.
//!
//! The image is rebuilt when the binary changes (its SHA-256 is a label).
//! A build removes the images earlier builds left untagged once no
//! container uses them ([`prune_superseded`]; `gc` does too), so a
//! developer's hundredth build does not leave 99 images behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::domain::{Selector, labels};
use crate::platform::Platform;

/// The image reference.
pub const IMAGE: &str = "understudy:latest";
/// Where the binary lives inside the image.
pub const BINARY_PATH: &str = "/understudy";
/// Value of `io.understudy.image` on images this module builds.
pub const IMAGE_LABEL_VALUE: &str = "understudy";

/// Why the image could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read {path:?}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path:?} is not a 64-bit little-endian ELF executable")]
    NotElf { path: PathBuf },
    #[error(transparent)]
    Platform(#[from] crate::platform::PlatformError),
}

/// The result of [`ensure`].
#[derive(Debug, Clone)]
pub struct ImageRef {
    pub id: String,
    pub reference: String,
    /// Whether this call built it (false: reused an up-to-date image).
    pub built: bool,
    pub elapsed: Duration,
}

/// A file to place in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextFile {
    /// Absolute path inside the image.
    pub path: String,
    pub mode: u32,
    pub bytes: Vec<u8>,
}

/// The Dockerfile: copy the root filesystem, run the binary.
pub fn dockerfile() -> String {
    format!("FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"{BINARY_PATH}\"]\n")
}

/// Shared objects mapped into a process, from its `/proc/PID/maps` text.
pub fn mapped_libraries(maps: &str) -> Vec<PathBuf> {
    let mut libs: Vec<PathBuf> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| path.starts_with('/'))
        .filter(|path| {
            let name = path.rsplit('/').next().unwrap_or("");
            name.contains(".so")
        })
        .map(PathBuf::from)
        .collect();
    libs.sort();
    libs.dedup();
    libs
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn read_u64(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)).ok()
}

/// The bytes are not a 64-bit little-endian ELF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotElf;

/// The program interpreter (`PT_INTERP`) of a 64-bit little-endian ELF
/// executable; `Ok(None)` for a static binary.
pub fn elf_interpreter(elf: &[u8]) -> Result<Option<String>, NotElf> {
    if elf.get(..4) != Some(b"\x7fELF") || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return Err(NotElf);
    }
    let phoff = read_u64(elf, 0x20).ok_or(NotElf)?;
    let phentsize = usize::from(read_u16(elf, 0x36).ok_or(NotElf)?);
    let phnum = usize::from(read_u16(elf, 0x38).ok_or(NotElf)?);
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if read_u32(elf, ph).ok_or(NotElf)? == 3 {
            let offset = read_u64(elf, ph + 8).ok_or(NotElf)?;
            let size = read_u64(elf, ph + 32).ok_or(NotElf)?;
            let raw = elf.get(offset..offset + size).ok_or(NotElf)?;
            let text = String::from_utf8_lossy(raw)
                .trim_end_matches('\0')
                .to_owned();
            return Ok(Some(text));
        }
    }
    Ok(None)
}

/// The build context: the Dockerfile and `rootfs/` with every file.
pub fn context_tar(files: &[ContextFile]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut append = |path: &str, mode: u32, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, path, bytes)
    };
    append("Dockerfile", 0o644, dockerfile().as_bytes())?;
    for f in files {
        let inside = format!("rootfs/{}", f.path.trim_start_matches('/'));
        append(&inside, f.mode, &f.bytes)?;
    }
    builder.into_inner()
}

fn read(path: &Path) -> Result<Vec<u8>, ImageError> {
    std::fs::read(path).map_err(|source| ImageError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The files of the image for the running binary: itself, its interpreter
/// and the shared libraries it has mapped.
pub fn current_binary_files() -> Result<Vec<ContextFile>, ImageError> {
    let exe = PathBuf::from("/proc/self/exe");
    let binary = read(&exe)?;
    let interpreter =
        elf_interpreter(&binary).map_err(|NotElf| ImageError::NotElf { path: exe })?;
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut files = vec![ContextFile {
        path: BINARY_PATH.to_owned(),
        mode: 0o755,
        bytes: binary,
    }];
    let mut paths = mapped_libraries(&maps);
    if let Some(interp) = &interpreter {
        paths.push(PathBuf::from(interp));
    }
    for path in paths {
        let bytes = read(&path)?;
        let name = path.to_string_lossy().into_owned();
        if files.iter().all(|f| f.path != name) {
            files.push(ContextFile {
                path: name,
                mode: 0o755,
                bytes,
            });
        }
    }
    Ok(files)
}

/// SHA-256 over every file of the image, hex.
pub fn fingerprint(files: &[ContextFile]) -> String {
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(f.path.as_bytes());
        hasher.update(f.bytes.len().to_le_bytes());
        hasher.update(&f.bytes);
    }
    crate::domain::units::hex(&hasher.finalize())
}

/// Builds `understudy:latest` from the running binary unless an image with
/// the same fingerprint exists (or always, with `force`).
pub async fn ensure(platform: &impl Platform, force: bool) -> Result<ImageRef, ImageError> {
    let started = Instant::now();
    let files = current_binary_files()?;
    let print = fingerprint(&files);
    if !force {
        if let Some(existing) = platform.inspect_image(IMAGE).await? {
            if existing.labels.get(labels::BINARY_SHA256) == Some(&print) {
                return Ok(ImageRef {
                    id: existing.id,
                    reference: IMAGE.to_owned(),
                    built: false,
                    elapsed: started.elapsed(),
                });
            }
        }
    }
    let context = context_tar(&files).map_err(|source| ImageError::Read {
        path: PathBuf::from("(build context)"),
        source,
    })?;
    let image_labels = BTreeMap::from([
        (labels::IMAGE.to_owned(), IMAGE_LABEL_VALUE.to_owned()),
        (labels::BINARY_SHA256.to_owned(), print),
    ]);
    let id = platform.build_image(context, IMAGE, &image_labels).await?;
    // The image this build replaced, and any other left untagged.
    if let Err(e) = prune_superseded(platform).await {
        tracing::warn!("removing superseded images: {e}");
    }
    Ok(ImageRef {
        id,
        reference: IMAGE.to_owned(),
        built: true,
        elapsed: started.elapsed(),
    })
}

/// A superseded image younger than this stays: another build's image is
/// untagged for an instant between its commit and its tag.
pub const PRUNE_MIN_AGE_S: i64 = 60;

/// What [`prune_superseded`] did: the images removed (ids), and how many
/// superseded ones a container still uses (`gc` removes them later).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    pub removed: Vec<String>,
    pub in_use: usize,
}

/// The images of `images` this module built that lost `understudy:latest`
/// to a later build (no tag left: a new binary, `demo build`, or two
/// builds racing) and are at least [`PRUNE_MIN_AGE_S`] old at `now_s`.
pub fn superseded(images: &[crate::platform::ImageSummary], now_s: i64) -> Vec<&str> {
    images
        .iter()
        .filter(|i| i.labels.get(labels::IMAGE).map(String::as_str) == Some(IMAGE_LABEL_VALUE))
        .filter(|i| i.tags.iter().all(|t| t == "<none>:<none>"))
        .filter(|i| i.created_s.is_some_and(|c| now_s - c >= PRUNE_MIN_AGE_S))
        .map(|i| i.id.as_str())
        .collect()
}

/// Removes the superseded images (see [`superseded`]) no container uses.
/// Each one is 20 MB (a release binary) to 170 MB (a debug one), and every
/// new binary would leave one.
pub async fn prune_superseded(platform: &impl Platform) -> Result<Pruned, ImageError> {
    let selector = Selector::label(labels::IMAGE, IMAGE_LABEL_VALUE);
    let images = platform.list_images(Some(&selector)).await?;
    let now_s = crate::domain::units::unix_ms(std::time::SystemTime::now()) / 1000;
    let mut pruned = Pruned::default();
    for id in superseded(&images, now_s) {
        if platform.remove_image_if_unused(id).await? {
            pruned.removed.push(id.to_owned());
        } else {
            pruned.in_use += 1;
        }
    }
    Ok(pruned)
}

/// Removes every image this module built.
pub async fn remove_all(platform: &impl Platform) -> Result<usize, ImageError> {
    let selector = Selector::label(labels::IMAGE, IMAGE_LABEL_VALUE);
    let images = platform.list_images(Some(&selector)).await?;
    for image in &images {
        platform.remove_image(&image.id).await?;
    }
    Ok(images.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_untagged_understudy_images_a_minute_old_are_superseded() {
        let image = |id: &str, tags: &[&str], ours: bool, created_s: Option<i64>| {
            crate::platform::ImageSummary {
                id: id.into(),
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                labels: if ours {
                    BTreeMap::from([(labels::IMAGE.to_owned(), IMAGE_LABEL_VALUE.to_owned())])
                } else {
                    BTreeMap::new()
                },
                created_s,
            }
        };
        let now = 10_000;
        let images = [
            image("current", &[IMAGE], true, Some(0)),
            image("old", &[], true, Some(now - 600)),
            image("old-api-1.41", &["<none>:<none>"], true, Some(now - 61)),
            image("racing", &[], true, Some(now - 5)),
            image("theirs", &[], false, Some(0)),
            image("retagged", &["mine:v1"], true, Some(0)),
            image("undated", &[], true, None),
        ];
        assert_eq!(superseded(&images, now), ["old", "old-api-1.41"]);
    }

    #[test]
    fn maps_yield_each_shared_object_once() {
        let maps = "\
55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 123 /work/target/debug/understudy
7f1e2c000000-7f1e2c022000 r--p 00000000 fe:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e2c022000-7f1e2c197000 r-xp 00022000 fe:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e2c200000-7f1e2c203000 r--p 00000000 fe:01 789 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f1e2c300000-7f1e2c301000 rw-p 00000000 00:00 0 
7ffd5a1f0000-7ffd5a211000 rw-p 00000000 00:00 0 [stack]
7ffd5a3c6000-7ffd5a3c8000 r-xp 00000000 00:00 0 [vdso]";
        let libs = mapped_libraries(maps);
        assert_eq!(
            libs,
            [
                PathBuf::from("/usr/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"),
            ]
        );
    }

    #[test]
    fn interpreter_of_the_test_binary_is_found() {
        let me = std::fs::read("/proc/self/exe").unwrap();
        let interp = elf_interpreter(&me).unwrap();
        if let Some(path) = interp {
            assert!(path.contains("ld-linux"), "{path}");
            assert!(Path::new(&path).exists());
        }
        assert!(elf_interpreter(b"#!/bin/sh\n").is_err());
    }

    #[test]
    fn context_holds_dockerfile_and_rootfs() {
        let files = vec![ContextFile {
            path: "/understudy".into(),
            mode: 0o755,
            bytes: b"binary".to_vec(),
        }];
        let tar_bytes = context_tar(&files).unwrap();
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            names.push((
                entry.path().unwrap().to_string_lossy().into_owned(),
                entry.header().mode().unwrap(),
            ));
        }
        assert_eq!(
            names,
            [
                ("Dockerfile".to_owned(), 0o644),
                ("rootfs/understudy".to_owned(), 0o755)
            ]
        );
        assert!(dockerfile().starts_with("FROM scratch\n"));
        assert!(!dockerfile().contains("syntax"));
    }

    #[test]
    fn fingerprint_changes_with_content() {
        let a = vec![ContextFile {
            path: "/x".into(),
            mode: 0o755,
            bytes: vec![1],
        }];
        let mut b = a.clone();
        b[0].bytes = vec![2];
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
    }
}
