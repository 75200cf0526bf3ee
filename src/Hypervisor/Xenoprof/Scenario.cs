using System.Text.Json;
using System.Text.Json.Serialization;

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


    /// <summary>Reads a scenario file. Throws <see cref="ScenarioException"/> naming the file for unreadable or invalid content.</summary>
    public static Scenario Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ScenarioException($"{path}: cannot read scenario: {e.Message}"); }
        return Parse(text, path);
    }

    /// <summary>Parses scenario JSON; <paramref name="source"/> names it in errors.</summary>
    public static Scenario Parse(string json, string source = "scenario")
    {
        Scenario s;
        try { s = JsonSerializer.Deserialize(json, ScenarioJson.Default.Scenario) ?? throw new ScenarioException($"{source}: empty scenario"); }
        catch (JsonException e) { throw new ScenarioException($"{source}: invalid scenario JSON at {e.Path}: {e.Message}"); }
        s.Validate(source);
        return s;
    }

    private void Validate(string source)
    {
        void Fail(string m) => throw new ScenarioException($"{source}: {m}");
        if (Pcpus < 1) Fail("pcpus must be at least 1");
        if (Count == 0) Fail("count must be positive");
        if (DurationMs <= 0 || TimesliceMs <= 0 || DrainIntervalUs <= 0) Fail("duration_ms, timeslice_ms and drain_interval_us must be positive");
        if (Domains.Count == 0) Fail("no domains");
        if (!Domains.Any(d => d.Id == 0)) Fail("domain 0 is missing");
        if (Domains.Select(d => d.Id).Distinct().Count() != Domains.Count) Fail("duplicate domain id");
        foreach (var d in Domains)
        {
            if (d.Vcpus < 1) Fail($"domain {d.Id}: vcpus must be at least 1");
            foreach (var p in d.Pcpus) if (p < 0 || p >= Pcpus) Fail($"domain {d.Id}: pcpu {p} does not exist (pcpus = {Pcpus})");
            foreach (var w in d.Workload)
            {
                if (!Images.ContainsKey(w.Image)) Fail($"domain {d.Id}: function {w.Function} names unknown image '{w.Image}'");
                if (w.Weight <= 0) Fail($"domain {d.Id}: function {w.Function} needs a positive weight");
                if (Images[w.Image].Kind == ScenarioImageKind.User && string.IsNullOrEmpty(w.Process))
                    Fail($"domain {d.Id}: user function {w.Function} needs a process name");
            }
        }
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
