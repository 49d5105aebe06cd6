//! PostgreSQL's binary `COPY` format, written by hand for the activity lane: the server copies
//! each value as it is instead of parsing text (timestamps above all), which is most of what
//! a text `COPY` costs it per row.

use crate::{Result, StoreError};

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z).
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// One `COPY … (FORMAT binary)` stream: a header, rows of fields, a trailer.
pub(super) struct BinaryRows {
    buffer: Vec<u8>,
}

impl BinaryRows {
    pub(super) fn with_capacity(bytes: usize) -> Self {
        let mut buffer = Vec::with_capacity(bytes + 32);
        buffer.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buffer.extend_from_slice(&0i32.to_be_bytes()); // flags
        buffer.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        Self { buffer }
    }

    /// Starts a row of `fields` values.
    pub(super) fn row(&mut self, fields: i16) {
        self.buffer.extend_from_slice(&fields.to_be_bytes());
    }

    fn null(&mut self) {
        self.buffer.extend_from_slice(&(-1i32).to_be_bytes());
    }

    pub(super) fn text(&mut self, value: Option<&str>) -> Result<()> {
        let Some(value) = value else {
            self.null();
            return Ok(());
        };
        let length = i32::try_from(value.len()).map_err(|_| {
            StoreError::Corrupt(format!("a value of {} bytes is too long", value.len()))
        })?;
        self.buffer.extend_from_slice(&length.to_be_bytes());
        self.buffer.extend_from_slice(value.as_bytes());
        Ok(())
    }

    pub(super) fn int8(&mut self, value: Option<i64>) {
        match value {
            Some(value) => {
                self.buffer.extend_from_slice(&8i32.to_be_bytes());
                self.buffer.extend_from_slice(&value.to_be_bytes());
            }
            None => self.null(),
        }
    }

    pub(super) fn int4(&mut self, value: i32) {
        self.buffer.extend_from_slice(&4i32.to_be_bytes());
        self.buffer.extend_from_slice(&value.to_be_bytes());
    }

    /// A `TIMESTAMPTZ` from microseconds since the Unix epoch.
    pub(super) fn timestamptz(&mut self, unix_micros: i64) {
        self.int8(Some(unix_micros.saturating_sub(POSTGRES_EPOCH_MICROS)));
    }

    /// The stream with its trailer.
    pub(super) fn finish(mut self) -> Vec<u8> {
        self.buffer.extend_from_slice(&(-1i16).to_be_bytes());
        self.buffer
    }
}
