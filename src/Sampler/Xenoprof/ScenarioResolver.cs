using XenProf.Hypervisor.Binary.Elf;
using XenProf.Hypervisor.Xenoprof;

namespace XenProf.Sampler.Xenoprof;

/// <summary>A function-by-name index of one image file (an ELF image, or a kallsyms/System.map text map), as the
/// reporter's symbol tables provide it: the daemon resolves scenario functions through it without depending on the
/// reporter.</summary>
public interface IImageFunctionLookup : IDisposable
{
    /// <summary>[start, end) of function <paramref name="name"/> in the image's absolute (ELF: SVMA) addresses, or null when the image has no such function.</summary>
    (ulong Start, ulong End)? Lookup(string name);
}

/// <summary>Opens the function index of the image file at a path; throws <see cref="IOException"/>,
/// <see cref="UnauthorizedAccessException"/> or <see cref="XenProf.Hypervisor.Binary.MalformedDataException"/> when it cannot be read.</summary>
public delegate IImageFunctionLookup ImageFunctionOpener(string path);

/// <summary>
/// Turns a <see cref="Scenario"/>'s function names into address ranges of the real images (Xen's <c>xenoprof_log_event</c> records
/// the interrupted PC, so samples must land inside real functions): Xen functions from xen-syms, kernel functions from kallsyms, a System.map
/// or a vmlinux, application functions from the ELF's symbols placed at a load address per guest process.
/// Image paths <c>@xen-syms</c> (the cached Xen 4.17 image, fetched when absent) and <c>@kallsyms</c> (this
/// machine's <c>/proc/kallsyms</c>) are expanded.
/// </summary>
public static class ScenarioResolver
{
    /// <summary>First load base given to position-independent guest executables; each process gets its own 256 MiB window.</summary>
    public const ulong PieBase = 0x5555_0000_0000;

    /// <summary>
    /// Resolves <paramref name="scenario"/>, opening each image's functions with <paramref name="open"/>. Throws
    /// <see cref="ScenarioException"/> for a function missing from its image or an unreadable image,
    /// <see cref="XenSymsUnavailableException"/> when xen-syms cannot be fetched.
    /// </summary>
    public static ResolvedScenario Resolve(Scenario scenario, ImageFunctionOpener open, string? kallsymsPath = null, TextWriter? log = null)
    {
        var paths = new Dictionary<string, string>();
        var tables = new Dictionary<string, IImageFunctionLookup>();
        try
        {
            foreach (var (alias, img) in scenario.Images)
            {
                var path = img.Path switch
                {
                    "@xen-syms" => XenSymsCache.Ensure(log),
                    "@kallsyms" => kallsymsPath ?? "/proc/kallsyms",
                    _ => img.Path,
                };
                paths[alias] = path;
                try { tables[alias] = open(path); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or XenProf.Hypervisor.Binary.MalformedDataException)
                {
                    throw new ScenarioException($"{scenario.Name}: image '{alias}' ({path}) cannot be read: {e.Message}");
                }
            }
            int nextPid = 1000;
            var domains = new List<ResolvedDomain>();
            foreach (var d in scenario.Domains)
            {
                var procs = new Dictionary<string, GuestProcess>();
                var work = new List<ResolvedFunction>();
                foreach (var w in d.Workload)
                {
                    var kind = scenario.Images[w.Image].Kind;
                    var table = tables[w.Image];
                    ulong bias = 0;
                    int pid = 0;
                    if (kind == ScenarioImageKind.User)
                    {
                        if (!procs.TryGetValue(w.Process!, out var gp))
                        {
                            gp = PlaceProcess(nextPid++, w.Process!, paths[w.Image], procs.Count, d.Id);
                            procs[w.Process!] = gp;
                        }
                        pid = gp.Pid;
                        bias = gp.Start - LowestExecVaddr(paths[w.Image]);
                    }
                    (ulong, ulong) Range(string fn) => table.Lookup(fn) is { } r ? (r.Start + bias, r.End + bias)
                        : throw new ScenarioException($"{scenario.Name}: domain {d.Id}: function '{fn}' is not in image '{w.Image}' ({paths[w.Image]})");
                    var (s, e) = Range(w.Function);
                    var callers = (w.Callers ?? []).Select(c => { var (cs, ce) = Range(c); return new AddressRange(cs, ce); }).ToList();
                    var mode = kind switch { ScenarioImageKind.Xen => XenoprofMode.Xen, ScenarioImageKind.Kernel => XenoprofMode.Kernel, _ => XenoprofMode.User };
                    work.Add(new ResolvedFunction(w.Function, w.Image, mode, s, e, w.Weight, callers, pid));
                }
                domains.Add(new ResolvedDomain(d.Id, d.Name.Length > 0 ? d.Name : $"domain{d.Id}", d.Vcpus, d.Pcpus, d.Busy, work, procs.Values.ToList()));
            }
            return new ResolvedScenario(scenario, domains, paths);
        }
        finally
        {
            foreach (var t in tables.Values) t.Dispose();
        }
    }

    private static ulong LowestExecVaddr(string path)
    {
        using var f = ElfFile.Open(path);
        var seg = f.LoadSegments.Where(s => (s.Flags & 1) != 0).OrderBy(s => s.Vaddr).FirstOrDefault();
        return seg.Vaddr; // run-time address = load bias + SVMA; the mapping starts at bias + this
    }

    private static GuestProcess PlaceProcess(int pid, string comm, string path, int index, int domain)
    {
        using var f = ElfFile.Open(path);
        var seg = f.LoadSegments.Where(s => (s.Flags & 1) != 0).OrderBy(s => s.Vaddr).FirstOrDefault();
        if (seg.MemSize == 0) throw new ScenarioException($"{path}: no executable segment");
        ulong bias = f.ElfType == 3 ? PieBase + (ulong)index * 0x1000_0000 + (ulong)domain * 0x1_0000_0000 : 0;
        return new GuestProcess(pid, comm, path, bias + seg.Vaddr, bias + seg.Vaddr + seg.MemSize, seg.FileOffset);
    }
}
