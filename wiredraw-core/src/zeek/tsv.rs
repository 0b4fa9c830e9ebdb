//! Zeek's tab-separated format: header blocks and data lines.

use super::convert::{Column, Escaped, Markers, convert_into, unescape_bytes};
use super::error::LineErrorKind;
use crate::record::Schema;
use crate::value::{FieldType, Value};
use std::sync::Arc;

/// The header lines that (re)start a header block when they follow data lines.
const BLOCK_KEYS: &[&str] = &[
    "set_separator",
    "empty_field",
    "unset_field",
    "path",
    "open",
    "fields",
    "types",
];

/// What the current header block has said so far.
#[derive(Debug, Clone)]
struct Header {
    separator: Vec<u8>,
    markers: Markers,
    path: Option<Arc<str>>,
    fields: Option<Vec<Arc<str>>>,
    types: Option<Vec<FieldType>>,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            separator: b"\t".to_vec(),
            markers: Markers::default(),
            path: None,
            fields: None,
            types: None,
        }
    }
}

/// Reads the TSV format line by line, tracking header blocks.
#[derive(Clone)]
pub(crate) struct TsvState {
    header: Header,
    /// The previous line was a header line, so the block is still being described.
    in_header: bool,
    /// The schema of the current block, or why it has none.
    schema: Result<Arc<Schema>, String>,
    /// How each column of the schema converts.
    columns: Vec<Column>,
    /// Where the separators of the current line are (reused from line to line).
    separators: Vec<usize>,
    /// Whether any block so far had a usable schema.
    ever_usable: bool,
    default_path: Option<Arc<str>>,
}

impl TsvState {
    /// Whether `line` holds the field separator: a row of empty fields is data to reject, not a
    /// blank line to skip.
    pub(crate) fn has_separator(&self, line: &[u8]) -> bool {
        memchr::memmem::find(line, &self.header.separator).is_some()
    }

    pub(crate) fn new(default_path: Option<Arc<str>>) -> TsvState {
        TsvState {
            header: Header::default(),
            in_header: true,
            schema: Err("no #fields header".into()),
            columns: Vec::new(),
            separators: Vec::new(),
            ever_usable: false,
            default_path,
        }
    }

    /// The schema records are currently read with.
    pub(crate) fn schema(&self) -> Option<&Arc<Schema>> {
        self.schema.as_ref().ok()
    }

    /// Takes in one `#` line.
    pub(crate) fn header_line(&mut self, line: &[u8]) {
        let body = &line[1..];
        if let Some(value) = body
            .strip_prefix(b"separator")
            .and_then(|rest| rest.strip_prefix(b" ").or_else(|| rest.strip_prefix(b"\t")))
        {
            // `#separator` opens every Zeek header block and resets it.
            self.header = Header::default();
            self.header.separator = unescape_bytes(value);
            if self.header.separator.is_empty() {
                self.header.separator = b"\t".to_vec();
            }
            self.in_header = true;
            return;
        }
        let sep = self.header.separator.as_slice();
        let (key, value) = match memchr::memmem::find(body, sep) {
            Some(at) => (&body[..at], &body[at + sep.len()..]),
            None => (body, &b""[..]),
        };
        let Ok(key) = std::str::from_utf8(key) else {
            return;
        };
        if !BLOCK_KEYS.contains(&key) {
            // `#close` and free comments neither start nor change a block.
            return;
        }
        if !self.in_header {
            self.header.path = None;
            self.header.fields = None;
            self.header.types = None;
            self.in_header = true;
        }
        let text = String::from_utf8_lossy(value);
        match key {
            "set_separator" => self.header.markers.set_separator = value.to_vec(),
            "empty_field" => self.header.markers.empty_field = text.into_owned(),
            "unset_field" => self.header.markers.unset_field = text.into_owned(),
            "path" => self.header.path = Some(text.as_ref().into()),
            "fields" => {
                self.header.fields = Some(split(value, sep).map(|f| f.as_ref().into()).collect())
            }
            "types" => {
                self.header.types = Some(split(value, sep).map(|t| FieldType::parse(&t)).collect())
            }
            _ => {} // `#open`: when the file was opened, nothing to keep.
        }
    }

    /// Whether the header block is still being described (no data line since its last header).
    pub(crate) fn in_header(&self) -> bool {
        self.in_header
    }

    /// Takes note of a data line without reading it: the header block before it is complete.
    #[inline]
    pub(crate) fn data_line_seen(&mut self) {
        if self.in_header {
            self.finish_header();
        }
    }

    /// Ends the header block before the first data line after it. Once per block: kept out of
    /// line, so that the check before every data line stays small.
    #[cold]
    #[inline(never)]
    fn finish_header(&mut self) {
        self.in_header = false;
        self.schema = match (&self.header.fields, &self.header.types) {
            (None, _) => Err("no #fields header".into()),
            (Some(_), None) => Err("#fields without #types".into()),
            (Some(fields), Some(types)) if fields.len() != types.len() => Err(format!(
                "#fields names {} columns but #types {}",
                fields.len(),
                types.len()
            )),
            (Some(fields), _) if let Some(name) = repeated(fields) => {
                Err(format!("#fields names {name:?} twice"))
            }
            (Some(fields), Some(types)) => {
                let path = self
                    .header
                    .path
                    .clone()
                    .or_else(|| self.default_path.clone())
                    .unwrap_or_else(|| super::UNKNOWN_PATH.into());
                Ok(Arc::new(Schema {
                    path,
                    names: fields.clone(),
                    types: types.clone(),
                }))
            }
        };
        self.columns = match &self.schema {
            Ok(schema) => schema.types.iter().map(Column::of).collect(),
            Err(_) => Vec::new(),
        };
        self.ever_usable |= self.schema.is_ok();
    }

    /// Reads one data line into `values`, one value per column, overwriting what they held.
    pub(crate) fn data_line(
        &mut self,
        line: &str,
        values: &mut Vec<Value>,
    ) -> Result<(), LineErrorKind> {
        self.data_line_seen();
        let schema = match &self.schema {
            Ok(schema) => schema,
            Err(reason) if !self.ever_usable => {
                return Err(LineErrorKind::NoUsableHeader(reason.clone()));
            }
            Err(reason) => return Err(LineErrorKind::BadHeader(reason.clone())),
        };
        let sep = self.header.separator.as_slice();
        let separators = &mut self.separators;
        separators.clear();
        let escaped = match sep {
            [single] => find_byte(line.as_bytes(), *single, separators),
            _ => {
                separators.extend(memchr::memmem::find_iter(line.as_bytes(), sep));
                memchr::memchr(b'\\', line.as_bytes()).is_some()
            }
        };
        let escaped = if escaped { Escaped::Maybe } else { Escaped::No };
        let expected = self.columns.len();
        let found = separators.len() + 1;
        if found != expected {
            return Err(LineErrorKind::FieldCount { expected, found });
        }
        // The previous record's values stay to be overwritten in place (see `convert_into`).
        values.truncate(expected);
        values.resize_with(expected, || Value::Unset);
        // The line's end closes the last field, as a separator closes the others.
        separators.push(line.len());
        let mut start = 0;
        for (index, ((&column, &end), slot)) in self
            .columns
            .iter()
            .zip(separators.iter())
            .zip(values.iter_mut())
            .enumerate()
        {
            let field = &line.as_bytes()[start..end];
            let text = || line.get(start..end);
            if let Err(reason) =
                convert_into(field, text, column, &self.header.markers, escaped, slot)
            {
                return Err(bad_value(schema, index, field, reason));
            }
            start = end + sep.len();
        }
        Ok(())
    }
}

/// The error for a field that is not of its column's type. Kept out of line: the loop over
/// fields stays small.
#[cold]
#[inline(never)]
fn bad_value(schema: &Schema, column: usize, field: &[u8], reason: &str) -> LineErrorKind {
    LineErrorKind::BadValue {
        field: schema.names[column].to_string(),
        ty: schema.types[column].to_string(),
        value: clip(&String::from_utf8_lossy(field)),
        reason: reason.into(),
    }
}

/// Appends the position of every `byte` in `line` to `found`, and tells whether the line holds
/// a backslash (so whether any field may need unescaping).
///
/// Fields average a few bytes, so one pass over the line sixteen bytes at a time, with vector
/// compares, beats a search call per field (and the eight-byte word tricks before it, by 7 %).
fn find_byte(line: &[u8], byte: u8, found: &mut Vec<usize>) -> bool {
    let (blocks, tail) = line.as_chunks::<BLOCK>();
    let mut escapes = 0;
    // `seen` bytes at the start of the block were scanned with the block before.
    let mut scan = |block: &[u8; BLOCK], offset: usize, seen: usize| {
        let (matches, backslashes) = block_masks(block, byte);
        let unseen = u32::MAX << seen;
        escapes |= backslashes & unseen;
        let mut matches = matches & unseen;
        while matches != 0 {
            found.push(offset + matches.trailing_zeros() as usize);
            matches &= matches - 1;
        }
    };
    for (index, block) in blocks.iter().enumerate() {
        scan(block, index * BLOCK, 0);
    }
    if !tail.is_empty() {
        // The line's last sixteen bytes, read where they are: a copy into a padded block was
        // read back before its bytes had reached the cache, which stalled every line.
        match line.last_chunk::<BLOCK>() {
            Some(last) => scan(last, line.len() - BLOCK, BLOCK - tail.len()),
            None => {
                // Padding that is neither the byte sought nor a backslash.
                let mut last = [if byte == 0 { 1 } else { 0 }; BLOCK];
                last[..tail.len()].copy_from_slice(tail);
                scan(&last, 0, 0);
            }
        }
    }
    escapes != 0
}

/// Bytes compared at once: one SSE2 register, which every x86-64 has.
const BLOCK: usize = 16;

/// One bit per byte of `block`: which are `byte`, and which are a backslash.
#[inline(always)]
fn block_masks(block: &[u8; BLOCK], byte: u8) -> (u32, u32) {
    let block = wide::u8x16::new(*block);
    let bits = |sought: u8| block.cmp_eq(wide::u8x16::splat(sought)).move_mask() as u32;
    (bits(byte), bits(b'\\'))
}

/// The first field name that appears more than once: which column a query meant would be a guess.
fn repeated(fields: &[Arc<str>]) -> Option<&str> {
    let mut seen = std::collections::HashSet::with_capacity(fields.len());
    fields
        .iter()
        .find(|name| !seen.insert(&***name))
        .map(|name| &**name)
}

/// Splits a header value on the separator, as text.
fn split<'a>(value: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = std::borrow::Cow<'a, str>> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memmem::find(current, sep) {
            Some(at) if !sep.is_empty() => {
                rest = Some(&current[at + sep.len()..]);
                Some(String::from_utf8_lossy(&current[..at]))
            }
            _ => {
                rest = None;
                Some(String::from_utf8_lossy(current))
            }
        }
    })
}

/// A field's text for an error message, cut to a readable length.
fn clip(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::find_byte;

    proptest::proptest! {
        /// Every separator is found, in order, whatever the line's length against the blocks
        /// (a NUL separator included, which the tail's padding must not fake), and a backslash
        /// anywhere is noticed.
        #[test]
        fn separators_and_backslashes_are_found(
            line in proptest::collection::vec(proptest::sample::select(vec![0u8, b'\t', b'\\', b'a', b'1', 0xc3, b'|']), 0..80),
            byte in proptest::sample::select(vec![0u8, b'\t', b'|', b'a']),
        ) {
            let mut found = Vec::new();
            let escaped = find_byte(&line, byte, &mut found);
            let expected: Vec<usize> = (0..line.len()).filter(|&at| line[at] == byte).collect();
            proptest::prop_assert_eq!(found, expected);
            proptest::prop_assert_eq!(escaped, line.contains(&b'\\'));
        }
    }
}
