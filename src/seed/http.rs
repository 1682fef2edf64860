//! A minimal HTTP/1.1 client for a Prometheus on loopback or the LAN.
//!
//! Why not a crate: `seed` makes three or four requests to one server over
//! plain HTTP, each answered with a small JSON document. A blocking client
//! over [`std::net::TcpStream`] is about 200 lines, has no dependency to
//! audit or keep up to date, and gives direct control over the connect and
//! read time-outs. `https://` is refused with a clear error (no TLS: seed
//! runs on the primary's host or LAN; use an SSH tunnel otherwise).
//!
//! Every request is sent with `Connection: close`; the answer is read to
//! the end of the stream (at most [`MAX_RESPONSE`] bytes) and then parsed by
//! [`parse_response`], a pure function over bytes (fuzzed): status line,
//! headers, and a body delimited by `Content-Length`, by chunked transfer
//! coding, or by the end of the stream.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The largest answer read (the flags and status documents are a few KiB).
pub const MAX_RESPONSE: usize = 8 << 20;

/// A parsed `http://host[:port][/prefix]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (80 when the URL names none).
    pub port: u16,
    /// Path prefix without a trailing slash (`--web.route-prefix`), or empty.
    pub prefix: String,
}

impl Url {
    /// Parses a URL; only `http://` with no user info, query or fragment.
    pub fn parse(s: &str) -> Result<Url, String> {
        let bad = |why: &str| {
            format!("URL {s:?}: {why} (expected http://HOST:PORT, e.g. http://127.0.0.1:9090)")
        };
        let rest = if let Some(r) = s.strip_prefix("http://") {
            r
        } else if s.starts_with("https://") {
            return Err(bad(
                "https is not supported (plain HTTP to a loopback or LAN address only; use an SSH \
                 tunnel for a remote primary)",
            ));
        } else if s.contains("://") {
            return Err(bad("only http:// URLs are supported"));
        } else {
            return Err(bad("no http:// scheme"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if path.contains(['?', '#']) || authority.contains(['?', '#']) {
            return Err(bad("a query or fragment is not allowed"));
        }
        if authority.contains('@') {
            return Err(bad("user info is not supported"));
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("white space or control characters in the path"));
        }
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let Some((h, after)) = r.split_once(']') else {
                return Err(bad("unclosed [ in the host"));
            };
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ]"))?),
            };
            (h, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%'))
        {
            return Err(bad("invalid characters in the host"));
        }
        let port = match port {
            None => 80,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(bad("the port must be a number 1…65535")),
            },
        };
        Ok(Url {
            host: host.to_string(),
            port,
            prefix: path.trim_end_matches('/').to_string(),
        })
    }

    /// `host:port` as sent in the `Host` header.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL of `path` (which starts with `/`) under this base.
    pub fn join(&self, path: &str) -> String {
        format!("http://{}{}{}", self.authority(), self.prefix, path)
    }
}

/// A parsed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, if sent.
    pub content_type: Option<String>,
    /// The body (transfer coding removed).
    pub body: Vec<u8>,
}

/// Parses a whole HTTP/1.x answer (the stream read to its end).
pub fn parse_response(buf: &[u8]) -> Result<Response, String> {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return Err(if buf.is_empty() {
            "empty answer".into()
        } else {
            "not an HTTP answer (no end of headers)".into()
        });
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| "not an HTTP answer (headers are not text)".to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(format!(
            "not an HTTP/1.x answer (status line {:?})",
            truncate(status_line, 60)
        ));
    }
    let status: u16 = parts
        .next()
        .and_then(|c| c.parse().ok())
        .filter(|c| (100..=999).contains(c))
        .ok_or_else(|| format!("bad status line {:?}", truncate(status_line, 60)))?;
    let mut content_length = None;
    let mut chunked = false;
    let mut content_type = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line {:?}", truncate(line, 60)));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length {:?}", truncate(value, 30)))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_string());
        }
    }
    let rest = &buf[head_end + 4..];
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = content_length {
        if rest.len() < n {
            return Err(format!(
                "answer cut short: {} of {n} body bytes",
                rest.len()
            ));
        }
        rest[..n].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        content_type,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = find(b, b"\r\n") else {
            return Err("chunked answer cut short".into());
        };
        let line = std::str::from_utf8(&b[..eol]).map_err(|_| "bad chunk size line".to_string())?;
        let size_hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| format!("bad chunk size {:?}", truncate(size_hex, 20)))?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let end = size.checked_add(2).filter(|&e| e <= b.len());
        if end.is_none_or(|e| &b[size..e] != b"\r\n") {
            return Err("chunked answer cut short".into());
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Time-outs of one request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Connecting (per address the host resolves to).
    pub connect: Duration,
    /// Each read and write on the connection.
    pub io: Duration,
}

/// Sends `method path` (path relative to the URL's prefix, starting with
/// `/`) with an empty body and returns the parsed answer.
pub fn request(
    url: &Url,
    method: &str,
    path: &str,
    t: Timeouts,
) -> Result<Response, std::io::Error> {
    let addrs: Vec<_> = (url.host.as_str(), url.port).to_socket_addrs()?.collect();
    let mut last = None;
    let mut stream = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, t.connect) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let mut s = match stream {
        Some(s) => s,
        None => {
            return Err(last.unwrap_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "host resolves to no address")
            }));
        }
    };
    s.set_read_timeout(Some(t.io))?;
    s.set_write_timeout(Some(t.io))?;
    let req = format!(
        "{method} {}{path} HTTP/1.1\r\n\
         Host: {}\r\n\
         User-Agent: promsnap/{}\r\n\
         Accept: application/json\r\n\
         Content-Length: 0\r\n\
         Connection: close\r\n\r\n",
        url.prefix,
        url.authority(),
        env!("CARGO_PKG_VERSION")
    );
    s.write_all(req.as_bytes())?;
    let mut buf = Vec::new();
    (&mut s)
        .take(MAX_RESPONSE as u64 + 1)
        .read_to_end(&mut buf)?;
    if buf.len() > MAX_RESPONSE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("answer larger than {MAX_RESPONSE} bytes"),
        ));
    }
    parse_response(&buf).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("http://127.0.0.1:9090").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.prefix.as_str()),
            ("127.0.0.1", 9090, "")
        );
        let u = Url::parse("http://prom.lan/prometheus/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.prefix.as_str()),
            ("prom.lan", 80, "/prometheus")
        );
        assert_eq!(
            u.join("/api/v1/status/flags"),
            "http://prom.lan:80/prometheus/api/v1/status/flags"
        );
        let u = Url::parse("http://[::1]:9090/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 9090));
        assert_eq!(u.authority(), "[::1]:9090");
        for bad in [
            "127.0.0.1:9090",
            "https://127.0.0.1:9090",
            "ftp://x",
            "http://",
            "http://:9090",
            "http://h:0",
            "http://h:99999",
            "http://h:x",
            "http://u@h:1",
            "http://h:1/?q",
            "http://h:1/a b",
            "http://[::1",
            "http://h h:1",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn responses() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
              Content-Length: 4\r\n\r\nabcdEXTRA",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abcd"[..]));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
        let r = parse_response(b"HTTP/1.0 503 Service Unavailable\r\n\r\nrest").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (503, &b"rest"[..]));
        for bad in [
            &b""[..],
            b"SSH-2.0-OpenSSH_9.2\r\n",
            b"<html>\r\n\r\n",
            b"HTTP/1.1 abc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nnocolon\r\n\r\n",
        ] {
            assert!(
                parse_response(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
