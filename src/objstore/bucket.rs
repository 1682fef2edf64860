//! The S3 client: a bucket prefix opened with the AWS ecosystem's
//! credentials and endpoint rules, and the requests the commands make
//! (listing, ranged GETs, single and multipart PUTs, HEAD).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjPath;
use object_store::{
    Attribute, AttributeValue, Attributes, BackoffConfig, ClientOptions, GetOptions, GetRange,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, RetryConfig, WriteMultipart,
};

use super::awsconfig::{Profile, env};
use super::{CRC_METADATA, PART_SIZE, S3Url};

/// A ranged GET of an object read whole into memory (an index): two
/// upload parts.
const WHOLE_PART: usize = 2 * PART_SIZE;
use crate::error::{Error, Result};
use crate::format::meta::is_valid_ulid;

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

/// Objects of a block that are not TSDB files (Thanos/Mimir markers).
pub fn is_marker(rel: &str) -> bool {
    matches!(rel, "deletion-mark.json" | "no-compact-mark.json")
}

/// A bucket prefix, opened.
#[derive(Debug)]
pub struct Bucket {
    rt: tokio::runtime::Runtime,
    store: Arc<dyn ObjectStore>,
    url: S3Url,
    concurrency: usize,
}

/// The builder with the credentials of the environment or the AWS
/// profile; unsigned requests when there are none (or `anonymous`).
fn with_credentials(
    mut b: AmazonS3Builder,
    opts: &StoreOptions,
    prof: &Profile,
) -> Result<AmazonS3Builder> {
    let profile = prof.name.clone();
    let get = |k: &str| prof.get(k);
    let mut signed = [
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|k| env(k).is_some());
    if !signed
        && let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key"))
    {
        b = b.with_access_key_id(id).with_secret_access_key(secret);
        if let Some(t) = get("aws_session_token") {
            b = b.with_token(t);
        }
        signed = true;
    }
    if opts.profile.is_some() && !signed {
        return Err(Error::bad_option(
            "profile",
            format!(
                "AWS profile {profile}: no aws_access_key_id/aws_secret_access_key for it in the \
                 AWS credentials or \
                 config file"
            ),
        ));
    }
    // Without credentials the requests go unsigned (public buckets,
    // test servers); never to the EC2 instance metadata service.
    if !signed || opts.anonymous {
        b = b.with_skip_signature(true);
    }
    Ok(b)
}

/// The builder with the endpoint of the options, the environment or the
/// profile (path-style requests), and whether it is plain http.
fn with_endpoint(
    mut b: AmazonS3Builder,
    opts: &StoreOptions,
    prof: &Profile,
) -> Result<(AmazonS3Builder, bool)> {
    let get = |k: &str| prof.get(k);
    let endpoint = opts
        .endpoint
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| get("endpoint_url"));
    let mut allow_http = false;
    if let Some(e) = endpoint {
        if !(e.starts_with("http://") || e.starts_with("https://")) {
            return Err(Error::bad_option(
                "endpoint",
                format!("endpoint {e}: expected http://HOST:PORT or https://HOST[:PORT]"),
            ));
        }
        allow_http = e.starts_with("http://");
        b = b
            .with_endpoint(e.trim_end_matches('/'))
            .with_virtual_hosted_style_request(false);
    }
    Ok((b, allow_http))
}

impl Bucket {
    /// Opens `url` (no request is made yet).
    pub fn open(url: &S3Url, opts: &StoreOptions) -> Result<Bucket> {
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&url.bucket);
        let prof = Profile::load(opts.profile.as_deref());
        b = with_credentials(b, opts, &prof)?;
        let get = |k: &str| prof.get(k);
        let region = opts
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| get("region"))
            .unwrap_or_else(|| "us-east-1".into());
        b = b.with_region(region);
        let (mut b, allow_http) = with_endpoint(b, opts, &prof)?;
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

    pub(super) fn path(&self, rel: &str) -> ObjPath {
        ObjPath::from(self.url.key(rel))
    }

    /// An error naming the object; object_store's message carries the HTTP
    /// status and the server's answer.
    pub(super) fn err(&self, rel: &str, what: &str, e: impl std::fmt::Display) -> Error {
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
    pub(super) fn head(&self, rel: &str) -> Result<Option<(u64, Option<u32>)>> {
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
    pub(super) fn put_small(&self, rel: &str, bytes: Vec<u8>) -> Result<(u64, u32)> {
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
    pub(super) fn put_file(&self, rel: &str, src: &Path, size: u64) -> Result<(u64, u32)> {
        use std::io::Read;
        let mut f = crate::fileutil::open_input(src).map_err(|e| Error::io(src, e))?;
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
                    concat!(
                        "the source changed while it was read: {sent} bytes with CRC32C ",
                        "{crc:08x} sent, {} bytes with CRC32C {:08x} before"
                    ),
                    expect.0,
                    expect.1,
                    sent = sent,
                    crc = crc
                ),
            ));
        }
        Ok((sent, crc))
    }

    /// Streams an object of `size` bytes up as `rel`, its pieces given in
    /// order by `next(start, end)` (multipart when larger than one part,
    /// a few parts in flight), `crc` recorded as its CRC32C: size and
    /// CRC32C of what was sent.
    pub(super) fn put_pieces(
        &self,
        rel: &str,
        size: u64,
        crc: u32,
        mut next: impl FnMut(u64, u64) -> Result<bytes::Bytes>,
    ) -> Result<(u64, u32)> {
        if size <= PART_SIZE as u64 {
            return self.put_small(rel, next(0, size)?.to_vec());
        }
        let p = self.path(rel);
        let _guard = self.rt.enter();
        let opts = PutMultipartOptions {
            attributes: crc_attributes(crc),
            ..PutMultipartOptions::default()
        };
        let up = self
            .rt
            .block_on(self.store.put_multipart_opts(&p, opts))
            .map_err(|e| self.err(rel, "multipart upload start", e))?;
        let mut w = WriteMultipart::new_with_chunk_size(up, PART_SIZE);
        let (mut sent, mut got) = (0u64, 0u32);
        while sent < size {
            let b = next(sent, (sent + PART_SIZE as u64).min(size))?;
            if b.is_empty() {
                break;
            }
            got = crc32c::crc32c_append(got, &b);
            sent += b.len() as u64;
            if let Err(e) = self.rt.block_on(w.wait_for_capacity(4)) {
                return Err(self.err(rel, "multipart upload", e));
            }
            w.write(&b);
        }
        self.rt
            .block_on(w.finish())
            .map_err(|e| self.err(rel, "multipart upload", e))?;
        Ok((sent, got))
    }

    /// Copies the object `from_key` (a whole key of this bucket) to `rel`
    /// on the server (S3 CopyObject: the bytes and the user metadata).
    pub(super) fn copy_in_bucket(&self, from_key: &str, rel: &str) -> Result<()> {
        self.rt
            .block_on(self.store.copy(&ObjPath::from(from_key), &self.path(rel)))
            .map_err(|e| self.err(rel, "server-side copy", e))
    }

    /// `[start, end)` of the object.
    pub(super) fn get_range(&self, rel: &str, start: u64, end: u64) -> Result<bytes::Bytes> {
        self.get_many(&[(rel.to_string(), start, end)])
            .pop()
            .unwrap_or_else(|| Err(self.err(rel, "GET", "no answer")))
    }

    /// Reads the object back whole (in parallel ranged GETs): size and CRC32C.
    pub(super) fn read_back(&self, rel: &str, size: u64) -> Result<(u64, u32)> {
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
    pub(super) fn get_ranges(
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
                    return Err(self.err(rel, "GET", short_range(a, z, b.len(), z - a)));
                }
                sink(a, &b)?;
            }
            Ok(())
        })
    }

    /// Reads the ranges `(object, start, end)` (ends clamped by the caller),
    /// several in flight; one result per range, in order. Memory: the
    /// ranges' bytes.
    pub(super) fn get_many(&self, ranges: &[(String, u64, u64)]) -> Vec<Result<bytes::Bytes>> {
        self.rt
            .block_on(async {
                futures::stream::iter(ranges.iter().map(|(rel, a, z)| {
                    let p = self.path(rel);
                    let store = Arc::clone(&self.store);
                    let (a, z) = (*a, *z);
                    async move {
                        if a >= z {
                            return Ok(bytes::Bytes::new());
                        }
                        let opts = GetOptions {
                            range: Some(GetRange::Bounded(a..z)),
                            ..GetOptions::default()
                        };
                        let b = store.get_opts(&p, opts).await?.bytes().await?;
                        Ok::<_, object_store::Error>(b)
                    }
                }))
                .buffered(self.concurrency.clamp(1, 8))
                .collect::<Vec<_>>()
                .await
            })
            .into_iter()
            .zip(ranges)
            .map(|(r, (rel, a, z))| {
                let b = r.map_err(|e| self.err(rel, "GET", e))?;
                if b.len() as u64 != z.saturating_sub(*a) {
                    return Err(self.err(
                        rel,
                        "GET",
                        short_range(*a, *z, b.len(), z.saturating_sub(*a)),
                    ));
                }
                Ok(b)
            })
            .collect()
    }

    /// The whole object into memory, its size checked against `size` (the
    /// listing's): ranged GETs of [`WHOLE_PART`] bytes, 4 in flight, each
    /// answer copied into its place as soon as it arrives (a slow range
    /// holds up none of the others). The ranges are whole multiples of the
    /// upload's parts: a server that stores each part compressed
    /// (SeaweedFS gzips compressible data, an index) decompresses each
    /// once, and fewer, larger requests cost it less.
    pub(super) fn get_whole(&self, rel: &str, size: u64) -> Result<Vec<u8>> {
        let n = usize::try_from(size).map_err(|_| self.err(rel, "GET", "too large for memory"))?;
        if n == 0 {
            return self.get_ranges(rel, 0, |_, _| Ok(())).map(|()| Vec::new());
        }
        let part = WHOLE_PART;
        let mut out = vec![0u8; n];
        let p = self.path(rel);
        self.rt.block_on(async {
            let mut s = futures::stream::iter((0..size).step_by(part).map(|a| {
                let z = (a + part as u64).min(size);
                let p = p.clone();
                let store = Arc::clone(&self.store);
                async move {
                    let opts = GetOptions {
                        range: Some(GetRange::Bounded(a..z)),
                        ..GetOptions::default()
                    };
                    let b = store.get_opts(&p, opts).await?.bytes().await?;
                    Ok::<_, object_store::Error>((a, z, b))
                }
            }))
            .buffer_unordered(4);
            while let Some(r) = s.next().await {
                let (a, z, b) = r.map_err(|e| self.err(rel, "GET", e))?;
                let dst = usize::try_from(a)
                    .ok()
                    .zip(usize::try_from(z).ok())
                    .and_then(|(a, z)| out.get_mut(a..z))
                    .filter(|d| d.len() == b.len());
                match dst {
                    Some(d) => d.copy_from_slice(&b),
                    None => {
                        return Err(self.err(rel, "GET", short_range(a, z, b.len(), z - a)));
                    }
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Downloads the object into the local file `dst` (created), checking
    /// its size: ranged GETs in parallel, streamed to the file, fsynced.
    pub(super) fn download(&self, rel: &str, size: u64, dst: &Path) -> Result<()> {
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

/// The message of a ranged GET `a..z` that answered `got` bytes, not `want`.
fn short_range(a: u64, z: u64, got: usize, want: u64) -> String {
    format!(
        "range {a}..{z}: {got} bytes received, {want} expected (the object changed or is {})",
        "shorter than listed"
    )
}

pub(super) fn crc_attributes(crc: u32) -> Attributes {
    let mut a = Attributes::new();
    a.insert(
        Attribute::Metadata(CRC_METADATA.into()),
        AttributeValue::from(format!("{crc:08x}")),
    );
    a
}

/// Size and CRC32C of a local file, read in pieces.
pub(super) fn file_crc(p: &Path) -> Result<(u64, u32)> {
    use std::io::Read;
    let mut f = crate::fileutil::open_input(p).map_err(|e| Error::io(p, e))?;
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
pub(super) fn exit_point() {
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
pub(super) fn exit_point() {}
