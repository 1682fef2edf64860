//! The durable-write primitives of `copy`: a streamed, checksummed file copy
//! (`copy_file_range` where the kernel offers it, a fixed buffer otherwise),
//! hard links, fsync of files and directories, a no-replace rename, free
//! space and the Prometheus `lock` probe. Nothing here ever opens a source
//! file for writing. The system calls themselves are the safe wrappers of
//! [`crate::fileutil`]; this module makes no libc call of its own.
//!
//! # Test hooks (cargo feature `failpoints`)
//!
//! Built only with the `failpoints` feature (which `cargo test` enables
//! through the crate's dev-dependency on itself; no user build has it), two
//! environment variables let the kill tests land a SIGKILL at chosen places;
//! they are not part of the interface:
//!
//! - `PROMSNAP_TEST_THROTTLE_US=N`: copy in 64 KiB pieces and sleep `N` µs
//!   after each, so a kill lands mid-file.
//! - `PROMSNAP_TEST_PAUSE_AT=point[,point…]`: at each named point print
//!   `promsnap: test pause at <point> <ULID>` on stderr and sleep for a minute
//!   — or, with `PROMSNAP_TEST_RESUME=<file>`, until that file exists (60 s at
//!   most), so a test can change the source as a running Prometheus would.
//!   `point:SUFFIX` pauses only where the ULID (or path) ends with SUFFIX.
//!   Points: `tmp_created`, `before_rename`, `after_rename` (renamed, parent
//!   directory not yet fsynced); `verify_block` (verify about to read a
//!   listed block); `wal_segment` (a WAL or checkpoint segment about to be
//!   read by verify's WAL check or by the head replay of `dump`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
#[cfg(feature = "failpoints")]
use std::sync::OnceLock;
use std::time::Duration;

use crate::fileutil;

/// Size of one copy piece (and of the read buffer).
const PIECE: usize = 1 << 20;
/// Piece size of a copy compared as it goes (one `copy_file_range` each).
const COMPARED_PIECE: usize = 256 << 10;
/// Bytes copied before they are compared (through maps) and the source's
/// pages of them released, at once.
const RELEASE: u64 = 4 << 20;
/// Piece size while throttled by the test hook.
const THROTTLED_PIECE: usize = 64 << 10;

/// Without the test hooks: never throttled.
#[cfg(not(feature = "failpoints"))]
fn throttle_us() -> u64 {
    0
}

/// Without the test hooks: never pauses.
#[cfg(not(feature = "failpoints"))]
pub fn test_pause(_point: &str, _ulid: &str) {}

/// Microseconds to sleep after each piece (`PROMSNAP_TEST_THROTTLE_US`).
#[cfg(feature = "failpoints")]
fn throttle_us() -> u64 {
    static T: OnceLock<u64> = OnceLock::new();
    *T.get_or_init(|| {
        std::env::var("PROMSNAP_TEST_THROTTLE_US")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    })
}

/// Sleeps at `point` if `PROMSNAP_TEST_PAUSE_AT` names it (test hook).
#[cfg(feature = "failpoints")]
pub fn test_pause(point: &str, ulid: &str) {
    static P: OnceLock<Vec<String>> = OnceLock::new();
    let points = P.get_or_init(|| {
        std::env::var("PROMSNAP_TEST_PAUSE_AT")
            .map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    });
    // `point` alone, or `point:SUFFIX` for the calls whose detail ends so.
    let named = |p: &String| match p.split_once(':') {
        Some((name, suffix)) => name == point && ulid.ends_with(suffix),
        None => p == point,
    };
    if points.iter().any(named) {
        eprintln!("promsnap: test pause at {point} {ulid}");
        match std::env::var_os("PROMSNAP_TEST_RESUME") {
            // Until the test has changed the directory (60 s at most).
            Some(resume) => {
                let end = std::time::Instant::now() + Duration::from_secs(60);
                while !Path::new(&resume).exists() && std::time::Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            None => std::thread::sleep(Duration::from_secs(60)),
        }
    }
}

/// What [`copy_file`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Bytes copied.
    pub size: u64,
    /// True if every byte was read back from the copy right after it was
    /// written and compared with the source (the page cache's bytes).
    pub compared: bool,
    /// The first byte at which the copy read back differs from the source.
    pub differs_at: Option<u64>,
}

/// Copies `src` to the new file `dst` (which must not exist) and fsyncs it.
///
/// Without `from_device`, every span of 4 MiB is read back from the copy
/// right after it was written and compared with the source, byte for byte:
/// through a map of the copy and a map of the source when bytes move by
/// `copy_file_range` and the source can be mapped (no byte copied into a
/// buffer: the cheapest complete re-read there is, about half the kernel
/// time of reading the copy back with `pread`), else piece by piece through
/// buffers. Either way the bytes compared are the page cache's, which the
/// fsync then writes to the device: their writes are started every 4 MiB,
/// after the compare, so the fsync at the end waits for the last ones only
/// (on bench-1m's 140 MB index: about 0.015 s instead of 0.1 s). The copy's
/// disk space is reserved whole before the first byte (`fallocate`,
/// keeping the size): the writes then allocate no block one by one.
/// With `from_device`, nothing is compared here: the copy's cached pages are
/// dropped after the fsync, so that a following [`first_difference`] reads
/// the bytes back from the storage device. Bytes move with
/// `copy_file_range` when possible (inside the kernel), else through one
/// fixed buffer. `on_bytes` is called after each piece.
pub fn copy_file(
    src: &Path,
    dst: &Path,
    from_device: bool,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> io::Result<Copied> {
    let from = File::open(src)?;
    let to = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(dst)?;
    let throttle = throttle_us();
    let piece = if throttle > 0 {
        THROTTLED_PIECE
    } else {
        COMPARED_PIECE
    };
    let compare = !from_device;
    // The whole file's blocks reserved at once (the source's length now: a
    // source that changes is refused below, whatever was reserved).
    fileutil::preallocate(&to, from.metadata()?.len());
    let mut c = FileCopy {
        // The source side of the comparison straight from a map of the
        // source (a block file: immutable, the contract of `map_file`), not
        // read into a buffer first: one copy of every byte less.
        src_map: compare.then(|| fileutil::map_file(src).ok()).flatten(),
        from,
        to,
        kernel_copy: true,
        buf: Vec::new(),
        back: Vec::new(),
        orig: Vec::new(),
        differs_at: None,
    };
    let (mut size, mut released, mut flushed) = (0u64, 0u64, 0u64);
    loop {
        let n = c.move_piece(size, piece)?;
        if n == 0 {
            break;
        }
        if compare && !c.by_maps() && c.differs_at.is_none() {
            c.compare_piece(size, n)?;
        }
        size += n as u64;
        // Compared through the maps in spans of RELEASE bytes, whose
        // source pages then leave this process' memory (one `madvise` and
        // one map of the copy a span, not one a piece).
        if c.src_map.is_some() && size - released >= RELEASE {
            c.end_span(compare, released, size)?;
            released = size;
        }
        // Start writing every RELEASE bytes to the device as they are
        // copied: the fsync below then waits for the last of them only,
        // instead of for the whole file's writes, issued at once at the end.
        if size - flushed >= RELEASE {
            fileutil::start_writeback(&c.to, flushed, size - flushed);
            flushed = size;
        }
        on_bytes(n as u64);
        if throttle > 0 {
            std::thread::sleep(Duration::from_micros(throttle));
        }
    }
    if c.src_map.is_some() && size > released {
        c.end_span(compare, released, size)?;
    }
    // The source must not have changed size under us.
    let src_len = c.from.metadata()?.len();
    if src_len != size {
        return Err(io::Error::other(format!(
            "source changed while copying: read {size} bytes, file now has {src_len}"
        )));
    }
    c.to.sync_all()?;
    // With `from_device`: the data is on disk now; drop it from the page
    // cache so that the re-read that follows reads what the device returns.
    if from_device {
        fileutil::drop_cached_pages(&c.to);
    }
    Ok(Copied {
        size,
        compared: compare,
        differs_at: c.differs_at,
    })
}

/// One [`copy_file`] under way: the two files and the buffers of its steps.
struct FileCopy {
    from: File,
    to: File,
    /// A map of the source, when comparing and the source can be mapped.
    src_map: Option<fileutil::FileBytes>,
    /// `copy_file_range` works here (else bytes move through `buf`).
    kernel_copy: bool,
    buf: Vec<u8>,
    /// The piece read back from the copy, and from the source when it is
    /// not mapped.
    back: Vec<u8>,
    orig: Vec<u8>,
    differs_at: Option<u64>,
}

impl FileCopy {
    /// True when the copy is compared span by span through a map of the
    /// copy against the map of the source (bytes moved by the kernel, the
    /// source mapped), rather than piece by piece through buffers.
    fn by_maps(&self) -> bool {
        self.kernel_copy && self.src_map.is_some()
    }

    /// The span `[start, end)` is copied: compares it (when comparing
    /// through the maps) and releases the source's pages of it.
    fn end_span(&mut self, compare: bool, start: u64, end: u64) -> io::Result<()> {
        if compare && self.by_maps() && self.differs_at.is_none() {
            self.compare_span(start, end)?;
        }
        if let Some(m) = &self.src_map {
            m.release(start, end);
        }
        Ok(())
    }

    /// Reads `[start, end)` back from the copy through a map of it (the
    /// page cache's bytes, as a read would return them, without copying
    /// them into a buffer) and compares it with the source's map; records
    /// the first difference. Falls back to [`Self::compare_piece`] where a
    /// map cannot be had.
    fn compare_span(&mut self, start: u64, end: u64) -> io::Result<()> {
        const PAGE: u64 = 4096;
        let base = start / PAGE * PAGE;
        let (Ok(len), Ok(skip), Ok(at), Ok(n)) = (
            usize::try_from(end - base),
            usize::try_from(start - base),
            usize::try_from(start),
            usize::try_from(end - start),
        ) else {
            return Err(io::Error::other("file too large to compare in memory"));
        };
        let source = self
            .src_map
            .as_ref()
            .and_then(|m| m.get(at..at.checked_add(n)?));
        let copy = if n > 0 {
            fileutil::map_written(&self.to, base, len).ok()
        } else {
            None
        };
        let back = copy.as_ref().and_then(|m| m.get(skip..));
        let (Some(source), Some(back)) = (source, back) else {
            return self.compare_piece(start, n);
        };
        if source != back {
            let i = source.iter().zip(back).position(|(x, y)| x != y);
            self.differs_at = Some(start + i.unwrap_or(n) as u64);
        }
        Ok(())
    }

    /// Copies the next piece (at most `piece` bytes from offset `size`);
    /// returns its length, 0 at the end of the source.
    fn move_piece(&mut self, size: u64, piece: usize) -> io::Result<usize> {
        loop {
            if self.kernel_copy {
                match fileutil::copy_file_range_at(&self.from, &self.to, size, piece) {
                    Ok(n) => return Ok(n),
                    Err(e) if size == 0 && kernel_copy_unsupported(&e) => {
                        self.kernel_copy = false;
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
            self.buf.resize(piece, 0);
            let n = match self.from.read(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            (&self.to).write_all(self.buf.get(..n).unwrap_or_default())?;
            return Ok(n);
        }
    }

    /// Reads the piece just copied (`n` bytes at `size`) back from the copy
    /// and compares it with the source; records the first difference.
    fn compare_piece(&mut self, size: u64, n: usize) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.back.resize(n, 0);
        self.to.read_exact_at(&mut self.back, size)?;
        let mapped = self.src_map.as_ref().and_then(|m| {
            let at = usize::try_from(size).ok()?;
            m.get(at..at.checked_add(n)?)
        });
        let source: &[u8] = if let (true, Some(m)) = (self.kernel_copy, mapped) {
            m
        } else if self.kernel_copy {
            self.orig.resize(n, 0);
            self.from.read_exact_at(&mut self.orig, size)?;
            &self.orig
        } else {
            self.buf.get(..n).unwrap_or_default()
        };
        if source != self.back.as_slice() {
            let i = source.iter().zip(&self.back).position(|(x, y)| x != y);
            self.differs_at = Some(size + i.unwrap_or(n) as u64);
        }
        Ok(())
    }
}

/// Compares two files byte for byte. `None` if they are identical; else
/// the offset of the first byte that differs (the shorter file's length if
/// one is a prefix of the other). Reads through read-only maps (block files
/// are immutable, see `fileutil::map_file`), releasing the pages behind the
/// comparison; through two fixed buffers when a file cannot be mapped.
pub fn first_difference(a: &Path, b: &Path) -> io::Result<Option<u64>> {
    if let (Ok(ma), Ok(mb)) = (fileutil::map_file(a), fileutil::map_file(b)) {
        let mut at = 0u64;
        for (pa, pb) in ma.chunks(PIECE * 8).zip(mb.chunks(PIECE * 8)) {
            if pa != pb {
                let i = pa.iter().zip(pb).position(|(x, y)| x != y);
                return Ok(Some(at + i.unwrap_or(pa.len().min(pb.len())) as u64));
            }
            let next = at + pa.len() as u64;
            ma.release(at, next);
            mb.release(at, next);
            at = next;
        }
        return Ok((ma.len() != mb.len()).then_some(at));
    }
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; PIECE], vec![0u8; PIECE]);
    let mut at = 0u64;
    loop {
        let na = read_full(&mut fa, &mut ba)?;
        let nb = read_full(&mut fb, &mut bb)?;
        let (pa, pb) = (
            ba.get(..na).unwrap_or_default(),
            bb.get(..nb).unwrap_or_default(),
        );
        if pa != pb {
            let i = pa.iter().zip(pb).position(|(x, y)| x != y);
            return Ok(Some(at + i.unwrap_or(na.min(nb)) as u64));
        }
        if na == 0 {
            return Ok(None);
        }
        at += na as u64;
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..).filter(|r| !r.is_empty()) {
        match f.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn kernel_copy_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EXDEV | libc::ENOSYS | libc::EOPNOTSUPP | libc::EINVAL | libc::EPERM)
    )
}

/// Hard-links `src` to `dst`. Returns `Ok(false)` when the two are on
/// different filesystems (EXDEV) or the filesystem has no hard links, so the
/// caller can copy instead.
pub fn try_hard_link(src: &Path, dst: &Path) -> io::Result<bool> {
    match std::fs::hard_link(src, dst) {
        Ok(()) => Ok(true),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EXDEV | libc::EPERM | libc::EOPNOTSUPP | libc::EMLINK)
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// fsyncs a directory (its entries).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Renames `from` to `to`, failing with `AlreadyExists` instead of replacing
/// an existing `to` (Linux `renameat2(RENAME_NOREPLACE)`; elsewhere a check
/// then a rename).
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    match fileutil::renameat2_noreplace(from, to) {
        Ok(()) => return Ok(()),
        Err(e)
            if e.kind() == io::ErrorKind::Unsupported
                || matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {}
        Err(e) => return Err(e),
    }
    if to.symlink_metadata().is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", to.display()),
        ));
    }
    std::fs::rename(from, to)
}

/// Bytes available to an unprivileged user on the filesystem holding `path`
/// (or its nearest existing ancestor).
pub fn free_space(path: &Path) -> Option<u64> {
    let mut p = path;
    while !p.exists() {
        p = p.parent()?;
    }
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    fileutil::statvfs_available(p).ok()
}

/// The device of the filesystem holding `path` (or its nearest existing ancestor).
pub fn device_of(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut p = path;
    loop {
        if let Ok(m) = std::fs::metadata(p) {
            return Some(m.dev());
        }
        p = p.parent()?;
    }
}

/// True if another process holds the `flock` on `lockfile` — what a running
/// Prometheus does on `<data>/lock`. Opens the file read-only and releases
/// the probe lock at once; never writes.
pub fn lock_is_held(lockfile: &Path) -> bool {
    let Ok(f) = File::open(lockfile) else {
        return false;
    };
    match fileutil::flock_try_exclusive(&f) {
        Ok(true) => {
            fileutil::flock_unlock(&f);
            false
        }
        Ok(false) => true,
        Err(_) => false,
    }
}

/// Processes (pid, name) holding a file under `dir` open, found through
/// `/proc/<pid>/fd` (Linux; only processes this user may inspect). A running
/// Prometheus always holds its WAL segment and head chunk files open, with or
/// without its optional `lock` file. Empty where `/proc` is not available.
pub fn processes_using(dir: &Path) -> Vec<(u32, String)> {
    let Ok(dir) = dir.canonicalize() else {
        return Vec::new();
    };
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut out = Vec::new();
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let uses = fds
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| target.starts_with(&dir));
        if uses {
            let name = std::fs::read_to_string(p.path().join("comm"))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default();
            out.push((pid, name));
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_and_compare() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let dst = dir.path().join("dst");
        let c = copy_file(&src, &dst, true, &|_| {}).unwrap();
        assert_eq!((c.size, c.compared), (data.len() as u64, false));
        assert_eq!(first_difference(&src, &dst).unwrap(), None);
        // Compared while copying.
        let dst2 = dir.path().join("dst2");
        let c = copy_file(&src, &dst2, false, &|_| {}).unwrap();
        assert_eq!(
            (c.size, c.compared, c.differs_at),
            (data.len() as u64, true, None)
        );
        assert_eq!(std::fs::read(&dst2).unwrap(), data);
        assert_eq!(std::fs::read(&dst).unwrap(), data);
        // Never overwrites.
        assert!(copy_file(&src, &dst, true, &|_| {}).is_err());
        // A flipped byte and a cut file are found where they are.
        let mut other = data.clone();
        other[2_500_001] ^= 4;
        let o = dir.path().join("other");
        std::fs::write(&o, &other).unwrap();
        assert_eq!(first_difference(&src, &o).unwrap(), Some(2_500_001));
        std::fs::write(&o, &data[..1000]).unwrap();
        assert_eq!(first_difference(&src, &o).unwrap(), Some(1000));
        assert_eq!(first_difference(&o, &src).unwrap(), Some(1000));
        // Empty files (not mappable: the buffered path).
        let e = dir.path().join("empty");
        std::fs::write(&e, b"").unwrap();
        let e2 = dir.path().join("empty2");
        assert_eq!(copy_file(&e, &e2, false, &|_| {}).unwrap().size, 0);
        assert_eq!(first_difference(&e, &e2).unwrap(), None);
        assert_eq!(first_difference(&e, &src).unwrap(), Some(0));
    }

    #[test]
    fn copy_reserves_no_space_past_its_end() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        // Not a multiple of the span nor of a block: the reservation made
        // before the first byte must end where the copy does.
        let data: Vec<u8> = (0..(9 << 20) + 1234u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let dst = dir.path().join("dst");
        let c = copy_file(&src, &dst, false, &|_| {}).unwrap();
        assert_eq!((c.size, c.differs_at), (data.len() as u64, None));
        let m = std::fs::metadata(&dst).unwrap();
        assert_eq!(m.len(), data.len() as u64);
        assert_eq!(std::fs::read(&dst).unwrap(), data);
        // Allocated: the file's blocks, no more (an ext4 block is 4 KiB).
        assert!(m.blocks() * 512 <= (data.len() as u64).div_ceil(4096) * 4096 + 4096);
    }

    #[test]
    fn span_compare_finds_the_first_difference() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let data: Vec<u8> = (0..(9 << 20) as u32)
            .map(|i| (i * 13 % 251) as u8)
            .collect();
        std::fs::write(&src, &data).unwrap();
        let dst = dir.path().join("dst");
        // A copy that differs from the source at one byte of its third span.
        let mut other = data.clone();
        let at = (8 << 20) + 12_345;
        other[at] ^= 0x40;
        std::fs::write(&dst, &other).unwrap();
        let span = |start: u64, end: u64| {
            let mut c = FileCopy {
                src_map: fileutil::map_file(&src).ok(),
                from: File::open(&src).unwrap(),
                to: OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&dst)
                    .unwrap(),
                kernel_copy: true,
                buf: Vec::new(),
                back: Vec::new(),
                orig: Vec::new(),
                differs_at: None,
            };
            assert!(c.by_maps());
            c.compare_span(start, end).unwrap();
            c.differs_at
        };
        assert_eq!(span(0, 4 << 20), None);
        assert_eq!(span(4 << 20, 8 << 20), None);
        assert_eq!(span(8 << 20, 9 << 20), Some(at as u64));
        // A span not starting on a page boundary, and the last bytes.
        assert_eq!(span(8 << 20 | 100, (9 << 20) - 1), Some(at as u64));
        assert_eq!(span(at as u64 + 1, 9 << 20), None);
    }

    #[test]
    fn rename_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        let e = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        std::fs::remove_dir(&b).unwrap();
        rename_noreplace(&a, &b).unwrap();
        assert!(b.is_dir() && !a.exists());
    }

    #[test]
    fn lock_probe() {
        let dir = tempfile::tempdir().unwrap();
        let l = dir.path().join("lock");
        assert!(!lock_is_held(&l));
        let f = File::create(&l).unwrap();
        assert!(!lock_is_held(&l));
        assert!(fileutil::flock_try_exclusive(&f).unwrap());
        assert!(lock_is_held(&l));
        assert!(free_space(dir.path()).unwrap() > 0);
    }
}
