//! The AWS shared config and credentials files (`~/.aws/config`,
//! `~/.aws/credentials`): the INI dialect the AWS CLI and SDKs read, and the
//! lookup of one profile's keys in both.
//!
//! Sections are `[name]` (credentials) and `[profile name]` (config; the
//! default profile is `[default]` in both). Lines are `key = value`;
//! comments start with `#` or `;`. A key of the credentials file wins over
//! the same key of the config file. Nested sub-sections (indented lines under
//! `s3 =`) are read as plain keys of the profile; nothing here needs them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `[section]` → key → value.
pub type Ini = BTreeMap<String, BTreeMap<String, String>>;

/// Parses the INI text of an AWS shared config or credentials file. Never
/// fails: lines it does not understand are skipped, as the AWS CLI skips them.
pub fn parse_ini(text: &str) -> Ini {
    let mut out = Ini::new();
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

/// One profile's view of the two files.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// The profile's name (`default` unless chosen).
    pub name: String,
    credentials: BTreeMap<String, String>,
    config: BTreeMap<String, String>,
}

impl Profile {
    /// The profile `name` of the two files' texts.
    pub fn from_texts(name: &str, credentials: &str, config: &str) -> Profile {
        let section = if name == "default" {
            "default".to_string()
        } else {
            format!("profile {name}")
        };
        Profile {
            name: name.to_string(),
            credentials: parse_ini(credentials).remove(name).unwrap_or_default(),
            config: parse_ini(config).remove(&section).unwrap_or_default(),
        }
    }

    /// The profile `name` (else `AWS_PROFILE`, else `default`) of the files
    /// the AWS tools read: `AWS_SHARED_CREDENTIALS_FILE` (else
    /// `~/.aws/credentials`) and `AWS_CONFIG_FILE` (else `~/.aws/config`).
    /// A missing or unreadable file reads as empty.
    pub fn load(name: Option<&str>) -> Profile {
        let home = env("HOME").map(PathBuf::from).unwrap_or_default();
        let name = name
            .map(str::to_string)
            .or_else(|| env("AWS_PROFILE"))
            .unwrap_or_else(|| "default".into());
        let read = |var: &str, default: &str| {
            let p = env(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(default));
            read_text(&p)
        };
        Profile::from_texts(
            &name,
            &read("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
            &read("AWS_CONFIG_FILE", ".aws/config"),
        )
    }

    /// A key of the profile: the credentials file's, else the config file's.
    pub fn get(&self, key: &str) -> Option<String> {
        self.credentials
            .get(key)
            .or_else(|| self.config.get(key))
            .cloned()
    }
}

fn read_text(p: &Path) -> String {
    crate::fileutil::read_input(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A non-empty environment variable.
pub(crate) fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        let creds = concat!(
            "[default]\n",
            "aws_access_key_id = AK\n",
            " aws_secret_access_key=SK \n",
            "\n",
            "[ci]\n",
            "aws_access_key_id=CI\n",
        );
        let config = concat!(
            "# c\n",
            "[default]\n",
            "region = eu-west-1\n",
            "[profile ci]\n",
            "region=us-east-2\n",
            "aws_access_key_id = ignored\n",
            "; x\n",
            "endpoint_url = http://127.0.0.1:8333\n",
        );
        let d = Profile::from_texts("default", creds, config);
        assert_eq!(d.get("aws_access_key_id").as_deref(), Some("AK"));
        assert_eq!(d.get("aws_secret_access_key").as_deref(), Some("SK"));
        assert_eq!(d.get("region").as_deref(), Some("eu-west-1"));
        let ci = Profile::from_texts("ci", creds, config);
        assert_eq!(ci.get("aws_access_key_id").as_deref(), Some("CI"));
        assert_eq!(ci.get("region").as_deref(), Some("us-east-2"));
        assert_eq!(
            ci.get("endpoint_url").as_deref(),
            Some("http://127.0.0.1:8333")
        );
        assert_eq!(ci.get("aws_secret_access_key"), None);
        assert!(
            Profile::from_texts("none", creds, config)
                .get("region")
                .is_none()
        );
    }
}
