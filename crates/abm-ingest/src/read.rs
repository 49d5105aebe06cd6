//! Reading activities files without a store, for publishing them to the stream (`abm import
//! activities --stream`): the same files, column mapping (`--map`) and row checks as an
//! import, and the same problems naming file, line, column and value.

use crate::ImportKind;
use crate::columns::{self, ColumnOverride};
use crate::problem::{Problem, Problems};
use crate::reader::{CsvFile, RowError};
use crate::rows::{self, Fields};
use crate::source::Source;
use abm_core::Activity;

/// Why a read stopped.
#[derive(Debug)]
pub enum ReadError<E> {
    /// Files or rows that are not valid: the first [`crate::MAX_LISTED`] listed, all counted.
    Problems(Problems),
    /// What the caller's `each` returned.
    Each(E),
}

/// Reads every row of the activities files in order, checked and parsed as `abm import
/// activities` does, and hands each valid activity to `each`; returns the rows read.
///
/// `each` is called only until the first problem; the problems of the whole files are then
/// returned. A caller that must act on nothing from a file with a bad row reads the files
/// twice, the first time with an `each` that does nothing.
pub fn read_activities<E>(
    sources: &[Source],
    overrides: &[ColumnOverride],
    mut each: impl FnMut(Activity) -> Result<(), E>,
) -> Result<u64, ReadError<E>> {
    let mut problems = Problems::default();
    let mut rows = 0;
    for source in sources {
        let mut file = match CsvFile::open(source) {
            Ok(file) => file,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let map = match columns::map_columns(ImportKind::Activities, &file.headers, overrides) {
            Ok(map) => map,
            Err(messages) => {
                problems.extend(
                    messages
                        .into_iter()
                        .map(|message| Problem::at(&file.name, 1, message)),
                );
                continue;
            }
        };
        let mut record = csv::ByteRecord::new();
        loop {
            let row = match file.next_row(&mut record) {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(RowError::Row(problem)) => {
                    rows += 1;
                    problems.push(problem);
                    continue;
                }
                Err(RowError::Fatal(problem)) => {
                    problems.push(problem);
                    break;
                }
            };
            rows += 1;
            match rows::activity(Fields::new(&file.name, &row, &map)) {
                Ok(activity) if problems.is_empty() => each(activity).map_err(ReadError::Each)?,
                Ok(_) => {}
                Err(found) => problems.extend(found),
            }
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(ReadError::Problems(problems))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(text: &str, overrides: &[ColumnOverride]) -> (Vec<String>, Result<u64, Vec<String>>) {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("events.csv");
        std::fs::write(&path, text).unwrap();
        read_from(&Source::File(path), overrides)
    }

    fn read_from(
        source: &Source,
        overrides: &[ColumnOverride],
    ) -> (Vec<String>, Result<u64, Vec<String>>) {
        let mut ids = Vec::new();
        let result = read_activities(std::slice::from_ref(source), overrides, |activity| {
            ids.push(activity.id.as_str().to_owned());
            Ok::<(), ()>(())
        })
        .map_err(|error| match error {
            ReadError::Problems(problems) => problems
                .listed
                .iter()
                .map(|problem| problem.to_string())
                .collect(),
            ReadError::Each(()) => vec!["each".into()],
        });
        (ids, result)
    }

    #[test]
    fn rows_are_read_as_an_import_reads_them() {
        let (ids, result) = read(
            "\u{feff}id,occurred_at,type,email,domain,url\na-1,2026-03-01T10:00:00Z,page_view,ann@acme.com,,https://x.io\n\na-2,2026-03-02T10:00:00Z,email_open,,acme.com,\n",
            &[],
        );
        assert_eq!(result, Ok(2));
        assert_eq!(ids, ["a-1", "a-2"]);
    }

    #[test]
    fn a_bad_row_names_file_line_column_and_value_and_stops_the_caller() {
        let (ids, result) = read(
            "id,occurred_at,type,email\na-1,2026-03-01T10:00:00Z,page_view,\na-2,yesterday,page_view,\na-3,2026-03-01T10:00:00Z,page_view,no-at-sign\n",
            &[],
        );
        let problems = result.unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("events.csv:3:") && problems[0].contains("occurred_at"),
            "{problems:?}"
        );
        assert!(problems[0].contains("yesterday"), "{problems:?}");
        assert!(
            problems[1].contains("events.csv:4:") && problems[1].contains("no-at-sign"),
            "{problems:?}"
        );
        assert_eq!(ids, ["a-1"], "nothing after the first problem");
    }

    #[test]
    fn columns_map_as_with_an_import() {
        let overrides = [ColumnOverride::parse("When=occurred_at").unwrap()];
        let (ids, result) = read(
            "id,When,type\nb-1,2026-03-01T10:00:00Z,page_view\n",
            &overrides,
        );
        assert_eq!((ids, result), (vec!["b-1".to_owned()], Ok(1)));
        let (_, missing) = read("id,When,type\nb-1,2026-03-01T10:00:00Z,page_view\n", &[]);
        let missing = missing.unwrap_err();
        assert!(missing[0].contains("events.csv:1:"), "{missing:?}");
    }

    #[test]
    fn a_text_in_memory_reads_as_a_file_does_and_problems_give_its_name() {
        let text = "\u{feff}id,occurred_at,type,email\na-1,2026-03-01T10:00:00Z,page_view,\n\na-2,yesterday,page_view,\n";
        let (file_ids, from_file) = read(text, &[]);
        let (ids, result) = read_from(&Source::text("request", text.as_bytes()), &[]);
        assert_eq!(ids, file_ids);
        let problems = result.unwrap_err();
        assert_eq!(problems.len(), from_file.unwrap_err().len());
        assert!(
            problems[0].starts_with("request:4:") && problems[0].contains("yesterday"),
            "{problems:?}"
        );
        let (_, empty) = read_from(&Source::text("request", Vec::new()), &[]);
        assert!(
            empty.unwrap_err()[0].contains("request: the file is empty"),
            "an empty text is refused as an empty file is"
        );
    }
}
