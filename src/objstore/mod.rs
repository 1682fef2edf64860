//! Blocks in object storage: S3 and S3-compatible servers (MinIO, SeaweedFS,
//! Ceph RGW, R2 …), in the bucket layout Thanos, Mimir and Cortex read:
//!
//! ```text
//! s3://BUCKET/PREFIX/<ULID>/meta.json          written last: a block is complete once it is there
//! s3://BUCKET/PREFIX/<ULID>/index
//! s3://BUCKET/PREFIX/<ULID>/chunks/000001 …
//! s3://BUCKET/PREFIX/<ULID>/tombstones         (when the block has one)
//! s3://BUCKET/PREFIX/<ULID>/deletion-mark.json (Thanos/Mimir: the compactor deletes the block after a delay)
//! s3://BUCKET/PREFIX/<ULID>/no-compact-mark.json
//! ```
//!
//! The API is synchronous: a [`Bucket`] owns a small tokio runtime and the
//! `object_store` crate's S3 client; callers never see async code.
//!
//! - [`upload`]: `copy DIR s3://…`. Each source block is verified
//!   ([`crate::check::verify_block`]); its files are streamed up (multipart
//!   in 8 MiB parts for large files, several parts and files in flight),
//!   each object's size and CRC32C (Castagnoli) of the bytes sent recorded in
//!   the object's user metadata (`x-amz-meta-promsnap-crc32c`); every object
//!   is read back and its size and CRC compared with what was sent; only then
//!   does `meta.json` go up (with the `thanos` section: external labels,
//!   `source`, `files`), and it is read back too. A run killed at any point
//!   leaves blocks without `meta.json` (partial uploads, which Thanos and
//!   Mimir ignore) and complete blocks; a re-run skips objects already up with
//!   the same size and CRC and finishes. A block whose `meta.json` is in the
//!   bucket is never written again: skipped when every object matches the
//!   source, refused (`ulid_conflict`) otherwise. The source is only read.
//! - [`verify`]: `verify s3://…`. Lists the prefix once, reports partial
//!   uploads, deletion and no-compact marks, and runs every check of the
//!   local verify on each complete block where it lies
//!   ([`crate::check::block::verify_block_in`]): `meta.json` and
//!   `tombstones` read whole, the index read into memory with parallel
//!   ranged GETs, chunk segments read in aligned blocks by ranged GETs and
//!   kept for the next reads (the pieces of chunk metas checked on more
//!   threads than cores so that the waits overlap the decoding). Nothing
//!   goes to disk; memory is one block's index plus the blocks kept. The
//!   findings name
//!   the objects (`s3://…/chunks/000001`) and offsets.
//! - [`restore`]: `copy s3://… DIR`. The selected complete blocks are fetched
//!   (ranged GETs, each object's size checked against the listing) into a
//!   staging directory next to the target, then handed to the local
//!   [`crate::copy`] (hard links on the same filesystem): the same plan
//!   (overlaps, retention, conflicts), full verification, atomic
//!   `<ULID>.tmp-for-creation` + fsync + rename. The staging directory is
//!   removed at the end.
//! - [`transfer`]: `copy s3://… s3://…`, bucket to bucket: each block
//!   verified where it lies, its objects copied on the server (one bucket)
//!   or streamed through, each read back, `meta.json` last.
//! - [`Bucket::blocks`]: `ls s3://…`.
//!
//! Credentials and region are found the way AWS tools find them: the
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`,
//! and the web-identity and container variables), else the profile
//! `AWS_PROFILE` (or `default`) of `~/.aws/credentials` and `~/.aws/config`
//! (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`); with none of them the
//! requests are anonymous (unsigned). An explicit endpoint
//! ([`StoreOptions::endpoint`]) selects path-style addressing
//! (`http://host:port/BUCKET/KEY`). Requests are retried with exponential
//! backoff on 5xx answers, connection errors and timeouts (up to 10 times,
//! 3 minutes in all); errors name the object and carry the HTTP status.
//!
//! # Test hooks
//!
//! Only in builds with the cargo feature `failpoints`:
//! `PROMSNAP_TEST_S3_EXIT_AT=N` ends the process (exit status 137, as a
//! SIGKILL would) at the N-th upload point (1-based), the points being
//! "before" and "after" each object's upload (or copy, bucket to bucket),
//! `meta.json` included. Not an interface.
//!
//! # Modules
//!
//! Parsing and encoding, without the network (built with or without the
//! cargo feature `s3`, and fuzzed): [`S3Url`] (`url`), the AWS shared
//! config and credentials files ([`Profile`], `awsconfig`), the Thanos
//! `meta.json` ([`thanos_meta`], `thanos`). With the feature `s3`: the
//! client ([`Bucket`], `bucket`), `ls` (`listing`), uploads (`upload`),
//! `verify` (`verify`), restores (`restore`) and
//! bucket-to-bucket copies (`transfer`).

mod awsconfig;
mod thanos;
mod url;

pub use awsconfig::{Ini, Profile, parse_ini};
pub use thanos::{THANOS_SOURCE, thanos_meta, valid_label_name};
pub use url::S3Url;

#[cfg(feature = "s3")]
mod bucket;
#[cfg(feature = "s3")]
mod listing;
#[cfg(feature = "s3")]
mod restore;
#[cfg(feature = "s3")]
mod transfer;
#[cfg(feature = "s3")]
mod upload;
#[cfg(feature = "s3")]
mod verify;

#[cfg(feature = "s3")]
pub use bucket::{Bucket, Object, RemoteBlock, StoreOptions};
#[cfg(feature = "s3")]
pub use listing::listing;
#[cfg(feature = "s3")]
pub use restore::{RestoreOptions, restore};
#[cfg(feature = "s3")]
pub use transfer::transfer;
#[cfg(feature = "s3")]
pub use upload::{UploadOptions, upload};
#[cfg(feature = "s3")]
pub use verify::verify;

/// The user-metadata key under which an uploaded object's CRC32C is kept.
pub const CRC_METADATA: &str = "promsnap-crc32c";

/// Size of a multipart part and of a ranged GET.
pub const PART_SIZE: usize = 8 << 20;
