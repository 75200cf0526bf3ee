using System.Runtime.InteropServices;

namespace XenProf.Sampler.Session;

/// <summary>
/// Who may read a session. Samples name commands, addresses and kernel symbols, so a session is private by default,
/// as perf writes perf.data 0600: directories 0700 and files 0600 (process umask 077). With a group
/// (<c>--group NAME</c>) the session directory belongs to that group with the set-group-id bit, so every file made in
/// it inherits the group, and the umask is 027: the group may read, nobody else.
/// </summary>
public static partial class SessionPrivacy
{
    /// <summary>Sets this process's umask for <paramref name="group"/> (null: private, 077; else 027). Affects every file created afterwards, in this process and the processes it starts.</summary>
    public static void ApplyUmask(string? group) => umask(group == null ? 0x3Fu : 0x17u); // 077, 027

    /// <summary>
    /// Makes <paramref name="dir"/> private (0700) or, with <paramref name="group"/>, owned by that group and 2750.
    /// A directory of another owner is left as it is. Throws <see cref="SessionException"/> for an unknown group or one
    /// this user may not give files to.
    /// </summary>
    public static void ApplyTo(string dir, string? group)
    {
        if (stat(dir, out var st) != 0 || st.Uid != geteuid()) return;
        if (group == null)
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return;
        }
        uint gid = GroupId(group) ?? throw new SessionException($"--group {group}: no such group (see /etc/group)");
        if (chown(dir, uint.MaxValue, gid) != 0)
            throw new SessionException($"--group {group}: cannot give {dir} to group {group} ({Marshal.GetLastPInvokeErrorMessage()}); the user must be a member of it");
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.SetGroup);
    }

    /// <summary>The owner of <paramref name="path"/> as "name" (or "uid N"), and its permission bits; null when it cannot be stat'ed.</summary>
    public static (string Owner, UnixFileMode Mode)? OwnerOf(string path)
    {
        if (stat(path, out var st) != 0) return null;
        return (UserName(st.Uid) ?? $"uid {st.Uid}", (UnixFileMode)(st.Mode & 0xFFF));
    }

    /// <summary>True when this process may search (traverse) <paramref name="dir"/> (access(2) X_OK).</summary>
    public static bool CanEnter(string dir) => access(dir, 1) == 0;

    /// <summary>This process's effective uid.</summary>
    public static uint EffectiveUid => geteuid();

    private static uint? GroupId(string name)
    {
        if (uint.TryParse(name, out var n)) return n;
        return LookUp("/etc/group", name);
    }

    private static string? UserName(uint uid)
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/passwd"))
            {
                var f = line.Split(':');
                if (f.Length > 2 && uint.TryParse(f[2], out var u) && u == uid) return f[0];
            }
        }
        catch (IOException) { }
        return null;
    }

    private static uint? LookUp(string file, string name)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var f = line.Split(':');
                if (f.Length > 2 && f[0] == name && uint.TryParse(f[2], out var id)) return id;
            }
        }
        catch (IOException) { }
        return null;
    }

    /// <summary>The leading fields of x86-64 Linux <c>struct stat</c> (asm/stat.h: st_dev, st_ino, st_nlink, st_mode, st_uid, st_gid), padded to its 144 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct StatBuf
    {
        public ulong Dev, Ino, Nlink;
        public uint Mode, Uid, Gid;
    }

    private static int stat(string path, out StatBuf st) => Stat(path, out st);

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, out StatBuf st);

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint umask(uint mask);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint geteuid();

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chown(string path, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int access(string path, int mode);
}
