//! File access and the crate's OS-level helpers: read-only memory maps and
//! small safe wrappers over the libc calls `copy` needs (`copy_file_range`,
//! `posix_fadvise`, `renameat2`, `statvfs`, `flock`, `access`). This module
//! holds every `unsafe` block of the crate but one (the SSE4.2 CRC of
//! `format::crc`), each with its `SAFETY:` reason.
//! Nothing here ever writes to a source tree.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::ops::Deref;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{Error, Result};

/// The bytes of a file: memory-mapped, or read into memory for empty files.
#[derive(Debug)]
pub enum FileBytes {
    /// A read-only shared mapping.
    Mapped(Mmap),
    /// An owned copy (used for empty files, which cannot be mapped).
    Owned(Vec<u8>),
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}

impl FileBytes {
    /// Tells the kernel this process is done with `[start, end)` of the file
    /// for now, so its pages stop counting against our resident memory (they
    /// stay in the page cache; a later read faults them back in). Keeps the
    /// RSS of a pass over a large file bounded by the part being read.
    pub fn release(&self, start: u64, end: u64) {
        let FileBytes::Mapped(m) = self else { return };
        const PAGE: u64 = 4096;
        let start = start.div_ceil(PAGE) * PAGE;
        let end = end.min(m.len() as u64) / PAGE * PAGE;
        if end > start {
            // SAFETY: MADV_DONTNEED on a read-only, file-backed mapping only
            // drops this process' copies of the pages; the bytes read after
            // it are the file's bytes again, so every outstanding reference
            // keeps seeing the same content (the mapped files do not change,
            // see `map_file` and `map_wal_segment`).
            let _ = unsafe {
                m.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    start as usize,
                    (end - start) as usize,
                )
            };
        }
    }
}

/// Maps `path` read-only.
///
/// Crate-private: safe to call only under the contract below, which the
/// type system cannot check, so it is not offered to other crates.
///
/// # Safety
///
/// The file must not be truncated (or rewritten in place) while the map
/// lives: another process shrinking it would raise SIGBUS on the next read
/// of a page past the new end, and rewriting it would change bytes behind
/// a `&[u8]`. Every caller maps only files that keep this contract: block
/// files, immutable once their directory has its final name, and
/// `chunks_head/` files, which Prometheus maps itself and only appends to
/// or deletes, never shrinks in place. WAL segments follow their own
/// contract, [`map_wal_segment`].
pub(crate) fn map_file(path: &Path) -> Result<FileBytes> {
    map_unchecked(path)
}

/// Maps a WAL, WBL or finished checkpoint segment read-only, including the
/// highest-numbered segment a running server may still be appending to.
///
/// # Safety
///
/// The contract of [`map_file`], which sealed segments keep because of how
/// Prometheus (2.x, `tsdb/wlog`) treats its write-ahead logs:
///
/// - It only ever writes to the highest-numbered segment of a directory,
///   and every segment is opened for writing in append mode, so bytes once
///   written are never overwritten and no segment is ever shortened. On
///   start it creates a new segment above the highest one instead of
///   writing to an existing one.
/// - Truncating the log deletes whole segments (and old checkpoints), and
///   an existing mapping of a deleted file stays readable.
/// - A checkpoint is written into `checkpoint.N.tmp`, closed, and only then
///   renamed to `checkpoint.N`; a finished checkpoint is never written
///   again, only deleted.
/// - Repair (at start, after corruption) deletes every segment after the
///   damaged one, renames the damaged file aside and writes a fresh file
///   under its name: the file a mapping holds is moved or deleted, never
///   changed. The fresh file is again only appended to.
/// - The segment being written is mapped at its length at that moment; the
///   server's appends (records, a partial page flushed, the zero padding at
///   a segment's end) only add bytes past that length, so the mapped bytes
///   never change, and a record cut by the mapping's end reads as a torn tail.
///
/// One exception: a log in the pre-2.0 format (each file starting with the
/// magic `0x43AF00EF`) is shortened in place while Prometheus migrates it.
/// Such a file is not mapped: `Ok(None)` tells the caller to read it.
/// Another process that breaks these rules (a tool truncating a segment
/// while we read it) would make the read fault; that is outside the
/// contract, as for block files.
pub(crate) fn map_wal_segment(path: &Path) -> Result<Option<FileBytes>> {
    let file = open_input(path).map_err(|e| Error::io(path, e))?;
    if is_pre_2_0_wal(&file).map_err(|e| Error::io(path, e))? {
        return Ok(None);
    }
    map_open(path, file).map(Some)
}

/// Maps a block's `tombstones` read-only; `None` when there is none.
///
/// Mapped rather than read: Prometheus reads the file whole, and a file
/// grown by damage would make our memory follow the damage. It keeps
/// [`map_file`]'s contract: Prometheus writes `tombstones.tmp` and renames
/// it over the old file, never rewriting one in place, so the mapped inode
/// does not change.
pub(crate) fn map_tombstones(path: &Path) -> io::Result<Option<FileBytes>> {
    match open_input(path) {
        Ok(file) => map_open_io(&file).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether `file` starts with the pre-2.0 WAL magic `0x43AF00EF`.
fn is_pre_2_0_wal(file: &File) -> io::Result<bool> {
    use std::os::unix::fs::FileExt;
    const OLD_WAL_MAGIC: [u8; 4] = 0x43AF_00EF_u32.to_be_bytes();
    let mut head = [0u8; 4];
    let n = file.read_at(&mut head, 0)?;
    Ok(n == head.len() && head == OLD_WAL_MAGIC)
}

/// A WAL segment's bytes: mapped ([`map_wal_segment`]), or read whole when
/// the file is in the pre-2.0 format, which may be shortened in place.
pub(crate) fn wal_segment_bytes(path: &Path) -> io::Result<FileBytes> {
    let mut file = open_input(path)?;
    if is_pre_2_0_wal(&file)? {
        use std::io::Read;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        return Ok(FileBytes::Owned(bytes));
    }
    map_open_io(&file)
}

fn map_unchecked(path: &Path) -> Result<FileBytes> {
    let file = open_input(path).map_err(|e| Error::io(path, e))?;
    map_open(path, file)
}

fn map_open(path: &Path, file: File) -> Result<FileBytes> {
    map_open_io(&file).map_err(|e| Error::io(path, e))
}

/// [`map_file`] with the plain I/O error (its kind tells a file deleted
/// meanwhile from one that cannot be read).
pub(crate) fn map_input(path: &Path) -> io::Result<FileBytes> {
    map_open_io(&open_input(path)?)
}

fn map_open_io(file: &File) -> io::Result<FileBytes> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(FileBytes::Owned(Vec::new()));
    }
    // SAFETY: read-only mapping of a file the caller guarantees is not
    // truncated or rewritten while mapped (the `# Safety` sections of
    // `map_file` and `map_sealed_wal_segment`).
    let map = unsafe { Mmap::map(file) }?;
    #[cfg(unix)]
    {
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(FileBytes::Mapped(map))
}

/// Maps `[offset, offset + len)` of `file` read-only: bytes this process
/// has just written to a file it created itself (`create_new`: the copy of
/// a block file by `copy` into its `*.tmp-for-creation` directory, or by
/// `snapshot` into the new snapshot), to read them back from the page cache
/// without copying them into a buffer first. `offset` must be a multiple of
/// the page size and the range must lie below the file's length.
///
/// # Safety
///
/// [`map_file`]'s contract, which such a file keeps: no other program
/// writes to a file another one is creating in a directory of its own
/// (Prometheus never opens a block directory that is not complete and
/// named by its ULID), and this process neither truncates nor rewrites the
/// mapped bytes while the map lives (it only appends past them, or reads).
pub(crate) fn map_written(file: &File, offset: u64, len: usize) -> io::Result<Mmap> {
    // SAFETY: the `# Safety` section above.
    unsafe {
        memmap2::MmapOptions::new()
            .offset(offset)
            .len(len)
            .map(file)
    }
}

/// Opens a file this crate reads (a block file, WAL segment, `meta.json`,
/// ...) and refuses anything that is not a regular file.
///
/// Opening a FIFO for reading waits for a writer, and a device such as
/// `/dev/zero` never ends: a directory holding one where a file belongs must
/// get an error naming it, not a hang. The open itself never waits
/// (`O_NONBLOCK`, which changes nothing for reads of a regular file).
pub fn open_input(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "something else"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file ({what} where a file belongs)"),
    ))
}

/// The whole of a file [`open_input`] accepts (`std::fs::read`'s job for
/// the files this crate reads).
pub fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = open_input(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The most bytes of a `meta.json` read. Prometheus writes a few hundred
/// bytes, a few hundred KiB for a block compacted from thousands of
/// sources; a bigger file is damage (a file grown with zeros), and reading
/// it whole would make memory follow the damage.
pub const META_JSON_MAX: u64 = 64 << 20;

/// A block's `meta.json` as [`read_input`] reads it, refused unread when it
/// is larger than [`META_JSON_MAX`] (Prometheus would read it whole and fail
/// to parse it: the block is skipped either way).
pub fn read_meta_json(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = open_input(path)?;
    let len = file.metadata()?.len();
    if len > META_JSON_MAX {
        return Err(meta_json_too_big(len));
    }
    let mut bytes = Vec::new();
    file.take(META_JSON_MAX + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > META_JSON_MAX {
        return Err(meta_json_too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The error of a `meta.json` of `len` bytes, over [`META_JSON_MAX`].
pub fn meta_json_too_big(len: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{len} bytes, more than any meta.json Prometheus writes: not read (at most \
             {META_JSON_MAX} bytes are)"
        ),
    )
}

/// Size of a file in bytes, 0 if it cannot be read.
pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Bytes of every entry under `dir` that is not a directory (recursively,
/// symbolic links not followed, their own size counted), as Prometheus sizes
/// its WAL and `chunks_head/`. 0 for a missing directory; entries that
/// cannot be read are not counted.
pub fn dir_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| !e.file_type().is_dir())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .fold(0u64, u64::saturating_add)
}

/// `path` made absolute (against the working directory) with its nearest
/// existing ancestor canonicalized and the rest kept as given: the path a
/// directory that does not exist yet will have.
pub fn absolute(path: &Path) -> io::Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut rest = Vec::new();
    let mut p = abs.as_path();
    loop {
        if let Ok(c) = p.canonicalize() {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return Ok(out);
        }
        match (p.file_name(), p.parent()) {
            (Some(n), Some(parent)) => {
                rest.push(n.to_owned());
                p = parent;
            }
            _ => return Ok(abs),
        }
    }
}

/// `path` as a NUL-terminated C string (an `InvalidInput` error for a path
/// with an interior NUL byte).
fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: path contains a NUL byte", path.display()),
        )
    })
}

/// One `copy_file_range(2)` call moving up to `len` bytes from offset `off`
/// of `from` to the same offset of `to`, retried on `EINTR`. The files'
/// positions are neither used nor moved. Returns the bytes copied (0 at the
/// end of `from`).
pub fn copy_file_range_at(from: &File, to: &File, off: u64, len: usize) -> io::Result<usize> {
    let start = libc::loff_t::try_from(off).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("copy_file_range: offset {off} out of range"),
        )
    })?;
    loop {
        let (mut off_in, mut off_out) = (start, start);
        // SAFETY: both descriptors are open for the duration of the call (the
        // `File`s are borrowed), the offset pointers point at live locals, and
        // the kernel touches no memory of ours beyond them.
        let r = unsafe {
            libc::copy_file_range(
                from.as_raw_fd(),
                &mut off_in,
                to.as_raw_fd(),
                &mut off_out,
                len,
                0,
            )
        };
        if let Ok(n) = usize::try_from(r) {
            return Ok(n);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Reserves `len` bytes of disk for the new file `f` without changing its
/// size (`fallocate(FALLOC_FL_KEEP_SIZE)`): the writes that follow then
/// find their blocks allocated (one allocation for the file, not a delayed
/// one per block written). Advisory: the bytes written are the same either
/// way; a filesystem without it, and any error, are ignored.
pub fn preallocate(f: &File, len: u64) {
    let Ok(len) = libc::off_t::try_from(len) else {
        return;
    };
    if len > 0 {
        // SAFETY: a descriptor we own, borrowed for the call; the kernel reads
        // or writes no memory of ours.
        unsafe {
            libc::fallocate(f.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, len);
        }
    }
}

/// Starts writing `[off, off + len)` of `f` to the device without waiting
/// for it (`sync_file_range(SYNC_FILE_RANGE_WRITE)`), so that the `fsync`
/// that must follow finds most of the file written already instead of
/// starting every write itself. Advisory: it makes nothing durable, and
/// errors are ignored (the `fsync` reports them).
pub fn start_writeback(f: &File, off: u64, len: u64) {
    let (Ok(off), Ok(len)) = (libc::off64_t::try_from(off), libc::off64_t::try_from(len)) else {
        return;
    };
    // SAFETY: a descriptor we own, borrowed for the call; the kernel reads or
    // writes no memory of ours.
    unsafe {
        libc::sync_file_range(f.as_raw_fd(), off, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

/// Asks the kernel to drop the cached pages of `f` (`posix_fadvise
/// DONTNEED`). Advisory: pages that are dirty stay; a synced file is read
/// back from the device afterwards. Errors are ignored.
pub fn drop_cached_pages(f: &File) {
    // SAFETY: fadvise on a descriptor we own, borrowed for the call; it is
    // advisory and reads or writes no memory of ours.
    unsafe {
        libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}

/// `renameat2(from, to, RENAME_NOREPLACE)`: renames atomically, failing with
/// `EEXIST` (`AlreadyExists`) instead of replacing an existing `to`. Where the
/// kernel or filesystem does not offer it, the error is `EINVAL` or `ENOSYS`
/// (Linux) or `Unsupported` (elsewhere), and nothing was renamed.
pub fn renameat2_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let f = c_path(from)?;
        let t = c_path(to)?;
        // SAFETY: `f` and `t` are valid NUL-terminated paths that outlive the
        // call; AT_FDCWD resolves them relative to the working directory like
        // rename(2).
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::AT_FDCWD,
                t.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (from, to);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "renameat2(RENAME_NOREPLACE) is Linux-only",
        ))
    }
}

/// Bytes available to an unprivileged user on the filesystem holding the
/// existing `path` (`statvfs`: `f_bavail × f_frsize`).
pub fn statvfs_available(path: &Path) -> io::Result<u64> {
    let c = c_path(path)?;
    // SAFETY: an all-zero `statvfs` is a valid value of this plain C struct
    // (integers only), used as the out-parameter.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a live, writable
    // `statvfs`; both outlive the call.
    let r = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// Tries to take an exclusive `flock` on `f` without blocking: `Ok(true)` if
/// taken (it lasts until [`flock_unlock`] or until `f` is closed),
/// `Ok(false)` if another open file description holds a conflicting lock
/// (`EWOULDBLOCK`), an error otherwise.
pub fn flock_try_exclusive(f: &File) -> io::Result<bool> {
    // SAFETY: flock on a descriptor we own, borrowed for the call; it touches
    // no memory of ours.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Releases a `flock` taken on `f` with [`flock_try_exclusive`]. Errors are
/// ignored (closing `f` releases it anyway).
pub fn flock_unlock(f: &File) {
    // SAFETY: flock on a descriptor we own, borrowed for the call; it touches
    // no memory of ours.
    unsafe {
        libc::flock(f.as_raw_fd(), libc::LOCK_UN);
    }
}

/// True if this process may write to `path` (`access(path, W_OK)`, with the
/// real user and group IDs). False for a path that does not exist or cannot
/// be expressed as a C string.
pub fn is_writable(path: &Path) -> bool {
    let Ok(c) = c_path(path) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_wrappers() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"0123456789").unwrap();
        // copy_file_range at an offset: the target gets the same offset.
        let from = File::open(&a).unwrap();
        let to = File::create(&b).unwrap();
        match copy_file_range_at(&from, &to, 4, 100) {
            Ok(n) => {
                assert_eq!(n, 6);
                assert_eq!(copy_file_range_at(&from, &to, 10, 100).unwrap(), 0);
                assert_eq!(std::fs::read(&b).unwrap(), b"\x00\x00\x00\x00456789");
            }
            // Kernels or filesystems without it: the caller falls back.
            Err(e) => assert!(e.raw_os_error().is_some(), "{e}"),
        }
        drop_cached_pages(&from);
        // No-replace rename.
        match renameat2_noreplace(&a, &b) {
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {}
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::AlreadyExists),
            Ok(()) => panic!("replaced an existing file"),
        }
        assert!(a.exists());
        assert!(statvfs_available(dir.path()).unwrap() > 0);
        assert!(statvfs_available(&dir.path().join("missing")).is_err());
        // flock: a second open file description conflicts.
        let l1 = File::open(&a).unwrap();
        let l2 = File::open(&a).unwrap();
        assert!(flock_try_exclusive(&l1).unwrap());
        assert!(!flock_try_exclusive(&l2).unwrap());
        flock_unlock(&l1);
        assert!(flock_try_exclusive(&l2).unwrap());
        assert!(is_writable(dir.path()));
        assert!(!is_writable(&dir.path().join("missing")));
        assert!(!is_writable(Path::new("a\0b")));
    }
}
