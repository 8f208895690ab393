//! Tar archives the injector uploads: disk-fill's file of zeros, and the
//! empty file of the same name that reverts it.

use base64::Engine as _;

fn tar_with(name: &str, size: u64, data: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    builder.append_data(&mut header, name, data)?;
    builder.into_inner()
}

/// A tar holding `name` with `size` zero bytes.
pub fn zeros_tar(name: &str, size: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    tar_with(name, size, std::io::repeat(0).take(size))
}

/// A tar holding an empty `name`, base64 (small enough for the journal).
pub fn empty_file_tar_base64(name: &str) -> String {
    let bytes = tar_with(name, 0, std::io::empty()).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes what [`empty_file_tar_base64`] wrote.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_and_empty_files() {
        let tar_bytes = zeros_tar(".understudy-fill-f1", 10_000).unwrap();
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let entry = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(entry.header().size().unwrap(), 10_000);
        let empty = decode(&empty_file_tar_base64(".understudy-fill-f1")).unwrap();
        let mut archive = tar::Archive::new(&empty[..]);
        let entry = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(
            entry.path().unwrap().to_string_lossy(),
            ".understudy-fill-f1"
        );
        assert_eq!(entry.header().size().unwrap(), 0);
    }
}
