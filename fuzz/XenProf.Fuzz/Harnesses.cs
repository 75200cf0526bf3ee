using System.Text;
using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.PerfEvents.Records;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Reporter.Symbols;
using XenProf.Sampler.Attribution;
using XenProf.Sampler.Import;
using XenProf.Sampler.Import.PerfData;
using XenProf.Sampler.Import.PerfScript;
using XenProf.Sampler.Session;

namespace XenProf.Fuzz;

/// <summary>
/// One fuzz target per parser: each takes the bytes of a would-be input file, runs the parser over all of it, and
/// returns normally or throws <see cref="MalformedDataException"/>. Any other exception (or a hang, or a crash) is a
/// finding: bad input must be reported with its file and offset or line, never escape as an internal error.
/// </summary>
public static class Harnesses
{
    /// <summary>The targets by name, as <c>fuzz/run.sh PARSER</c> and the corpus folders (<c>fuzz/corpus/PARSER</c>) name them.</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["perf-data"] = PerfData,
        ["perf-script"] = PerfScript,
        ["perf-map"] = PerfMap,
        ["jitdump"] = JitDump,
        ["kallsyms"] = Kallsyms,
        ["elf"] = Elf,
        ["xenoprof"] = XenoprofBuffer,
        ["nettrace"] = NetTrace,
        ["scenario"] = ScenarioJson,
    };

    /// <summary>perf.data in file or pipe mode, every record type, zstd-compressed records: header, attrs, features, then
    /// every record decoded and handed to a sink that reads each field.</summary>
    public static void PerfData(byte[] input)
    {
        using var reader = PerfDataReader.Open("fuzz.perf.data", new MemoryStream(input, writable: false));
        var sink = new TouchingSink();
        var result = reader.Read(sink);
        _ = (ulong)result.Records + sink.Checksum;
    }

    /// <summary><c>perf script</c> text: the sample reader, then the folding the flame graphs use (both dialects).</summary>
    public static void PerfScript(byte[] input)
    {
        var text = Encoding.Latin1.GetString(input);
        var reader = new PerfScriptReader();
        long frames = 0;
        foreach (var s in reader.Read(new StringReader(text))) frames += s.Frames.Count;
        PerfScriptCollapse.Fold(new StringReader(text), new CollapseOptions());
        PerfScriptCollapse.Fold(new StringReader(text), new CollapseOptions { Dialect = CollapseDialect.Inferno, Pid = true, Kernel = true, Jit = true, Addrs = true });
        _ = frames + reader.SkippedLines;
    }

    /// <summary><c>/tmp/perf-PID.map</c> text, then lookups at each symbol's edges.</summary>
    public static void PerfMap(byte[] input)
    {
        var map = PerfMapSymbols.Parse(Lines(input));
        foreach (var line in Lines(input).Take(64))
        {
            if (ulong.TryParse(line.Split(' ')[0].Replace("0x", ""), System.Globalization.NumberStyles.HexNumber, null, out var a))
            {
                map.FindSymbol(a);
                map.FindSymbol(a - 1);
            }
        }
        _ = map.Count;
    }

    /// <summary>A <c>jit-PID.dump</c>: header, every record, and the symbol table built from them (with code reads).</summary>
    public static void JitDump(byte[] input)
    {
        var reader = new JitDumpReader(new MemoryStream(input, writable: false), "fuzz.jitdump");
        using var syms = JitSymbols.FromReader(reader, ownsReader: true);
        var r2 = new JitDumpReader(new MemoryStream(input, writable: false), "fuzz.jitdump");
        foreach (var rec in r2.ReadAll())
            if (rec is JitCodeLoad l)
            {
                syms.Find(l.CodeAddress);
                syms.ReadCode(l.CodeAddress, 16);
            }
    }

    /// <summary>The input read both as <c>/proc/kallsyms</c> and as <c>/proc/modules</c> (Reporter's kernel symbols and
    /// Sampler's kernel layout), then lookups.</summary>
    public static void Kallsyms(byte[] input)
    {
        var text = Encoding.Latin1.GetString(input);
        var k = KernelSymbols.Parse(new StringReader(text), new StringReader(text), "fuzz.kallsyms");
        var layout = KernelLayout.Parse(Lines(input));
        foreach (var m in k.Modules.Take(64)) k.ImageNameOf(m.Start);
        foreach (var m in layout.Modules.Take(64)) { layout.ImageFor(m.Start); k.Find(new KernelAddress(m.Start)); }
        k.FindByName("schedule");
    }

    /// <summary>An ELF file: headers, sections, notes, symbol tables, lookups, and function recovery from
    /// <c>.eh_frame</c>, the PLT and call targets.</summary>
    public static void Elf(byte[] input)
    {
        using var elf = ElfObjectFile.FromBytes(input, "fuzz.elf");
        foreach (var s in elf.Symbols.Take(256)) { elf.FindSymbol(s.Start); _ = s.Name.Length; }
        foreach (var sec in elf.Sections) elf.SectionBytes(sec);
        _ = elf.BuildId + elf.DebugLink;
        FunctionRecovery.Recover(elf);
    }

    /// <summary>A <c>xenoprof_buf</c> page as a guest may have scribbled on it: drained in both layouts.</summary>
    public static void XenoprofBuffer(byte[] input)
    {
        var entries = new List<EventLogEntry>();
        XenoprofRing.Drain((byte[])input.Clone(), entries);
        XenoprofRing.Drain((byte[])input.Clone(), entries, compat: true);
    }

    /// <summary>A <c>.nettrace</c> file through the importer (magic sniffing, TraceEvent's reader, our wrapping of its failures).</summary>
    public static void NetTrace(byte[] input)
    {
        var dir = Path.Combine(Path.GetTempPath(), "xenprof-fuzz-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "input.nettrace");
        File.WriteAllBytes(file, input);
        try { TraceImport.Import(file, new SessionDirectory(Path.Combine(dir, "session"))); }
        finally { try { Directory.Delete(Path.Combine(dir, "session"), recursive: true); } catch (IOException) { } }
    }

    /// <summary>A scenario JSON file (<c>samples/scenarios/*.json</c>).</summary>
    public static void ScenarioJson(byte[] input) => Scenario.Parse(Encoding.UTF8.GetString(input), "fuzz.json");

    private static IEnumerable<string> Lines(byte[] input)
    {
        using var r = new StringReader(Encoding.Latin1.GetString(input));
        string? line;
        while ((line = r.ReadLine()) != null) yield return line;
    }

    /// <summary>Reads every field the decoders hand out, so lazily decoded parts are decoded too.</summary>
    private sealed class TouchingSink : IPerfDataSink
    {
        public ulong Checksum;

        public void OnSample(int eventIndex, in SampleRecord sample) => Checksum += sample.Ip + (ulong)sample.Callchain.Length + sample.Period;
        public void OnMmap(in MmapRecord mmap) => Checksum += (ulong)mmap.Filename.Length;
        public void OnMmap2(in Mmap2Record mmap) => Checksum += (ulong)mmap.Filename.Length;
        public void OnComm(in CommRecord comm) => Checksum += (ulong)comm.Comm.Length;
        public void OnLost(in LostRecord lost) => Checksum += lost.Lost;
        public void OnUnknown(in RawRecord raw) => Checksum += (ulong)raw.Body.Length;
    }
}
