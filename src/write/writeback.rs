//! Output files whose writeback starts while they are written: every
//! [`STEP`] bytes written, the kernel is asked to start writing that range
//! to the device (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, which does not
//! wait for it), so that the `fsync` at the end finds little left to write
//! instead of the whole file. The bytes and the `fsync` are unchanged; only
//! when the device does the work moves. Elsewhere than on Linux it is a
//! plain file.

use std::fs::File;
use std::io::{self, Write};

/// Bytes written between two writeback requests.
const STEP: u64 = 8 << 20;

/// A file written from the start, its writeback started every [`STEP`]
/// bytes.
pub(super) struct Writeback {
    f: File,
    pos: u64,
    started: u64,
}

impl Writeback {
    pub(super) fn new(f: File) -> Writeback {
        Writeback {
            f,
            pos: 0,
            started: 0,
        }
    }

    /// The file (everything written handed to the kernel).
    pub(super) fn into_file(self) -> File {
        self.f
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.f.write(buf)?;
        self.pos += n as u64;
        if self.pos - self.started >= STEP {
            start_writeback(&self.f, self.started, self.pos - self.started);
            self.started = self.pos;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.f.flush()
    }
}

/// Starts the writeback of `len` bytes of `f` from `off`; advisory (the
/// `fsync` that follows is what makes them durable), errors ignored.
#[cfg(target_os = "linux")]
fn start_writeback(f: &File, off: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(off), Ok(len)) = (libc::off64_t::try_from(off), libc::off64_t::try_from(len)) else {
        return;
    };
    // SAFETY: a descriptor we own, borrowed for the call; the kernel reads
    // or writes no memory of ours.
    unsafe {
        libc::sync_file_range(f.as_raw_fd(), off, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &File, _: u64, _: u64) {}
