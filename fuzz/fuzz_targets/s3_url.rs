#![no_main]
//! `s3://BUCKET/PREFIX` URLs: any string parses or fails cleanly; what
//! parses prints back to a URL that parses to the same bucket and prefix,
//! and its object keys sit under the prefix.
use libfuzzer_sys::fuzz_target;
use promsnap::objstore::S3Url;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let Ok(u) = S3Url::parse(&s) else { return };
    assert!(S3Url::is_s3(&s));
    assert!(!u.bucket.is_empty());
    assert!(!u.prefix.starts_with('/') && !u.prefix.ends_with('/'));
    let again = S3Url::parse(&u.to_string()).expect("a printed URL parses");
    assert_eq!(again, u);
    let key = u.key("01ARZ3NDEKTSV4RRFFQ69G5FAV/index");
    assert!(key.starts_with(&u.prefix));
    assert!(key.ends_with("01ARZ3NDEKTSV4RRFFQ69G5FAV/index"));
    assert_eq!(u.show(""), u.to_string());
});
