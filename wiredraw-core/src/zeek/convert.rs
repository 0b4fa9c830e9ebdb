//! Turning one TSV field into a typed [`Value`] by its declared type.

use super::addr::{parse_addr, parse_subnet};
use crate::value::{FieldType, Value};
use compact_str::CompactString;

/// How a header block writes unset and empty values and separates container elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Markers {
    pub set_separator: Vec<u8>,
    pub empty_field: String,
    pub unset_field: String,
}

impl Default for Markers {
    fn default() -> Markers {
        Markers {
            set_separator: b",".to_vec(),
            empty_field: "(empty)".into(),
            unset_field: "-".into(),
        }
    }
}

/// Why a field could not be converted; the caller adds field name, type and text.
pub(crate) type ConvertError = &'static str;

/// Converts one field. `-` (the unset marker) is [`Value::Unset`]; `(empty)` is an empty
/// container, or an empty string for textual types.
pub(crate) fn convert(
    text: &str,
    ty: &FieldType,
    markers: &Markers,
) -> Result<Value, ConvertError> {
    if text == markers.unset_field {
        return Ok(Value::Unset);
    }
    match ty {
        FieldType::Set(inner) => convert_items(text, inner, markers).map(Value::Set),
        FieldType::Vector(inner) => convert_items(text, inner, markers).map(Value::Vector),
        _ if text == markers.empty_field => {
            if ty.is_textual() {
                Ok(textual(ty, CompactString::default()))
            } else {
                Err("empty value for a non-string type")
            }
        }
        _ => convert_scalar(text, ty),
    }
}

fn convert_items(
    text: &str,
    inner: &FieldType,
    markers: &Markers,
) -> Result<Vec<Value>, ConvertError> {
    if text == markers.empty_field {
        return Ok(Vec::new());
    }
    let sep = &markers.set_separator;
    let mut items = Vec::new();
    let mut push = |item: &str| -> Result<(), ConvertError> {
        items.push(if item == markers.unset_field {
            Value::Unset
        } else {
            convert_scalar(item, inner)?
        });
        Ok(())
    };
    let bytes = text.as_bytes();
    let mut start = 0;
    if let [single] = sep.as_slice() {
        for end in memchr::memchr_iter(*single, bytes) {
            push(&text[start..end])?;
            start = end + 1;
        }
    } else if !sep.is_empty() {
        for end in memchr::memmem::find_iter(bytes, sep) {
            if end >= start {
                push(&text[start..end])?;
                start = end + sep.len();
            }
        }
    }
    push(&text[start..])?;
    Ok(items)
}

fn convert_scalar(text: &str, ty: &FieldType) -> Result<Value, ConvertError> {
    Ok(match ty {
        FieldType::Bool => match text {
            "T" => Value::Bool(true),
            "F" => Value::Bool(false),
            _ => return Err("not a bool (T or F)"),
        },
        FieldType::Count => Value::Count(parse_unsigned(text).ok_or("not a count")?),
        FieldType::Int => Value::Int(parse_signed(text).ok_or("not an int")?),
        FieldType::Double => Value::Double(parse_float(text).ok_or("not a double")?),
        // Zeek writes `nan` and `inf` for doubles, but never for a moment or a span of time.
        FieldType::Time => Value::Time(parse_finite(text).ok_or("not a finite time")?),
        FieldType::Interval => Value::Interval(parse_finite(text).ok_or("not a finite interval")?),
        FieldType::Addr => Value::Addr(parse_addr(text).ok_or("not an address")?),
        FieldType::Subnet => {
            let (addr, len) = parse_subnet(text).ok_or("not a subnet")?;
            Value::Subnet(addr, len)
        }
        FieldType::Port => {
            let port = parse_unsigned(text).ok_or("not a port")?;
            Value::Port(u16::try_from(port).map_err(|_| "port out of range")?)
        }
        FieldType::Set(_) | FieldType::Vector(_) => return Err("nested container"),
        _ => textual(ty, unescape(text)),
    })
}

/// Digits only: Rust's integer parsers also take a leading `+`, which Zeek never writes.
fn parse_unsigned(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u64, |value, &byte| {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

fn parse_signed(text: &str) -> Option<i64> {
    match text.strip_prefix('-') {
        Some(digits) => 0i64.checked_sub_unsigned(parse_unsigned(digits)?),
        None => i64::try_from(parse_unsigned(text)?).ok(),
    }
}

/// Zeek writes doubles as decimals (`%.6f`), possibly `inf`/`-inf`/`nan`; anything with
/// letters other than those is rejected (Rust would take `infinity`, `1e5` is fine).
fn parse_float(text: &str) -> Option<f64> {
    let first = *text.as_bytes().first()?;
    if !(first.is_ascii_digit() || first == b'-' || first == b'.' || first == b'i' || first == b'n')
    {
        return None;
    }
    parse_plain_decimal(text).or_else(|| text.parse().ok())
}

/// Powers of ten a double holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The common case of a Zeek double, `[-]digits[.digits]` whose digits, read as one integer,
/// fit in 53 bits (a timestamp to the microsecond does): that integer over a power of ten. Both
/// are exact in a double, so the one division rounds correctly and the result is the general
/// parser's to the bit (Clinger's fast path). `None` for anything else, which the general
/// parser then reads.
fn parse_plain_decimal(text: &str) -> Option<f64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(body) => (true, body.as_bytes()),
        None => (false, text.as_bytes()),
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let mut point: Option<usize> = None;
    for (at, &byte) in body.iter().enumerate() {
        if byte == b'.' && point.is_none() {
            point = Some(at);
            continue;
        }
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 || digits == 19 {
            return None;
        }
        mantissa = mantissa * 10 + u64::from(digit);
        digits += 1;
    }
    if digits == 0 || mantissa >= 1 << 53 {
        return None;
    }
    let decimals = point.map_or(0, |at| body.len() - at - 1);
    let magnitude = mantissa as f64 / EXACT_POWERS_OF_TEN.get(decimals)?;
    Some(if negative { -magnitude } else { magnitude })
}

fn parse_finite(text: &str) -> Option<f64> {
    parse_float(text).filter(|x| x.is_finite())
}

fn textual(ty: &FieldType, text: CompactString) -> Value {
    match ty {
        FieldType::Enum => Value::Enum(text),
        FieldType::Pattern => Value::Pattern(text),
        _ => Value::String(text),
    }
}

/// Undoes Zeek's TSV escapes: `\xNN` is the byte NN and `\\` a backslash.
///
/// Bytes that do not form UTF-8 once unescaped, and control bytes other than whitespace, are
/// kept as the text `\xNN`, the way Zeek's JSON writer writes them, so one value reads the same
/// from TSV and JSON.
pub(crate) fn unescape(text: &str) -> CompactString {
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr(b'\\', bytes) else {
        return CompactString::new(text);
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' {
            match bytes.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                    continue;
                }
                Some(b'x') => {
                    if let Some(byte) = bytes.get(i + 2..i + 4).and_then(hex_byte) {
                        if kept_escaped(byte) {
                            out.extend_from_slice(format!("\\x{byte:02x}").as_bytes());
                        } else {
                            out.push(byte);
                        }
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(b);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => CompactString::from(s),
        Err(e) => CompactString::from(escape_invalid_utf8(e.as_bytes())),
    }
}

/// Control bytes Zeek's JSON writer keeps as the text `\xNN` (all but backspace, tab, newline,
/// form feed and carriage return, which JSON escapes itself); the TSV reader does the same so
/// both formats of one log read alike.
fn kept_escaped(byte: u8) -> bool {
    (byte < 0x20 && !matches!(byte, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d)) || byte == 0x7f
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let nibble = |c: u8| (c as char).to_digit(16);
    Some((nibble(pair[0])? * 16 + nibble(pair[1])?) as u8)
}

/// Valid UTF-8 stays as it is; every byte of an invalid sequence becomes `\xNN`.
fn escape_invalid_utf8(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    while !bytes.is_empty() {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                out.push_str(valid);
                break;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for byte in &rest[..bad] {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
    out
}

/// Decodes the `\xNN` escapes of a `#separator` header value.
pub(crate) fn unescape_bytes(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\\'
            && text.get(i + 1) == Some(&b'x')
            && let Some(byte) = text.get(i + 2..i + 4).and_then(hex_byte)
        {
            out.push(byte);
            i += 4;
            continue;
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_undoes_zeek_escapes() {
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape(r"a\x09b"), "a\tb");
        assert_eq!(unescape(r"\x2d"), "-");
        assert_eq!(unescape(r"back\\slash"), r"back\slash");
        assert_eq!(unescape(r"caf\xc3\xa9"), "café");
        assert_eq!(unescape(r"bad\xff!"), r"bad\xff!");
        assert_eq!(
            unescape(r"nul\x00 soh\x01 lf\x0a"),
            "nul\\x00 soh\\x01 lf\n"
        );
        assert_eq!(unescape(r"short\x4"), r"short\x4");
        assert_eq!(unescape(r"\q"), r"\q");
    }

    #[test]
    fn separator_escapes() {
        assert_eq!(unescape_bytes(br"\x09"), b"\t");
        assert_eq!(unescape_bytes(br"\x7c\x7c"), b"||");
        assert_eq!(unescape_bytes(b" "), b" ");
    }

    #[test]
    fn numbers_reject_what_zeek_never_writes() {
        assert_eq!(parse_unsigned("+5"), None);
        assert_eq!(parse_signed("-5"), Some(-5));
        assert_eq!(parse_signed("--5"), None);
        assert_eq!(parse_float("infinity"), Some(f64::INFINITY));
        assert_eq!(parse_float("+1.0"), None);
        assert_eq!(parse_float(""), None);
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float("-"), None);
        assert_eq!(parse_float("1.2.3"), None);
        assert_eq!(parse_unsigned("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_unsigned("18446744073709551616"), None);
        assert_eq!(parse_signed("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_signed("9223372036854775808"), None);
        assert_eq!(parse_signed("-"), None);
    }

    proptest::proptest! {
        /// The fast path for plain decimals gives the general parser's double to the bit.
        #[test]
        fn plain_decimals_read_as_the_general_parser_reads_them(
            negative: bool,
            whole in 0u64..10_000_000_000,
            fraction in 0u64..1_000_000_000,
            decimals in 0usize..10,
        ) {
            let sign = if negative { "-" } else { "" };
            let text = if decimals == 0 {
                format!("{sign}{whole}")
            } else {
                let fraction = fraction % 10u64.pow(decimals as u32);
                format!("{sign}{whole}.{fraction:0decimals$}")
            };
            let general: f64 = text.parse().unwrap();
            let read = parse_float(&text).unwrap();
            proptest::prop_assert_eq!(read.to_bits(), general.to_bits(), "{}", text);
        }

        #[test]
        fn integers_read_as_the_general_parser_reads_them(text in "-?[0-9]{0,21}") {
            proptest::prop_assert_eq!(parse_signed(&text), text.parse::<i64>().ok());
            proptest::prop_assert_eq!(parse_unsigned(&text), text.parse::<u64>().ok());
        }
    }
}
