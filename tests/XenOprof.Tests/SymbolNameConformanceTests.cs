using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// Symbol names as perf prints them: programs compiled here (C, <c>gcc -O2 -g</c>; C++ with templates and a namespace,
/// and with virtual calls, lambdas and libstdc++ containers, <c>g++ -O2 -g</c>; Rust with legacy and v0 mangling,
/// <c>rustc -O -C force-frame-pointers=yes</c> and <c>rustc -g -C opt-level=2</c>; a C program spending
/// its time in libc and libm aliases; one going through PLT entries, its own and libc's; Python 3.12+ under
/// <c>-X perf</c> when the python3 on PATH has it; the .NET burner under <c>perf record -g</c> with
/// <c>DOTNET_PerfMapEnabled=1</c>) are recorded with <c>perf record</c> (per process, system-wide with <c>-a</c>, and
/// with two events), and <c>xenoprof opreport -l --no-recovery FILE</c> must list the same (image, symbol) rows with the
/// same sample counts, and the same shares within 0.01 percentage points per row perf prints, as
/// <c>perf report --stdio --no-children --sort dso,sym</c> for the program, its libraries, the dynamic loader, the
/// vDSO and the kernel, per event. Kernel rows are compared per address (kallsyms aliases: perf keeps the last one
/// listed); a JIT map's rows without its pid (perf calls that image <c>[JIT] tid PID</c>, opreport
/// <c>/tmp/perf-PID.map</c>); what perf leaves unnamed (one row per address) is opreport's <c>(no symbols)</c>.
/// The .NET program runs with <c>DOTNET_EnableWriteXorExecute=0</c>: with W^X on (.NET's default) the JIT code runs
/// from a double mapping of <c>memfd:doublemapper</c>, not from the anonymous memory the perf map describes, and
/// neither tool names it (both leave those samples unnamed).
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class SymbolNameConformanceTests(ITestOutputHelper output)
{
    private const string CSource = """
        #include <stdio.h>
        #include <stdlib.h>
        static volatile long sink;
        __attribute__((noinline)) static long local_mix(long x) { for (int i = 0; i < 2000; i++) x = x * 6364136223846793005L + i; return x; }
        __attribute__((noinline)) long global_spin(long n) { long s = 0; for (long i = 0; i < n; i++) s += local_mix(i) >> 7; return s; }
        int main(int argc, char **argv) { long n = argc > 1 ? atol(argv[1]) : 60000; sink = global_spin(n); printf("%ld\n", (long)sink); return 0; }
        """;

    private const string CxxSource = """
        #include <vector>
        #include <map>
        #include <cstdio>
        #include <cstdlib>
        namespace ns {
        template <typename T> struct Box { T v; __attribute__((noinline)) T spin(int n) { T s = v; for (int i = 0; i < n; i++) s = s * (T)1.0000001 + (T)(i & 7); return s; } };
        template <typename T> __attribute__((noinline)) T work(std::vector<T>& xs, int n) { T s = 0; for (int k = 0; k < n; k++) for (auto& x : xs) { s ^= x * (T)k; x = (x >> 1) + s; } return s; }
        __attribute__((noinline)) long tally(std::map<int, long>& m, int n) { long s = 0; for (int i = 0; i < n; i++) s += m[i % 97] += i; return s; }
        }
        int main(int argc, char** argv) {
          int reps = argc > 1 ? atoi(argv[1]) : 2000; std::vector<long> v(1000, 3); ns::Box<double> b{1.5}; std::map<int, long> m;
          long t = 0; double d = 0;
          for (int r = 0; r < reps; r++) { t += ns::work(v, 100); d += b.spin(100000); t += ns::tally(m, 2000); }
          std::printf("%ld %f\n", t, d); }
        """;

    // As a new user would write them: virtual calls, std::function, a lambda comparator for std::sort, an
    // unordered_map of strings (libstdc++'s deep template names).
    private const string CxxStdSource = """
        #include <algorithm>
        #include <functional>
        #include <unordered_map>
        #include <vector>
        #include <string>
        #include <cstdio>
        #include <memory>
        namespace geo {
        template <typename T, int N> struct Vec { T v[N]; };
        template <typename T, int N> __attribute__((noinline)) T dot(const std::vector<Vec<T,N>>& a) { T s{}; for (auto& x : a) for (int i = 0; i < N; i++) s += x.v[i] * x.v[(i+1)%N]; return s; }
        struct Shape { virtual ~Shape() = default; virtual double area(int k) const = 0; };
        struct Circle : Shape { double r; explicit Circle(double r) : r(r) {} __attribute__((noinline)) double area(int k) const override { double s = 0; for (int i = 0; i < k; i++) s += r * r * 3.14159 + i; return s; } };
        }
        __attribute__((noinline)) long words(std::unordered_map<std::string, long>& m, int n) { long t = 0; for (int i = 0; i < n; i++) t += ++m[std::to_string(i % 500)]; return t; }
        int main() {
          std::vector<geo::Vec<float, 3>> a(4000, geo::Vec<float,3>{{1.f, 2.f, 3.f}}); std::unordered_map<std::string, long> m;
          std::unique_ptr<geo::Shape> c = std::make_unique<geo::Circle>(2.0);
          std::function<double(int)> f = [&](int k) { return c->area(k); };
          double d = 0; long t = 0; std::vector<int> v(20000);
          for (int r = 0; r < 300; r++) { d += geo::dot(a); d += f(20000); t += words(m, 2000); for (int i = 0; i < 20000; i++) v[i] = (i * 7919 + r) % 10007; std::sort(v.begin(), v.end(), [](int x, int y) { return x > y; }); }
          std::printf("%f %ld %d\n", d, t, v[0]);
        }
        """;

    // Built with rustc -g -C opt-level=2: a trait object, const generics, a HashMap of Strings, sort_by with a closure.
    private const string RustGSource = """
        use std::collections::HashMap;
        use std::hint::black_box;
        trait Area { fn area(&self, k: u64) -> f64; }
        struct Circle { r: f64 }
        impl Area for Circle { #[inline(never)] fn area(&self, k: u64) -> f64 { let mut s = 0.0; for i in 0..k { s += self.r * self.r * 3.14159 + i as f64; } s } }
        #[inline(never)]
        fn dot<T: Copy + Default + std::ops::Add<Output = T> + std::ops::Mul<Output = T>, const N: usize>(a: &[[T; N]]) -> T { let mut s = T::default(); for x in a { for i in 0..N { s = s + x[i] * x[(i + 1) % N]; } } s }
        #[inline(never)]
        fn words(m: &mut HashMap<String, u64>, n: u64) -> u64 { let mut t = 0; for i in 0..n { let e = m.entry((i % 500).to_string()).or_insert(0); *e += 1; t += *e; } t }
        fn main() {
            let a = vec![[1.0f32, 2.0, 3.0]; 4000];
            let shapes: Vec<Box<dyn Area>> = vec![Box::new(Circle { r: 2.0 })];
            let mut m = HashMap::new();
            let mut v: Vec<u32> = (0..20000).collect();
            let (mut d, mut t) = (0.0f64, 0u64);
            for r in 0..300u32 {
                d += black_box(dot(&a)) as f64;
                for s in &shapes { d += s.area(black_box(20000)); }
                t += words(&mut m, 2000);
                for (i, x) in v.iter_mut().enumerate() { *x = ((i as u32).wrapping_mul(7919) + r) % 10007; }
                v.sort_by(|x, y| y.cmp(x));
            }
            println!("{} {} {}", d, t, v[0]);
        }
        """;

    private const string RustSource = """
        use std::hint::black_box;
        mod shapes {
            pub struct Grid<T> { pub cells: Vec<T> }
            impl<T: Copy + std::ops::Add<Output = T> + std::ops::Mul<Output = T>> Grid<T> {
                #[inline(never)]
                pub fn churn(&mut self, k: T) -> T { let mut acc = self.cells[0]; for c in self.cells.iter_mut() { *c = *c * k + acc; acc = *c; } acc }
            }
            pub trait Spin { fn spin(&self, n: u64) -> u64; }
            impl Spin for u64 { #[inline(never)] fn spin(&self, n: u64) -> u64 { let mut s = *self; for i in 0..n { s = s.rotate_left(5) ^ i.wrapping_mul(0x9e3779b97f4a7c15); } s } }
        }
        use shapes::Spin;
        #[inline(never)]
        fn closure_user<F: Fn(u64) -> u64>(f: F, n: u64) -> u64 { let mut s = 0; for i in 0..n { s ^= f(i); } s }
        fn main() {
            let reps: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20000);
            let mut g = shapes::Grid { cells: vec![1.0f64; 4096] };
            let mut t = 0u64;
            for _ in 0..reps {
                black_box(g.churn(black_box(0.999)));
                t ^= black_box(7u64).spin(black_box(20000));
                t ^= closure_user(|x| x.wrapping_mul(x ^ 0x55).rotate_right(3), black_box(20000));
            }
            println!("{}", t);
        }
        """;

    // memmove/memcpy resolve through IFUNCs to one of several aliased variants; fmod's work is done in
    // __ieee754_fmod, exported only as the compat symbol __fmod_finite@GLIBC_2.15; write() runs __libc_write.
    private const string LibcSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <math.h>
        #include <fcntl.h>
        #include <unistd.h>
        static char a[1 << 16], b[1 << 16];
        static volatile double dsink;
        int main(int argc, char **argv) {
          long reps = argc > 1 ? atol(argv[1]) : 40000;
          int fd = open("/dev/null", O_WRONLY);
          double d = 0;
          for (long r = 0; r < reps; r++) {
            memmove(a + (r & 63), a + 64, sizeof a - 128);
            memcpy(b, a, sizeof b);
            for (int k = 0; k < 40; k++) d += fmod(1e300 * (k + 1) + r, 3.0 + (k & 3));
            if ((r & 15) == 0) write(fd, b, 64);
          }
          dsink = d;
          printf("%f\n", (double)dsink);
          return 0;
        }
        """;

    // strdup through the program's PLT, and strlen/memcpy through libc's own PLT slots (IRELATIVE: perf 6.1 names
    // those entries by relocation order, the unnamed ones "@plt"); the program's zero-size _init, extended over its
    // .plt, is what perf's symbol tree search finds for some entries.
    private const string PltSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        int main(int argc, char **argv) {
          long reps = argc > 1 ? atol(argv[1]) : 30000000, t = 0;
          char s[4] = "ab";
          for (long i = 0; i < reps; i++) { char *p = strdup(s); t += p[1]; free(p); }
          printf("%ld\n", t);
          return 0;
        }
        """;

    private const string PythonSource = """
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        def spin(n):
            s = 0
            for i in range(n):
                s ^= i * i
            return s

        for _ in range(4):
            fib(22)
            spin(300000)
        """;

    // kind, binary, perf record's event and scope arguments.
    public static IEnumerable<object[]> Programs() =>
    [
        ["c", "prog-c", "-e cpu-clock"],
        ["c++", "prog-cxx", "-e cpu-clock"],
        ["rust-legacy", "prog-rs-legacy", "-e cpu-clock"],
        ["rust-v0", "prog-rs-v0", "-e cpu-clock"],
        ["c++-std", "prog-cxx-std", "-e cpu-clock"],
        ["rust-g", "prog-rs-g", "-e cpu-clock"],
        ["rust-g-v0", "prog-rs-g-v0", "-e cpu-clock"],
        ["libc", "prog-libc", "-e cpu-clock"],
        ["plt", "prog-plt", "-F 20000 -e cpu-clock"],    // PLT entries, the program's and libc's
        ["c", "prog-c", "-a -e cpu-clock"],              // system-wide: every process's samples, the program's among them
        ["c++", "prog-cxx", "-e cpu-clock,task-clock"],  // two events: each compared on its own
        ["python", "prog-py", "-e cpu-clock"],           // python3 -X perf: its /tmp/perf-PID.map names the Python functions
        ["dotnet", "burner", "-g -e cpu-clock"],         // .NET JIT frames from /tmp/perf-PID.map, with callchains
    ];

    [PerfRecordFact]
    [MemberData(nameof(Programs))]
    public void OpreportNamesCountsAndSharesEqualPerfReport(string kind, string binary, string perfArgs)
    {
        var dir = Directory.CreateTempSubdirectory("xenoprof-names-").FullName;
        var jitPids = new HashSet<string>();
        try
        {
            var exe = Path.Combine(dir, binary);
            if (Build(kind, dir, exe) is { } skip) { output.WriteLine("skipped: " + skip); Console.WriteLine($"{nameof(SymbolNameConformanceTests)}({kind}): skipped: {skip}"); return; }
            var command = kind switch
            {
                "python" => $"python3 -X perf {exe}",
                "dotnet" => $"env DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 {XenProf.Reporter.Tests.Symbols.DotnetBurner.Program.Path} 2",
                _ => exe,
            };
            var data = Path.Combine(dir, binary + ".data");
            var rec = PerfImportComparisonTests.Sh($"perf record -B {perfArgs} -o {data} -- {command} > /dev/null");
            Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
            var report = PerfImportComparisonTests.Sh($"perf report -i {data} --stdio --no-children --sort dso,sym -g none -n");
            Assert.True(report.Code == 0, $"perf report failed: {report.Err}");
            if (kind == "dotnet") foreach (Match m in Regex.Matches(report.Out, @"\[JIT\] tid (\d+)")) jitPids.Add(m.Groups[1].Value);
            // --no-recovery: what perf leaves unnamed stays (no symbols) instead of a recovered image+0xSTART.
            var r = Cli.Run("opreport", "-l", "--no-recovery", data);
            Assert.True(r.ExitCode == 0, r.Stderr);

            bool Compared(string dso) => dso == binary || dso is "libc.so.6" or "libm.so.6" or "libstdc++.so.6" or "ld-linux-x86-64.so.2" or "[kernel.kallsyms]" or "[vdso]"
                || kind == "python" && (dso.StartsWith("python3", StringComparison.Ordinal) || dso.StartsWith("libpython3", StringComparison.Ordinal) || IsPerfMap(dso))
                || kind == "dotnet" && (IsPerfMap(dso) || dso is "libcoreclr.so" or "libclrjit.so" or "System.Private.CoreLib.dll");
            var events = perfArgs[(perfArgs.IndexOf("-e ", StringComparison.Ordinal) + 3)..].Split(',');
            var perfSections = PeriodWeightingTests.ParsePerf(report.Out);
            var ourRows = PeriodWeightingTests.ParseOpreport(r.Stdout, events.Length);
            for (int e = 0; e < events.Length; e++)
            {
                Assert.True(perfSections.TryGetValue(events[e], out var perfRows), $"perf report has no section for {events[e]}");
                var perf = new SortedDictionary<string, long>(StringComparer.Ordinal);
                var perfPct = new Dictionary<string, (double Percent, int Rows)>();
                foreach (var (key, (n, pct, rows)) in perfRows)
                {
                    var dso = DsoOf(key);
                    if (!Compared(dso)) continue;
                    var k = Normalized(key);
                    perf[k] = perf.GetValueOrDefault(k) + n;
                    var (p0, r0) = perfPct.GetValueOrDefault(k);
                    perfPct[k] = (p0 + pct, r0 + rows);
                }
                var ours = new SortedDictionary<string, long>(StringComparer.Ordinal);
                var ourPct = new Dictionary<string, double>();
                foreach (var ((oe, key), (n, pct)) in ourRows)
                {
                    if (oe != e || n == 0 || !Compared(DsoOf(key))) continue;
                    var k = Normalized(key);
                    ours[k] = ours.GetValueOrDefault(k) + n;
                    ourPct[k] = ourPct.GetValueOrDefault(k) + pct;
                }

                output.WriteLine($"{events[e]} perf:\n  " + string.Join("\n  ", perf.Select(kv => $"{kv.Key} = {kv.Value} ({perfPct[kv.Key].Percent:0.00}%)")));
                output.WriteLine($"{events[e]} ours:\n  " + string.Join("\n  ", ours.Select(kv => $"{kv.Key} = {kv.Value} ({ourPct[kv.Key]:0.0000}%)")));
                Assert.Contains(perf.Keys, k => kind switch
                {
                    "python" => k.StartsWith("libpython3", StringComparison.Ordinal) || k.StartsWith("python3", StringComparison.Ordinal),
                    "dotnet" => k.StartsWith("perf-PID.map ", StringComparison.Ordinal),
                    _ => k.StartsWith(binary + " ", StringComparison.Ordinal),
                });
                Assert.Equal(Format(perf), Format(ours));
                // perf prints each row's share rounded to 0.01: a key that merges rows sums their roundings.
                foreach (var (k, (pct, rows)) in perfPct)
                    Assert.True(Math.Abs(ourPct[k] - pct) <= 0.01 * rows, $"{events[e]} {k}: opreport {ourPct[k]:0.0000}% vs perf report {pct:0.00}%");
                foreach (var name in ExpectedNames(kind))
                    Assert.Contains(ours.Keys, k => name[^1] is ':' or '[' or '<' ? k.Contains(" " + name, StringComparison.Ordinal) : k.EndsWith(" " + name, StringComparison.Ordinal));
            }
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
            foreach (var pid in jitPids) { File.Delete($"/tmp/perf-{pid}.map"); File.Delete($"/tmp/perf-{pid}.info"); File.Delete($"/tmp/jit-{pid}.dump"); }
        }
    }

    // perf report prints a JIT map's image as "[JIT] tid PID", with spaces; opreport names it after the map file.
    private static string DsoOf(string key) =>
        Regex.Match(key, @"^\[JIT\] tid \d+ ") is { Success: true } jit ? jit.Value[..^1] : key[..key.IndexOf(' ')];

    private static bool IsPerfMap(string dso) => Regex.IsMatch(dso, @"^(/tmp/)?perf-\d+\.map$|^\[JIT\] tid \d+$");

    // A JIT map is keyed without its pid (each run's differs), and a kernel symbol by one name per address.
    private static string Normalized(string key)
    {
        var dso = DsoOf(key);
        var symbol = key[(dso.Length + 1)..];
        if (IsPerfMap(dso)) dso = "perf-PID.map";
        return dso + " " + (dso == "[kernel.kallsyms]" ? KernelCanonical(symbol) : symbol);
    }

    // Names the programs certainly spend time in, as perf 6.1 prints them here.
    private static string[] ExpectedNames(string kind) => kind switch
    {
        "c" => ["local_mix"],
        "c++" => ["ns::Box<double>::spin", "ns::work<long>"],
        "c++-std" => ["geo::Circle::area", "std::__introsort_loop<"],
        "rust-g" => ["<prog_rs_g::Circle as prog_rs_g::Area>::area"],
        "rust-g-v0" => ["<prog_rs_g_v0::Circle as prog_rs_g_v0::Area>::area"],
        "rust-legacy" => ["<u64 as prog_rs_legacy::shapes::Spin>::spin", "prog_rs_legacy::closure_user"],
        "rust-v0" => ["<u64 as prog_rs_v0::shapes::Spin>::spin", "prog_rs_v0::closure_user::<prog_rs_v0::main::{closure#1}>"],
        "libc" => ["__fmod_finite@GLIBC_2.15", "__fmod"],
        "plt" => ["__strdup"],
        // The py::FUNC:FILE trampolines -X perf maps are a few instructions each: they are callers, almost never the
        // sampled frame, so with no callchain the interpreter's own functions are what both tools list.
        "python" => ["_PyEval_EvalFrameDefault"],
        "dotnet" => ["int64 [burner] Burner::Hot(int64)["],
        _ => [],
    };

    private static string Format(SortedDictionary<string, long> d) => string.Join("\n", d.Select(kv => $"{kv.Key} = {kv.Value}"));

    // Kernel aliases: compare one name per address (the ordinal-smallest kallsyms name there).
    private static readonly Lazy<Dictionary<string, string>> KernelAliases = new(() =>
    {
        var byAddr = new Dictionary<string, List<string>>();
        foreach (var line in File.ReadLines("/proc/kallsyms"))
        {
            var f = line.Split(' ', '\t');
            if (f.Length < 3 || f[1] is not ("T" or "t" or "W" or "w")) continue;
            if (!byAddr.TryGetValue(f[0], out var l)) byAddr[f[0]] = l = [];
            l.Add(f[2]);
        }
        var canon = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var l in byAddr.Values)
        {
            var c = l.Min(StringComparer.Ordinal)!;
            foreach (var n in l) canon[n] = c;
        }
        return canon;
    });

    private static string KernelCanonical(string symbol) => KernelAliases.Value.GetValueOrDefault(symbol, symbol);

    /// <summary>Compiles the program; returns why it cannot be, or null.</summary>
    private static string? Build(string kind, string dir, string exe)
    {
        string src;
        switch (kind)
        {
            case "c":
            case "libc":
            case "plt":
                if (Which("gcc") is not { } gcc) return "gcc is not installed";
                src = Path.Combine(dir, "prog.c");
                File.WriteAllText(src, kind switch { "c" => CSource, "libc" => LibcSource, _ => PltSource });
                return Compile(gcc, "-O2", "-g", "-fno-omit-frame-pointer", "-o", exe, src, "-lm");
            case "c++":
            case "c++-std":
                if (Which("g++") is not { } gxx) return "g++ is not installed";
                src = Path.Combine(dir, "prog.cpp");
                File.WriteAllText(src, kind == "c++" ? CxxSource : CxxStdSource);
                return Compile(gxx, "-O2", "-g", "-fno-omit-frame-pointer", "-o", exe, src);
            case "dotnet":
                // Run where it was built (the apphost finds burner.dll beside it), not copied to exe.
                return XenProf.Reporter.Tests.Symbols.DotnetBurner.Program.Path == null ? XenProf.Reporter.Tests.Symbols.DotnetBurner.Program.Why : null;
            case "python":
                // -X perf (Python 3.12+, Doc/howto/perf_profiling.rst) writes /tmp/perf-PID.map with py::FUNC:FILE entries.
                if (Which("python3") is not { } py) return "python3 is not installed";
                var v = PerfImportComparisonTests.Sh($"'{py}' -c 'import sys; print(sys.version_info >= (3, 12))'");
                if (v.Out.Trim() != "True") return $"the python3 on PATH ({py}) is older than 3.12 and has no -X perf";
                File.WriteAllText(exe, PythonSource);
                return null;
            default:
                if (Which("rustc") is not { } rustc) return "rustc is not installed (rustup's ~/.cargo/bin is searched too)";
                src = Path.Combine(dir, Path.GetFileName(exe).Replace('-', '_') + ".rs");
                File.WriteAllText(src, kind.StartsWith("rust-g", StringComparison.Ordinal) ? RustGSource : RustSource);
                var args = kind.StartsWith("rust-g", StringComparison.Ordinal)
                    ? new List<string> { "-g", "-C", "opt-level=2", "-o", exe, src }
                    : new List<string> { "-O", "-C", "force-frame-pointers=yes", "-o", exe, src };
                // Stable rustc takes v0 mangling (stable since Rust 1.59; 1.95 here).
                if (kind.EndsWith("-v0", StringComparison.Ordinal)) args.InsertRange(0, ["-C", "symbol-mangling-version=v0"]);
                return Compile(rustc, [.. args]);
        }
    }

    private static string? Compile(string tool, params string[] args)
    {
        var r = PerfImportComparisonTests.Sh(string.Join(' ', new[] { tool }.Concat(args).Select(a => "'" + a + "'")));
        return r.Code == 0 ? null : $"{Path.GetFileName(tool)} failed: {r.Err}";
    }

    private static string? Which(string tool)
    {
        var home = Environment.GetEnvironmentVariable("HOME");
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Where(d => d.Length > 0).ToList();
        if (!string.IsNullOrEmpty(home)) dirs.Add(Path.Combine(home, ".cargo", "bin"));
        return dirs.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
    }
}
