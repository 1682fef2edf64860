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
//!   local verify on each complete block: its objects are fetched with
//!   parallel ranged GETs into a scratch directory of the temporary directory
//!   (one or two blocks at a time, removed right after; never the whole
//!   bucket), and the findings name the objects (`s3://…/chunks/000001`) and
//!   offsets.
//! - [`restore`]: `copy s3://… DIR`. The selected complete blocks are fetched
//!   (ranged GETs, each object's size checked against the listing) into a
//!   staging directory next to the target, then handed to the local
//!   [`crate::copy`] (hard links on the same filesystem): the same plan
//!   (overlaps, retention, conflicts), full verification, atomic
//!   `<ULID>.tmp-for-creation` + fsync + rename. The staging directory is
//!   removed at the end.
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
//! "before" and "after" each object's upload, `meta.json` included. Not an
//! interface.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjPath;
use object_store::{
    Attribute, AttributeValue, Attributes, BackoffConfig, ClientOptions, GetOptions, GetRange,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, RetryConfig, WriteMultipart,
};

use crate::error::{Error, Result};
use crate::format::meta::is_valid_ulid;

mod remote;
mod upload;

pub use remote::{RestoreOptions, restore, verify};
pub use upload::{UploadOptions, upload};

/// The user-metadata key under which an uploaded object's CRC32C is kept.
pub const CRC_METADATA: &str = "promsnap-crc32c";

/// Size of a multipart part and of a ranged GET.
pub const PART_SIZE: usize = 8 << 20;

/// `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix, without leading or trailing `/` (may be empty).
    pub prefix: String,
}

impl S3Url {
    /// True if `s` names object storage (`s3://…`).
    pub fn is_s3(s: &str) -> bool {
        s.starts_with("s3://")
    }

    /// Parses `s3://BUCKET[/PREFIX]`.
    pub fn parse(s: &str) -> Result<S3Url> {
        let bad = |why: &str| {
            Error::Usage(format!(
                "{s}: not an object storage URL ({why}); expected s3://BUCKET[/PREFIX]"
            ))
        };
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| bad("no s3:// scheme"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty()
            || !bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(bad(
                "the bucket name must be lowercase letters, digits, '-' and '.'",
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix
            .split('/')
            .any(|seg| (seg.is_empty() && !prefix.is_empty()) || seg == "." || seg == "..")
        {
            return Err(bad("empty, '.' or '..' segments in the prefix"));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The object key of `rel` (relative to the prefix).
    pub fn key(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else if rel.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    /// `s3://BUCKET/PREFIX/rel`, for messages and reports.
    pub fn show(&self, rel: &str) -> String {
        let k = self.key(rel);
        if k.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{k}", self.bucket)
        }
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.show(""))
    }
}

/// How to reach the object store.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Endpoint of an S3-compatible server (`http://127.0.0.1:8333`); path-style
    /// addressing. `None`: `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, or AWS.
    pub endpoint: Option<String>,
    /// Region (`None`: the environment, the profile, else `us-east-1`).
    pub region: Option<String>,
    /// Profile of `~/.aws/credentials` and `~/.aws/config` (`None`: `AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
    /// Unsigned requests even when credentials are found.
    pub anonymous: bool,
    /// Requests in flight (0: 16).
    pub concurrency: usize,
}

/// One object under the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Key relative to the prefix (`<ULID>/chunks/000001`).
    pub rel: String,
    /// Size in bytes.
    pub size: u64,
}

/// A block directory in the bucket, as listed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RemoteBlock {
    /// ULID (the key's first component).
    pub ulid: String,
    /// Objects of the block, keys relative to the block (`index`, `chunks/000001` …), sorted.
    pub objects: Vec<(String, u64)>,
    /// `meta.json` is there: the block is complete (uploaders write it last).
    pub complete: bool,
    /// `deletion-mark.json` is there.
    pub deletion_mark: bool,
    /// `no-compact-mark.json` is there.
    pub no_compact_mark: bool,
}

impl RemoteBlock {
    /// Bytes of the block's objects.
    pub fn bytes(&self) -> u64 {
        self.objects.iter().map(|(_, s)| s).sum()
    }

    /// Size of one object, if listed.
    pub fn size_of(&self, rel: &str) -> Option<u64> {
        self.objects.iter().find(|(r, _)| r == rel).map(|(_, s)| *s)
    }
}

/// A bucket prefix, opened.
#[derive(Debug)]
pub struct Bucket {
    rt: tokio::runtime::Runtime,
    store: Arc<dyn ObjectStore>,
    url: S3Url,
    concurrency: usize,
}

/// `[section]` → key → value of an AWS shared config/credentials file.
fn read_ini(path: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.trim().to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            out.entry(section.clone())
                .or_default()
                .insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

impl Bucket {
    /// Opens `url` (no request is made yet).
    pub fn open(url: &S3Url, opts: &StoreOptions) -> Result<Bucket> {
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&url.bucket);
        let home = env("HOME").map(PathBuf::from).unwrap_or_default();
        let profile = opts
            .profile
            .clone()
            .or_else(|| env("AWS_PROFILE"))
            .unwrap_or_else(|| "default".into());
        let creds = read_ini(
            &env("AWS_SHARED_CREDENTIALS_FILE")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".aws/credentials")),
        );
        let config = read_ini(
            &env("AWS_CONFIG_FILE")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".aws/config")),
        );
        let conf_section = if profile == "default" {
            "default".to_string()
        } else {
            format!("profile {profile}")
        };
        let pc = creds.get(&profile);
        let pf = config.get(&conf_section);
        let get = |k: &str| {
            pc.and_then(|m| m.get(k))
                .or_else(|| pf.and_then(|m| m.get(k)))
                .cloned()
        };
        let mut signed = [
            "AWS_ACCESS_KEY_ID",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ]
        .iter()
        .any(|k| env(k).is_some());
        if !signed
            && let (Some(id), Some(secret)) =
                (get("aws_access_key_id"), get("aws_secret_access_key"))
        {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
            if let Some(t) = get("aws_session_token") {
                b = b.with_token(t);
            }
            signed = true;
        }
        if opts.profile.is_some() && !signed {
            return Err(Error::Usage(format!(
                "--profile {profile}: no aws_access_key_id/aws_secret_access_key for it in the AWS credentials or config file"
            )));
        }
        // Without credentials the requests go unsigned (public buckets,
        // test servers); never to the EC2 instance metadata service.
        if !signed || opts.anonymous {
            b = b.with_skip_signature(true);
        }
        let region = opts
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| get("region"))
            .unwrap_or_else(|| "us-east-1".into());
        b = b.with_region(region);
        let endpoint = opts
            .endpoint
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL_S3"))
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| get("endpoint_url"));
        let mut allow_http = false;
        if let Some(e) = endpoint {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(Error::Usage(format!(
                    "--endpoint {e}: expected http://HOST:PORT or https://HOST[:PORT]"
                )));
            }
            allow_http = e.starts_with("http://");
            b = b
                .with_endpoint(e.trim_end_matches('/'))
                .with_virtual_hosted_style_request(false);
        }
        let concurrency = if opts.concurrency == 0 {
            16
        } else {
            opts.concurrency
        };
        b = b
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(15),
                    base: 2.0,
                },
                max_retries: 10,
                retry_timeout: Duration::from_secs(180),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(allow_http)
                    .with_connect_timeout(Duration::from_secs(10))
                    .with_timeout(Duration::from_secs(120))
                    .with_pool_max_idle_per_host(concurrency),
            );
        let store = b
            .build()
            .map_err(|e| Error::Usage(format!("{url}: cannot configure the S3 client: {e}")))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::io(url.show(""), e))?;
        Ok(Bucket {
            rt,
            store: Arc::new(store),
            url: url.clone(),
            concurrency,
        })
    }

    /// The URL this bucket prefix was opened with.
    pub fn url(&self) -> &S3Url {
        &self.url
    }

    fn path(&self, rel: &str) -> ObjPath {
        ObjPath::from(self.url.key(rel))
    }

    /// An error naming the object; object_store's message carries the HTTP
    /// status and the server's answer.
    fn err(&self, rel: &str, what: &str, e: impl std::fmt::Display) -> Error {
        Error::io(
            self.url.show(rel),
            std::io::Error::other(format!("{what}: {e}")),
        )
    }

    /// Every object under the prefix (one paginated listing).
    pub fn list(&self) -> Result<Vec<Object>> {
        let prefix = (!self.url.prefix.is_empty()).then(|| ObjPath::from(self.url.prefix.as_str()));
        let strip = if self.url.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.url.prefix)
        };
        self.rt.block_on(async {
            let mut s = self.store.list(prefix.as_ref());
            let mut out = Vec::new();
            while let Some(m) = s.next().await {
                let m = m.map_err(|e| self.err("", "list", e))?;
                let k = m.location.to_string();
                let rel = k.strip_prefix(&strip).unwrap_or(&k).to_string();
                out.push(Object { rel, size: m.size });
            }
            out.sort_by(|a, b| a.rel.cmp(&b.rel));
            Ok(out)
        })
    }

    /// The blocks under the prefix, and the keys that belong to none
    /// (relative to the prefix).
    pub fn blocks(&self) -> Result<(Vec<RemoteBlock>, Vec<String>)> {
        let mut blocks: BTreeMap<String, RemoteBlock> = BTreeMap::new();
        let mut stray = Vec::new();
        for o in self.list()? {
            match o.rel.split_once('/') {
                Some((u, rest)) if is_valid_ulid(u) => {
                    let b = blocks.entry(u.to_string()).or_insert_with(|| RemoteBlock {
                        ulid: u.to_string(),
                        ..RemoteBlock::default()
                    });
                    match rest {
                        "meta.json" => b.complete = true,
                        "deletion-mark.json" => b.deletion_mark = true,
                        "no-compact-mark.json" => b.no_compact_mark = true,
                        _ => {}
                    }
                    b.objects.push((rest.to_string(), o.size));
                }
                _ => stray.push(o.rel),
            }
        }
        Ok((blocks.into_values().collect(), stray))
    }

    /// The whole object, `None` if it does not exist.
    pub fn get_opt(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let p = self.path(rel);
        self.rt.block_on(async {
            match self.store.get(&p).await {
                Ok(r) => r
                    .bytes()
                    .await
                    .map(|b| Some(b.to_vec()))
                    .map_err(|e| self.err(rel, "GET", e)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.err(rel, "GET", e)),
            }
        })
    }

    /// Size and recorded CRC32C of an object (`None` if it does not exist).
    fn head(&self, rel: &str) -> Result<Option<(u64, Option<u32>)>> {
        let p = self.path(rel);
        self.rt.block_on(async {
            let opts = GetOptions {
                head: true,
                ..GetOptions::default()
            };
            match self.store.get_opts(&p, opts).await {
                Ok(r) => {
                    let crc = r
                        .attributes
                        .get(&Attribute::Metadata(CRC_METADATA.into()))
                        .and_then(|v| u32::from_str_radix(v.as_ref(), 16).ok());
                    Ok(Some((r.meta.size, crc)))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.err(rel, "HEAD", e)),
            }
        })
    }

    /// Uploads `bytes` as `rel` in one PUT, with its CRC32C in the metadata.
    fn put_small(&self, rel: &str, bytes: Vec<u8>) -> Result<(u64, u32)> {
        let crc = crc32c::crc32c(&bytes);
        let n = bytes.len() as u64;
        let p = self.path(rel);
        let opts = PutOptions {
            attributes: crc_attributes(crc),
            ..PutOptions::default()
        };
        self.rt
            .block_on(self.store.put_opts(&p, PutPayload::from(bytes), opts))
            .map_err(|e| self.err(rel, "PUT", e))?;
        Ok((n, crc))
    }

    /// Streams the local file `src` up as `rel` (multipart when larger than
    /// one part: parts read one at a time, a few in flight): size and
    /// CRC32C of the bytes sent.
    fn put_file(&self, rel: &str, src: &Path, size: u64) -> Result<(u64, u32)> {
        use std::io::Read;
        let mut f = std::fs::File::open(src).map_err(|e| Error::io(src, e))?;
        if size <= PART_SIZE as u64 {
            let mut buf = Vec::with_capacity(size as usize);
            f.read_to_end(&mut buf).map_err(|e| Error::io(src, e))?;
            return self.put_small(rel, buf);
        }
        // The CRC is known only at the end; multipart uploads carry the
        // metadata from the start, so the CRC of the source file is computed
        // first (the page cache keeps the second read cheap) and the CRC of
        // what was actually sent is compared with it at the end.
        let expect = file_crc(src)?;
        let p = self.path(rel);
        let _guard = self.rt.enter();
        let opts = PutMultipartOptions {
            attributes: crc_attributes(expect.1),
            ..PutMultipartOptions::default()
        };
        let up = self
            .rt
            .block_on(self.store.put_multipart_opts(&p, opts))
            .map_err(|e| self.err(rel, "multipart upload start", e))?;
        let mut w = WriteMultipart::new_with_chunk_size(up, PART_SIZE);
        let mut crc = 0u32;
        let mut sent = 0u64;
        let mut buf = vec![0u8; PART_SIZE];
        loop {
            let mut got = 0;
            while got < buf.len() {
                let n = f.read(&mut buf[got..]).map_err(|e| Error::io(src, e))?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            if got == 0 {
                break;
            }
            crc = crc32c::crc32c_append(crc, &buf[..got]);
            sent += got as u64;
            if let Err(e) = self.rt.block_on(w.wait_for_capacity(4)) {
                return Err(self.err(rel, "multipart upload", e));
            }
            w.write(&buf[..got]);
        }
        self.rt
            .block_on(w.finish())
            .map_err(|e| self.err(rel, "multipart upload", e))?;
        if (sent, crc) != expect {
            return Err(self.err(
                rel,
                "upload",
                format!(
                    "the source changed while it was read: {sent} bytes with CRC32C {crc:08x} sent, {} bytes with CRC32C {:08x} before",
                    expect.0, expect.1
                ),
            ));
        }
        Ok((sent, crc))
    }

    /// Reads the object back whole (in parallel ranged GETs): size and CRC32C.
    fn read_back(&self, rel: &str, size: u64) -> Result<(u64, u32)> {
        let mut crc = 0u32;
        let mut n = 0u64;
        self.get_ranges(rel, size, |_, bytes| {
            crc = crc32c::crc32c_append(crc, bytes);
            n += bytes.len() as u64;
            Ok(())
        })?;
        Ok((n, crc))
    }

    /// Fetches `[0, size)` of the object in [`PART_SIZE`] ranged GETs, a few
    /// in flight, handing each piece in order to `sink(offset, bytes)`.
    /// Memory: the pieces in flight.
    fn get_ranges(
        &self,
        rel: &str,
        size: u64,
        mut sink: impl FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let p = self.path(rel);
        if size == 0 {
            let b = self
                .rt
                .block_on(async { self.store.get(&p).await?.bytes().await })
                .map_err(|e| self.err(rel, "GET", e))?;
            if !b.is_empty() {
                return Err(self.err(rel, "GET", format!("{} bytes, the listing said 0", b.len())));
            }
            return Ok(());
        }
        let ranges: Vec<(u64, u64)> = (0..size)
            .step_by(PART_SIZE)
            .map(|a| (a, (a + PART_SIZE as u64).min(size)))
            .collect();
        self.rt.block_on(async {
            let mut s = futures::stream::iter(ranges.into_iter().map(|(a, z)| {
                let p = p.clone();
                let store = Arc::clone(&self.store);
                async move {
                    let opts = GetOptions {
                        range: Some(GetRange::Bounded(a..z)),
                        ..GetOptions::default()
                    };
                    let r = store.get_opts(&p, opts).await?;
                    let b = r.bytes().await?;
                    Ok::<_, object_store::Error>((a, z, b))
                }
            }))
            .buffered(4);
            while let Some(r) = s.next().await {
                let (a, z, b) = r.map_err(|e| self.err(rel, "GET", e))?;
                if b.len() as u64 != z - a {
                    return Err(self.err(
                        rel,
                        "GET",
                        format!("range {a}..{z}: {} bytes received, {} expected (the object changed or is shorter than listed)", b.len(), z - a),
                    ));
                }
                sink(a, &b)?;
            }
            Ok(())
        })
    }

    /// Downloads the object into the local file `dst` (created), checking
    /// its size: ranged GETs in parallel, streamed to the file, fsynced.
    fn download(&self, rel: &str, size: u64, dst: &Path) -> Result<()> {
        use std::io::Write;
        if let Some(d) = dst.parent() {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        let mut f = std::fs::File::create(dst).map_err(|e| Error::io(dst, e))?;
        self.get_ranges(rel, size, |_, b| {
            f.write_all(b).map_err(|e| Error::io(dst, e))
        })?;
        f.sync_all().map_err(|e| Error::io(dst, e))
    }

    /// Requests in flight this bucket was opened for.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }
}

/// `ls s3://…`: the blocks under the prefix as `promsnap ls` lists a
/// directory (the `meta.json` objects fetched in parallel; sizes from the
/// listing). A partial upload (no `meta.json`) or an unreadable `meta.json`
/// is an entry with an error. Also returns the listed blocks (objects, marks).
pub fn listing(bucket: &Bucket) -> Result<(crate::list::Listing, Vec<RemoteBlock>)> {
    use crate::list::{BlockEntry, Listing, infer_block_range};
    use rayon::prelude::*;
    let (blocks, _) = bucket.blocks()?;
    let mut entries: Vec<BlockEntry> = blocks
        .par_iter()
        .map(|b| {
            let size = b
                .objects
                .iter()
                .filter(|(r, _)| {
                    r == "index"
                        || r == "tombstones"
                        || r == "meta.json"
                        || r.starts_with("chunks/")
                })
                .map(|(_, s)| s)
                .sum();
            let meta = if b.complete {
                bucket
                    .get_opt(&format!("{}/meta.json", b.ulid))
                    .and_then(|raw| {
                        let raw = raw.unwrap_or_default();
                        crate::format::meta::BlockMeta::parse(&raw).map_err(|e| {
                            Error::decode(bucket.url().show(&format!("{}/meta.json", b.ulid)), e)
                        })
                    })
            } else {
                Err(Error::Usage(format!(
                    "partial upload: no meta.json ({} object(s)); Thanos and Mimir ignore it",
                    b.objects.len()
                )))
            };
            let missing = (!b.objects.iter().any(|(r, _)| r == "index")
                || !b.objects.iter().any(|(r, _)| r.starts_with("chunks/")))
            .then(|| "index or chunks/ missing: Prometheus cannot open the block".to_string());
            let dir = PathBuf::from(bucket.url().show(&b.ulid));
            match meta {
                Ok(m) => BlockEntry {
                    dir,
                    ulid: m.ulid.clone(),
                    min_time: Some(m.min_time),
                    max_time: Some(m.max_time),
                    num_samples: Some(m.stats.num_samples),
                    num_chunks: Some(m.stats.num_chunks),
                    num_series: Some(m.stats.num_series),
                    size,
                    level: Some(m.compaction.level),
                    snapshot_head: false,
                    error: missing,
                    meta: Some(m),
                },
                Err(e) => BlockEntry {
                    dir,
                    ulid: b.ulid.clone(),
                    meta: None,
                    min_time: None,
                    max_time: None,
                    num_samples: None,
                    num_chunks: None,
                    num_series: None,
                    size,
                    level: None,
                    snapshot_head: false,
                    error: Some(e.to_string()),
                },
            }
        })
        .collect();
    entries.sort_by(|a, b| match (a.min_time, b.min_time) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.ulid.cmp(&b.ulid)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.ulid.cmp(&b.ulid),
    });
    let metas: Vec<&crate::format::meta::BlockMeta> =
        entries.iter().filter_map(|b| b.meta.as_ref()).collect();
    let block_range = infer_block_range(&metas);
    Ok((
        Listing {
            path: PathBuf::from(bucket.url().show("")),
            kind: crate::layout::DirKind::Data,
            snapshot_time: None,
            block_range,
            blocks: entries,
        },
        blocks,
    ))
}

fn crc_attributes(crc: u32) -> Attributes {
    let mut a = Attributes::new();
    a.insert(
        Attribute::Metadata(CRC_METADATA.into()),
        AttributeValue::from(format!("{crc:08x}")),
    );
    a
}

/// Size and CRC32C of a local file, read in pieces.
fn file_crc(p: &Path) -> Result<(u64, u32)> {
    use std::io::Read;
    let mut f = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut n, mut crc) = (0u64, 0u32);
    loop {
        let k = f.read(&mut buf).map_err(|e| Error::io(p, e))?;
        if k == 0 {
            return Ok((n, crc));
        }
        crc = crc32c::crc32c_append(crc, &buf[..k]);
        n += k as u64;
    }
}

/// Test hook (see the module docs).
#[cfg(feature = "failpoints")]
fn exit_point() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let Some(at) = std::env::var("PROMSNAP_TEST_S3_EXIT_AT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    if N.fetch_add(1, Ordering::SeqCst) + 1 == at {
        eprintln!("promsnap: test exit at upload point {at}");
        // SAFETY: ends the process at once, as a SIGKILL would.
        unsafe { libc::_exit(137) };
    }
}

#[cfg(not(feature = "failpoints"))]
fn exit_point() {}

#[cfg(test)]
mod tests {
    use super::S3Url;

    #[test]
    fn urls() {
        let u = S3Url::parse("s3://bkt/a/b/").unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("bkt", "a/b"));
        assert_eq!(u.key("X/meta.json"), "a/b/X/meta.json");
        assert_eq!(u.show("X"), "s3://bkt/a/b/X");
        let u = S3Url::parse("s3://bkt").unwrap();
        assert_eq!(u.key("X/index"), "X/index");
        assert_eq!(u.to_string(), "s3://bkt");
        for bad in [
            "s3://",
            "s3:///x",
            "s3://Bkt/x",
            "s3://b/../x",
            "s3://b/a//c",
            "/tmp/x",
        ] {
            assert!(S3Url::parse(bad).is_err(), "{bad}");
        }
    }
}
