//! Reading CSV files safely: UTF-8 with or without BOM, quoted newlines, empty lines skipped,
//! every row checked against the header's width, every value checked for UTF-8 and size.
//! Anything else is a [`Problem`] naming the file, line and column, never a panic.

use crate::problem::Problem;
use crate::source::Source;
use csv::ByteRecord;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};

/// Longest value accepted in one cell. Real CRM fields are far shorter; a longer one is a
/// sign of a broken file (an unclosed quote swallowing the rest).
pub(crate) const MAX_VALUE_BYTES: usize = 64 * 1024;

/// A row that cannot be read: either that row alone is bad (reading goes on), or the file
/// cannot be read further.
pub(crate) enum RowError {
    Row(Problem),
    Fatal(Problem),
}

/// An open CSV file positioned after its header.
pub(crate) struct CsvFile {
    pub name: String,
    pub headers: Vec<String>,
    pub size: u64,
    /// Rows in the file, estimated from the length of its first lines.
    pub estimated_rows: u64,
    reader: csv::Reader<BufReader<Box<dyn Input>>>,
    line_end: LineEnd,
    /// Whether the last byte is a `\n`: if not, the last record has no line end.
    ends_with_line_end: bool,
}

/// How a file's lines end, as its first line ends; it decides how lines are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineEnd {
    Lf,
    CrLf,
    /// Old Mac files: `\r` alone.
    Cr,
}

impl LineEnd {
    fn of(head: &[u8]) -> Self {
        match head.iter().position(|byte| matches!(byte, b'\r' | b'\n')) {
            Some(at) if head[at] == b'\r' => {
                if head.get(at + 1) == Some(&b'\n') {
                    Self::CrLf
                } else {
                    Self::Cr
                }
            }
            _ => Self::Lf,
        }
    }
}

/// What a CSV is read from: a file, or a text in memory.
trait Input: Read + Seek + Send {}

impl<T: Read + Seek + Send> Input for T {}

/// One data row: its line number and its fields, already checked to be UTF-8.
pub(crate) struct Row<'a> {
    pub line: u64,
    record: &'a ByteRecord,
    /// All of the record's fields, checked once as one text.
    text: &'a str,
}

impl Row<'_> {
    /// The trimmed value of a column, `None` when empty.
    pub fn get(&self, index: usize) -> Option<&str> {
        // Every field starts and ends on a character boundary (checked in `check_record`).
        let text = self.text.get(self.record.range(index)?)?.trim();
        (!text.is_empty()).then_some(text)
    }
}

impl CsvFile {
    /// Opens a file (or a text in memory) and reads its header. An empty one is a problem.
    pub fn open(source: &Source) -> Result<Self, Problem> {
        let name = source.name();
        let (mut file, size): (Box<dyn Input>, u64) = match source {
            Source::File(path) => {
                let file = File::open(path)
                    .map_err(|error| Problem::file(&name, format!("cannot open: {error}")))?;
                let size = file.metadata().map(|meta| meta.len()).unwrap_or(0);
                (Box::new(file), size)
            }
            Source::Text { bytes, .. } => {
                (Box::new(Cursor::new(bytes.clone())), bytes.len() as u64)
            }
        };
        let mut head = vec![0u8; 8192];
        let read = read_up_to(&mut *file, &mut head)
            .map_err(|error| Problem::file(&name, format!("cannot read: {error}")))?;
        head.truncate(read);
        let lines_in_head = head.iter().filter(|byte| **byte == b'\n').count() as u64;
        // Without a line end in the first 8 KiB, assume 100 bytes a row.
        let bytes_per_row = (read as u64)
            .checked_div(lines_in_head)
            .map_or(100, |bytes| bytes.max(1));
        let estimated_rows = size / bytes_per_row;
        if read == 0 {
            return Err(Problem::file(
                &name,
                "the file is empty: expected a header line and rows",
            ));
        }
        if head.contains(&0) {
            return Err(Problem::file(
                &name,
                "this is not a CSV text file (it contains binary data)",
            ));
        }
        if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
            return Err(Problem::file(
                &name,
                "the file is UTF-16: save it as UTF-8 CSV",
            ));
        }
        // 1 MiB buffers for a large file; an API request's few kilobytes get no more than
        // they need.
        let buffer = usize::try_from(size).map_or(1 << 20, |size| size.clamp(8 << 10, 1 << 20));
        let line_end = LineEnd::of(&head);
        let ends_with_line_end = last_byte(&mut *file, size)
            .map_err(|error| Problem::file(&name, format!("cannot read: {error}")))?
            == Some(b'\n');
        file.seek(SeekFrom::Start(0))
            .map_err(|error| Problem::file(&name, format!("cannot read: {error}")))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(buffer)
            .from_reader(BufReader::with_capacity(buffer, file));
        let mut header = ByteRecord::new();
        let found = reader
            .read_byte_record(&mut header)
            .map_err(|error| csv_problem(&name, &error))?;
        if !found {
            return Err(Problem::file(
                &name,
                "the file is empty: expected a header line and rows",
            ));
        }
        let mut headers = Vec::with_capacity(header.len());
        for (index, field) in header.iter().enumerate() {
            let field = if index == 0 {
                field.strip_prefix(b"\xef\xbb\xbf").unwrap_or(field)
            } else {
                field
            };
            let text = std::str::from_utf8(field).map_err(|_| {
                Problem::at(
                    &name,
                    1,
                    format!(
                        "the header's column {} is not UTF-8 text: save the file as UTF-8 CSV",
                        index + 1
                    ),
                )
            })?;
            if text.len() > 1024 {
                return Err(Problem::at(
                    &name,
                    1,
                    format!(
                        "the header's column {} is longer than 1024 characters: is this a CSV file?",
                        index + 1
                    ),
                ));
            }
            headers.push(text.trim().to_owned());
        }
        Ok(Self {
            name,
            headers,
            size,
            estimated_rows,
            reader,
            line_end,
            ends_with_line_end,
        })
    }

    /// Reads the next non-blank row into `record`. `Ok(None)` at the end of the file. A row
    /// whose width differs from the header's, or with a value that is not UTF-8 or too long,
    /// is a problem for that line; the caller goes on with the next row.
    pub fn next_row<'a>(
        &mut self,
        record: &'a mut ByteRecord,
    ) -> Result<Option<Row<'a>>, RowError> {
        match self.next_record(record).map_err(RowError::Fatal)? {
            None => Ok(None),
            Some(line) => self.check(line, record).map(Some).map_err(RowError::Row),
        }
    }

    /// Reads the next non-blank record without checking it, returning its line: the cheap
    /// half of [`CsvFile::next_row`], so one thread can read while others check and parse.
    pub fn next_record(&mut self, record: &mut ByteRecord) -> Result<Option<u64>, Problem> {
        loop {
            let more = self
                .reader
                .read_byte_record(record)
                .map_err(|error| csv_problem(&self.name, &error))?;
            if !more {
                return Ok(None);
            }
            let blank = record
                .iter()
                .all(|field| field.iter().all(u8::is_ascii_whitespace));
            if !blank {
                return Ok(Some(self.start_line(record)));
            }
        }
    }

    /// The line `record` starts on, counted back from where reading it stopped. The line the
    /// csv crate gives is where reading began: the first of the empty lines it skipped before
    /// the record (rust-csv issue 208), and with `\r\n` line ends the line before (the
    /// previous record ends at its `\r`; its `\n` is read, and counted, with this one).
    fn start_line(&self, record: &ByteRecord) -> u64 {
        let began = record.position().map_or(1, csv::Position::line);
        if self.line_end == LineEnd::Cr {
            // The csv crate counts `\n`s only: every record is on its line 1.
            return began;
        }
        let stopped = self.reader.position();
        let ended = stopped.line();
        // With `\n` line ends the record's own line end has been read (unless the file ended
        // without one); with `\r\n` it is read with the next record.
        let at_end_without_one = !self.ends_with_line_end && stopped.byte() >= self.size;
        let own_end = u64::from(self.line_end == LineEnd::Lf && !at_end_without_one);
        if ended == began + 1 {
            // The common case: one line, nothing skipped before it, and the one line end
            // read is this record's (`\n`) or the previous one's (`\r\n`).
            match (self.line_end, own_end) {
                (LineEnd::Lf, 1) => return began,
                (LineEnd::CrLf, _) => return ended,
                _ => {}
            }
        }
        let inside = record
            .as_slice()
            .iter()
            .filter(|byte| **byte == b'\n')
            .count() as u64;
        ended.saturating_sub(own_end + inside).max(1)
    }

    /// What [`CsvFile::check`] needs of the file, detached so it can move to another thread.
    pub fn shape(&self) -> FileShape {
        FileShape {
            name: self.name.clone(),
            headers: self.headers.clone(),
        }
    }

    fn check<'a>(&self, line: u64, record: &'a ByteRecord) -> Result<Row<'a>, Problem> {
        check_record(&self.name, &self.headers, line, record)
    }

    /// Bytes read so far, for the progress bar.
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// A file's name and header, for checking its records away from the reader.
pub(crate) struct FileShape {
    pub name: String,
    pub headers: Vec<String>,
}

impl FileShape {
    /// Checks one record read by [`CsvFile::next_record`]: its width against the header's,
    /// every value for size and UTF-8.
    pub fn check<'a>(&self, line: u64, record: &'a ByteRecord) -> Result<Row<'a>, Problem> {
        check_record(&self.name, &self.headers, line, record)
    }
}

fn check_record<'a>(
    name: &str,
    headers: &[String],
    line: u64,
    record: &'a ByteRecord,
) -> Result<Row<'a>, Problem> {
    if record.len() != headers.len() {
        return Err(Problem::at(
            name,
            line,
            format!(
                "this row has {} fields but the header has {} (a stray comma or quote?)",
                record.len(),
                headers.len()
            ),
        ));
    }
    for (index, field) in record.iter().enumerate() {
        let column = headers.get(index).map_or("?", String::as_str);
        if field.len() > MAX_VALUE_BYTES {
            let shown = String::from_utf8_lossy(&field[..200.min(field.len())]).into_owned();
            return Err(Problem::value(
                name,
                line,
                column,
                &shown,
                format!(
                    "value is {} bytes long; the limit is {} (an unclosed quote?)",
                    field.len(),
                    MAX_VALUE_BYTES
                ),
            ));
        }
    }
    // One check of the whole record: valid UTF-8 whose every field starts and ends on a
    // character boundary means every field is valid UTF-8.
    if let Ok(text) = std::str::from_utf8(record.as_slice()) {
        let on_boundaries = (0..record.len()).all(|index| {
            record.range(index).is_some_and(|range| {
                text.is_char_boundary(range.start) && text.is_char_boundary(range.end)
            })
        });
        if on_boundaries {
            return Ok(Row { line, record, text });
        }
    }
    for (index, field) in record.iter().enumerate() {
        let column = headers.get(index).map_or("?", String::as_str);
        if let Err(error) = std::str::from_utf8(field) {
            let shown = String::from_utf8_lossy(field).into_owned();
            return Err(Problem::value(
                name,
                line,
                column,
                &shown,
                format!(
                    "not UTF-8 text (invalid byte at position {}): save the file as UTF-8",
                    error.valid_up_to() + 1
                ),
            ));
        }
    }
    // Not reached (fields that are each UTF-8 join into UTF-8), but never a panic.
    Err(Problem::at(
        name,
        line,
        "this row is not UTF-8 text: save the file as UTF-8",
    ))
}

/// The byte at `size - 1`, if any.
fn last_byte(file: &mut dyn Input, size: u64) -> std::io::Result<Option<u8>> {
    let Some(last) = size.checked_sub(1) else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(last))?;
    let mut byte = [0u8; 1];
    Ok((read_up_to(file, &mut byte)? == 1).then_some(byte[0]))
}

fn read_up_to(file: &mut dyn Input, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = file.read(&mut buffer[filled..])?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

fn csv_problem(name: &str, error: &csv::Error) -> Problem {
    match error.position() {
        Some(position) => Problem::at(name, position.line(), format!("unreadable CSV: {error}")),
        None => Problem::file(name, format!("unreadable CSV: {error}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Each record's first field and the line `next_record` gives it.
    fn lines(text: &str) -> Vec<(String, u64)> {
        let mut file = CsvFile::open(&Source::text("t.csv", text.as_bytes())).unwrap();
        let mut record = ByteRecord::new();
        let mut found = Vec::new();
        while let Some(line) = file.next_record(&mut record).unwrap() {
            let first = String::from_utf8(record.get(0).unwrap().to_vec()).unwrap();
            found.push((first, line));
        }
        found
    }

    fn expect(text: &str, expected: &[(&str, u64)]) {
        let expected: Vec<(String, u64)> = expected
            .iter()
            .map(|(first, line)| ((*first).to_owned(), *line))
            .collect();
        assert_eq!(lines(text), expected, "{text:?}");
    }

    #[test]
    fn a_record_after_empty_lines_is_on_its_own_line() {
        expect("h,v\na,1\n\nb,2\nc,3\n", &[("a", 2), ("b", 4), ("c", 5)]);
        expect("h,v\na,1\n\n\n\nb,2\n", &[("a", 2), ("b", 6)]);
        expect("h,v\n\na,1\n", &[("a", 3)]);
        expect(
            "h,v\r\na,1\r\n\r\n\r\nb,2\r\nc,3\r\n",
            &[("a", 2), ("b", 5), ("c", 6)],
        );
    }

    #[test]
    fn a_last_line_without_its_line_end_is_counted_right() {
        expect("h,v\na,1\n\nb,2", &[("a", 2), ("b", 4)]);
        expect("h,v\na,1", &[("a", 2)]);
        expect("h,v\na,1\n\n\n", &[("a", 2)]);
    }

    #[test]
    fn quoted_line_ends_count_toward_the_next_records_line_not_this_ones() {
        expect(
            "h,v\n\"a\nstill a\",1\n\n\"b\nb\nb\",2\nc,3\n",
            &[("a\nstill a", 2), ("b\nb\nb", 5), ("c", 8)],
        );
        expect("h,v\r\n\r\n\"a\r\nx\",1\r\nb,2", &[("a\r\nx", 3), ("b", 5)]);
    }

    #[test]
    fn lines_ending_in_a_carriage_return_alone_are_read() {
        let found = lines("h,v\ra,1\rb,2\r");
        let firsts: Vec<&str> = found.iter().map(|(first, _)| first.as_str()).collect();
        assert_eq!(firsts, ["a", "b"]);
    }

    #[test]
    fn whitespace_only_lines_are_skipped_and_counted() {
        expect("h,v\n  \na,1\n , \nb,2\n", &[("a", 3), ("b", 5)]);
    }
}
