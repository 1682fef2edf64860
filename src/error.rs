//! Errors at the file boundary: a decode error or an I/O error, with the path.

use std::io;
use std::path::{Path, PathBuf};

use crate::format::DecodeError;

/// An error tied to one file or directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a read, write, open or listing.
    #[error("{}: {cause}", path.display())]
    Io {
        /// File or directory.
        path: PathBuf,
        /// The OS error (in the message, so not also a `source()`: printed
        /// once).
        cause: io::Error,
    },
    /// The bytes of a file are not what the format requires.
    #[error("{}: {cause}", path.display())]
    Decode {
        /// File.
        path: PathBuf,
        /// What is wrong, and at which offset (in the message, not also a
        /// `source()`).
        cause: DecodeError,
    },
    /// A path or argument that cannot be used as given.
    #[error("{0}")]
    Usage(String),
    /// An option's value that cannot be used as given. The message names
    /// the option by its meaning; a front end that spells options its own
    /// way (a command-line flag) finds which one by `option`.
    #[error("{message}")]
    BadOption {
        /// The option, as the snake_case name of its field in the options
        /// struct (`observed_at`, `master_restarts`, `external_labels`).
        option: &'static str,
        /// What is wrong with the value.
        message: String,
    },
}

impl Error {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl AsRef<Path>, source: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            cause: source,
        }
    }

    /// An option's value that cannot be used as given.
    pub fn bad_option(option: &'static str, message: impl Into<String>) -> Self {
        Error::BadOption {
            option,
            message: message.into(),
        }
    }

    /// Wraps a decode error with its path.
    pub fn decode(path: impl AsRef<Path>, source: DecodeError) -> Self {
        Error::Decode {
            path: path.as_ref().to_path_buf(),
            cause: source,
        }
    }

    /// The message without the path: what went wrong.
    pub fn cause_message(&self) -> String {
        match self {
            Error::Io { cause, .. } => cause.to_string(),
            Error::Decode { cause, .. } => cause.to_string(),
            Error::Usage(m) => m.clone(),
            Error::BadOption { message, .. } => message.clone(),
        }
    }

    /// The path the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::Io { path, .. } | Error::Decode { path, .. } => Some(path),
            Error::Usage(_) | Error::BadOption { .. } => None,
        }
    }
}

/// Result alias of the file layer.
pub type Result<T> = std::result::Result<T, Error>;
