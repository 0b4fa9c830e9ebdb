//! ISO-8601 timestamps as Zeek's JSON writer emits them (`2018-03-24T17:15:20.865716Z`).

/// Seconds since the Unix epoch of an ISO-8601 / RFC 3339 timestamp:
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)` (a space may stand for the `T`; no zone
/// means UTC). The result is exactly the `f64` that parsing the same instant written as decimal
/// epoch seconds gives, so TSV and JSON logs of one run compare equal.
pub fn parse_iso8601(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut fraction = "";
    if let Some(after_dot) = rest.strip_prefix('.') {
        let n = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        fraction = &after_dot[..n];
        rest = &after_dot[n..];
    }
    let offset = zone_offset_seconds(rest)?;
    let days = days_from_civil(year, month, day);
    let seconds =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
            - offset;
    // Through decimal text so rounding is the same as for `1521911720.865716` read from TSV.
    let decimal = if fraction.is_empty() {
        format!("{seconds}")
    } else if seconds >= 0 {
        format!("{seconds}.{fraction}")
    } else {
        // -1.25 s is written -2 + 0.75: negate the fraction's complement instead.
        let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
        let frac: u128 = fraction.parse().ok()?;
        let whole = seconds.unsigned_abs() as u128 * scale - frac;
        let width = fraction.len();
        format!(
            "-{}.{:0width$}",
            whole / scale,
            whole % scale,
            width = width
        )
    };
    decimal.parse().ok()
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// `Z`, `+HH:MM`, `-HH:MM`, `+HHMM`, `+HH`, or nothing (UTC).
fn zone_offset_seconds(zone: &str) -> Option<i64> {
    let b = zone.as_bytes();
    match b {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let offset = i64::from(h * 3600 + m * 60);
            Some(if *sign == b'-' { -offset } else { offset })
        }
        _ => None,
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_decimal_epoch_text() {
        assert_eq!(
            parse_iso8601("2018-03-24T17:15:20.865716Z"),
            Some("1521911720.865716".parse().unwrap())
        );
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_iso8601("2000-02-29 12:00:00"), Some(951_825_600.0));
        assert_eq!(parse_iso8601("1969-12-31T23:59:58.75Z"), Some(-1.25));
    }

    #[test]
    fn zones_shift_to_utc() {
        let utc = parse_iso8601("2024-04-19T10:00:00Z").unwrap();
        assert_eq!(parse_iso8601("2024-04-19T12:30:00+02:30"), Some(utc));
        assert_eq!(parse_iso8601("2024-04-19T05:00:00-0500"), Some(utc));
        assert_eq!(parse_iso8601("2024-04-19T11:00:00+01"), Some(utc));
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in [
            "2018-02-30T00:00:00Z",
            "2018-13-01T00:00:00Z",
            "2018-03-24T24:00:00Z",
            "2018-03-24T17:15:20.Z",
            "2018-03-24T17:15:20ZZ",
            "2018-03-24",
            "not a time at all!!",
            "2018-03-24T17:15:20+2400",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }
}
