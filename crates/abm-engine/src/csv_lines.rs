//! The line a CSV record starts on, for problems that name it as an editor numbers lines.
//!
//! The csv crate reports a record at the position where reading it began: before the blank
//! (and comment) lines it skipped, and with `\r\n` line ends before the previous record's
//! `\n` (rust-csv issue 208). For a text held in memory, those are skipped here from that
//! position's byte offset.

/// The line the record read from `bytes` at `position` starts on; 0 without a position.
/// `comment` is the byte that starts a comment line, if the reader was given one.
pub fn record_line(bytes: &[u8], position: Option<&csv::Position>, comment: Option<u8>) -> u64 {
    let Some(position) = position else {
        return 0;
    };
    let mut line = position.line();
    let mut offset = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    loop {
        let rest = bytes.get(offset..).unwrap_or_default();
        let skipped = if comment.is_some() && rest.first() == comment.as_ref() {
            rest.iter()
                .position(|byte| *byte == b'\n')
                .map(|end| end + 1)
        } else if rest.starts_with(b"\n") {
            Some(1)
        } else if rest.starts_with(b"\r\n") {
            Some(2)
        } else {
            None
        };
        match skipped {
            Some(length) => {
                offset += length;
                line += 1;
            }
            None => return line,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lines(text: &str, comment: Option<u8>) -> Vec<u64> {
        let mut reader = csv::ReaderBuilder::new()
            .comment(comment)
            .from_reader(text.as_bytes());
        reader
            .records()
            .map(|record| record_line(text.as_bytes(), record.unwrap().position(), comment))
            .collect()
    }

    #[test]
    fn records_are_on_their_own_lines() {
        assert_eq!(lines("h,v\na,1\n\n\nb,2\nc,3", None), [2, 5, 6]);
        assert_eq!(lines("h,v\r\na,1\r\n\r\nb,2\r\nc,3\r\n", None), [2, 4, 5]);
        assert_eq!(lines("h,v\n\"a\nb\",1\n\nc,2\n", None), [2, 5]);
        assert_eq!(lines("h,v\n# note\na,1\n", Some(b'#')), [3]);
        assert_eq!(lines("h,v\n#a,1\n", None), [2], "no comments unless asked");
    }
}
