//! `s3://BUCKET/PREFIX` URLs: parsing, object keys, display.

use crate::error::{Error, Result};

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
