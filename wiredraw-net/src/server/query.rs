//! Query strings and path segments: percent-decoding and typed parameters.

use crate::server::ApiError;
use crate::store::Window;
use std::net::IpAddr;

/// The decoded `name=value` pairs of a query string, checked against the names a route knows.
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `query`, refusing names other than `allowed` (a typo must not silently widen a
    /// window) and repeated names.
    pub fn parse(query: Option<&str>, allowed: &[&str]) -> Result<Query, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = percent_decode(name)?;
            let value = percent_decode(value)?;
            if !allowed.contains(&name.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter {name:?}; this route takes {}",
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                )));
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(ApiError::bad_request(format!(
                    "query parameter {name:?} is given twice"
                )));
            }
            pairs.push((name, value));
        }
        Ok(Query { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::bad_request(format!("missing query parameter {name:?}")))
    }

    pub fn time(&self, name: &str) -> Result<Option<f64>, ApiError> {
        self.get(name)
            .map(|text| {
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "query parameter {name:?} must be a time in epoch seconds, got {text:?}"
                        ))
                    })
            })
            .transpose()
    }

    pub fn required_time(&self, name: &str) -> Result<f64, ApiError> {
        self.time(name)?
            .ok_or_else(|| ApiError::bad_request(format!("missing query parameter {name:?}")))
    }

    /// A whole number no greater than `max`, or `default` when absent.
    pub fn count(&self, name: &str, default: usize, max: usize) -> Result<usize, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        text.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "query parameter {name:?} must be a whole number from 0 to {max}, got {text:?}"
                ))
            })
    }

    pub fn addr(&self, name: &str) -> Result<IpAddr, ApiError> {
        parse_addr(self.required(name)?, name)
    }

    /// `t=T`, or `from=A&to=B`.
    pub fn window(&self) -> Result<Window, ApiError> {
        match (self.time("t")?, self.time("from")?, self.time("to")?) {
            (Some(t), None, None) => Ok(Window::At(t)),
            (None, Some(from), Some(to)) => Ok(Window::Between { from, to }),
            (Some(_), _, _) => Err(ApiError::bad_request(
                "give either t or from and to, not both",
            )),
            (None, None, None) => Err(ApiError::bad_request(
                "missing window: give t=T or from=A&to=B",
            )),
            (None, _, _) => Err(ApiError::bad_request("a window needs both from and to")),
        }
    }
}

/// An address from a query parameter or path segment, normalised like Zeek's.
pub(crate) fn parse_addr(text: &str, what: &str) -> Result<IpAddr, ApiError> {
    let text = text.trim();
    let text = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} must be an IP address, got {text:?}")))
}

/// Decodes `%XX` escapes and `+` (as space) into UTF-8 text.
pub(crate) fn percent_decode(text: &str) -> Result<String, ApiError> {
    if !text.contains(['%', '+']) {
        return Ok(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("bad percent escape in {text:?}"))
                    })?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::bad_request(format!("{text:?} does not decode to UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_read_from_t_or_from_and_to() {
        let q = Query::parse(Some("t=1700000000.5"), &["t", "from", "to"]).unwrap();
        assert_eq!(q.window().unwrap(), Window::At(1_700_000_000.5));
        let q = Query::parse(Some("from=10&to=20"), &["t", "from", "to"]).unwrap();
        assert_eq!(
            q.window().unwrap(),
            Window::Between {
                from: 10.0,
                to: 20.0
            }
        );
        for bad in ["", "from=1", "t=1&from=1&to=2", "t=abc", "t=NaN", "t=inf"] {
            let q = Query::parse(Some(bad), &["t", "from", "to"]).unwrap();
            assert!(q.window().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused() {
        assert!(Query::parse(Some("tt=1"), &["t"]).is_err());
        assert!(Query::parse(Some("t=1&t=2"), &["t"]).is_err());
    }

    #[test]
    fn values_are_percent_decoded() {
        let q = Query::parse(Some("src=2001%3Adb8%3A%3A1&dst=%5B::1%5D"), &["src", "dst"]).unwrap();
        assert_eq!(q.addr("src").unwrap().to_string(), "2001:db8::1");
        assert_eq!(q.addr("dst").unwrap().to_string(), "::1");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%ff").is_err());
        assert_eq!(percent_decode("a+b%20c").unwrap(), "a b c");
    }
}
