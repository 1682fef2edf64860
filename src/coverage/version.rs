//! Prometheus release numbers, as the loss causes need them: which
//! versions have `sample_age_limit` (L5) and which have the WAL watcher
//! stall bug (L10).

use std::fmt;

use serde::Serialize;

/// A Prometheus release number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Version {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

/// A version string that is not `X.Y.Z`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid version {0:?}: expected X.Y.Z, e.g. 2.53.0 (a leading v and a -rc/+build suffix are \
     allowed)"
)]
pub struct VersionError(pub String);

impl Version {
    /// `X.Y.Z`, with an optional leading `v` and `-…` / `+…` suffix
    /// (`v2.53.0`, `2.42.0+ds`, `3.0.0-rc.1`). `X.Y` means `X.Y.0`.
    pub fn parse(s: &str) -> Result<Version, VersionError> {
        let err = || VersionError(s.to_string());
        let t = s.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let core = t.split(['-', '+']).next().unwrap_or("");
        let mut parts = core.split('.');
        let mut num = |required: bool| -> Result<u32, VersionError> {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map_err(|_| err())
                }
                None if !required => Ok(0),
                _ => Err(err()),
            }
        };
        let v = Version {
            major: num(true)?,
            minor: num(true)?,
            patch: num(false)?,
        };
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(v)
    }

    /// Versions whose WAL watcher skips samples after a stall longer than one
    /// segment (prometheus#14087; from v2.51.0, fixed in v2.53.1).
    pub fn has_watcher_bug(self) -> bool {
        (WATCHER_BUG_FIRST..=WATCHER_BUG_LAST).contains(&self)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// First release with the watcher stall bug.
pub const WATCHER_BUG_FIRST: Version = Version {
    major: 2,
    minor: 51,
    patch: 0,
};
/// Last release with it (v2.53.1 reverted the change).
pub const WATCHER_BUG_LAST: Version = Version {
    major: 2,
    minor: 53,
    patch: 0,
};
/// First release with `sample_age_limit`.
pub const SAMPLE_AGE_LIMIT_SINCE: Version = Version {
    major: 2,
    minor: 50,
    patch: 0,
};
