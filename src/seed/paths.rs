//! Paths compared before anything is written: the replica's directory may
//! be neither inside the primary's data directory nor contain it.

use std::path::{Component, Path, PathBuf};

/// The nearest existing ancestor canonicalized, plus the rest as given.
pub(super) fn absolute(p: &Path) -> PathBuf {
    crate::fileutil::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// `p` with `.` and `..` resolved as text.
pub(super) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        let d = absolute(Path::new("/nonexistent-promsnap/x/y"));
        assert_eq!(d, PathBuf::from("/nonexistent-promsnap/x/y"));
    }
}
