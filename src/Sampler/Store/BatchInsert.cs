using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace XenProf.Sampler.Store;

/// <summary>
/// Rows of integer (and real) columns written into one table in batches: a row is kept in a buffer, and every
/// <see cref="RowsPerStatement"/> rows go to SQLite as one multi-row <c>INSERT … VALUES (…),(…)…</c> statement,
/// prepared once and driven through SQLitePCL's raw API (parameters bound by index, one step, one reset). The import of
/// a large trace writes millions of frame, stack-node and total rows; through <see cref="SqliteCommand"/> each row cost
/// a statement enumeration, a bind by parameter name and a step of its own. The rows land in the connection's open
/// transaction, in the order they were added. <see cref="Flush"/> writes what the buffer holds (a single-row statement
/// per remaining row) and must run before anything reads the table or commits. SQLite enforces the schema's
/// <c>REFERENCES</c> on the store's connection (bundled SQLite enforces foreign keys), so a batch whose rows name rows of another
/// batch (stack nodes name frames) is given that batch as <c>dependsOn</c>, which is flushed before each of its writes.
/// Errors: <see cref="SqliteException"/> as SQLite reports them (<c>SQLITE_FULL</c> included).
/// </summary>
internal sealed class BatchInsert : IDisposable
{
    /// <summary>Rows per multi-row statement: 64 rows of 9 columns (576 parameters) stay far below SQLite's default <c>SQLITE_MAX_VARIABLE_NUMBER</c> of 32,766 (sqlite.org/limits.html).</summary>
    public const int RowsPerStatement = 64;

    private readonly SqliteConnection _connection;
    private readonly string _sqlOne, _sqlMany;
    private readonly int _width;
    private readonly bool[] _real;
    private readonly long[] _values;
    private int _rows;
    private sqlite3_stmt? _one, _many;
    private readonly BatchInsert? _dependsOn;

    /// <summary>
    /// Rows of <paramref name="table"/>'s <paramref name="columns"/> (comma-separated names); <paramref name="realColumns"/>
    /// gives the indexes of the REAL columns (their values are passed as the bits of a double); <paramref name="suffix"/>,
    /// when given, follows the VALUES list (an <c>ON CONFLICT …</c> clause); <paramref name="dependsOn"/>, when given, holds the
    /// rows these rows reference and is flushed first.
    /// </summary>
    public BatchInsert(SqliteConnection connection, string table, string columns, int[]? realColumns = null, string? suffix = null,
        BatchInsert? dependsOn = null)
    {
        _connection = connection;
        _dependsOn = dependsOn;
        _width = columns.Split(',').Length;
        _real = new bool[_width];
        foreach (var i in realColumns ?? []) _real[i] = true;
        _values = new long[_width * RowsPerStatement];
        var row = "(" + string.Join(",", Enumerable.Repeat("?", _width)) + ")";
        var head = $"INSERT INTO {table}({columns}) VALUES ";
        var tail = suffix == null ? "" : " " + suffix;
        _sqlOne = head + row + tail;
        _sqlMany = head + string.Join(",", Enumerable.Repeat(row, RowsPerStatement)) + tail;
    }

    /// <summary>Adds a row of three integer columns.</summary>
    public void Add(long a, long b, long c)
    {
        var v = _values.AsSpan(_rows * _width, _width);
        v[0] = a; v[1] = b; v[2] = c;
        Added();
    }

    /// <summary>Adds a row; <paramref name="row"/> holds one value per column (a REAL column's as <see cref="BitConverter.DoubleToInt64Bits"/>).</summary>
    public void Add(ReadOnlySpan<long> row)
    {
        row.CopyTo(_values.AsSpan(_rows * _width, _width));
        Added();
    }

    private void Added()
    {
        if (++_rows < RowsPerStatement) return;
        _dependsOn?.Flush();
        _many ??= Prepare(_sqlMany);
        Run(_many, 0, RowsPerStatement);
        _rows = 0;
    }

    /// <summary>Writes the rows still buffered.</summary>
    public void Flush()
    {
        if (_rows == 0) return;
        _dependsOn?.Flush();
        _one ??= Prepare(_sqlOne);
        for (int r = 0; r < _rows; r++) Run(_one, r, 1);
        _rows = 0;
    }

    /// <summary>Drops the rows still buffered (a transaction rolled back after a failed write).</summary>
    public void Discard() => _rows = 0;

    private sqlite3_stmt Prepare(string sql)
    {
        int rc = raw.sqlite3_prepare_v2(_connection.Handle, sql, out var stmt);
        if (rc == raw.SQLITE_OK && stmt != null) return stmt;
        stmt?.Dispose();
        SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        throw new InvalidOperationException($"SQLite prepared no statement for {sql[..Math.Min(sql.Length, 60)]}");
    }

    private void Run(sqlite3_stmt stmt, int firstRow, int rows)
    {
        var values = _values.AsSpan(firstRow * _width, rows * _width);
        for (int i = 0; i < values.Length; i++)
        {
            int rc = _real[i % _width]
                ? raw.sqlite3_bind_double(stmt, i + 1, BitConverter.Int64BitsToDouble(values[i]))
                : raw.sqlite3_bind_int64(stmt, i + 1, values[i]);
            if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }
        int step = raw.sqlite3_step(stmt);
        raw.sqlite3_reset(stmt);
        if (step != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(step, _connection.Handle);
    }

    /// <summary>Finalizes the statements (buffered rows are not written: <see cref="Flush"/> first).</summary>
    public void Dispose()
    {
        _one?.Dispose();
        _many?.Dispose();
        _one = _many = null;
    }
}
