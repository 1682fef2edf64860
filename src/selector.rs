//! PromQL series selectors for `--match`: `up`, `{job="node"}`,
//! `http_requests_total{code=~"5..", method!="GET"}`.
//!
//! Matchers follow Prometheus: a missing label matches as the empty string,
//! and regular expressions are fully anchored (`^(?:re)$`).

use regex::bytes::Regex;

/// A matcher's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

/// One label matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Operator.
    pub op: MatchOp,
    /// Value or pattern as written.
    pub value: String,
    re: Option<Regex>,
}

impl Matcher {
    /// Builds a matcher, compiling the pattern for regex operators.
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("invalid regular expression {value:?}: {e}"))?,
            ),
            _ => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    /// True if a label value (empty when the label is missing) matches.
    pub fn matches(&self, v: &[u8]) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Equal, _) => v == self.value.as_bytes(),
            (MatchOp::NotEqual, _) => v != self.value.as_bytes(),
            (MatchOp::Regex, Some(re)) => re.is_match(v),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(v),
            _ => false,
        }
    }
}

/// True if the label set (sorted by name) satisfies every matcher.
pub fn matches_all(ms: &[Matcher], labels: &[(&[u8], &[u8])]) -> bool {
    ms.iter().all(|m| {
        let v = labels
            .iter()
            .find(|(n, _)| *n == m.name.as_bytes())
            .map(|(_, v)| *v)
            .unwrap_or(b"");
        m.matches(v)
    })
}

/// True if the label set satisfies any of the selectors (each a list of matchers).
/// No selectors means everything matches.
pub fn matches_any(sels: &[Vec<Matcher>], labels: &[(&[u8], &[u8])]) -> bool {
    sels.is_empty() || sels.iter().any(|ms| matches_all(ms, labels))
}

/// Parses a series selector into its matchers.
pub fn parse(s: &str) -> Result<Vec<Matcher>, String> {
    let mut p = Parser { s, pos: 0 };
    let mut out = Vec::new();
    p.ws();
    if let Some(name) = p.ident(true) {
        out.push(Matcher::new("__name__", MatchOp::Equal, &name)?);
    }
    p.ws();
    if p.eat('{') {
        loop {
            p.ws();
            if p.eat('}') {
                break;
            }
            let name = p.ident(false).ok_or_else(|| p.err("a label name"))?;
            p.ws();
            let op = if p.eat_str("=~") {
                MatchOp::Regex
            } else if p.eat_str("!~") {
                MatchOp::NotRegex
            } else if p.eat_str("!=") {
                MatchOp::NotEqual
            } else if p.eat('=') {
                MatchOp::Equal
            } else {
                return Err(p.err("one of = != =~ !~"));
            };
            p.ws();
            let value = p.string()?;
            out.push(Matcher::new(&name, op, &value)?);
            p.ws();
            if p.eat(',') {
                continue;
            }
            p.ws();
            if p.eat('}') {
                break;
            }
            return Err(p.err("',' or '}'"));
        }
    }
    p.ws();
    if p.pos != s.len() {
        return Err(p.err("end of selector"));
    }
    if out.is_empty() {
        return Err(format!("selector {s:?} has no matchers"));
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or("")
    }
    fn err(&self, what: &str) -> String {
        format!(
            "invalid selector {:?} at position {}: expected {what}, found {:?}",
            self.s,
            self.pos,
            self.rest()
                .chars()
                .next()
                .map(String::from)
                .unwrap_or_else(|| "end".into())
        )
    }
    fn ws(&mut self) {
        let n = self.rest().len() - self.rest().trim_start().len();
        self.pos += n;
    }
    fn eat(&mut self, c: char) -> bool {
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, t: &str) -> bool {
        if self.rest().starts_with(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }
    fn ident(&mut self, metric: bool) -> Option<String> {
        let r = self.rest();
        let n = r
            .char_indices()
            .take_while(|&(i, c)| {
                c == '_'
                    || c.is_ascii_alphabetic()
                    || (i > 0 && c.is_ascii_digit())
                    || (metric && c == ':')
            })
            .count();
        if n == 0 {
            return None;
        }
        let id = r.get(..n)?.to_string();
        self.pos += n;
        Some(id)
    }
    fn string(&mut self) -> Result<String, String> {
        let quote = self
            .rest()
            .chars()
            .next()
            .ok_or_else(|| self.err("a quoted string"))?;
        if !matches!(quote, '"' | '\'' | '`') {
            return Err(self.err("a quoted string"));
        }
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                self.pos += i + 1;
                return Ok(out);
            }
            if c == '\\' && quote != '`' {
                let (_, e) = chars.next().ok_or_else(|| self.err("an escape"))?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '\\' | '"' | '\'' => out.push(e),
                    other => {
                        // Keep unknown escapes (e.g. regex escapes like \d) verbatim.
                        out.push('\\');
                        out.push(other);
                    }
                }
            } else {
                out.push(c);
            }
        }
        Err(self.err("a closing quote"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l<'a>(p: &[(&'a str, &'a str)]) -> Vec<(&'a [u8], &'a [u8])> {
        p.iter()
            .map(|(a, b)| (a.as_bytes(), b.as_bytes()))
            .collect()
    }

    #[test]
    fn promtool_default_matches_everything() {
        let m = parse("{__name__=~'(?s:.*)'}").unwrap();
        assert!(matches_all(&m, &l(&[("__name__", "up")])));
    }

    #[test]
    fn metric_and_labels() {
        let m = parse(r#"up{job="node", instance!~"10\\..*"}"#).unwrap();
        assert_eq!(m.len(), 3);
        assert!(matches_all(
            &m,
            &l(&[("__name__", "up"), ("instance", "a:1"), ("job", "node")])
        ));
        assert!(!matches_all(
            &m,
            &l(&[
                ("__name__", "up"),
                ("instance", "10.0.0.1:1"),
                ("job", "node")
            ])
        ));
        assert!(!matches_all(
            &m,
            &l(&[("__name__", "down"), ("job", "node")])
        ));
        // missing label = ""
        let m = parse(r#"{foo=""}"#).unwrap();
        assert!(matches_all(&m, &l(&[("__name__", "x")])));
        // anchored
        let m = parse(r#"{__name__=~"u"}"#).unwrap();
        assert!(!matches_all(&m, &l(&[("__name__", "up")])));
    }

    #[test]
    fn errors() {
        assert!(parse("{job=}").is_err());
        assert!(parse("{job=\"a\"").is_err());
        assert!(parse("").is_err());
        assert!(parse("{job=~\"(\"}").is_err());
    }
}
