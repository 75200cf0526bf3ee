using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// The native AOT build of xenoprof (what bench/publish.sh times) reports exactly as the JIT build does: on a
/// .nettrace (TraceEvent, reflection-heavy), on another machine's perf.data, and on a live record of the built-in
/// workload, which the publish puts beside it.
/// </summary>
public sealed class NativeBuildTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-native-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static string? RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) return d.FullName;
        return null;
    }

    private static (int Code, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10))) { p.Kill(true); Assert.Fail($"{file} {string.Join(' ', args)} did not finish in 10 minutes"); }
        return (p.ExitCode, o, err.Result);
    }

    [Fact]
    public void NativeBuild_ReportsAsTheJitBuildDoes()
    {
        var root = RepoRoot();
        if (root == null) { output.WriteLine("SKIPPED: not run from the repository (XenProf.sln not found above the test)"); return; }
        if (!File.Exists("/usr/bin/gcc")) { output.WriteLine("SKIPPED: gcc is not installed (it links the native build; CI installs it)"); return; }
        var pub = Path.Combine(_dir, "pub");
        // Own artifacts path: the developer's bin/ and obj/ are left alone.
        var (code, o, e) = Run("dotnet", "publish", Path.Combine(root, "src", "XenOprof", "XenOprof.csproj"), "-c", "Release", "-r", "linux-x64",
            "-p:PublishAot=true", "--artifacts-path", Path.Combine(_dir, "artifacts"), "-o", pub, "-nologo", "-v", "q");
        Assert.True(code == 0, $"native publish failed:\n{o}\n{e}");
        var native = Path.Combine(pub, "xenoprof");
        Assert.True(File.Exists(native));

        // A .nettrace: TraceEvent builds its objects by reflection, which the AOT build must keep.
        var nettrace = Path.Combine(root, "tests", "Sampler.Tests", "Data", "nettrace", "burner-2s.nettrace");
        string S(string name) => Path.Combine(_dir, name);
        Assert.Equal(0, Run(native, "import", nettrace, "--session-dir", S("nt-native")).Code);
        Assert.Equal(0, Cli.Run("import", nettrace, "--session-dir", S("nt-jit")).ExitCode);
        var nativeReport = Run(native, "opreport", "-l", "--session-dir", S("nt-native"));
        Assert.Equal(Cli.Run("opreport", "-l", "--session-dir", S("nt-jit")).Stdout, nativeReport.Out);
        Assert.Contains("Burner.Hot(int64)", nativeReport.Out);

        // Another machine's perf.data, straight: report and folded stacks.
        var peer = Path.Combine(root, "..", "shared", "peer-data", "perfparser", "parallel_static_gcc.perf.data.zstd");
        if (File.Exists(peer))
        {
            File.Copy(peer, S("a.data"));
            File.Copy(peer, S("b.data"));
            Assert.Equal(Cli.Run("opreport", "-l", S("b.data")).Stdout, Run(native, "opreport", "-l", S("a.data")).Out);
            Assert.Equal(0, Run(native, "flame", S("a.data"), "--output", S("native.folded")).Code);
            Assert.Equal(0, Cli.Run("flame", S("b.data"), "--output", S("jit.folded")).ExitCode);
            Assert.Equal(File.ReadAllText(S("jit.folded")), File.ReadAllText(S("native.folded")));
        }
        else output.WriteLine("peer-data not beside the repository: perf.data comparison skipped");

        // A live record of the built-in workload, published beside the native program.
        var rec = Run(native, "record", "--session-dir", S("live"));
        Assert.True(rec.Code == 0, rec.Err);
        var live = Run(native, "opreport", "-l", "--session-dir", S("live"));
        Assert.Contains("hot_sixty", live.Out);
        output.WriteLine(live.Out);

        // serve: Kestrel and the source-generated JSON views work without a JIT.
        var (server, url) = ServedSession.StartServer(S("live"), native);
        try
        {
            using var http = new HttpClient(new HttpClientHandler { UseCookies = false }); // else the first answer's token cookie rides along
            var top = http.GetStringAsync(new Uri(url, "api/top" + url.Query)).GetAwaiter().GetResult();
            Assert.Contains("\"name\":\"hot_sixty\"", top);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, http.GetAsync(new Uri(url, "api/top")).GetAwaiter().GetResult().StatusCode);
            Assert.Contains("<script src=\"app.js\">", http.GetStringAsync(url).GetAwaiter().GetResult());
        }
        finally { ServedSession.Stop(server); }
    }
}
