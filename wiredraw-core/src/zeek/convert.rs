//! Turning one TSV field into a typed [`Value`] by its declared type.

use super::addr::{parse_dotted_quad, parse_general_addr, parse_subnet};
use crate::value::{FieldType, Value};
use compact_str::CompactString;
use std::net::IpAddr;

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

/// A separator that is not text (`#separator \xc3`, say) can fall inside a character.
pub(crate) const CUT_INSIDE_A_CHARACTER: ConvertError =
    "a separator cuts this value inside a UTF-8 character";

/// A column's declared type, flattened once per header block so the per-field loop follows no
/// boxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    One(Scalar),
    Set(Scalar),
    Vector(Scalar),
}

/// The type of one value (or of a container's elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Bool,
    Count,
    Int,
    Double,
    Time,
    Interval,
    Addr,
    Subnet,
    Port,
    Enum,
    Pattern,
    /// `string`, and the type names this reader does not know (kept as strings).
    String,
    /// A container inside a container, which Zeek's TSV cannot write.
    Container,
}

impl Column {
    pub(crate) fn of(ty: &FieldType) -> Column {
        match ty {
            FieldType::Set(inner) => Column::Set(Scalar::of(inner)),
            FieldType::Vector(inner) => Column::Vector(Scalar::of(inner)),
            other => Column::One(Scalar::of(other)),
        }
    }
}

impl Scalar {
    fn of(ty: &FieldType) -> Scalar {
        match ty {
            FieldType::Bool => Scalar::Bool,
            FieldType::Count => Scalar::Count,
            FieldType::Int => Scalar::Int,
            FieldType::Double => Scalar::Double,
            FieldType::Time => Scalar::Time,
            FieldType::Interval => Scalar::Interval,
            FieldType::Addr => Scalar::Addr,
            FieldType::Subnet => Scalar::Subnet,
            FieldType::Port => Scalar::Port,
            FieldType::Enum => Scalar::Enum,
            FieldType::Pattern => Scalar::Pattern,
            FieldType::String | FieldType::Other(_) => Scalar::String,
            FieldType::Set(_) | FieldType::Vector(_) => Scalar::Container,
        }
    }
}

/// Converts one field into `slot`, which holds the same column's value of an earlier record (or
/// [`Value::Unset`]). `-` (the unset marker) is [`Value::Unset`]; `(empty)` is an empty
/// container, or an empty string for textual types.
///
/// A column's values nearly always have one type, so the new value usually overwrites the old
/// one's payload in place, keeping a string's buffer. Building a whole new `Value` instead made
/// the compiler assemble it on the stack in pieces and copy it in 16-byte loads that waited on
/// those stores (a store-forwarding stall that took a fifth of the reader's time).
#[inline(always)]
pub(crate) fn convert_into<'a>(
    bytes: &'a [u8],
    text: impl FnOnce() -> Option<&'a str>,
    column: Column,
    markers: &Markers,
    escaped: Escaped,
    slot: &mut Value,
) -> Result<(), ConvertError> {
    if is_marker(bytes, &markers.unset_field) {
        // An unset column is often unset line after line: then there is nothing to drop.
        if !slot.is_unset() {
            *slot = Value::Unset;
        }
        return Ok(());
    }
    match column {
        Column::Set(inner) | Column::Vector(inner) => {
            let mut items = match std::mem::replace(slot, Value::Unset) {
                Value::Set(items) | Value::Vector(items) => items,
                _ => Vec::new(),
            };
            items.clear();
            let text = text().ok_or(CUT_INSIDE_A_CHARACTER)?;
            convert_items(text, inner, markers, escaped, &mut items)?;
            *slot = match column {
                Column::Vector(_) => Value::Vector(items),
                _ => Value::Set(items),
            };
            Ok(())
        }
        Column::One(scalar) => {
            // Only strings can be empty. A number or an address never looks like `(empty)`,
            // so for them the marker is looked for only once the value failed, to say why (a
            // check on every field cost 3 %); a marker that reads as the type
            // (`#empty_field 0`) is that value. One call site keeps one inlined copy.
            let empty = Some(markers.empty_field.as_str());
            convert_scalar(bytes, text, scalar, escaped, empty, slot).map_err(|reason| {
                if is_marker(bytes, &markers.empty_field) {
                    "empty value for a non-string type"
                } else {
                    reason
                }
            })
        }
    }
}

/// Whether a field may hold a backslash escape. The separator search tells it for a whole line
/// at no cost, and most lines have none, so their strings are copied without a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escaped {
    No,
    Maybe,
}

/// Whether a field is exactly a marker. Length and first byte are compared first: most fields
/// differ from `-` there, and the one-byte markers then need no call to `memcmp`.
fn is_marker(text: &[u8], marker: &str) -> bool {
    let marker = marker.as_bytes();
    text.len() == marker.len()
        && text.first() == marker.first()
        && (text.len() == 1 || text == marker)
}

fn convert_items(
    text: &str,
    inner: Scalar,
    markers: &Markers,
    escaped: Escaped,
    items: &mut Vec<Value>,
) -> Result<(), ConvertError> {
    if is_marker(text.as_bytes(), &markers.empty_field) {
        return Ok(());
    }
    let sep = &markers.set_separator;
    let mut push = |item: &str| -> Result<(), ConvertError> {
        let mut value = Value::Unset;
        if !is_marker(item.as_bytes(), &markers.unset_field) {
            convert_scalar(
                item.as_bytes(),
                || Some(item),
                inner,
                escaped,
                None,
                &mut value,
            )?;
        }
        items.push(value);
        Ok(())
    };
    let bytes = text.as_bytes();
    let mut start = 0;
    if let [single] = sep.as_slice() {
        for end in memchr::memchr_iter(*single, bytes) {
            push(text.get(start..end).ok_or(CUT_INSIDE_A_CHARACTER)?)?;
            start = end + 1;
        }
    } else if !sep.is_empty() {
        for end in memchr::memmem::find_iter(bytes, sep) {
            if end >= start {
                push(text.get(start..end).ok_or(CUT_INSIDE_A_CHARACTER)?)?;
                start = end + sep.len();
            }
        }
    }
    push(text.get(start..).ok_or(CUT_INSIDE_A_CHARACTER)?)
}

/// The longest string a `CompactString` keeps inline, without a heap buffer.
const MAX_INLINE_LEN: usize = std::mem::size_of::<CompactString>();

/// Stores `$value` as variant `$variant` in `$slot`: in place when the slot already holds that
/// variant, replacing whatever it held otherwise.
macro_rules! overwrite {
    ($slot:expr, $variant:ident, $value:expr) => {{
        let value = $value;
        match $slot {
            Value::$variant(old) => *old = value,
            other => *other = Value::$variant(value),
        }
    }};
}

/// Converts one scalar into `slot` (see [`convert_into`]).
///
/// A string that is exactly `empty_marker` is the empty string. Only the string arms look at
/// it, so the column's type is told apart once per field.
#[inline(always)]
fn convert_scalar<'a>(
    bytes: &'a [u8],
    text: impl FnOnce() -> Option<&'a str>,
    scalar: Scalar,
    escaped: Escaped,
    empty_marker: Option<&str>,
    slot: &mut Value,
) -> Result<(), ConvertError> {
    match scalar {
        Scalar::Bool => overwrite!(
            slot,
            Bool,
            match bytes {
                b"T" => true,
                b"F" => false,
                _ => return Err("not a bool (T or F)"),
            }
        ),
        Scalar::Count => overwrite!(slot, Count, parse_unsigned(bytes).ok_or("not a count")?),
        Scalar::Int => overwrite!(slot, Int, parse_signed(bytes).ok_or("not an int")?),
        Scalar::Double => overwrite!(slot, Double, parse_float(bytes).ok_or("not a double")?),
        // Zeek writes `nan` and `inf` for doubles, but never for a moment or a span of time.
        Scalar::Time => overwrite!(slot, Time, parse_finite(bytes).ok_or("not a finite time")?),
        Scalar::Interval => overwrite!(
            slot,
            Interval,
            parse_finite(bytes).ok_or("not a finite interval")?
        ),
        // The dotted quad comes back in a register; `parse_addr`'s whole `IpAddr` came back
        // through memory and stalled the load that followed.
        Scalar::Addr => match parse_dotted_quad(bytes) {
            Some(v4) => overwrite!(slot, Addr, IpAddr::V4(v4)),
            None => overwrite!(
                slot,
                Addr,
                text()
                    .and_then(parse_general_addr)
                    .ok_or("not an address")?
            ),
        },
        Scalar::Subnet => {
            let (addr, len) = text().and_then(parse_subnet).ok_or("not a subnet")?;
            *slot = Value::Subnet(addr, len);
        }
        Scalar::Port => {
            let port = parse_unsigned(bytes).ok_or("not a port")?;
            overwrite!(
                slot,
                Port,
                u16::try_from(port).map_err(|_| "port out of range")?
            )
        }
        Scalar::Container => return Err("nested container"),
        Scalar::Enum | Scalar::Pattern | Scalar::String => {
            // Only strings are cut from their line as text: cutting every field as text (which
            // checks that both ends fall between characters) cost 5 %.
            let text = text().ok_or(CUT_INSIDE_A_CHARACTER)?;
            let (text, escaped) = match empty_marker {
                Some(marker) if is_marker(bytes, marker) => ("", Escaped::No),
                _ => (text, escaped),
            };
            match (scalar, &mut *slot) {
                (Scalar::Enum, Value::Enum(old))
                | (Scalar::Pattern, Value::Pattern(old))
                | (Scalar::String, Value::String(old)) => {
                    if escaped == Escaped::No && text.len() <= MAX_INLINE_LEN {
                        *old = CompactString::new(text);
                    } else {
                        old.clear();
                        unescape_into(text, escaped, old);
                    }
                }
                _ => {
                    let mut new = CompactString::default();
                    unescape_into(text, escaped, &mut new);
                    *slot = match scalar {
                        Scalar::Enum => Value::Enum(new),
                        Scalar::Pattern => Value::Pattern(new),
                        _ => Value::String(new),
                    };
                }
            }
        }
    }
    Ok(())
}

/// Digits only: Rust's integer parsers also take a leading `+`, which Zeek never writes.
fn parse_unsigned(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    // Nineteen digits cannot overflow, so the common case skips the checks.
    let short = bytes.len() <= 19;
    bytes.iter().try_fold(0u64, |value, &byte| {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        if short {
            Some(value * 10 + u64::from(digit))
        } else {
            value.checked_mul(10)?.checked_add(u64::from(digit))
        }
    })
}

fn parse_signed(text: &[u8]) -> Option<i64> {
    match text.strip_prefix(b"-") {
        Some(digits) => 0i64.checked_sub_unsigned(parse_unsigned(digits)?),
        None => i64::try_from(parse_unsigned(text)?).ok(),
    }
}

/// Zeek writes doubles as decimals (`%.6f`), possibly `inf`/`-inf`/`nan`; anything with
/// letters other than those is rejected (Rust would take `infinity`, `1e5` is fine).
fn parse_float(text: &[u8]) -> Option<f64> {
    let first = *text.first()?;
    if !(first.is_ascii_digit() || first == b'-' || first == b'.' || first == b'i' || first == b'n')
    {
        return None;
    }
    parse_plain_decimal(text).or_else(|| std::str::from_utf8(text).ok()?.parse().ok())
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
fn parse_plain_decimal(text: &[u8]) -> Option<f64> {
    let (negative, body) = match text.strip_prefix(b"-") {
        Some(body) => (true, body),
        None => (false, text),
    };
    let sign = if negative { -1.0 } else { 1.0 };
    // Zeek writes times and intervals with six decimals (`%.6f`): read those without looking
    // for the point byte by byte. Thirteen digits before it keep the integer within 19 digits.
    if let Some(point) = body.len().checked_sub(7)
        && point <= 13
        && body[point] == b'.'
    {
        let whole = match point.checked_sub(8) {
            Some(lead) => {
                let last_eight = u64::from_le_bytes(*body[lead..].first_chunk::<8>()?);
                read_digits(&body[..lead])? * 100_000_000 + eight_digits(last_eight)?
            }
            None => read_digits(&body[..point])?,
        };
        let fraction = match body.last_chunk::<8>() {
            // The fraction's six digits, after the two bytes before them (a digit and the
            // point) as zeros.
            Some(&last) => eight_digits((u64::from_le_bytes(last) & !0xffff) | 0x3030)?,
            None => read_digits(&body[point + 1..])?,
        };
        let mantissa = whole * 1_000_000 + fraction;
        return (mantissa < 1 << 53).then(|| sign * (mantissa as f64 / 1e6));
    }
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
    Some(sign * (mantissa as f64 / EXACT_POWERS_OF_TEN.get(decimals)?))
}

/// The number eight bytes spell (read little-endian from text into `word`) when all are decimal
/// digits, read at once: the digits' pairs, then quads, combined by three multiplications.
fn eight_digits(word: u64) -> Option<u64> {
    let digits = word.wrapping_sub(0x3030_3030_3030_3030);
    // A byte below `0` borrows and one above `9` carries into its top bit.
    if (digits | digits.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 != 0 {
        return None;
    }
    let pairs = (digits * 10 + (digits >> 8)) & 0x00ff_00ff_00ff_00ff;
    let quads = (pairs * 100 + (pairs >> 16)) & 0x0000_ffff_0000_ffff;
    Some((quads * 10_000 + (quads >> 32)) & 0xffff_ffff)
}

/// The number the decimal digits of `text` spell (0 for none); `None` if one is not a digit.
/// The caller keeps `text` short enough not to overflow.
fn read_digits(text: &[u8]) -> Option<u64> {
    text.iter().try_fold(0u64, |value, &byte| {
        let digit = byte.wrapping_sub(b'0');
        (digit <= 9).then(|| value * 10 + u64::from(digit))
    })
}

fn parse_finite(text: &[u8]) -> Option<f64> {
    parse_float(text).filter(|x| x.is_finite())
}

/// Appends `text` to `out` with Zeek's TSV escapes undone: `\xNN` is the byte NN and `\\` a
/// backslash.
///
/// Bytes that do not form UTF-8 once unescaped, and control bytes other than whitespace, are
/// kept as the text `\xNN`, the way Zeek's JSON writer writes them, so one value reads the same
/// from TSV and JSON.
fn unescape_into(text: &str, escaped: Escaped, out: &mut CompactString) {
    let bytes = text.as_bytes();
    let first = match escaped {
        Escaped::No => None,
        Escaped::Maybe => memchr::memchr(b'\\', bytes),
    };
    let Some(first) = first else {
        out.push_str(text);
        return;
    };
    let mut unescaped = Vec::with_capacity(bytes.len());
    unescaped.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' {
            match bytes.get(i + 1) {
                Some(b'\\') => {
                    unescaped.push(b'\\');
                    i += 2;
                    continue;
                }
                Some(b'x') => {
                    if let Some(byte) = bytes.get(i + 2..i + 4).and_then(hex_byte) {
                        if kept_escaped(byte) {
                            unescaped.extend_from_slice(format!("\\x{byte:02x}").as_bytes());
                        } else {
                            unescaped.push(byte);
                        }
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        unescaped.push(b);
        i += 1;
    }
    match String::from_utf8(unescaped) {
        Ok(text) => out.push_str(&text),
        Err(e) => out.push_str(&escape_invalid_utf8(e.as_bytes())),
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

    fn unescape(text: &str) -> CompactString {
        let mut out = CompactString::default();
        unescape_into(text, Escaped::Maybe, &mut out);
        out
    }

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
        assert_eq!(parse_unsigned(b"+5"), None);
        assert_eq!(parse_signed(b"-5"), Some(-5));
        assert_eq!(parse_signed(b"--5"), None);
        assert_eq!(parse_float(b"infinity"), Some(f64::INFINITY));
        assert_eq!(parse_float(b"+1.0"), None);
        assert_eq!(parse_float(b""), None);
        assert_eq!(parse_float(b"."), None);
        assert_eq!(parse_float(b"-"), None);
        assert_eq!(parse_float(b"1.2.3"), None);
        assert_eq!(parse_unsigned(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_unsigned(b"18446744073709551616"), None);
        assert_eq!(parse_signed(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_signed(b"9223372036854775808"), None);
        assert_eq!(parse_signed(b"-"), None);
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
            let read = parse_float(text.as_bytes()).unwrap();
            proptest::prop_assert_eq!(read.to_bits(), general.to_bits(), "{}", text);
        }

        /// Any mix of digits, points and minus signs reads as the general parser reads it.
        #[test]
        fn decimal_looking_text_reads_as_the_general_parser_reads_it(text in "-?[0-9.]{0,24}|[0-9]{0,24}[.:/a-]?[0-9]{0,12}") {
            let general: Option<f64> = text.parse().ok();
            proptest::prop_assert_eq!(parse_float(text.as_bytes()).map(f64::to_bits), general.map(f64::to_bits), "{}", text);
        }

        /// Zeek's six-decimal times and intervals, up to thirteen digits before the point and
        /// past it (where the fast path hands over), read as the general parser reads them.
        #[test]
        fn six_decimal_numbers_read_as_the_general_parser_reads_them(
            negative: bool,
            whole in 0u64..100_000_000_000_000,
            fraction in 0u64..1_000_000,
        ) {
            let sign = if negative { "-" } else { "" };
            let text = format!("{sign}{whole}.{fraction:06}");
            let general: f64 = text.parse().unwrap();
            proptest::prop_assert_eq!(parse_float(text.as_bytes()).map(f64::to_bits), Some(general.to_bits()), "{}", text);
        }

        /// A six-decimal number with any one byte changed reads as the general parser reads
        /// it: the eight digits read at once must turn down what is not a digit.
        #[test]
        fn six_decimal_numbers_with_a_stray_byte_read_as_the_general_parser_reads_them(
            whole in 0u64..100_000_000_000_000,
            fraction in 0u64..1_000_000,
            at: proptest::sample::Index,
            // Not `+`, which Rust's parser takes and Zeek never writes.
            byte in proptest::sample::select(b"/:.-e ia\x00\x7f".to_vec()),
        ) {
            let mut text = format!("{whole}.{fraction:06}").into_bytes();
            let at = at.index(text.len());
            text[at] = byte;
            let text = String::from_utf8(text).expect("ASCII");
            let general: Option<f64> = text.parse().ok();
            proptest::prop_assert_eq!(parse_float(text.as_bytes()).map(f64::to_bits), general.map(f64::to_bits), "{}", text);
        }

        #[test]
        fn integers_read_as_the_general_parser_reads_them(text in "-?[0-9]{0,21}") {
            proptest::prop_assert_eq!(parse_signed(text.as_bytes()), text.parse::<i64>().ok());
            proptest::prop_assert_eq!(parse_unsigned(text.as_bytes()), text.parse::<u64>().ok());
        }
    }
}
