using System.Diagnostics;
using XenProf.Sampler.Fleet;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// The opcontrol daemon's stream into the fleet database (opcontrol <c>--clickhouse URL</c>): after a commit, a worker
/// thread pushes what the database lacks of the session (<see cref="SessionPusher"/>), at most every
/// <see cref="Interval"/> for the daemon's periodic commits and at once for a <c>dump</c>, <c>stop</c> or <c>shutdown</c>.
/// Sampling never waits for the server: a push that fails (server down, network) is logged in one line and the next one
/// sends what it missed, each sample exactly once. Disposing sends what is left, waiting up to <see cref="FinalTimeout"/>.
/// </summary>
public sealed class FleetStream : IDaemonStream
{
    /// <summary>Shortest time between two pushes after periodic commits.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>How long the daemon's end waits for the last push (beyond it, <c>xenoprof push</c> sends the rest).</summary>
    public static readonly TimeSpan FinalTimeout = TimeSpan.FromSeconds(20);

    private readonly string _sessionDir;
    private readonly ClickHouseHttp _ch;
    private readonly FleetPushOptions _options;
    private readonly TextWriter _log;
    private readonly object _lock = new();
    private readonly Thread _worker;
    private readonly Stopwatch _sinceLast = Stopwatch.StartNew();
    private SessionPusher? _pusher;
    private bool _wanted, _busy, _closing;
    private long _requested, _done;
    private string _status = "nothing sent yet";

    /// <summary>
    /// Streams <paramref name="sessionDir"/> to <paramref name="url"/> (database and host name as <c>xenoprof push</c>
    /// takes them), logging each push to <paramref name="log"/>. Throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> for a malformed URL.
    /// </summary>
    public FleetStream(string sessionDir, string url, string? database, string? hostName, TextWriter log)
    {
        _sessionDir = sessionDir;
        _ch = new ClickHouseHttp(url);
        _options = new FleetPushOptions { Database = database ?? FleetSchema.DefaultDatabase, HostName = hostName };
        _log = log;
        _worker = new Thread(Work) { IsBackground = true, Name = "fleet stream" };
        _worker.Start();
    }

    /// <inheritdoc/>
    public string Status { get { lock (_lock) return $"{_ch.Url} database {_options.Database}: {_status}"; } }

    /// <inheritdoc/>
    public void Committed(bool asked)
    {
        lock (_lock)
        {
            if (!asked && _sinceLast.Elapsed < Interval) return;
            _wanted = true;
            _requested++;
            Monitor.PulseAll(_lock);
        }
    }

    /// <inheritdoc/>
    public bool Flush(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        lock (_lock)
        {
            _wanted = true;
            long ticket = ++_requested;
            Monitor.PulseAll(_lock);
            while (_done < ticket || _busy || _wanted)
            {
                var left = timeout - deadline.Elapsed;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_lock, left)) return false;
            }
            return _status.StartsWith("sent", StringComparison.Ordinal) || _status.StartsWith("up to date", StringComparison.Ordinal);
        }
    }

    private void Work()
    {
        while (true)
        {
            long ticket;
            lock (_lock)
            {
                while (!_wanted && !_closing) Monitor.Wait(_lock);
                if (!_wanted) return;
                _wanted = false;
                _busy = true;
                ticket = _requested;
            }
            string status;
            try
            {
                _pusher ??= new SessionPusher(_sessionDir);
                var r = _pusher.Push(_ch, _options);
                status = r.AlreadyComplete
                    ? $"up to date at {DateTime.UtcNow:O}: session {r.SessionId} (host {r.Host}), {r.Samples} samples"
                    : $"sent at {DateTime.UtcNow:O}: session {r.SessionId} (host {r.Host}), {r.SamplesSent} new samples, {r.Samples} in all";
            }
            catch (Exception e) when (e is ClickHouseException or StoreException or IOException)
            {
                status = $"failed at {DateTime.UtcNow:O}: {e.Message}; the next dump sends what this push missed";
            }
            catch (Exception e)
            {
                // Whatever goes wrong here must not end the daemon: sampling goes on, the next push tries again.
                status = $"failed at {DateTime.UtcNow:O}: {e.GetType().Name}: {e.Message}; the next dump sends what this push missed";
                _pusher?.Dispose();
                _pusher = null;
            }
            Log($"{DateTime.UtcNow:O} fleet push: {status}");
            lock (_lock)
            {
                _status = status;
                _busy = false;
                _done = Math.Max(_done, ticket);
                _sinceLast.Restart();
                Monitor.PulseAll(_lock);
            }
        }
    }

    private void Log(string line)
    {
        lock (_log)
            try { _log.WriteLine(line); _log.Flush(); }
            catch (IOException) { }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!Flush(FinalTimeout))
            Log($"{DateTime.UtcNow:O} fleet push: the session is not all sent ({Status}); 'xenoprof push --clickhouse {_ch.Url} --database {_options.Database} {_sessionDir}' sends the rest");
        lock (_lock)
        {
            _closing = true;
            Monitor.PulseAll(_lock);
        }
        if (_worker.Join(TimeSpan.FromSeconds(5)))
        {
            _pusher?.Dispose();
            _ch.Dispose();
        }
    }
}
