//! The Zeek logs the generator writes, with Zeek 6's default columns and types.

use super::row::OutputFormat;
use std::fmt::Write as _;

/// One of the logs the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogKind {
    Conn,
    Dns,
    Http,
    Ssl,
    Files,
    Notice,
    Software,
    Intel,
}

type Columns = &'static [(&'static str, &'static str)];

const CONN: Columns = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
];

const DNS: Columns = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("trans_id", "count"),
    ("rtt", "interval"),
    ("query", "string"),
    ("qclass", "count"),
    ("qclass_name", "string"),
    ("qtype", "count"),
    ("qtype_name", "string"),
    ("rcode", "count"),
    ("rcode_name", "string"),
    ("AA", "bool"),
    ("TC", "bool"),
    ("RD", "bool"),
    ("RA", "bool"),
    ("Z", "count"),
    ("answers", "vector[string]"),
    ("TTLs", "vector[interval]"),
    ("rejected", "bool"),
];

const HTTP: Columns = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("trans_depth", "count"),
    ("method", "string"),
    ("host", "string"),
    ("uri", "string"),
    ("referrer", "string"),
    ("version", "string"),
    ("user_agent", "string"),
    ("origin", "string"),
    ("request_body_len", "count"),
    ("response_body_len", "count"),
    ("status_code", "count"),
    ("status_msg", "string"),
    ("info_code", "count"),
    ("info_msg", "string"),
    ("tags", "set[enum]"),
    ("username", "string"),
    ("password", "string"),
    ("proxied", "set[string]"),
    ("orig_fuids", "vector[string]"),
    ("orig_filenames", "vector[string]"),
    ("orig_mime_types", "vector[string]"),
    ("resp_fuids", "vector[string]"),
    ("resp_filenames", "vector[string]"),
    ("resp_mime_types", "vector[string]"),
];

const SSL: Columns = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("version", "string"),
    ("cipher", "string"),
    ("curve", "string"),
    ("server_name", "string"),
    ("resumed", "bool"),
    ("last_alert", "string"),
    ("next_protocol", "string"),
    ("established", "bool"),
    ("ssl_history", "string"),
    ("cert_chain_fps", "vector[string]"),
    ("client_cert_chain_fps", "vector[string]"),
    ("sni_matches_cert", "bool"),
    ("validation_status", "string"),
];

/// Zeek 6 `files.log`: `uid` and `id` replaced `conn_uids`, `tx_hosts` and `rx_hosts`.
const FILES: Columns = &[
    ("ts", "time"),
    ("fuid", "string"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("source", "string"),
    ("depth", "count"),
    ("analyzers", "set[string]"),
    ("mime_type", "string"),
    ("filename", "string"),
    ("duration", "interval"),
    ("local_orig", "bool"),
    ("is_orig", "bool"),
    ("seen_bytes", "count"),
    ("total_bytes", "count"),
    ("missing_bytes", "count"),
    ("overflow_bytes", "count"),
    ("timedout", "bool"),
    ("parent_fuid", "string"),
    ("md5", "string"),
    ("sha1", "string"),
    ("sha256", "string"),
    ("extracted", "string"),
    ("extracted_cutoff", "bool"),
    ("extracted_size", "count"),
];

/// Zeek 6 `notice.log`.
const NOTICE: Columns = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("fuid", "string"),
    ("file_mime_type", "string"),
    ("file_desc", "string"),
    ("proto", "enum"),
    ("note", "enum"),
    ("msg", "string"),
    ("sub", "string"),
    ("src", "addr"),
    ("dst", "addr"),
    ("p", "port"),
    ("n", "count"),
    ("peer_descr", "string"),
    ("actions", "set[enum]"),
    ("email_dest", "set[string]"),
    ("suppress_for", "interval"),
    ("remote_location.country_code", "string"),
    ("remote_location.region", "string"),
    ("remote_location.city", "string"),
    ("remote_location.latitude", "double"),
    ("remote_location.longitude", "double"),
];

/// Zeek 6 `software.log`.
const SOFTWARE: Columns = &[
    ("ts", "time"),
    ("host", "addr"),
    ("host_p", "port"),
    ("software_type", "enum"),
    ("name", "string"),
    ("version.major", "count"),
    ("version.minor", "count"),
    ("version.minor2", "count"),
    ("version.minor3", "count"),
    ("version.addl", "string"),
    ("unparsed_version", "string"),
];

/// Zeek 6 `intel.log`.
const INTEL: Columns = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("seen.indicator", "string"),
    ("seen.indicator_type", "enum"),
    ("seen.where", "enum"),
    ("seen.node", "string"),
    ("matched", "set[enum]"),
    ("sources", "set[string]"),
    ("fuid", "string"),
    ("file_mime_type", "string"),
    ("file_desc", "string"),
];

impl LogKind {
    /// Every log, in the order [`super::SynthSummary`] reports them.
    pub const ALL: [LogKind; 8] = [
        LogKind::Conn,
        LogKind::Dns,
        LogKind::Http,
        LogKind::Ssl,
        LogKind::Files,
        LogKind::Notice,
        LogKind::Software,
        LogKind::Intel,
    ];

    /// Zeek's `#path` (and JSON `_path`) value.
    pub fn path(self) -> &'static str {
        match self {
            LogKind::Conn => "conn",
            LogKind::Dns => "dns",
            LogKind::Http => "http",
            LogKind::Ssl => "ssl",
            LogKind::Files => "files",
            LogKind::Notice => "notice",
            LogKind::Software => "software",
            LogKind::Intel => "intel",
        }
    }

    /// The file name Zeek gives the log (`.log` in both TSV and JSON mode).
    pub fn file_name(self) -> &'static str {
        match self {
            LogKind::Conn => "conn.log",
            LogKind::Dns => "dns.log",
            LogKind::Http => "http.log",
            LogKind::Ssl => "ssl.log",
            LogKind::Files => "files.log",
            LogKind::Notice => "notice.log",
            LogKind::Software => "software.log",
            LogKind::Intel => "intel.log",
        }
    }

    /// Column names and Zeek type names, in the order Zeek writes them.
    pub fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            LogKind::Conn => CONN,
            LogKind::Dns => DNS,
            LogKind::Http => HTTP,
            LogKind::Ssl => SSL,
            LogKind::Files => FILES,
            LogKind::Notice => NOTICE,
            LogKind::Software => SOFTWARE,
            LogKind::Intel => INTEL,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The header block Zeek writes before the first record (none in JSON mode).
pub(crate) fn header(kind: LogKind, format: OutputFormat, open_epoch_secs: u64) -> String {
    if format == OutputFormat::Json {
        return String::new();
    }
    let mut out = String::new();
    out.push_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n");
    let _ = writeln!(out, "#path\t{}", kind.path());
    let _ = writeln!(out, "#open\t{}", zeek_log_time(open_epoch_secs));
    let names = kind.fields().iter().map(|(name, _)| *name);
    let types = kind.fields().iter().map(|(_, zeek_type)| *zeek_type);
    let _ = writeln!(out, "#fields\t{}", names.collect::<Vec<_>>().join("\t"));
    let _ = writeln!(out, "#types\t{}", types.collect::<Vec<_>>().join("\t"));
    out
}

/// The footer Zeek writes when it closes a log (none in JSON mode).
pub(crate) fn footer(format: OutputFormat, close_epoch_secs: u64) -> String {
    match format {
        OutputFormat::Json => String::new(),
        OutputFormat::Tsv => format!("#close\t{}\n", zeek_log_time(close_epoch_secs)),
    }
}

/// `YYYY-MM-DD-HH-MM-SS` in UTC, the format of Zeek's `#open` and `#close` lines.
fn zeek_log_time(epoch_secs: u64) -> String {
    let days = epoch_secs / 86_400;
    let secs = epoch_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}-{:02}-{:02}-{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_times_match_zeek_format() {
        assert_eq!(zeek_log_time(0), "1970-01-01-00-00-00");
        assert_eq!(zeek_log_time(1_713_484_801), "2024-04-19-00-00-01");
        assert_eq!(zeek_log_time(951_782_400), "2000-02-29-00-00-00");
    }

    #[test]
    fn header_lists_every_column_with_its_type() {
        let h = header(LogKind::Conn, OutputFormat::Tsv, 0);
        let fields = h.lines().find(|l| l.starts_with("#fields")).unwrap();
        let types = h.lines().find(|l| l.starts_with("#types")).unwrap();
        assert_eq!(fields.split('\t').count(), 22);
        assert_eq!(types.split('\t').count(), 22);
        assert!(
            fields
                .starts_with("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto")
        );
        assert!(types.ends_with("\tset[string]"));
    }
}
