//! One query, two drivers: the small portable layer the account team's tables (TAL, clusters,
//! buying-group overrides, triggers, plans, users) are written in, so each of their queries
//! exists once instead of once per backend.
//!
//! Queries use PostgreSQL's `$1, $2 …` placeholders; on SQLite they become `?1, ?2 …`. Values
//! are the five kinds both databases share ([`Value`]): a boolean is an INTEGER 0/1 on SQLite
//! and a BOOLEAN on PostgreSQL, and reading accepts either. What this layer does not hide —
//! JSONB, COPY, arrays — stays in the backend modules, where the hot paths live.
//!
//! Every parameter is bound, never spliced into the text: a user's value can not change a
//! query's meaning.

use crate::{Result, StoreError};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}
impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Self::Real(value)
    }
}
impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}
impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}
impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}
impl From<&String> for Value {
    fn from(value: &String) -> Self {
        Self::Text(value.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(Vec<Value>);

impl Row {
    fn at(&self, index: usize) -> Result<&Value> {
        self.0
            .get(index)
            .ok_or_else(|| StoreError::Corrupt(format!("a query returned no column {index}")))
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>> {
        match self.at(index)? {
            Value::Null => Ok(None),
            Value::Int(value) => Ok(Some(*value)),
            Value::Bool(value) => Ok(Some(i64::from(*value))),
            other => Err(mismatch(index, "an integer", other)),
        }
    }

    pub fn int(&self, index: usize) -> Result<i64> {
        self.opt_int(index)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {index} is NULL")))
    }

    pub fn opt_real(&self, index: usize) -> Result<Option<f64>> {
        match self.at(index)? {
            Value::Null => Ok(None),
            Value::Real(value) => Ok(Some(*value)),
            #[allow(clippy::cast_precision_loss)]
            Value::Int(value) => Ok(Some(*value as f64)),
            other => Err(mismatch(index, "a number", other)),
        }
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>> {
        match self.at(index)? {
            Value::Null => Ok(None),
            Value::Text(value) => Ok(Some(value.clone())),
            other => Err(mismatch(index, "text", other)),
        }
    }

    pub fn text(&self, index: usize) -> Result<String> {
        self.opt_text(index)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {index} is NULL")))
    }

    pub fn bool(&self, index: usize) -> Result<bool> {
        match self.at(index)? {
            Value::Bool(value) => Ok(*value),
            Value::Int(value) => Ok(*value != 0),
            other => Err(mismatch(index, "a boolean", other)),
        }
    }
}

fn mismatch(index: usize, wanted: &str, found: &Value) -> StoreError {
    StoreError::Corrupt(format!(
        "column {index}: expected {wanted}, found {found:?}"
    ))
}

/// A connection (or an open transaction) that runs portable queries.
pub trait Sql {
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Starts a transaction that takes the write lock at once (SQLite `BEGIN IMMEDIATE`), so a
    /// read-then-write inside it never fails half-way on a lock.
    fn begin(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self) -> Result<()>;

    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
}

impl<T: Sql + ?Sized> Sql for &mut T {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        (**self).execute(sql, params)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        (**self).query(sql, params)
    }
    fn begin(&mut self) -> Result<()> {
        (**self).begin()
    }
    fn commit(&mut self) -> Result<()> {
        (**self).commit()
    }
    fn rollback(&mut self) -> Result<()> {
        (**self).rollback()
    }
}

/// Runs `work` in one transaction: it commits when `work` succeeds and rolls back otherwise,
/// so every governance action is all-or-nothing.
pub fn transaction<T, E: From<StoreError>>(
    sql: &mut dyn Sql,
    work: impl FnOnce(&mut dyn Sql) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    sql.begin()?;
    match work(sql) {
        Ok(value) => match sql.commit() {
            Ok(()) => Ok(value),
            Err(error) => {
                // A failed COMMIT (SQLite: busy) may leave the transaction open: close it.
                let _ = sql.rollback();
                Err(error.into())
            }
        },
        Err(error) => {
            // The work's error is what the user needs; a failed rollback closes the
            // connection's transaction anyway.
            let _ = sql.rollback();
            Err(error)
        }
    }
}

/// `$1` → `?1`: SQLite reads `$1` as a named parameter, which binds by first appearance.
fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(value) => ToSqlOutput::Borrowed(ValueRef::Integer(*value)),
            Value::Real(value) => ToSqlOutput::Borrowed(ValueRef::Real(*value)),
            Value::Text(value) => ToSqlOutput::Borrowed(ValueRef::Text(value.as_bytes())),
            Value::Bool(value) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*value))),
        })
    }
}

fn sqlite_row(row: &rusqlite::Row<'_>, columns: usize) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    let mut values = Vec::with_capacity(columns);
    for index in 0..columns {
        values.push(match row.get_ref(index)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(value) => Value::Int(value),
            ValueRef::Real(value) => Value::Real(value),
            ValueRef::Text(text) | ValueRef::Blob(text) => {
                Value::Text(String::from_utf8_lossy(text).into_owned())
            }
        });
    }
    Ok(Row(values))
}

impl Sql for rusqlite::Connection {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut statement = self.prepare_cached(&sqlite_placeholders(sql))?;
        Ok(statement.execute(rusqlite::params_from_iter(params))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut statement = self.prepare_cached(&sqlite_placeholders(sql))?;
        let columns = statement.column_count();
        let rows = statement
            .query_map(rusqlite::params_from_iter(params), |row| {
                sqlite_row(row, columns)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn begin(&mut self) -> Result<()> {
        Ok(self.execute_batch("BEGIN IMMEDIATE")?)
    }
    fn commit(&mut self) -> Result<()> {
        Ok(self.execute_batch("COMMIT")?)
    }
    fn rollback(&mut self) -> Result<()> {
        Ok(self.execute_batch("ROLLBACK")?)
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // Each value is encoded only as a type it means; anything else is an error, never a
        // reinterpretation of its bytes.
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(value), &Type::INT8) => value.to_sql(ty, out),
            (Value::Int(value), &Type::INT4) => i32::try_from(*value)?.to_sql(ty, out),
            (Value::Int(value), &Type::INT2) => i16::try_from(*value)?.to_sql(ty, out),
            #[allow(clippy::cast_precision_loss)]
            (Value::Int(value), &Type::FLOAT8) => (*value as f64).to_sql(ty, out),
            (Value::Int(value), &Type::BOOL) => (*value != 0).to_sql(ty, out),
            (Value::Real(value), &Type::FLOAT8) => value.to_sql(ty, out),
            (Value::Text(value), &Type::TEXT | &Type::VARCHAR | &Type::NAME | &Type::BPCHAR) => {
                value.as_str().to_sql(ty, out)
            }
            (Value::Bool(value), &Type::BOOL) => value.to_sql(ty, out),
            (Value::Bool(value), &Type::INT8) => i64::from(*value).to_sql(ty, out),
            (value, ty) => Err(format!("cannot bind {value:?} as {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`: a mismatch there is an error, not a panic.
        true
    }

    to_sql_checked!();
}

fn postgres_rows(rows: Vec<postgres::Row>) -> Result<Vec<Row>> {
    rows.iter()
        .map(|row| {
            let mut values = Vec::with_capacity(row.len());
            for (index, column) in row.columns().iter().enumerate() {
                let value = match *column.type_() {
                    Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map(Value::Int),
                    Type::INT4 => row
                        .try_get::<_, Option<i32>>(index)?
                        .map(|value| Value::Int(value.into())),
                    Type::INT2 => row
                        .try_get::<_, Option<i16>>(index)?
                        .map(|value| Value::Int(value.into())),
                    Type::FLOAT8 => row.try_get::<_, Option<f64>>(index)?.map(Value::Real),
                    Type::FLOAT4 => row
                        .try_get::<_, Option<f32>>(index)?
                        .map(|value| Value::Real(value.into())),
                    Type::BOOL => row.try_get::<_, Option<bool>>(index)?.map(Value::Bool),
                    _ => row.try_get::<_, Option<String>>(index)?.map(Value::Text),
                };
                values.push(value.unwrap_or(Value::Null));
            }
            Ok(Row(values))
        })
        .collect()
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|value| value as &(dyn ToSql + Sync))
        .collect()
}

impl Sql for postgres::Client {
    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64> {
        Ok(postgres::Client::execute(self, sql, &params(values))?)
    }
    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        postgres_rows(postgres::Client::query(self, sql, &params(values))?)
    }
    fn begin(&mut self) -> Result<()> {
        Ok(self.batch_execute("BEGIN")?)
    }
    fn commit(&mut self) -> Result<()> {
        Ok(self.batch_execute("COMMIT")?)
    }
    fn rollback(&mut self) -> Result<()> {
        Ok(self.batch_execute("ROLLBACK")?)
    }
}

/// An import's open transaction: statements join it; beginning or ending one inside it is a
/// mistake of ours, refused.
impl Sql for postgres::Transaction<'_> {
    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64> {
        Ok(postgres::Transaction::execute(self, sql, &params(values))?)
    }
    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        postgres_rows(postgres::Transaction::query(self, sql, &params(values))?)
    }
    fn begin(&mut self) -> Result<()> {
        Err(nested())
    }
    fn commit(&mut self) -> Result<()> {
        Err(nested())
    }
    fn rollback(&mut self) -> Result<()> {
        Err(nested())
    }
}

fn nested() -> StoreError {
    StoreError::Corrupt("internal error: a transaction inside an import's transaction".into())
}

/// An import's open SQLite transaction: its statements join it; ending it from here is a
/// mistake of ours, refused like on PostgreSQL.
pub(crate) struct InImport<'a>(pub(crate) &'a mut rusqlite::Connection);

impl Sql for InImport<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        Sql::execute(self.0, sql, params)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        Sql::query(self.0, sql, params)
    }
    fn begin(&mut self) -> Result<()> {
        Err(nested())
    }
    fn commit(&mut self) -> Result<()> {
        Err(nested())
    }
    fn rollback(&mut self) -> Result<()> {
        Err(nested())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_become_numbered_question_marks() {
        assert_eq!(
            super::sqlite_placeholders("SELECT $1, $12 FROM t WHERE a = $2"),
            "SELECT ?1, ?12 FROM t WHERE a = ?2"
        );
        assert_eq!(super::sqlite_placeholders("SELECT '$'"), "SELECT '$'");
    }
}
