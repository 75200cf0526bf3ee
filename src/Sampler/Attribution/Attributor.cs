using XenProf.Hypervisor.PerfEvents.Records;
using System.Globalization;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Attribution;

/// <summary>
/// Turns raw samples (<see cref="RawSample"/>) into stored samples, the one path of every source and the only code that
/// writes samples, stacks, frames and images into the store: tracks processes, threads and their mappings over time
/// (from COMM/FORK/EXIT/MMAP2 records and <c>/proc/PID/maps</c>), resolves each sample's domain → process → image →
/// offset, interns the callchain as a stack and writes the sample. One instance per session and profiled domain
/// (<see cref="Domain"/>); domains seen only from outside it (Xen passive domains, perf kvm guests) are attributed by the
/// same instance to images of their own domain (<see cref="ConfigureDomain"/>). Records must arrive in time order
/// (the sources sort them, see <c>PerfRecordAttribution</c>). Not thread-safe.
/// </summary>
public sealed class Attributor
{
    private readonly SessionStore _store;
    private readonly KernelLayout _kernel;
    private readonly Dictionary<int, AddressSpace> _spaces = new();
    private readonly Dictionary<int, string> _comms = new();
    private readonly Dictionary<int, CommId> _threadComms = new(); // tid -> its name now (perf's comm at sample time)
    private readonly Dictionary<(int Domain, string Path, ImageKind Kind), ImageId> _kernelImages = new();
    private readonly Dictionary<int, DomainImages> _configured = new();
    private HashSet<int>? _passive;
    private readonly List<FrameId> _frames = new(128);
    private readonly CallchainCache _chains = new();
    private readonly Dictionary<int, ImageId> _unknownImages = new();
    private readonly List<(ulong Start, ulong End, string Name)> _recordedKernelMaps = new();
    private (ulong Start, ulong End)? _recordedKernel;

    /// <summary>Creates an attributor writing into <paramref name="store"/> for Xen domain <paramref name="domain"/> (0 = dom0 / native).</summary>
    public Attributor(SessionStore store, KernelLayout kernel, int domain = 0)
    {
        _store = store;
        _kernel = kernel;
        Domain = domain;
        ImageDomain = domain;
    }

    /// <summary>
    /// The domain recorded on the images of <see cref="Domain"/>'s own code (default <see cref="Domain"/>). An actively
    /// profiled Xen guest resolves against the files dom0 was given (its processes' paths, the session's kernel and
    /// xen-syms), so its attributor keeps them in dom0's images (0) and reports over every domain count each file once.
    /// </summary>
    public int ImageDomain { get; init; }

    /// <summary>
    /// Says what domain <paramref name="domain"/>'s code is (Xen sessions: from <c>--xen</c>, <c>--vmlinux</c>,
    /// <c>--passive-images</c>). Frames of that domain's samples then resolve to these images; a passive domain is added
    /// to the store's <see cref="StoreSchema.PassiveDomainsKey"/> list. Call before its first sample.
    /// </summary>
    public void ConfigureDomain(int domain, DomainImages images)
    {
        _configured[domain] = images;
        if (images.Passive) NotePassive(domain);
    }

    /// <summary>
    /// Import mode: decide kernel or user space by each sample's and frame's CPU mode (perf's rule, not the
    /// address; right for i686/armv7 files too), and take the kernel and module ranges from the kernel MMAP
    /// records of the input (<see cref="KernelMmap"/>) instead of this machine's <c>/proc/modules</c>.
    /// Hypervisor-mode frames go to the <c>[hypervisor]</c> image; guest-kernel and guest-user frames to images of the
    /// guest's own domain (<see cref="GuestDomain"/>), as a passive Xen domain's are, kept apart from the host's.
    /// </summary>
    public bool ModeFromRecords { get; init; }

    /// <summary>
    /// Name anonymous executable memory <c>/tmp/perf-PID.map</c> as perf does (<see cref="IsAnonymousForPerf"/>), so
    /// a JIT's perf map names its code (live <c>record --dotnet</c>; always on with <see cref="ModeFromRecords"/>).
    /// </summary>
    public bool NameJitMaps { get; init; }

    /// <summary>
    /// Keep each sample's leaf frame only, not its callers: the sampled frame is chosen exactly as with callers
    /// (perf's rule, the same flat counts), but the stack stored is that one frame. What a flat report needs; an
    /// import for one (<see cref="Import.ImportOptions.LeafOnly"/>) skips interning every caller of every callchain.
    /// </summary>
    public bool LeafOnly { get; init; }

    /// <summary>Samples whose callers <see cref="LeafOnly"/> left out (0: no sample had a callchain past its leaf).</summary>
    public long SamplesWithCallersDropped { get; private set; }

    /// <summary>Optional build-id source for images whose mapping record carries none (e.g. perf.data's BUILD_ID feature): file name → lowercase hex.</summary>
    public Func<string, string?>? BuildIdOf { get; set; }

    /// <summary>Domain every sample is attributed to.</summary>
    public int Domain { get; }

    /// <summary>Samples written so far.</summary>
    public long SamplesWritten { get; private set; }

    /// <summary>Samples whose sampled address fell in no known mapping.</summary>
    public long UnmappedSamples { get; private set; }

    /// <summary>Classifies a mapping file name the way perf does: <c>[vdso]</c>, anonymous and special regions, or an ELF file.</summary>
    public static ImageKind ClassifyMapping(string name)
    {
        if (name == "[vdso]") return ImageKind.Vdso;
        if (name.Length == 0 || name[0] != '/' || name.StartsWith("//anon", StringComparison.Ordinal)
            || name.StartsWith("/memfd:", StringComparison.Ordinal) || name.StartsWith("/dev/zero", StringComparison.Ordinal)
            || name.StartsWith("/SYSV", StringComparison.Ordinal) || name.EndsWith(" (deleted)", StringComparison.Ordinal))
            return ImageKind.Anonymous;
        return ImageKind.Elf;
    }

    /// <summary>
    /// A COMM record: thread <paramref name="tid"/> of <paramref name="pid"/> is now named <paramref name="comm"/>;
    /// <paramref name="exec"/> when caused by exec. Live, exec forgets the process's old mappings. In
    /// <see cref="ModeFromRecords"/> mode they stay until new mappings overlap them, as perf 6.1 keeps them
    /// (<c>tools/perf/util/machine.c</c> <c>machine__process_comm_event</c> only renames the thread): samples taken
    /// inside execve, after the kernel's COMM but before the new image is mapped, still carry the old image's user
    /// frames, and perf names those.
    /// </summary>
    public void Comm(int pid, int tid, string comm, bool exec)
    {
        if (exec && pid == tid && !ModeFromRecords && _spaces.TryGetValue(pid, out var space)) { space.Clear(); _chains.Invalidate(pid); }
        else if (exec && pid == tid) _chains.Invalidate(pid);
        if (pid == tid)
        {
            _comms[pid] = comm;
            _store.SetProcess(Domain, pid, 0, comm);
        }
        _store.SetThread(Domain, tid, pid, comm);
        _threadComms[tid] = _store.InternComm(comm);
    }

    /// <summary>
    /// A FORK record: a new thread (<paramref name="pid"/> = <paramref name="ppid"/>) or a new process that starts with its
    /// parent's mappings. Either starts with the name of the thread that created it (<paramref name="ptid"/>), as in perf.
    /// </summary>
    public void Fork(int pid, int ppid, int tid, int ptid)
    {
        if (_threadComms.TryGetValue(ptid, out var inherited)) _threadComms[tid] = inherited;
        else _threadComms.Remove(tid); // a reused tid: its old name is not the new thread's
        if (pid == ppid) return; // a new thread shares its process's address space
        if (_spaces.TryGetValue(ppid, out var parent)) _spaces[pid] = parent.Clone();
        _chains.Invalidate(pid);
        var comm = _comms.TryGetValue(ppid, out var c) ? c : ":" + pid.ToString(CultureInfo.InvariantCulture);
        _comms[pid] = comm;
        _store.SetProcess(Domain, pid, ppid, comm);
        _store.SetThread(Domain, tid, pid, comm);
        if (!_threadComms.ContainsKey(tid)) _threadComms[tid] = _store.InternComm(comm);
    }

    /// <summary>An EXIT record. Mappings are kept: samples of the exiting task may still be in flight.</summary>
    public void Exit(int pid, int tid) { }

    /// <summary>
    /// An MMAP/MMAP2 record (or a line of /proc/PID/maps): <paramref name="filename"/> mapped at
    /// [<paramref name="start"/>, start + <paramref name="length"/>) from file offset <paramref name="pgoff"/>.
    /// Non-executable mappings are ignored. <paramref name="buildId"/> is lowercase hex or null.
    /// </summary>
    public void Mmap(int pid, ulong start, ulong length, ulong pgoff, string filename, string? buildId, bool executable, long timeNs)
    {
        if (!executable) return;
        if (pid == -1 || KernelLayout.IsKernelAddress(start)) return; // kernel maps are known from /proc/modules
        bool jitMap = (ModeFromRecords || NameJitMaps) && IsAnonymousForPerf(filename);
        if (jitMap) filename = PerfMapName(pid);
        var kind = jitMap ? ImageKind.Anonymous : ClassifyMapping(filename);
        buildId ??= BuildIdOf?.Invoke(filename);
        var image = _store.InternImage(filename, kind, buildId, ImageDomain);
        if (!_spaces.TryGetValue(pid, out var space)) _spaces[pid] = space = new AddressSpace();
        space.Add(new Mapping(start, start + length, pgoff, image, kind, filename));
        _chains.Invalidate(pid);
        _store.AddMapping(Domain, pid, image, start, start + length, pgoff, timeNs);
    }

    /// <summary>
    /// A kernel-mode MMAP/MMAP2 record (perf synthesizes one for the kernel, named <c>[kernel.kallsyms]_text</c>,
    /// and one per module, named by its path; <c>perf_event__synthesize_kernel_mmap</c> and <c>perf_event__synthesize_modules</c> in tools/perf/util/synthetic-events.c). In <see cref="ModeFromRecords"/> mode these give
    /// the kernel's and the modules' address ranges, as perf's <c>machine__process_kernel_mmap_event</c> uses them;
    /// otherwise they are ignored (live sessions read <c>/proc/modules</c>).
    /// </summary>
    public void KernelMmap(ulong start, ulong length, string filename)
    {
        if (!ModeFromRecords) return;
        ulong end = length == 0 || start + length < start ? ulong.MaxValue : start + length;
        _chains.InvalidateAll();
        if (filename.StartsWith(KernelLayout.KernelImageName, StringComparison.Ordinal))
        {
            _recordedKernel = (start, end);
            return;
        }
        if (filename.StartsWith("[guest.kernel.kallsyms]", StringComparison.Ordinal)) return;
        _recordedKernelMaps.RemoveAll(m => m.Start < end && start < m.End);
        _recordedKernelMaps.Add((start, end, ModuleName(filename)));
        _recordedKernelMaps.Sort((a, b) => a.Start.CompareTo(b.Start));
    }

    /// <summary>
    /// Mappings perf gives the process's JIT map instead of a file (tools/perf/util/map.c <c>is_anon_memory</c>,
    /// <c>is_no_dso_memory</c>): anonymous memory, <c>/dev/zero</c>, huge pages, SysV shm, stack and heap.
    /// </summary>
    public static bool IsAnonymousForPerf(string name) =>
        name == "//anon" || name.StartsWith("/dev/zero", StringComparison.Ordinal) || name.StartsWith("/anon_hugepage", StringComparison.Ordinal)
        || name.StartsWith("[stack", StringComparison.Ordinal) || name.StartsWith("/SYSV", StringComparison.Ordinal) || name == "[heap]";

    /// <summary>
    /// The domain of a guest's samples and frames in an imported perf.data (PERF_RECORD_MISC_GUEST_KERNEL/USER,
    /// <c>perf kvm record</c>): the sample's pid, the guest's process on the host, which is how perf tells guest machines
    /// apart. Such a domain is reported as a passive Xen domain is, inside dom0's report; its kernel frames go to the
    /// pseudo image <see cref="DomainImages.NoVmlinux"/> and its user frames to <see cref="DomainImages.Apps"/> of that
    /// domain, at the guest's own addresses (unnamed without the guest's symbols).
    /// </summary>
    public static int GuestDomain(int pid) => pid;

    /// <summary>The JIT symbol map perf reads for <paramref name="pid"/>'s anonymous code: <c>/tmp/perf-PID.map</c> (tools/perf/Documentation/jit-interface.txt).</summary>
    public static string PerfMapName(int pid) => "/tmp/perf-" + pid.ToString(CultureInfo.InvariantCulture) + ".map";

    /// <summary>perf's name for a kernel module mapped from <paramref name="path"/>: <c>[name]</c> from the file name without <c>.ko*</c>, dashes as underscores.</summary>
    public static string ModuleName(string path)
    {
        if (path.StartsWith('[')) return path;
        var f = Path.GetFileName(path);
        int ko = f.IndexOf(".ko", StringComparison.Ordinal);
        if (ko > 0) f = f[..ko];
        return "[" + f.Replace('-', '_') + "]";
    }

    /// <summary>
    /// A sample of <see cref="Domain"/> (the live and perf.data form of <see cref="Sample(in RawSample)"/>).
    /// <paramref name="callchain"/> is perf's leaf-first list with context markers (<c>enum perf_callchain_context</c> in include/uapi/linux/perf_event.h); when empty the
    /// sample's <paramref name="ip"/> alone forms the stack. <paramref name="period"/>: PERF_SAMPLE_PERIOD (events, the event's
    /// unit), 0 when the record has none.
    /// </summary>
    public void Sample(EventId ev, long timeNs, int cpu, int pid, int tid, ulong ip, ReadOnlySpan<ulong> callchain, SampleMode mode, long weight = 1, ulong period = 0) =>
        Sample(new RawSample(Domain, mode, pid, tid, cpu, timeNs, ip, callchain, ev) { Weight = weight, Period = period });

    /// <summary>
    /// Attributes and stores one sample. Frames the source named (<see cref="RawSample.Names"/>) are stored with their
    /// names in their images; a configured domain's (<see cref="ConfigureDomain"/>) resolve to its images; the rest by
    /// the process's mappings and the kernel's layout. In <see cref="ModeFromRecords"/> mode a guest-mode sample belongs
    /// to its guest's domain (<see cref="GuestDomain"/>).
    /// </summary>
    public void Sample(in RawSample s)
    {
        int domain = s.Domain, pid = s.Pid, tid = s.Tid;
        StackId stack;
        bool leafMapped;
        if (!s.Names.IsEmpty)
        {
            if (s.Names.Length != s.Callchain.Length) throw new ArgumentException("a named sample gives one name per callchain entry", nameof(s));
            stack = AttributeNamed(domain, s.Callchain, s.Names);
            leafMapped = true;
        }
        else if (_configured.TryGetValue(domain, out var cfg))
        {
            if (cfg.ProcessFromAddress && pid == 0 && s.Mode == SampleMode.User && domain == Domain && ProcessOf(s.Ip) is { } owner)
            {
                pid = owner;
                if (tid == 0) tid = owner;
            }
            (stack, leafMapped) = AttributeConfigured(domain, pid, s.Ip, s.Callchain, s.Mode, cfg);
        }
        else
        {
            if (ModeFromRecords && domain == Domain && s.Mode is SampleMode.GuestKernel or SampleMode.GuestUser) domain = GuestDomain(pid);
            // The same (process, address space, IP, callchain) always makes the same stack: attribute it once.
            // Leaf only: the callchain up to its first address (with the context markers before it) makes the stack.
            var chain = KeptCallchain(s.Callchain);
            if (!_chains.TryGet(pid, s.Ip, s.Mode, chain, out stack, out leafMapped))
            {
                (stack, leafMapped) = Attribute(pid, s.Ip, chain, s.Mode);
                _chains.Add(pid, s.Ip, s.Mode, chain, stack, leafMapped);
            }
        }
        if (!leafMapped) UnmappedSamples++;
        // Thread names are of this domain's tasks (a perf kvm guest's samples run on a host thread).
        var comm = s.Comm is { } c ? _store.InternComm(c) : s.Domain == Domain ? _threadComms.GetValueOrDefault(tid) : default;
        // Period 0 (the source does not say): the store takes the event's configured count per sample.
        _store.AddSample(new StoredSample(s.TimeNs, s.Cpu, domain, pid, tid, s.Event, stack, s.Mode, s.Weight, comm, (long)Math.Min(s.Period, long.MaxValue)));
        SamplesWritten++;
    }

    private StackId AttributeNamed(int domain, ReadOnlySpan<ulong> callchain, ReadOnlySpan<NamedFrame> names)
    {
        _frames.Clear();
        for (int i = LeafOnly ? 0 : names.Length - 1; i >= 0; i--)
        {
            var n = names[i];
            _frames.Add(_store.InternNamedFrame(ImageOf(ImageDomainOf(domain), n.Image, n.Kind), n.Symbol, callchain[i]));
        }
        return _store.InternStack(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_frames));
    }

    private (StackId Stack, bool LeafMapped) AttributeConfigured(int domain, int pid, ulong ip, ReadOnlySpan<ulong> callchain, SampleMode mode, DomainImages cfg)
    {
        _frames.Clear();
        bool leafMapped = true, first = true;
        // Every frame is in the sample's mode: xenoprof's call chains hold the sampled pc and return addresses only.
        foreach (var entry in callchain)
        {
            if (PerfContext.IsMarker(entry)) continue;
            var ok = AddConfigured(domain, pid, entry, mode, cfg);
            if (first) { leafMapped = ok; first = false; }
            if (LeafOnly) break;
        }
        if (_frames.Count == 0) leafMapped = AddConfigured(domain, pid, ip, mode, cfg);
        _frames.Reverse();
        return (_store.InternStack(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_frames)), leafMapped);
    }

    private bool AddConfigured(int domain, int pid, ulong address, SampleMode mode, DomainImages cfg)
    {
        var image = mode switch
        {
            SampleMode.Hypervisor => cfg.Hypervisor,
            SampleMode.Kernel or SampleMode.GuestKernel => cfg.Kernel,
            _ => cfg.User,
        };
        int imageDomain = ImageDomainOf(domain);
        if (image is { } i)
        {
            _frames.Add(_store.InternFrame(ImageOf(imageDomain, i.Path, i.Kind), address));
            return true;
        }
        if (domain == Domain && mode is SampleMode.User or SampleMode.Unknown && pid > 0 && _spaces.TryGetValue(pid, out var space) && space.Find(address) is { } m)
        {
            _frames.Add(_store.InternFrame(m.Image, m.FrameOffset(address)));
            return true;
        }
        if (domain == Domain && mode is SampleMode.Kernel or SampleMode.Hypervisor) return AddFrame(pid, address, mode);
        _frames.Add(_store.InternFrame(UnknownImage(imageDomain), address));
        return false;
    }

    /// <summary>The first process (in the order they were mapped) with a mapping that holds <paramref name="address"/>.</summary>
    private int? ProcessOf(ulong address)
    {
        foreach (var (pid, space) in _spaces)
            if (space.Find(address) != null) return pid;
        return null;
    }

    private int ImageDomainOf(int domain) => domain == Domain ? ImageDomain : domain;

    private ImageId ImageOf(int domain, string path, ImageKind kind)
    {
        if (!_kernelImages.TryGetValue((domain, path, kind), out var img))
            _kernelImages[(domain, path, kind)] = img = _store.InternImage(path, kind, null, domain);
        return img;
    }

    private ImageId UnknownImage(int domain)
    {
        if (!_unknownImages.TryGetValue(domain, out var id)) _unknownImages[domain] = id = _store.InternImage("[unknown]", ImageKind.Unknown, null, domain);
        return id;
    }

    /// <summary>Adds <paramref name="domain"/> to the store's list of domains reported inside dom0's (once; kept across appends).</summary>
    private void NotePassive(int domain)
    {
        if (_passive == null)
        {
            _passive = new HashSet<int>();
            if (_store.ReadMeta().TryGetValue(StoreSchema.PassiveDomainsKey, out var old))
                foreach (var part in old.Split(',', StringSplitOptions.RemoveEmptyEntries))
                    if (int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var d)) _passive.Add(d);
        }
        if (!_passive.Add(domain)) return;
        _store.SetMeta(StoreSchema.PassiveDomainsKey, string.Join(",", _passive.Order().Select(d => d.ToString(CultureInfo.InvariantCulture))));
    }

    private (StackId Stack, bool LeafMapped) Attribute(int pid, ulong ip, ReadOnlySpan<ulong> callchain, SampleMode mode)
    {
        _frames.Clear();
        bool leafMapped;
        if (callchain.Length == 0)
        {
            leafMapped = AddFrame(pid, ip, mode);
        }
        else
        {
            var ctx = mode;
            leafMapped = true;
            bool first = true;
            if (ModeFromRecords && FirstAddress(callchain) != ip)
            {
                // perf reports a sample at its IP, whatever the callchain starts with (a kernel part can
                // precede a user-mode IP): keep the IP as the leaf so flat counts are perf's.
                leafMapped = AddFrame(pid, ip, mode);
                first = false;
            }
            foreach (var entry in callchain)
            {
                if (LeafOnly && !first) break;
                if (PerfContext.IsMarker(entry))
                {
                    ctx = entry switch
                    {
                        PerfContext.Kernel => SampleMode.Kernel,
                        PerfContext.User => SampleMode.User,
                        PerfContext.Hv => SampleMode.Hypervisor,
                        PerfContext.GuestKernel => SampleMode.GuestKernel,
                        PerfContext.GuestUser => SampleMode.GuestUser,
                        _ => ctx,
                    };
                    continue;
                }
                var ok = AddFrame(pid, entry, ctx);
                if (first) { leafMapped = ok; first = false; }
            }
            if (_frames.Count == 0) leafMapped = AddFrame(pid, ip, mode);
        }
        _frames.Reverse();
        return (_store.InternStack(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_frames)), leafMapped);
    }

    /// <summary>
    /// The part of perf's leaf-first <paramref name="chain"/> this attributor stores: all of it, or with
    /// <see cref="LeafOnly"/> the chain up to and including its first address (the context markers before it set the
    /// leaf's mode), counting a sample whose callers that leaves out (<see cref="SamplesWithCallersDropped"/>). A queue
    /// that holds callchains before <see cref="Sample(in RawSample)"/> keeps only this part.
    /// </summary>
    public ReadOnlySpan<ulong> KeptCallchain(ReadOnlySpan<ulong> chain)
    {
        if (!LeafOnly) return chain;
        for (int i = 0; i < chain.Length; i++)
            if (!PerfContext.IsMarker(chain[i]))
            {
                if (i + 1 < chain.Length) SamplesWithCallersDropped++;
                return chain[..(i + 1)];
            }
        return chain;
    }

    private static ulong FirstAddress(ReadOnlySpan<ulong> chain)
    {
        foreach (var e in chain) if (!PerfContext.IsMarker(e)) return e;
        return 0;
    }


    private bool AddFrame(int pid, ulong address, SampleMode mode)
    {
        if (ModeFromRecords) return AddFrameByMode(pid, address, mode);
        if (KernelLayout.IsKernelAddress(address) || mode == SampleMode.Kernel)
        {
            if (KernelLayout.IsKernelAddress(address))
            {
                var name = _kernel.ImageFor(address);
                _frames.Add(_store.InternFrame(ImageOf(ImageDomain, name, name == KernelLayout.KernelImageName ? ImageKind.Kernel : ImageKind.KernelModule), address));
                return true;
            }
        }
        if (_spaces.TryGetValue(pid, out var space) && space.Find(address) is { } m)
        {
            _frames.Add(_store.InternFrame(m.Image, m.FrameOffset(address)));
            return true;
        }
        _frames.Add(_store.InternFrame(UnknownImage(ImageDomain), address));
        return false;
    }

    private bool AddFrameByMode(int pid, ulong address, SampleMode mode)
    {
        switch (mode)
        {
            case SampleMode.Kernel:
            {
                string? name = null;
                foreach (var m in _recordedKernelMaps)
                    if (address >= m.Start && address < m.End) { name = m.Name; break; }
                if (name == null && _recordedKernel is { } k && address >= k.Start && address < k.End) name = KernelLayout.KernelImageName;
                if (name == null) break;
                return AddAbsolute(name, name == KernelLayout.KernelImageName ? ImageKind.Kernel : ImageKind.KernelModule, address, ImageDomain);
            }
            case SampleMode.Hypervisor:
                return AddAbsolute("[hypervisor]", ImageKind.Hypervisor, address, ImageDomain);
            case SampleMode.GuestKernel:
                NotePassive(GuestDomain(pid));
                return AddAbsolute(DomainImages.NoVmlinux, ImageKind.Anonymous, address, GuestDomain(pid));
            case SampleMode.GuestUser:
                NotePassive(GuestDomain(pid));
                return AddAbsolute(DomainImages.Apps, ImageKind.Anonymous, address, GuestDomain(pid));
            case SampleMode.User:
            case SampleMode.Unknown:
                if (_spaces.TryGetValue(pid, out var space) && space.Find(address) is { } um)
                {
                    _frames.Add(_store.InternFrame(um.Image, um.FrameOffset(address)));
                    return true;
                }
                break;
        }
        _frames.Add(_store.InternFrame(UnknownImage(ImageDomain), address));
        return false;
    }

    private bool AddAbsolute(string name, ImageKind kind, ulong address, int domain)
    {
        if (!_kernelImages.TryGetValue((domain, name, kind), out var img))
            _kernelImages[(domain, name, kind)] = img = _store.InternImage(name, kind, domain == ImageDomain ? BuildIdOf?.Invoke(name) : null, domain);
        _frames.Add(_store.InternFrame(img, address));
        return true;
    }

    /// <summary>
    /// Reads a running process's name and executable mappings from <c>/proc</c> (mappings that already
    /// exist when sampling starts are not reported by MMAP2). Returns false when the process is gone.
    /// </summary>
    public bool SynthesizeFromProc(int pid, string procRoot = "/proc")
    {
        var dir = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture));
        string[] maps;
        string comm;
        try
        {
            comm = File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
            maps = File.ReadAllLines(Path.Combine(dir, "maps"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        Comm(pid, pid, comm, exec: false);
        try
        {
            foreach (var t in Directory.EnumerateDirectories(Path.Combine(dir, "task")))
            {
                if (!int.TryParse(Path.GetFileName(t), out var tid) || tid == pid) continue;
                try { Comm(pid, tid, File.ReadAllText(Path.Combine(t, "comm")).TrimEnd('\n'), exec: false); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        foreach (var line in maps)
            if (ProcMapsLine.TryParse(line, out var m) && m.Executable)
                Mmap(pid, m.Start, m.End - m.Start, m.Offset, m.Path, null, true, 0);
        return true;
    }

    /// <summary>Synthesizes every process under <paramref name="procRoot"/> (system-wide sessions).</summary>
    public int SynthesizeAllFromProc(string procRoot = "/proc")
    {
        int n = 0;
        foreach (var d in Directory.EnumerateDirectories(procRoot))
            if (int.TryParse(Path.GetFileName(d), out var pid) && SynthesizeFromProc(pid, procRoot)) n++;
        return n;
    }
}

/// <summary>One line of <c>/proc/PID/maps</c>: <c>start-end perms offset dev inode path</c> (addresses and offset in hex).</summary>
public readonly record struct ProcMapsLine(ulong Start, ulong End, bool Executable, ulong Offset, string Path)
{
    /// <summary>Parses one line; returns false for a line that does not have the kernel's layout.</summary>
    public static bool TryParse(string line, out ProcMapsLine result)
    {
        result = default;
        var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 5) return false;
        var range = parts[0].Split('-');
        if (range.Length != 2
            || !ulong.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end)
            || !ulong.TryParse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var off)
            || parts[1].Length < 4)
            return false;
        var path = parts.Length == 6 ? parts[5].Trim() : "//anon";
        result = new ProcMapsLine(start, end, parts[1][2] == 'x', off, path);
        return true;
    }
}
