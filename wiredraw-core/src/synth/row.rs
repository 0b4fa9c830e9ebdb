//! Formatting one log line in Zeek's TSV or NDJSON layout.
//!
//! Times and intervals are kept in whole microseconds and printed with six decimals in both
//! formats, so a TSV line and its JSON twin parse to the same `f64`.

use super::logs::LogKind;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// Which Zeek writer layout the generator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Zeek's default ASCII writer: tab-separated with `#` header lines.
    #[default]
    Tsv,
    /// `LogAscii::use_json=T` with `_path` added and epoch timestamps: one object per line.
    Json,
}

/// Writes the fields of one record, in schema order, onto the end of a `String`.
///
/// Each call consumes the next column of `kind`'s schema; [`Row::finish`] checks that every
/// column was written, so a schema and its writer cannot drift apart silently.
pub(crate) struct Row<'a> {
    out: &'a mut String,
    format: OutputFormat,
    kind: LogKind,
    column: usize,
}

impl<'a> Row<'a> {
    pub(crate) fn start(out: &'a mut String, format: OutputFormat, kind: LogKind) -> Self {
        if format == OutputFormat::Json {
            out.push_str("{\"_path\":\"");
            out.push_str(kind.path());
            out.push('"');
        }
        Row {
            out,
            format,
            kind,
            column: 0,
        }
    }

    /// Starts the next column. Returns `false` in JSON for an unset value, which Zeek omits.
    fn begin(&mut self, is_set: bool) -> bool {
        let name = self.kind.fields()[self.column].0;
        self.column += 1;
        match self.format {
            OutputFormat::Tsv => {
                if self.column > 1 {
                    self.out.push('\t');
                }
                if !is_set {
                    self.out.push('-');
                }
                is_set
            }
            OutputFormat::Json => {
                if is_set {
                    self.out.push_str(",\"");
                    self.out.push_str(name);
                    self.out.push_str("\":");
                }
                is_set
            }
        }
    }

    pub(crate) fn unset(&mut self) -> &mut Self {
        self.begin(false);
        self
    }

    /// A `time` or `interval` column, from microseconds.
    pub(crate) fn micros(&mut self, micros: u64) -> &mut Self {
        self.begin(true);
        push_micros(self.out, micros);
        self
    }

    pub(crate) fn opt_micros(&mut self, micros: Option<u64>) -> &mut Self {
        match micros {
            Some(m) => self.micros(m),
            None => self.unset(),
        }
    }

    pub(crate) fn count(&mut self, n: u64) -> &mut Self {
        self.begin(true);
        push_u64(self.out, n);
        self
    }

    pub(crate) fn opt_count(&mut self, n: Option<u64>) -> &mut Self {
        match n {
            Some(n) => self.count(n),
            None => self.unset(),
        }
    }

    pub(crate) fn port(&mut self, port: u16) -> &mut Self {
        self.count(u64::from(port))
    }

    pub(crate) fn addr(&mut self, addr: Ipv4Addr) -> &mut Self {
        self.begin(true);
        let quoted = self.format == OutputFormat::Json;
        if quoted {
            self.out.push('"');
        }
        for (i, octet) in addr.octets().into_iter().enumerate() {
            if i > 0 {
                self.out.push('.');
            }
            push_u64(self.out, u64::from(octet));
        }
        if quoted {
            self.out.push('"');
        }
        self
    }

    pub(crate) fn bool(&mut self, b: bool) -> &mut Self {
        self.begin(true);
        self.out.push_str(match (self.format, b) {
            (OutputFormat::Tsv, true) => "T",
            (OutputFormat::Tsv, false) => "F",
            (OutputFormat::Json, true) => "true",
            (OutputFormat::Json, false) => "false",
        });
        self
    }

    /// A `string` or `enum` column.
    pub(crate) fn str(&mut self, s: &str) -> &mut Self {
        self.begin(true);
        match self.format {
            OutputFormat::Tsv => push_tsv_str(self.out, s, false),
            OutputFormat::Json => push_json_str(self.out, s),
        }
        self
    }

    pub(crate) fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.str(s),
            None => self.unset(),
        }
    }

    /// A `set[string]`, `set[enum]` or `vector[string]` column.
    pub(crate) fn strs<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        self.begin(true);
        match self.format {
            OutputFormat::Tsv if items.is_empty() => self.out.push_str("(empty)"),
            OutputFormat::Tsv => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    push_tsv_str(self.out, item.as_ref(), true);
                }
            }
            OutputFormat::Json => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    push_json_str(self.out, item.as_ref());
                }
                self.out.push(']');
            }
        }
        self
    }

    pub(crate) fn opt_strs<S: AsRef<str>>(&mut self, items: Option<&[S]>) -> &mut Self {
        match items {
            Some(items) => self.strs(items),
            None => self.unset(),
        }
    }

    /// A `vector[interval]` column, from microseconds.
    pub(crate) fn opt_micros_list(&mut self, items: Option<&[u64]>) -> &mut Self {
        let Some(items) = items else {
            return self.unset();
        };
        self.begin(true);
        let (open, close) = match self.format {
            OutputFormat::Tsv if items.is_empty() => ("(empty)", ""),
            OutputFormat::Tsv => ("", ""),
            OutputFormat::Json => ("[", "]"),
        };
        self.out.push_str(open);
        for (i, &m) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            push_micros(self.out, m);
        }
        self.out.push_str(close);
        self
    }

    /// Closes the line (without the newline).
    pub(crate) fn finish(&mut self) {
        assert_eq!(
            self.column,
            self.kind.fields().len(),
            "{} writer filled {} of {} columns",
            self.kind.path(),
            self.column,
            self.kind.fields().len()
        );
        if self.format == OutputFormat::Json {
            self.out.push('}');
        }
    }
}

// Numbers are formatted by hand: `fmt` machinery was a fifth of the generator's time.
fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

fn push_micros(out: &mut String, micros: u64) {
    push_u64(out, micros / 1_000_000);
    let mut fraction = *b".000000";
    let mut rest = micros % 1_000_000;
    for digit in fraction[1..].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend(fraction.iter().map(|&d| char::from(d)));
}

/// Zeek's ASCII escaping: separators and non-printable bytes become `\xHH`, and a value that
/// would read back as the unset or empty marker is escaped at its first byte.
fn push_tsv_str(out: &mut String, s: &str, in_set: bool) {
    if s.is_empty() {
        out.push_str("(empty)");
        return;
    }
    let marker_lookalike = s == "-" || s == "(empty)";
    let plain = |b: u8| b >= 0x20 && b != 0x7f && b != b'\\' && !(in_set && b == b',');
    if !marker_lookalike && s.bytes().all(plain) {
        out.push_str(s);
        return;
    }
    for (i, c) in s.chars().enumerate() {
        let escape = (i == 0 && marker_lookalike)
            || c == '\t'
            || c == '\\'
            || c.is_control()
            || (in_set && c == ',');
        if escape && c.is_ascii() {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            out.push(c);
        }
    }
}

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dns_row(format: OutputFormat) -> String {
        let mut line = String::new();
        Row::start(&mut line, format, LogKind::Dns)
            .micros(1_700_000_000_000_042)
            .str("Cabc")
            .addr(Ipv4Addr::new(10, 1, 0, 1))
            .port(50000)
            .addr(Ipv4Addr::new(10, 0, 0, 2))
            .port(53)
            .str("udp")
            .count(7)
            .opt_micros(None)
            .str("a,b\tc")
            .count(1)
            .str("C_INTERNET")
            .count(1)
            .str("A")
            .count(0)
            .str("NOERROR")
            .bool(false)
            .bool(false)
            .bool(true)
            .bool(true)
            .count(0)
            .strs(&["x,y", "-"])
            .opt_micros_list(Some(&[300_000_000, 1]))
            .bool(false)
            .finish();
        line
    }

    #[test]
    fn tsv_escapes_separators_and_marks_unset() {
        let line = dns_row(OutputFormat::Tsv);
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), LogKind::Dns.fields().len());
        assert_eq!(cols[0], "1700000000.000042");
        assert_eq!(cols[8], "-");
        assert_eq!(cols[9], "a,b\\x09c");
        assert_eq!(cols[21], "x\\x2cy,\\x2d");
        assert_eq!(cols[22], "300.000000,0.000001");
    }

    #[test]
    fn json_omits_unset_and_is_valid() {
        let line = dns_row(OutputFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_path"], "dns");
        assert_eq!(v["ts"].as_f64(), Some(1_700_000_000.000042));
        assert!(v.get("rtt").is_none());
        assert_eq!(v["query"], "a,b\tc");
        assert_eq!(v["answers"][0], "x,y");
        assert_eq!(v["RD"], true);
    }

    #[test]
    fn tsv_escapes_marker_lookalikes() {
        let mut out = String::new();
        push_tsv_str(&mut out, "-", false);
        out.push(' ');
        push_tsv_str(&mut out, "(empty)", false);
        assert_eq!(out, "\\x2d \\x28empty)");
    }
}
