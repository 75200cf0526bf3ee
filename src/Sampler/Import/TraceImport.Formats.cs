using System.Globalization;
using System.Text;
using XenProf.Hypervisor.Binary;
using XenProf.Sampler.Import.NetTrace;
using XenProf.Sampler.Import.PerfData;
using XenProf.Sampler.Import.PerfScript;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Import;

/// <summary>The kinds of trace file <see cref="TraceImport"/> reads.</summary>
public enum TraceFormat
{
    /// <summary>None of the others.</summary>
    Unknown,
    /// <summary>perf.data, file or pipe mode (magic <c>PERFILE2</c> / <c>PERFFILE</c>).</summary>
    PerfData,
    /// <summary><c>perf script</c> text.</summary>
    PerfScript,
    /// <summary>An EventPipe trace (magic <c>Nettrace</c>, the nettrace format's first 8 bytes).</summary>
    NetTrace,
}

public static partial class TraceImport
{
    private static ReadOnlySpan<byte> NettraceMagic => "Nettrace"u8;

    /// <summary>
    /// Tells the format from the file's first bytes: the perf.data and nettrace magics, else text whose first
    /// non-comment line is a perf script event line (<see cref="PerfScriptReader"/>).
    /// </summary>
    public static TraceFormat Sniff(string file)
    {
        if (PerfDataReader.LooksLikePerfData(file)) return TraceFormat.PerfData;
        Span<byte> head = stackalloc byte[8];
        using (var f = File.OpenRead(file))
        {
            int n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (n == 8 && head.SequenceEqual(NettraceMagic)) return TraceFormat.NetTrace;
        }
        // Only the head is read (a large binary file may have no line break at all): 64 KiB, cut at its last full line.
        var buf = new byte[64 * 1024];
        int len;
        using (var f = File.OpenRead(file)) len = f.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
        if (len == 0 || buf.AsSpan(0, len).IndexOf((byte)0) >= 0) return TraceFormat.Unknown;
        if (len == buf.Length && buf.AsSpan(0, len).LastIndexOf((byte)'\n') is var nl and > 0) len = nl + 1;
        // A perf script file has a sample in its first lines and at least three lines in four are part of a sample (or blank or a comment).
        var probe = new PerfScriptReader();
        using var sr = new StringReader(Encoding.Latin1.GetString(buf, 0, len));
        bool any = probe.Read(sr).Count() > 0; // read it all: the skipped-line count covers the whole head
        return any && probe.SkippedLines * 4 <= probe.Lines ? TraceFormat.PerfScript : TraceFormat.Unknown;
    }

    /// <summary>
    /// Reads perf script text <paramref name="file"/> as an import would, without storing it, for verbs that fold the text
    /// directly: returns the warning an import gives for the lines it skips (null when every line parsed).
    /// </summary>
    /// <exception cref="MalformedDataException"><paramref name="strict"/> and a line does not parse: names the file and the line.</exception>
    public static string? CheckPerfScript(string file, bool strict)
    {
        var reader = new PerfScriptReader(file, strict);
        using (var input = new StreamReader(file, Encoding.Latin1, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16))
            foreach (var _ in reader.Read(input)) { }
        return SkippedLinesWarning(reader);
    }

    private static string? SkippedLinesWarning(PerfScriptReader reader) => reader.SkippedLines == 0 ? null
        : $"{reader.SkippedLines} lines did not parse and were skipped"
          + (reader.SkippedSamples > 0 ? $" ({reader.SkippedSamples} samples with an out-of-range field, with their frames)" : "")
          + $"; the first: {reader.FirstProblem!.Message}; --strict stops there";

    private static ImportResult ImportPerfScript(string file, SessionDirectory dir, ImportOptions options, CancellationToken ct)
    {
        dir.EnsureWritable();
        using var store = CreateStore(dir, file);
        var importer = new PerfScriptImporter(store);
        var reader = new PerfScriptReader(file, options.Strict);
        using (var input = File.OpenRead(file)) importer.Import(input, options.Progress, ct, reader);
        store.SetMeta("source", "perf script");
        store.SetMeta("source_path", Path.GetFullPath(file));
        store.SetMeta("target", "perf script text");
        store.AddCounter(CounterNames.Samples, importer.Samples);
        if (reader.SkippedLines > 0) store.AddCounter(CounterNames.SkippedLines, reader.SkippedLines);
        if (reader.SkippedSamples > 0) store.AddCounter(CounterNames.SkippedSamples, reader.SkippedSamples);
        WriteSourceMeta(store, file);
        NoKernelSymbols(dir);
        var warnings = new List<string>();
        if (SkippedLinesWarning(reader) is { } skipped) warnings.Add(skipped);
        if (importer.Samples == 0) warnings.Add("no samples: is this perf script output?");
        return new ImportResult(file, "perf script", importer.Samples, reader.Lines, new Dictionary<uint, long>(), importer.EventNames, null, 0, warnings);
    }

    private static ImportResult ImportNetTrace(string file, SessionDirectory dir, ImportOptions options, CancellationToken ct)
    {
        dir.EnsureWritable();
        using var store = CreateStore(dir, file);
        var importer = new NetTraceImporter(store);
        importer.Import(file, Path.Combine(dir.Path, "nettrace.etlx"), options.Progress, ct);
        store.SetMeta("source", "nettrace");
        store.SetMeta("target", ".nettrace (EventPipe)");
        if (importer.MachineName is { Length: > 0 } host) store.SetMeta("hostname", host);
        if (importer.EventsLost > 0) store.AddCounter(CounterNames.LostSamples, importer.EventsLost);
        store.AddCounter(CounterNames.Samples, importer.Samples);
        store.SetMeta("source_path", Path.GetFullPath(file));
        WriteSourceMeta(store, file);
        NoKernelSymbols(dir);
        var warnings = new List<string>();
        if (importer.Samples == 0)
            warnings.Add("no Microsoft-DotNETCore-SampleProfiler samples: was the trace collected with the sample profiler provider (dotnet-trace --profile cpu-sampling)?");
        if (importer.WithoutStack > 0) warnings.Add($"{importer.WithoutStack} samples had no call stack");
        return new ImportResult(file, ".nettrace", importer.Samples, importer.Events, new Dictionary<uint, long>(),
            importer.SamplesByEvent.Keys.ToList(), null, 0, warnings);
    }

    /// <summary>Sources that name their own frames need no kernel symbols: the session gets empty ones, not this machine's.</summary>
    private static void NoKernelSymbols(SessionDirectory dir)
    {
        File.WriteAllText(dir.KallsymsPath, "");
        File.WriteAllText(dir.ModulesPath, "");
    }

    /// <summary><c>meta</c> key of an import's progress: <see cref="ImportIncomplete"/> from its start until its last commit says <c>complete</c>.</summary>
    public const string ImportStateKey = "import_state";
    /// <summary>The <see cref="ImportStateKey"/> value of an import that has not finished (still running, or killed): reports say so.</summary>
    public const string ImportIncomplete = "incomplete";

    /// <summary>
    /// A new store for importing <paramref name="file"/> into <paramref name="dir"/>, committed at once as
    /// <see cref="ImportIncomplete"/>: an import killed half-way leaves a store that says so, never one that passes for the whole file.
    /// </summary>
    private static SessionStore CreateStore(SessionDirectory dir, string file)
    {
        var store = SessionStore.Create(dir.StorePath);
        store.SyncOnCommit = false; // a cache of the file: rebuilt from it if a crash loses the end
        store.SetMeta(ImportStateKey, ImportIncomplete);
        store.SetMeta("source_path", Path.GetFullPath(file));
        store.Commit();
        return store;
    }

    /// <summary>What <see cref="EnsureCached"/> compares to tell a cached import is fresh.</summary>
    private static void WriteSourceMeta(SessionStore store, string file)
    {
        var fi = new FileInfo(file);
        store.SetMeta("source_size", fi.Length.ToString(CultureInfo.InvariantCulture));
        store.SetMeta("source_mtime_ns", (fi.LastWriteTimeUtc.Ticks * 100).ToString(CultureInfo.InvariantCulture));
        store.SetMeta("importer_version", ImporterVersion.ToString(CultureInfo.InvariantCulture));
        store.SetMeta(ImportStateKey, "complete");
    }
}
