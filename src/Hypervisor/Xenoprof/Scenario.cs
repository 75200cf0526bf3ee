using System.Text.Json;
using System.Text.Json.Serialization;
using XenProf.Hypervisor.Binary;

namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// A scenario file (<c>samples/scenarios/*.json</c>) as written: machine, event, duration, seed, images by alias,
/// and domains with VCPUs and a workload mix of weighted functions named in those images. Names are resolved to
/// address ranges by a resolver that can read ELF and kallsyms files, giving a <see cref="ResolvedScenario"/>.
/// </summary>
public sealed record Scenario
{
    /// <summary>Scenario name.</summary>
    public string Name { get; set; } = "scenario";
    /// <summary>Random seed: the same seed gives the same samples.</summary>
    public int Seed { get; set; } = 1;
    /// <summary>Physical CPUs.</summary>
    public int Pcpus { get; set; } = 2;
    /// <summary>Clock rate, for turning an event count into a sampling period.</summary>
    public double CpuMhz { get; set; } = 2000;
    /// <summary>cpu_type string XENOPROF_init returns (oprofile cpu_type names, as xen/arch/x86/oprofile/nmi_int.c reports them).</summary>
    public string CpuType { get; set; } = "i386/arch_perfmon";
    /// <summary>Event name (oprofile spelling).</summary>
    public string Event { get; set; } = "CPU_CLK_UNHALTED";
    /// <summary>Events between samples (the counter's reset value).</summary>
    public ulong Count { get; set; } = 1_000_000;
    /// <summary>Simulated run length in milliseconds.</summary>
    public int DurationMs { get; set; } = 1000;
    /// <summary>Scheduler time slice in milliseconds (Xen credit scheduler default 30).</summary>
    public int TimesliceMs { get; set; } = 30;
    /// <summary>How often (simulated µs) the profiling domains get to drain on VIRQ; passive buffers are drained then too.</summary>
    public int DrainIntervalUs { get; set; } = 1000;
    /// <summary>Images by alias.</summary>
    public Dictionary<string, ScenarioImage> Images { get; set; } = new();
    /// <summary>Domains.</summary>
    public List<ScenarioDomain> Domains { get; set; } = new();


    /// <summary>Reads a scenario file. Throws <see cref="ScenarioException"/> naming the file when it cannot be read, and
    /// <see cref="MalformedDataException"/> (from <see cref="Parse"/>) when its content is invalid.</summary>
    public static Scenario Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ScenarioException($"{path}: cannot read scenario: {e.Message}"); }
        return Parse(text, path);
    }

    /// <summary>
    /// Parses scenario JSON; <paramref name="source"/> names it in errors. Every number is range-checked (JSON numbers
    /// that do not fit their field are errors too), and the domains, images and workload must be consistent.
    /// </summary>
    /// <exception cref="MalformedDataException">The JSON does not parse (naming the line and JSON path), a field is out of
    /// range, or the scenario contradicts itself (naming the JSON path).</exception>
    public static Scenario Parse(string json, string source = "scenario")
    {
        Scenario? s;
        try { s = JsonSerializer.Deserialize(json, ScenarioJson.Default.Scenario); }
        catch (JsonException e)
        {
            // System.Text.Json's message ends with its own "Path: … | LineNumber: … | BytePositionInLine: …": say it once, our way.
            var what = e.Message.IndexOf(" Path: ", StringComparison.Ordinal) is var cut and > 0 ? e.Message[..cut] : e.Message;
            throw MalformedDataException.AtLine(source, (e.LineNumber ?? 0) + 1, "scenario JSON" + (e.Path is { Length: > 0 } p ? " at " + p : ""),
                $"{what.TrimEnd('.')} (column {(e.BytePositionInLine ?? 0) + 1})");
        }
        if (s == null) throw new MalformedDataException(source, -1, "scenario JSON", "the file is 'null', not a scenario object");
        s.Validate(source);
        return s;
    }

    // Limits: Xen's NR_CPUS tops out at 4096, guests at 512 VCPUs; domain ids below DOMID_FIRST_RESERVED (0x7FF0,
    // xen/include/public/xen.h); the emulator simulates every sample, so the run is capped at an hour of machine time.
    private const int MaxPcpus = 4096, MaxVcpus = 512, MaxDomainId = 0x7FEF, MaxDurationMs = 3_600_000;

    private void Validate(string source)
    {
        [System.Diagnostics.CodeAnalysis.DoesNotReturn] void Fail(string where, string m) => throw new MalformedDataException(source, -1, "scenario " + where, m);
        void Range(string where, double v, double lo, double hi)
        {
            if (!double.IsFinite(v) || v < lo || v > hi) Fail(where, $"{v.ToString(System.Globalization.CultureInfo.InvariantCulture)} is out of range ({lo.ToString(System.Globalization.CultureInfo.InvariantCulture)}..{hi.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
        }
        if (Name == null || CpuType == null || Event == null) Fail("$", "name, cpu_type and event cannot be null");
        if (Images == null || Domains == null) Fail("$", "images and domains cannot be null");
        Range("$.pcpus", Pcpus, 1, MaxPcpus);
        Range("$.cpu_mhz", CpuMhz, 1, 100_000);
        if (Count == 0 || Count > long.MaxValue) Fail("$.count", $"{Count} is out of range (1..{long.MaxValue})");
        Range("$.duration_ms", DurationMs, 1, MaxDurationMs);
        Range("$.timeslice_ms", TimesliceMs, 1, MaxDurationMs);
        Range("$.drain_interval_us", DrainIntervalUs, 1, MaxDurationMs * 1000.0);
        foreach (var (alias, image) in Images)
            if (image == null || image.Path == null || !Enum.IsDefined(image.Kind)) Fail($"$.images.{alias}", "needs a kind (xen, kernel or user) and a path");
        if (Domains.Count == 0) Fail("$.domains", "no domains");
        for (int i = 0; i < Domains.Count; i++)
        {
            var d = Domains[i];
            var at = $"$.domains[{i}]";
            if (d == null) Fail(at, "a domain cannot be null");
            Range(at + ".id", d!.Id, 0, MaxDomainId);
            Range(at + ".vcpus", d.Vcpus, 1, MaxVcpus);
            Range(at + ".busy", d.Busy, 0, 1);
            if (d.Name == null || d.Pcpus == null || d.Workload == null) Fail(at, "name, pcpus and workload cannot be null");
            foreach (var p in d.Pcpus!) if (p < 0 || p >= Pcpus) Fail(at + ".pcpus", $"domain {d.Id}: pcpu {p} does not exist (pcpus = {Pcpus})");
            for (int j = 0; j < d.Workload!.Count; j++)
            {
                var w = d.Workload[j];
                var wat = $"{at}.workload[{j}]";
                if (w == null || w.Function == null || w.Image == null) Fail(wat, "needs a function and an image");
                if (!Images.TryGetValue(w!.Image, out var image)) Fail(wat, $"domain {d.Id}: function {w.Function} names unknown image '{w.Image}'");
                if (!double.IsFinite(w.Weight) || w.Weight <= 0) Fail(wat + ".weight", $"domain {d.Id}: function {w.Function} needs a positive weight");
                if (w.Callers != null && w.Callers.Any(c => c == null)) Fail(wat + ".callers", "a caller cannot be null");
                if (image!.Kind == ScenarioImageKind.User && string.IsNullOrEmpty(w.Process))
                    Fail(wat, $"domain {d.Id}: user function {w.Function} needs a process name");
            }
        }
        if (!Domains.Any(d => d.Id == 0)) Fail("$.domains", "domain 0 is missing");
        if (Domains.Select(d => d.Id).Distinct().Count() != Domains.Count) Fail("$.domains", "duplicate domain id");
    }
}

/// <summary>What a scenario image is: Xen, a domain kernel, or a guest application.</summary>
public enum ScenarioImageKind
{
    /// <summary>The hypervisor (xen-syms); samples in mode 2.</summary>
    Xen,
    /// <summary>A domain kernel (kallsyms, System.map or vmlinux); samples in mode 1.</summary>
    Kernel,
    /// <summary>A guest application (ELF); samples in mode 0.</summary>
    User,
}

/// <summary>An image of a scenario. <paramref name="Path"/> may be <c>@xen-syms</c> (the cached Xen 4.17 image) or <c>@kallsyms</c> (this machine's kernel).</summary>
public sealed record ScenarioImage(ScenarioImageKind Kind, string Path);

/// <summary>A domain: id, name, VCPUs pinned round-robin on <see cref="Pcpus"/>, share of time runnable, workload.</summary>
public sealed record ScenarioDomain
{
    /// <summary>Domain id (0 = dom0).</summary>
    public int Id { get; set; }
    /// <summary>Name, e.g. <c>Domain-0</c>.</summary>
    public string Name { get; set; } = "";
    /// <summary>VCPU count.</summary>
    public int Vcpus { get; set; } = 1;
    /// <summary>Physical CPUs the VCPUs run on (VCPU i on Pcpus[i mod n]); empty = all.</summary>
    public List<int> Pcpus { get; set; } = new();
    /// <summary>Probability that a VCPU wants to run in a time slice (0..1); otherwise it blocks and the slot goes idle or to another VCPU.</summary>
    public double Busy { get; set; } = 1.0;
    /// <summary>Weighted functions the domain executes.</summary>
    public List<ScenarioWork> Workload { get; set; } = new();
    /// <summary>Whether the demo profiles this guest (actively, then passively); false leaves it running unprofiled, so its samples count as "others".</summary>
    public bool Profiled { get; set; } = true;
}

/// <summary>
/// One workload entry: <paramref name="Function"/> in image <paramref name="Image"/> with a relative weight, the
/// caller chain (outermost first) a backtrace shows, and for user images the process it runs in.
/// </summary>
public sealed record ScenarioWork(string Function, string Image, double Weight, List<string>? Callers = null, string? Process = null);

/// <summary>A scenario that cannot be used; the message names the file and the problem.</summary>
public sealed class ScenarioException(string message) : XenProf.Hypervisor.Binary.XenProfUserException(message);

/// <summary>
/// Compile-time JSON metadata for <see cref="Scenario"/> files: snake_case names and enum values, comments and trailing
/// commas allowed. Source-generated rather than reflection-based, so a native AOT build reads scenarios too. (The
/// scenario properties are settable, not init-only: generated code sets every init-only property at construction,
/// which would replace the defaults of those a file leaves out.)
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true, Converters = [typeof(ScenarioImageKindJson)])]
[JsonSerializable(typeof(Scenario))]
internal sealed partial class ScenarioJson : JsonSerializerContext;

/// <summary><see cref="ScenarioImageKind"/> written in snake_case (<c>kernel_image</c>).</summary>
internal sealed class ScenarioImageKindJson() : JsonStringEnumConverter<ScenarioImageKind>(JsonNamingPolicy.SnakeCaseLower);
