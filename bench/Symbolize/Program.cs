// Symbolization benchmark: writes a 1M-sample session store whose frames are instruction addresses drawn from
// real stripped binaries on this machine, then times building the profile with per-instruction details, which
// symbolizes every distinct address once (symbols, else recovered functions). Runs three times: cold (no disk
// cache of recovered functions), warm disk cache in a new symbolizer, and --no-recovery for comparison.
// Usage: dotnet run -c Release --project bench/Symbolize [-- OUT_DIR [SAMPLES]]
using System.Diagnostics;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Sampler.Store;

var outDir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "xenprof-bench-symbolize");
int total = args.Length > 1 ? int.Parse(args[1]) : 1_000_000;
Directory.CreateDirectory(outDir);
string[] images = ["/usr/lib/x86_64-linux-gnu/liblzma.so.5.4.1", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/python3", "/usr/bin/xz"];
images = images.Where(File.Exists).Select(p => new FileInfo(p).LinkTarget is { } t ? Path.GetFullPath(t, Path.GetDirectoryName(p)!) : p).ToArray();

var storePath = Path.Combine(outDir, "samples.db");
var rng = new Random(42);
var sw = Stopwatch.StartNew();
int distinct = 0;
using (var store = SessionStore.Create(storePath))
{
    var ev = store.AddEvent(new StoredEvent("CPU_CLOCK", 1, 0, 1000000, 0, true, true, "ns", "CPU clock"));
    // Per image: every instruction start of its executable sections, so addresses are real instruction boundaries.
    var pool = new List<(ImageId Image, ulong FileOffset)>();
    foreach (var path in images)
    {
        using var elf = ElfObjectFile.Open(path);
        var img = store.InternImage(path, ImageKind.Elf, elf.BuildId);
        foreach (var sec in elf.Sections.Where(s => s.IsExecutable && s.Name == ".text"))
        {
            var d = FunctionDisassembly.Decode(elf.SectionBytes(sec), sec.Address);
            foreach (var ins in d.Instructions.Where((_, i) => i % 3 == 0))
                pool.Add((img, ins.IP - sec.Address + sec.Offset));
        }
    }
    // Zipf-like skew: a few hot addresses, a long tail; about a fifth of the samples hit distinct addresses.
    var frames = new Dictionary<int, StackId>();
    for (int i = 0; i < total; i++)
    {
        int k = (int)Math.Min(pool.Count - 1, Math.Floor(Math.Pow(rng.NextDouble(), 3) * pool.Count));
        if (!frames.TryGetValue(k, out var stack)) frames[k] = stack = store.InternStack(default, store.InternFrame(pool[k].Image, pool[k].FileOffset));
        store.AddSample(new StoredSample(i, 0, 0, 1, 1, ev.Id, stack, SampleMode.User, 1));
    }
    distinct = frames.Count;
    store.Commit();
}
Console.WriteLine($"store: {total} samples, {distinct} distinct addresses in {images.Length} images, written in {sw.Elapsed.TotalSeconds:F1} s ({storePath})");

var cache = Path.Combine(outDir, "cache");
if (Directory.Exists(cache)) Directory.Delete(cache, true);
Run("cold (recovery computed, cache written)", new SymbolizerOptions { CacheDirectory = cache, KallsymsPath = "/nonexistent" });
Run("warm (recovered functions from the disk cache)", new SymbolizerOptions { CacheDirectory = cache, KallsymsPath = "/nonexistent" });
Run("--no-recovery (perf's view)", new SymbolizerOptions { RecoverFunctions = false, KallsymsPath = "/nonexistent" });

void Run(string label, SymbolizerOptions options)
{
    using var read = SessionStore.OpenRead(storePath);
    var t = Stopwatch.StartNew();
    var frames = read.ReadFrames();
    var imgs = read.ReadImages();
    var readTime = t.Elapsed;
    using var sym = new Symbolizer(options);
    var adapter = new StoreFrameSymbolizer(sym);
    t.Restart();
    int named = 0;
    foreach (var f in frames.Values) if (adapter.Locate(imgs[f.Image], f.Offset) != null) named++;
    var symTime = t.Elapsed;
    t.Restart();
    var p = ProfileBuilder.Build(read, new StoreFrameSymbolizer(sym), new ProfileOptions { WithDetails = true });
    var buildTime = t.Elapsed;
    Console.WriteLine($"{label}: symbolized {frames.Count} distinct addresses in {symTime.TotalMilliseconds:F0} ms ({named} named, "
        + $"{frames.Count - named} unresolved); frame table read {readTime.TotalMilliseconds:F0} ms; whole profile with details {buildTime.TotalMilliseconds:F0} ms, {p.Symbols.Count} symbol rows");
}
