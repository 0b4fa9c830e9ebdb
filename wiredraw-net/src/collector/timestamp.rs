//! Record timestamps for replay: the `ts` column of a TSV line or the `ts` field of a JSON line,
//! and the `--time-from`/`--time-to` arguments.

use std::str::FromStr;

use super::logfile::trim_line;

/// Parses epoch seconds (`1713693597.16`) or an RFC 3339 time (`2024-04-21T10:00:00Z`).
pub fn parse_time(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return if secs.is_finite() {
            Ok(secs)
        } else {
            Err(format!("{text:?} is not a finite number of seconds"))
        };
    }
    let ts = jiff::Timestamp::from_str(text).map_err(|e| {
        format!("{text:?} is neither epoch seconds nor an RFC 3339 time with an offset: {e}")
    })?;
    Ok(ts.as_second() as f64 + f64::from(ts.subsec_nanosecond()) / 1e9)
}

/// Finds the `ts` of lines written under one TSV header.
#[derive(Clone, Debug)]
pub struct TsvTimestamps {
    separator: u8,
    column: usize,
}

impl TsvTimestamps {
    /// Reads `#separator` and `#fields` from a header block; `None` when there is no `ts` column.
    pub fn from_header(header: &[u8]) -> Option<Self> {
        let mut separator = b'\t';
        let mut column = None;
        for line in header.split(|&b| b == b'\n').map(trim_line) {
            if let Some(value) = line.strip_prefix(b"#separator ") {
                separator = parse_separator(value)?;
            } else if let Some(value) = line.strip_prefix(b"#fields") {
                let names = value.strip_prefix(&[separator][..]).unwrap_or(value);
                column = names
                    .split(|&b| b == separator)
                    .position(|name| name == b"ts");
            }
        }
        Some(Self {
            separator,
            column: column?,
        })
    }

    /// The `ts` of one data line, if it is a number.
    pub fn of(&self, line: &[u8]) -> Option<f64> {
        let field = trim_line(line)
            .split(|&b| b == self.separator)
            .nth(self.column)?;
        parse_number(field)
    }
}

/// `\x09` or a literal single byte.
fn parse_separator(value: &[u8]) -> Option<u8> {
    match value {
        [single] => Some(*single),
        [b'\\', b'x', hex @ ..] if hex.len() == 2 => {
            u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
        }
        _ => None,
    }
}

fn parse_number(field: &[u8]) -> Option<f64> {
    let value: f64 = std::str::from_utf8(field).ok()?.parse().ok()?;
    value.is_finite().then_some(value)
}

/// The `ts` field of one NDJSON line: epoch seconds or an ISO 8601 string.
pub fn json_ts(line: &[u8]) -> Option<f64> {
    #[derive(serde::Deserialize)]
    struct TsOnly {
        ts: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<TsOnly>(trim_line(line)).ok()?.ts? {
        serde_json::Value::Number(n) => n.as_f64().filter(|v| v.is_finite()),
        serde_json::Value::String(s) => parse_time(&s).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_arguments_take_epoch_seconds_and_rfc3339() {
        assert_eq!(parse_time("1713693597.5").unwrap(), 1713693597.5);
        assert_eq!(parse_time("2024-04-21T10:00:00Z").unwrap(), 1713693600.0);
        assert_eq!(
            parse_time("2024-04-21T12:00:00+02:00").unwrap(),
            1713693600.0
        );
        assert_eq!(
            parse_time("2024-04-21T10:00:00.25Z").unwrap(),
            1713693600.25
        );
        assert!(parse_time("yesterday").unwrap_err().contains("yesterday"));
        assert!(parse_time("NaN").is_err());
    }

    #[test]
    fn tsv_ts_column_found_from_header() {
        let header = b"#separator \\x09\n#set_separator\t,\n#path\tconn\n\
            #fields\t_node_name\tts\tuid\n#types\tstring\ttime\tstring\n";
        let ts = TsvTimestamps::from_header(header).unwrap();
        assert_eq!(
            ts.of(b"worker-1\t1713693597.163487\tCx\n"),
            Some(1713693597.163487)
        );
        assert_eq!(ts.of(b"worker-1\t-\tCx\n"), None);
        assert_eq!(ts.of(b"short\n"), None);
        assert!(TsvTimestamps::from_header(b"#separator \\x09\n#fields\ta\tb\n").is_none());
    }

    #[test]
    fn json_ts_as_number_or_iso_string() {
        assert_eq!(
            json_ts(br#"{"ts":1521911720.5,"uid":"C"}"#),
            Some(1521911720.5)
        );
        let iso = json_ts(br#"{"_path":"dns","ts":"2018-03-24T17:15:20.865716Z"}"#).unwrap();
        assert!((iso - 1521911720.865716).abs() < 1e-6, "{iso}");
        assert_eq!(json_ts(br#"{"uid":"C"}"#), None);
        assert_eq!(json_ts(b"not json"), None);
    }
}
