using Microsoft.Data.Sqlite;

namespace XenProf.Sampler.Store;

/// <summary>
/// A full file system, told apart from other I/O failures: SQLite's <c>SQLITE_FULL</c> (result code 13, sqlite3.h) and
/// the kernel's <c>ENOSPC</c> (errno 28, errno-base.h; .NET's <see cref="Exception.HResult"/> on Linux is the errno),
/// so every writer can stop with one line that names the directory instead of an internal error.
/// </summary>
public static class NoSpace
{
    private const int SqliteFull = 13;
    private const int Enospc = 28;
    private const int Edquot = 122; // a disk quota counts as full too

    /// <summary>True when <paramref name="e"/> (or an inner exception) says the file system is full.</summary>
    public static bool Is(Exception? e) => e switch
    {
        null => false,
        SqliteException s => s.SqliteErrorCode == SqliteFull,
        IOException io when io.HResult is Enospc or Edquot => true,
        StoreException s => s.IsNoSpace,
        _ => Is(e.InnerException),
    };

    /// <summary>The one-line error for a full file system under <paramref name="dir"/> while writing <paramref name="what"/>.</summary>
    public static StoreException Error(string dir, string what, Exception cause) =>
        new($"no space left on {dir} (writing {what}: {Reason(cause)}); what was stored before stays readable; free space or choose another --session-dir", cause);

    /// <summary>The directory of the file a full-disk <see cref="IOException"/> names (.NET quotes the path: <c>… : '/dir/file'</c>), else null.</summary>
    public static string? DirectoryOf(IOException e)
    {
        int end = e.Message.LastIndexOf('\''), start = end > 0 ? e.Message.LastIndexOf('\'', end - 1) : -1;
        return start >= 0 && end > start + 1 ? Path.GetDirectoryName(e.Message[(start + 1)..end]) : null;
    }

    private static string Reason(Exception e) => e switch
    {
        SqliteException s => s.Message.Replace("SQLite Error 13: ", "", StringComparison.Ordinal).Trim('\'', '.', ' '),
        _ => e.Message.Split(" : ", 2)[0].TrimEnd('.'),
    };
}
