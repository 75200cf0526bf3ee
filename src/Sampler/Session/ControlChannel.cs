using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace XenProf.Sampler.Session;

/// <summary>
/// The daemon's control endpoint: a Unix domain stream socket <c>daemon.sock</c> in the session
/// directory, mode 0600, whose peers must have the daemon's effective uid (checked with
/// <c>SO_PEERCRED</c>, Linux <c>struct ucred {pid, uid, gid}</c>). The protocol is one request line
/// per connection (<c>start</c>, <c>stop</c>, <c>dump</c>, <c>status</c>, <c>reset</c>, <c>shutdown</c>)
/// answered by one or more lines, the first being <c>ok</c> or <c>error</c>.
/// </summary>
public sealed class ControlServer : IDisposable
{
    private const int SolSocket = 1, SoPeerCred = 17; // asm-generic/socket.h
    private readonly Socket _listener;
    private readonly Func<string, (bool Ok, string Reply)> _handler;

    /// <summary>Binds the socket at <paramref name="socketPath"/> (a stale file is replaced) and makes it 0600.</summary>
    public ControlServer(string socketPath, Func<string, (bool Ok, string Reply)> handler)
    {
        if (File.Exists(socketPath)) File.Delete(socketPath);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(8);
        _handler = handler;
        SocketPath = socketPath;
    }

    /// <summary>Path of the socket file.</summary>
    public string SocketPath { get; }

    /// <summary>Serves requests until <paramref name="ct"/> is cancelled or the handler answers a <c>shutdown</c>.</summary>
    public async Task ServeAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(ct); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            using (client)
            {
                string request = "";
                try
                {
                    if (!PeerIsSameUser(client))
                    {
                        await SendAsync(client, "error permission denied: the daemon only obeys its own user\n");
                        continue;
                    }
                    request = (await ReadLineAsync(client, ct)).Trim();
                    var (ok, reply) = _handler(request);
                    await SendAsync(client, (ok ? "ok" : "error") + (reply.Length > 0 ? " " + reply : "") + "\n");
                }
                catch (Exception e) when (e is SocketException or IOException) { }
                if (request == "shutdown") return;
            }
        }
    }

    private static bool PeerIsSameUser(Socket s)
    {
        Span<byte> cred = stackalloc byte[12];
        int n = s.GetRawSocketOption(SolSocket, SoPeerCred, cred);
        if (n < 12) return false;
        uint uid = BitConverter.ToUInt32(cred.Slice(4, 4));
        return uid == NativeMethods.geteuid();
    }

    private static async Task<string> ReadLineAsync(Socket s, CancellationToken ct)
    {
        var buf = new byte[4096];
        var sb = new StringBuilder();
        while (sb.Length < 4096)
        {
            int n = await s.ReceiveAsync(buf, SocketFlags.None, ct);
            if (n == 0) break;
            sb.Append(Encoding.UTF8.GetString(buf, 0, n));
            if (sb.ToString().Contains('\n')) break;
        }
        var t = sb.ToString();
        int nl = t.IndexOf('\n');
        return nl < 0 ? t : t[..nl];
    }

    private static async Task SendAsync(Socket s, string text) => await s.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None);

    /// <summary>Closes the socket and removes its file.</summary>
    public void Dispose()
    {
        _listener.Dispose();
        try { File.Delete(SocketPath); } catch (IOException) { }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = false)]
        public static extern uint geteuid();
    }
}

/// <summary>Client side of <see cref="ControlServer"/>.</summary>
public static class ControlClient
{
    /// <summary>
    /// Sends <paramref name="request"/> and returns (ok, reply text). Returns null when no daemon listens on
    /// <paramref name="socketPath"/> (no socket file, or connection refused: a daemon that died). Throws
    /// <see cref="SessionException"/> ("permission denied: … is owned by root (mode 0600)") when the socket or its
    /// directory belongs to another user.
    /// </summary>
    public static (bool Ok, string Reply)? TrySend(string socketPath, string request, TimeSpan? timeout = null)
    {
        var dir = Path.GetDirectoryName(socketPath)!;
        if (Directory.Exists(dir) && !SessionPrivacy.CanEnter(dir))
            throw new SessionException($"permission denied: {dir} is owned by {Describe(dir)}");
        if (!File.Exists(socketPath)) return null;
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { s.Connect(new UnixDomainSocketEndPoint(socketPath)); }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new SessionException($"permission denied: {socketPath} is owned by {Describe(socketPath)}");
        }
        catch (SocketException) { return null; }
        s.ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(60)).TotalMilliseconds;
        s.Send(Encoding.UTF8.GetBytes(request + "\n"));
        var ms = new MemoryStream();
        var buf = new byte[4096];
        int n;
        while ((n = s.Receive(buf)) > 0) ms.Write(buf, 0, n);
        var text = Encoding.UTF8.GetString(ms.ToArray()).TrimEnd('\n');
        if (text.StartsWith("ok", StringComparison.Ordinal)) return (true, text.Length > 2 ? text[3..] : "");
        if (text.StartsWith("error", StringComparison.Ordinal)) return (false, text.Length > 5 ? text[6..] : "");
        return (false, "daemon sent an unreadable reply: " + text);
    }

    private static string Describe(string path) =>
        SessionPrivacy.OwnerOf(path) is { } o ? $"{o.Owner} (mode {Convert.ToString((int)o.Mode, 8).PadLeft(4, '0')})" : "another user";
}
