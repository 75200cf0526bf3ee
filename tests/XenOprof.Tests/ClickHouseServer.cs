using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;
using XenProf.Sampler.Fleet;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// A real clickhouse-server (Debian 12's package: 18.16) for the fleet tests, started once per collection on 127.0.0.1
/// with free http/tcp/interserver ports, a minimal config.xml and users.xml and its data under a temporary directory, as
/// the <c>clickhouse</c> user when running as root (else as the current user), and stopped afterwards.
/// </summary>
public sealed class ClickHouseServer : IDisposable
{
    /// <summary>Where Debian installs the server.</summary>
    public const string Binary = "/usr/sbin/clickhouse-server";

    private Process? _process;
    private readonly string _dir;

    /// <summary>The server's HTTP URL.</summary>
    public string Url { get; }

    /// <summary>Why the server could not start (tests then fail with it), or null.</summary>
    public string? Failure { get; }

    public ClickHouseServer()
    {
        _dir = Directory.CreateTempSubdirectory("xenoprof-clickhouse-").FullName;
        int http = FreePort(), tcp = FreePort(), inter = FreePort();
        Url = $"http://127.0.0.1:{http}/";
        if (!File.Exists(Binary)) { Failure = $"{Binary} is not installed"; return; }
        foreach (var d in new[] { "data", "tmp", "log" }) Directory.CreateDirectory(Path.Combine(_dir, d));
        File.WriteAllText(Path.Combine(_dir, "config.xml"), $"""
            <?xml version="1.0"?>
            <yandex>
              <logger><level>warning</level><log>{_dir}/log/server.log</log><errorlog>{_dir}/log/error.log</errorlog><console>0</console></logger>
              <listen_host>127.0.0.1</listen_host>
              <http_port>{http}</http_port>
              <tcp_port>{tcp}</tcp_port>
              <interserver_http_port>{inter}</interserver_http_port>
              <path>{_dir}/data/</path>
              <tmp_path>{_dir}/tmp/</tmp_path>
              <users_config>{_dir}/users.xml</users_config>
              <default_profile>default</default_profile>
              <default_database>default</default_database>
              <mark_cache_size>5368709</mark_cache_size>
            </yandex>
            """);
        File.WriteAllText(Path.Combine(_dir, "users.xml"), """
            <?xml version="1.0"?>
            <yandex>
              <profiles><default></default></profiles>
              <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
              <quotas><default></default></quotas>
            </yandex>
            """);
        _asUser = Environment.IsPrivilegedProcess && File.Exists("/usr/bin/setpriv") && Run("id", "-u", "clickhouse") == 0;
        if (_asUser) Run("chown", "-R", "clickhouse:", _dir);
        Failure = Start();
    }

    private readonly bool _asUser;

    /// <summary>Starts the server on its ports and data; returns why it did not answer, or null.</summary>
    private string? Start()
    {
        bool asUser = _asUser;
        var psi = new ProcessStartInfo(asUser ? "/usr/bin/setpriv" : Binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (asUser) foreach (var a in new[] { "--reuid=clickhouse", "--regid=clickhouse", "--init-groups", Binary }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--config-file=" + Path.Combine(_dir, "config.xml"));
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var ch = new ClickHouseHttp(Url);
        for (int i = 0; i < 600; i++) // up to a minute on a busy machine: this waits, it measures nothing
        {
            if (_process.HasExited) break;
            try { ch.ServerVersion(); return null; }
            catch (ClickHouseException) { Thread.Sleep(100); }
        }
        var log = Path.Combine(_dir, "log", "error.log");
        return $"clickhouse-server did not answer on {Url}" + (File.Exists(log) ? ": " + File.ReadAllText(log).Trim().Split('\n').LastOrDefault() : "");
    }

    /// <summary>Stops the server (kill -9), keeping its data: an outage.</summary>
    public void Stop()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(true);
            _process.WaitForExit();
        }
    }

    /// <summary>Starts the stopped server again on the same ports and data. Fails the test when it does not answer.</summary>
    public void Restart()
    {
        Stop();
        _process?.Dispose();
        var failure = Start();
        Assert.True(failure == null, failure);
    }

    /// <summary>A client of the server; fails the test with <see cref="Failure"/> when it did not start.</summary>
    public ClickHouseHttp Client()
    {
        Assert.True(Failure == null, Failure);
        return new ClickHouseHttp(Url);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static int Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode;
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(true);
            _process.WaitForExit();
        }
        _process?.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClickHouseCollection : ICollectionFixture<ClickHouseServer>
{
    public const string Name = "ClickHouse server";
}

/// <summary>A fact that needs the clickhouse-server binary; skipped with the reason when it is not installed.</summary>
public sealed class ClickHouseFactAttribute : FactAttribute
{
    public ClickHouseFactAttribute()
    {
        if (!File.Exists(ClickHouseServer.Binary)) Skip = $"needs {ClickHouseServer.Binary} (apt-get install clickhouse-server; tests/run.sh installs it)";
    }
}

/// <summary>A fact that records real sessions (root, the built-in workload) and pushes them to clickhouse-server.</summary>
public sealed class ClickHouseRootFactAttribute : FactAttribute
{
    public ClickHouseRootFactAttribute()
    {
        if (!File.Exists(ClickHouseServer.Binary)) Skip = $"needs {ClickHouseServer.Binary} (apt-get install clickhouse-server; tests/run.sh installs it)";
        else if (!Environment.IsPrivilegedProcess) Skip = "needs root for perf_event_open sampling (CI runs as root)";
        else if (!File.Exists(Cli.Workload)) Skip = $"the built-in workload {Cli.Workload} was not built (gcc missing)";
    }
}
