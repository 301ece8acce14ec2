//! The seam between the shared SQL code and the two drivers.
//!
//! Everything above this module works on a [`Conn`] (one open transaction) and reads [`Row`]s;
//! only here is a statement rendered for its dialect (`SqliteQueryBuilder` or
//! `PostgresQueryBuilder`) and run on its driver. The few statements that cannot be written once
//! for both dialects are methods of [`Conn`] too.

use crate::StoreError;
use sea_query::{
    Expr, ExprTrait, LikeExpr, PostgresQueryBuilder, QueryStatementWriter, SelectStatement,
    SqliteQueryBuilder, Values, extension::postgres::PgExpr,
};
use sea_query_sqlx::SqlxValues;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Postgres, SqlSafeStr, Sqlite, Transaction, Type};

/// One open transaction on either back-end. Dropped without [`Conn::commit`], it rolls back.
pub(crate) enum Conn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A result row of either back-end, read by index or column name.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    /// `sqlx::Row::try_get` on whichever driver produced the row. Columns are declared so that
    /// the same Rust type decodes on both (`BIGINT` for `i64`, `INTEGER` for `i32`).
    pub(crate) fn try_get<'r, T, I>(&'r self, index: I) -> Result<T, sqlx::Error>
    where
        T: Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>,
        I: ColumnIndex<SqliteRow> + ColumnIndex<PgRow>,
    {
        match self {
            Row::Sqlite(r) => sqlx::Row::try_get(r, index),
            Row::Postgres(r) => sqlx::Row::try_get(r, index),
        }
    }
}

impl Conn {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(tx) => tx.commit().await?,
            Conn::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Serializes the writers of one key (a subscription id, or [`GLOBAL_LOCK`]) until this
    /// transaction ends. SQLite has a single writer connection already, so this is a no-op
    /// there; on PostgreSQL it is a transaction-scoped advisory lock, which orders writers across
    /// every `openqps serve` process on the database.
    pub(crate) async fn lock(&mut self, key: i64) -> Result<(), StoreError> {
        if self.dialect() == Dialect::Postgres {
            query("SELECT pg_advisory_xact_lock($1)")
                .bind(key)
                .execute(self)
                .await?;
        }
        Ok(())
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// After rows were inserted with explicit ids (a data set): moves each id sequence past the
    /// largest id, so later inserts never reuse one. SQLite picks `max(id) + 1` by itself.
    pub(crate) async fn sync_id_sequences(&mut self) -> Result<(), StoreError> {
        if self.dialect() == Dialect::Postgres {
            for table in ID_TABLES {
                // Only ever forward (another process may have drawn ids past the largest row),
                // and only when the next id would clash.
                let sql = format!(
                    "SELECT setval('{table}_id_seq', m) FROM (SELECT MAX(id) AS m FROM {table}) x \
                     WHERE m >= (SELECT CASE WHEN is_called THEN last_value + 1 \
                     ELSE last_value END FROM {table}_id_seq)"
                );
                run(self, AssertSqlSafe(sql), Values(Vec::new())).await?;
            }
        }
        Ok(())
    }
}

impl Conn {
    /// The first of `n` consecutive fresh ids for `table` on SQLite, which by itself numbers a
    /// new row `max(id) + 1` and so would hand a deleted object's id out again (migration
    /// 0011). `None` on PostgreSQL: identity sequences never repeat, so the row takes the
    /// default. Writers are serialized, so two calls never draw the same ids.
    pub(crate) async fn fresh_ids(
        &mut self,
        table: &'static str,
        n: usize,
    ) -> Result<Option<i64>, StoreError> {
        if self.dialect() == Dialect::Postgres || n == 0 {
            return Ok(None);
        }
        // Also above the rows themselves: a data set inserts explicit ids past the mark.
        let sql = format!(
            "SELECT MAX(COALESCE((SELECT high FROM id_high_water WHERE table_name = '{table}'), 0), \
             COALESCE((SELECT MAX(id) FROM {table}), 0))"
        );
        let high: i64 = rows(self, AssertSqlSafe(sql), Values(Vec::new()))
            .await?
            .into_iter()
            .next()
            .ok_or(sqlx::Error::RowNotFound)?
            .try_get(0)?;
        query(
            "INSERT INTO id_high_water (table_name, high) VALUES ($1, $2) \
             ON CONFLICT (table_name) DO UPDATE SET high = excluded.high",
        )
        .bind(table)
        .bind(high + n as i64)
        .execute(self)
        .await?;
        Ok(Some(high + 1))
    }

    /// [`Conn::fresh_ids`] for one row.
    pub(crate) async fn fresh_id(
        &mut self,
        table: &'static str,
    ) -> Result<Option<i64>, StoreError> {
        self.fresh_ids(table, 1).await
    }
}

/// Tables whose `id` comes from a sequence and that a data set fills with explicit ids.
const ID_TABLES: [&str; 4] = ["tag", "asset", "agent_act_key", "agent_config"];

/// The advisory lock key of writes that are not scoped to one subscription (first-start
/// bootstrap). Subscription ids start at 1.
pub(crate) const GLOBAL_LOCK: i64 = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `col LIKE pattern` (backslash escapes), folding ASCII case as SQLite's `LIKE` does.
    /// PostgreSQL's `LIKE` is case-sensitive, so there it is `ILIKE`, on `COLLATE "C"` columns,
    /// which fold ASCII only; backslash is already its default escape character.
    pub(crate) fn like(self, col: Expr, pattern: String) -> Expr {
        match self {
            Dialect::Sqlite => col.like(LikeExpr::new(pattern).escape('\\')),
            Dialect::Postgres => col.ilike(LikeExpr::new(pattern)),
        }
    }
}

/// `stmt` rendered for `dialect`, with its values to bind.
fn render(dialect: Dialect, stmt: &impl QueryStatementWriter) -> (String, Values) {
    match dialect {
        Dialect::Sqlite => stmt.build(SqliteQueryBuilder),
        Dialect::Postgres => stmt.build(PostgresQueryBuilder),
    }
}

/// Runs `sql` on whichever driver `conn` is, returning its rows. With [`run`], the only code
/// that executes SQL: every other function renders (or writes) a statement and comes here.
async fn rows(
    conn: &mut Conn,
    sql: impl SqlSafeStr,
    values: Values,
) -> Result<Vec<Row>, StoreError> {
    let values = SqlxValues(values);
    Ok(match conn {
        Conn::Sqlite(tx) => (sqlx::query_with(sql, values).fetch_all(&mut **tx).await?)
            .into_iter()
            .map(Row::Sqlite)
            .collect(),
        Conn::Postgres(tx) => (sqlx::query_with(sql, values).fetch_all(&mut **tx).await?)
            .into_iter()
            .map(Row::Postgres)
            .collect(),
    })
}

/// Runs `sql` for its effect; answers the number of rows it changed.
async fn run(conn: &mut Conn, sql: impl SqlSafeStr, values: Values) -> Result<u64, StoreError> {
    let values = SqlxValues(values);
    Ok(match conn {
        Conn::Sqlite(tx) => sqlx::query_with(sql, values)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Conn::Postgres(tx) => sqlx::query_with(sql, values)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    })
}

/// The one place built SQL is executed: every statement comes from sea-query with bound values,
/// rendered for the connection's dialect.
pub(crate) async fn fetch(conn: &mut Conn, q: &SelectStatement) -> Result<Vec<Row>, StoreError> {
    let (sql, values) = render(conn.dialect(), q);
    rows(conn, AssertSqlSafe(sql), values).await
}

/// Runs an `INSERT … RETURNING id` and answers the id.
pub(crate) async fn insert_returning_id(
    conn: &mut Conn,
    stmt: &sea_query::InsertStatement,
) -> Result<i64, StoreError> {
    let (sql, values) = render(conn.dialect(), stmt);
    let row = rows(conn, AssertSqlSafe(sql), values)
        .await?
        .into_iter()
        .next();
    Ok(row.ok_or(sqlx::Error::RowNotFound)?.try_get(0)?)
}

pub(crate) async fn execute(
    conn: &mut Conn,
    stmt: &impl QueryStatementWriter,
) -> Result<u64, StoreError> {
    let (sql, values) = render(conn.dialect(), stmt);
    run(conn, AssertSqlSafe(sql), values).await
}

/// A fixed statement, written once for both dialects: `$1`-style placeholders (which SQLite
/// accepts too) and only syntax both understand. Values are bound, never spliced.
pub(crate) struct Fixed {
    sql: &'static str,
    values: Vec<sea_query::Value>,
}

pub(crate) fn query(sql: &'static str) -> Fixed {
    Fixed {
        sql,
        values: Vec::new(),
    }
}

/// Values a [`Fixed`] statement binds: typed, so a NULL keeps its column's type on PostgreSQL.
pub(crate) trait Bind {
    fn value(self) -> sea_query::Value;
}

macro_rules! bind_via_into {
    ($($t:ty),*) => {$(
        impl Bind for $t {
            fn value(self) -> sea_query::Value {
                self.into()
            }
        }
    )*};
}
bind_via_into!(
    i64,
    i32,
    Option<i64>,
    Option<i32>,
    String,
    Option<String>,
    &str,
    Option<&str>
);

impl Bind for &i64 {
    fn value(self) -> sea_query::Value {
        (*self).into()
    }
}

impl Bind for &String {
    fn value(self) -> sea_query::Value {
        self.as_str().into()
    }
}

impl Bind for &Option<String> {
    fn value(self) -> sea_query::Value {
        self.as_deref().into()
    }
}

impl Fixed {
    pub(crate) fn bind(mut self, v: impl Bind) -> Fixed {
        self.values.push(v.value());
        self
    }

    pub(crate) async fn fetch_all(self, conn: &mut Conn) -> Result<Vec<Row>, StoreError> {
        rows(conn, self.sql, Values(self.values)).await
    }

    pub(crate) async fn fetch_optional(self, conn: &mut Conn) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(conn).await?.into_iter().next())
    }

    pub(crate) async fn fetch_one(self, conn: &mut Conn) -> Result<Row, StoreError> {
        self.fetch_optional(conn)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// The first column of the first row.
    pub(crate) async fn scalar<T>(self, conn: &mut Conn) -> Result<T, StoreError>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>,
    {
        Ok(self.fetch_one(conn).await?.try_get(0)?)
    }

    /// The first column of the first row, if there is a row.
    pub(crate) async fn scalar_optional<T>(self, conn: &mut Conn) -> Result<Option<T>, StoreError>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>,
    {
        self.fetch_optional(conn)
            .await?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(Into::into)
    }

    pub(crate) async fn execute(self, conn: &mut Conn) -> Result<u64, StoreError> {
        run(conn, self.sql, Values(self.values)).await
    }
}
