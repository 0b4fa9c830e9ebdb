//! ISO-8601 timestamps as Zeek's JSON writer emits them (`2018-03-24T17:15:20.865716Z`), and
//! times as people read them (`2024-04-20 10:00:00`, UTC).

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

/// `2024-04-20 10:00:00`: seconds since the epoch as a UTC date and time, to the second, for
/// panels, labels and messages. `—` for a time that is not finite.
///
/// ```
/// use wiredraw_core::zeek::format_utc;
///
/// assert_eq!(format_utc(1_713_607_200.5), "2024-04-20 10:00:00");
/// ```
pub fn format_utc(t: f64) -> String {
    if !t.is_finite() {
        return "—".into();
    }
    let secs = t.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
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
    fn times_read_as_utc_dates() {
        assert_eq!(format_utc(0.0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_713_607_200.5), "2024-04-20 10:00:00");
        assert_eq!(format_utc(951_782_400.0), "2000-02-29 00:00:00");
        assert_eq!(format_utc(-0.5), "1969-12-31 23:59:59");
        assert_eq!(format_utc(f64::NAN), "—");
    }

    proptest::proptest! {
        /// What `format_utc` writes reads back as the same whole second.
        #[test]
        fn formatted_times_read_back(secs in -62_135_596_800i64..253_402_300_799) {
            let text = format_utc(secs as f64 + 0.25);
            proptest::prop_assert_eq!(parse_iso8601(&text), Some(secs as f64), "{}", text);
        }
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
