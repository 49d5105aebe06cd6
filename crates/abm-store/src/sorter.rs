//! An external sort of fixed-size records: the bulk activity lane sorts its index entries
//! here instead of in SQLite. Records are kept in memory up to a fixed count, then sorted and
//! spilled to an unnamed temporary file; the sorted stream merges the runs. Memory stays
//! bounded whatever the import's size.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

/// A record that sorts and has a fixed binary form.
pub(crate) trait SortRecord: Copy + Ord {
    const SIZE: usize;
    fn encode(&self, into: &mut Vec<u8>);
    fn decode(bytes: &[u8]) -> Self;
}

pub(crate) struct Sorter<T: SortRecord + Send + 'static> {
    buffer: Vec<T>,
    capacity: usize,
    runs: Vec<File>,
    /// The run being sorted and written on the spilling thread, if any: it hands back the
    /// file and the emptied buffer (reused, so runs after the first fault in no new memory).
    spilling: Option<std::thread::JoinHandle<SpilledRun<T>>>,
}

/// What the spilling thread hands back: the run's file and the buffer it was sorted in.
type SpilledRun<T> = std::io::Result<(File, Vec<T>)>;

impl<T: SortRecord + Send + 'static> Sorter<T> {
    /// `capacity` records are held in memory before a run is written. At most two runs are
    /// in memory at once: the one filling and the one being spilled.
    pub fn new(capacity: usize) -> Self {
        Self {
            buffer: Vec::new(),
            capacity: capacity.max(1),
            runs: Vec::new(),
            spilling: None,
        }
    }

    pub fn push(&mut self, record: T) -> std::io::Result<()> {
        if self.buffer.capacity() == 0 {
            self.buffer.reserve_exact(self.capacity);
        }
        self.buffer.push(record);
        if self.buffer.len() >= self.capacity {
            self.spill()?;
        }
        Ok(())
    }

    /// Hands the full buffer to a thread that sorts and writes it, so the pushing thread
    /// (the store's one writer, in a bulk load) goes on at once.
    fn spill(&mut self) -> std::io::Result<()> {
        let spare = match self.finish_spill()? {
            Some(buffer) => buffer,
            None => Vec::with_capacity(self.capacity),
        };
        let full = std::mem::replace(&mut self.buffer, spare);
        let handle = std::thread::Builder::new()
            .name("abm-spill".into())
            .spawn(move || write_run(full))?;
        self.spilling = Some(handle);
        Ok(())
    }

    /// Waits for the run being spilled, keeps its file and returns its emptied buffer.
    fn finish_spill(&mut self) -> std::io::Result<Option<Vec<T>>> {
        let Some(handle) = self.spilling.take() else {
            return Ok(None);
        };
        let (file, buffer) = handle
            .join()
            .map_err(|_| std::io::Error::other("the thread writing a sorted run stopped"))??;
        self.runs.push(file);
        Ok(Some(buffer))
    }

    /// Every record pushed, in order.
    pub fn sorted(mut self) -> std::io::Result<Sorted<T>> {
        self.finish_spill()?;
        self.buffer.sort_unstable();
        if self.runs.is_empty() {
            return Ok(Sorted::Memory(self.buffer.into_iter()));
        }
        let mut runs: Vec<Run<T>> = self
            .runs
            .into_iter()
            .map(|file| Run::File(BufReader::with_capacity(1 << 16, file)))
            .collect();
        runs.push(Run::Memory(self.buffer.into_iter()));
        let mut heap = BinaryHeap::with_capacity(runs.len());
        for (index, run) in runs.iter_mut().enumerate() {
            if let Some(record) = run.next()? {
                heap.push(Reverse((record, index)));
            }
        }
        Ok(Sorted::Merge { runs, heap })
    }
}

/// Sorts one run and writes it to an unnamed temporary file, positioned at its start;
/// returns the file and the buffer, emptied.
fn write_run<T: SortRecord>(mut buffer: Vec<T>) -> SpilledRun<T> {
    buffer.sort_unstable();
    let mut file = tempfile::tempfile()?;
    // Encoded 4,096 records at a time, each block one write.
    let mut bytes = Vec::with_capacity(T::SIZE * 4096);
    for records in buffer.chunks(4096) {
        bytes.clear();
        for record in records {
            record.encode(&mut bytes);
        }
        file.write_all(&bytes)?;
    }
    file.seek(SeekFrom::Start(0))?;
    buffer.clear();
    Ok((file, buffer))
}

/// One sorted run: a file written by `spill`, or the last records still in memory.
pub(crate) enum Run<T> {
    File(BufReader<File>),
    Memory(std::vec::IntoIter<T>),
}

impl<T: SortRecord> Run<T> {
    fn next(&mut self) -> std::io::Result<Option<T>> {
        match self {
            Run::Memory(records) => Ok(records.next()),
            Run::File(reader) => {
                let mut bytes = [0u8; 64];
                let record = &mut bytes[..T::SIZE];
                match reader.read_exact(record) {
                    Ok(()) => Ok(Some(T::decode(record))),
                    Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(error) => Err(error),
                }
            }
        }
    }
}

/// The sorted records: straight from memory, or merged from the spilled runs.
pub(crate) enum Sorted<T: SortRecord> {
    Memory(std::vec::IntoIter<T>),
    Merge {
        runs: Vec<Run<T>>,
        heap: BinaryHeap<Reverse<(T, usize)>>,
    },
}

impl<T: SortRecord> Sorted<T> {
    pub fn next(&mut self) -> std::io::Result<Option<T>> {
        match self {
            Sorted::Memory(records) => Ok(records.next()),
            Sorted::Merge { runs, heap } => {
                let Some(Reverse((record, index))) = heap.pop() else {
                    return Ok(None);
                };
                if let Some(run) = runs.get_mut(index)
                    && let Some(next) = run.next()?
                {
                    heap.push(Reverse((next, index)));
                }
                Ok(Some(record))
            }
        }
    }
}

impl<T: SortRecord + Send + 'static> Sorted<T> {
    /// Merges on a thread of its own, handing over chunks of `chunk` records in order: the
    /// caller's thread (the store's one writer) then only writes. At most `HANDOFFS_AHEAD`
    /// chunks wait, so memory stays bounded by the chunk size.
    pub fn in_background(mut self, chunk: usize) -> InOrder<T> {
        const HANDOFFS_AHEAD: usize = 4;
        let (sender, receiver) = std::sync::mpsc::sync_channel(HANDOFFS_AHEAD);
        let chunk = chunk.max(1);
        let spawned = std::thread::Builder::new()
            .name("abm-merge".into())
            .spawn(move || {
                loop {
                    let mut records = Vec::with_capacity(chunk);
                    while records.len() < chunk {
                        match self.next() {
                            Ok(Some(record)) => records.push(record),
                            Ok(None) => break,
                            Err(error) => {
                                let _ = sender.send(Err(error));
                                return;
                            }
                        }
                    }
                    let last = records.len() < chunk;
                    if !records.is_empty() && sender.send(Ok(Some(records))).is_err() {
                        return;
                    }
                    if last {
                        // The end is said, so a thread that stopped early is not taken for it.
                        let _ = sender.send(Ok(None));
                        return;
                    }
                }
            });
        InOrder {
            receiver: spawned.map(|_| receiver),
            ended: false,
        }
    }
}

/// Sorted records arriving in chunks from the merging thread.
pub(crate) struct InOrder<T> {
    receiver: std::io::Result<std::sync::mpsc::Receiver<std::io::Result<Option<Vec<T>>>>>,
    ended: bool,
}

impl<T> InOrder<T> {
    /// The next chunk, `None` after the last.
    pub fn next_chunk(&mut self) -> std::io::Result<Option<Vec<T>>> {
        if self.ended {
            return Ok(None);
        }
        match &self.receiver {
            Ok(receiver) => {
                let next = receiver.recv().unwrap_or_else(|_| {
                    Err(std::io::Error::other(
                        "the thread merging sorted runs stopped before their end",
                    ))
                });
                self.ended = matches!(next, Ok(None));
                next
            }
            Err(error) => Err(std::io::Error::new(error.kind(), error.to_string())),
        }
    }
}

/// Writes a record as little-endian fields, for `SortRecord::encode`.
pub(crate) fn put(into: &mut Vec<u8>, value: i64) {
    into.extend_from_slice(&value.to_le_bytes());
}

/// Reads the `index`-th little-endian `i64` of a record, for `SortRecord::decode`.
pub(crate) fn get(bytes: &[u8], index: usize) -> i64 {
    let mut word = [0u8; 8];
    if let Some(slice) = bytes.get(index * 8..index * 8 + 8) {
        word.copy_from_slice(slice);
    }
    i64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    struct Pair(i64, i64);

    impl SortRecord for Pair {
        const SIZE: usize = 16;
        fn encode(&self, into: &mut Vec<u8>) {
            put(into, self.0);
            put(into, self.1);
        }
        fn decode(bytes: &[u8]) -> Self {
            Pair(get(bytes, 0), get(bytes, 1))
        }
    }

    fn sort(values: &[i64], capacity: usize) -> Vec<Pair> {
        let mut sorter = Sorter::new(capacity);
        for (index, value) in values.iter().enumerate() {
            sorter.push(Pair(*value, index as i64)).expect("push");
        }
        let mut sorted = sorter.sorted().expect("sorted");
        let mut out = Vec::new();
        while let Some(pair) = sorted.next().expect("next") {
            out.push(pair);
        }
        out
    }

    #[test]
    fn background_merging_hands_over_every_record_in_order() {
        let values: Vec<i64> = (0..5_000i64).map(|i| (i * 7919) % 5003).collect();
        let mut sorter = Sorter::new(700);
        for (index, value) in values.iter().enumerate() {
            sorter.push(Pair(*value, index as i64)).expect("push");
        }
        let mut in_order = sorter.sorted().expect("sorted").in_background(64);
        let mut out = Vec::new();
        while let Some(chunk) = in_order.next_chunk().expect("chunk") {
            assert!(!chunk.is_empty() && chunk.len() <= 64);
            out.extend(chunk);
        }
        assert_eq!(out, sort(&values, 5_000));
    }

    #[test]
    fn spilled_runs_merge_into_one_order() {
        let values: Vec<i64> = (0..10_000i64)
            .map(|i| i.wrapping_mul(2_654_435_761) % 7919 - 3000)
            .collect();
        let mut expected: Vec<Pair> = values
            .iter()
            .enumerate()
            .map(|(index, value)| Pair(*value, index as i64))
            .collect();
        expected.sort();
        for capacity in [1, 7, 1000, 10_000, 20_000] {
            assert_eq!(sort(&values, capacity), expected, "capacity {capacity}");
        }
        assert!(sort(&[], 3).is_empty());
    }
}
