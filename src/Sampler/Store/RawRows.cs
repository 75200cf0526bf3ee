using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace XenProf.Sampler.Store;

/// <summary>
/// The rows of one SELECT read straight from SQLite's C API, for the store's big tables (stack nodes, totals, frames,
/// the symbol cache: millions of rows in a system-wide session). Through <see cref="SqliteDataReader"/> every value
/// cost a SafeHandle reference count taken and released around its P/Invoke plus a type check; a warm
/// <c>opreport -l</c> spent about a fifth of its CPU there. Here the statement is prepared through SQLitePCL's raw API,
/// its handle is held once for the whole read, and <c>sqlite3_step</c>/<c>sqlite3_column_*</c>
/// (sqlite.org/c3ref/column_blob.html) are called on the bare pointer of the same <c>e_sqlite3</c> library that
/// Microsoft.Data.Sqlite loaded. The statement runs on the store's connection, so it sees the open transaction.
/// Errors: <see cref="SqliteException"/> as SQLite reports them.
/// </summary>
internal sealed partial class RawRows : IDisposable
{
    private const int SqliteRow = 100, SqliteDone = 101;

    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _stmt;
    private readonly IntPtr _p;
    private bool _held;
    private byte[] _bytes = new byte[256];
    private char[] _chars = new char[256];

    /// <summary>Prepares <paramref name="sql"/>; <paramref name="parameters"/> are bound in order to its <c>?</c> placeholders.</summary>
    public RawRows(SqliteConnection connection, string sql, params long[] parameters)
    {
        _connection = connection;
        int rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out _stmt);
        if (rc != raw.SQLITE_OK || _stmt == null)
        {
            SqliteException.ThrowExceptionForRC(rc, connection.Handle);
            throw new InvalidOperationException("SQLite prepared no statement for " + sql);
        }
        for (int i = 0; i < parameters.Length; i++)
        {
            rc = raw.sqlite3_bind_int64(_stmt, i + 1, parameters[i]);
            if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        }
        _stmt.DangerousAddRef(ref _held);
        _p = _stmt.DangerousGetHandle();
    }

    /// <summary>Moves to the next row; false after the last.</summary>
    public bool Step()
    {
        int rc = sqlite3_step(_p);
        if (rc == SqliteRow) return true;
        if (rc == SqliteDone) return false;
        SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        return false;
    }

    /// <summary>Column <paramref name="i"/> (0-based) of the current row as a 64-bit integer (0 for NULL).</summary>
    public long Int64(int i) => sqlite3_column_int64(_p, i);

    /// <summary>Column <paramref name="i"/> as a 32-bit integer.</summary>
    public int Int32(int i) => sqlite3_column_int(_p, i);

    /// <summary>Column <paramref name="i"/> as a double (0.0 for NULL).</summary>
    public double Double(int i) => sqlite3_column_double(_p, i);

    /// <summary>Column <paramref name="i"/> as text (UTF-8 in the store), null for NULL.</summary>
    public string? Text(int i)
    {
        var s = sqlite3_column_text(_p, i);
        if (s == IntPtr.Zero) return null;
        return Marshal.PtrToStringUTF8(s, sqlite3_column_bytes(_p, i));
    }

    /// <summary>
    /// Column <paramref name="i"/> as text, null for NULL, taken from <paramref name="pool"/> when an equal string is
    /// there (and added to it when not): for columns that repeat few distinct values over many rows (symbol names).
    /// </summary>
    public string? Text(int i, HashSet<string>.AlternateLookup<ReadOnlySpan<char>> pool)
    {
        var s = sqlite3_column_text(_p, i);
        if (s == IntPtr.Zero) return null;
        int n = sqlite3_column_bytes(_p, i);
        if (_bytes.Length < n) { _bytes = new byte[Math.Max(n, 2 * _bytes.Length)]; _chars = new char[_bytes.Length]; }
        Marshal.Copy(s, _bytes, 0, n);
        var span = _chars.AsSpan(0, System.Text.Encoding.UTF8.GetChars(_bytes.AsSpan(0, n), _chars));
        if (!pool.TryGetValue(span, out var name))
        {
            name = new string(span);
            pool.Add(name);
        }
        return name;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_held)
        {
            _stmt.DangerousRelease();
            _held = false;
        }
        _stmt.Dispose();
    }

    [LibraryImport("e_sqlite3")] private static partial int sqlite3_step(IntPtr stmt);
    [LibraryImport("e_sqlite3")] private static partial long sqlite3_column_int64(IntPtr stmt, int column);
    [LibraryImport("e_sqlite3")] private static partial int sqlite3_column_int(IntPtr stmt, int column);
    [LibraryImport("e_sqlite3")] private static partial double sqlite3_column_double(IntPtr stmt, int column);
    [LibraryImport("e_sqlite3")] private static partial IntPtr sqlite3_column_text(IntPtr stmt, int column);
    [LibraryImport("e_sqlite3")] private static partial int sqlite3_column_bytes(IntPtr stmt, int column);
}
