using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// Symbol names as perf prints them: programs compiled here (C; C++ with templates, <c>g++ -O2 -fno-omit-frame-pointer</c>;
/// Rust with legacy and v0 mangling, <c>rustc -C force-frame-pointers=yes</c>; a C program spending its time in libc
/// and libm aliases) are recorded with <c>perf record</c>, and <c>xenoprof opreport -l FILE</c> must list the same
/// (image, symbol) rows with the same sample counts as <c>perf report --stdio --no-children --sort dso,sym</c> for the
/// program, libc and libm. Kernel rows are compared per address (kallsyms aliases: perf keeps the last one listed).
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

    public static IEnumerable<object[]> Programs() =>
    [
        ["c", "prog-c"],
        ["c++", "prog-cxx"],
        ["rust-legacy", "prog-rs-legacy"],
        ["rust-v0", "prog-rs-v0"],
        ["libc", "prog-libc"],
    ];

    [PerfRecordFact]
    [MemberData(nameof(Programs))]
    public void OpreportNamesAndCountsEqualPerfReport(string kind, string binary)
    {
        var dir = Directory.CreateTempSubdirectory("xenoprof-names-").FullName;
        try
        {
            var exe = Path.Combine(dir, binary);
            if (Build(kind, dir, exe) is { } skip) { output.WriteLine("skipped: " + skip); Console.WriteLine($"{nameof(SymbolNameConformanceTests)}({kind}): skipped: {skip}"); return; }
            var data = Path.Combine(dir, binary + ".data");
            var rec = PerfImportComparisonTests.Sh($"perf record -B -e cpu-clock -o {data} -- {exe} > /dev/null");
            Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
            var report = PerfImportComparisonTests.Sh($"perf report -i {data} --stdio --no-children --sort dso,sym -g none -q -n");
            Assert.True(report.Code == 0, $"perf report failed: {report.Err}");
            var r = Cli.Run("opreport", "-l", data);
            Assert.True(r.ExitCode == 0, r.Stderr);

            bool Compared(string dso) => dso == binary || dso is "libc.so.6" or "libm.so.6" or "libstdc++.so.6" or "[kernel.kallsyms]";
            var perf = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (Match m in Regex.Matches(report.Out, @"^\s+[\d.]+%\s+(\d+)\s+(.+?)\s+\[(.)\] (.+?)\s*$", RegexOptions.Multiline))
                if (Compared(m.Groups[2].Value)) Add(perf, m.Groups[2].Value, m.Groups[4].Value, long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            var ours = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var (samples, _, image, symbol) in Cli.ParseSymbols(r.Stdout))
                if (Compared(image)) Add(ours, image, symbol, samples);

            output.WriteLine("perf:\n  " + string.Join("\n  ", perf.Select(kv => $"{kv.Key} = {kv.Value}")));
            output.WriteLine("ours:\n  " + string.Join("\n  ", ours.Select(kv => $"{kv.Key} = {kv.Value}")));
            Assert.Contains(perf.Keys, k => k.StartsWith(binary + " ", StringComparison.Ordinal));
            Assert.Equal(Format(perf), Format(ours));
            foreach (var name in ExpectedNames(kind)) Assert.Contains(ours.Keys, k => k.EndsWith(" " + name, StringComparison.Ordinal));
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    // Names the programs certainly spend time in, as perf 6.1 prints them here.
    private static string[] ExpectedNames(string kind) => kind switch
    {
        "c" => ["local_mix"],
        "c++" => ["ns::Box<double>::spin", "ns::work<long>"],
        "rust-legacy" => ["<u64 as prog_rs_legacy::shapes::Spin>::spin", "prog_rs_legacy::closure_user"],
        "rust-v0" => ["<u64 as prog_rs_v0::shapes::Spin>::spin", "prog_rs_v0::closure_user::<prog_rs_v0::main::{closure#1}>"],
        "libc" => ["__fmod_finite@GLIBC_2.15", "__fmod"],
        _ => [],
    };

    private static void Add(SortedDictionary<string, long> d, string dso, string symbol, long n)
    {
        var key = dso + " " + (dso == "[kernel.kallsyms]" ? KernelCanonical(symbol) : symbol);
        d[key] = d.GetValueOrDefault(key) + n;
    }

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
                if (Which("gcc") is not { } gcc) return "gcc is not installed";
                src = Path.Combine(dir, "prog.c");
                File.WriteAllText(src, kind == "c" ? CSource : LibcSource);
                return Compile(gcc, "-O2", "-fno-omit-frame-pointer", "-o", exe, src, "-lm");
            case "c++":
                if (Which("g++") is not { } gxx) return "g++ is not installed";
                src = Path.Combine(dir, "prog.cpp");
                File.WriteAllText(src, CxxSource);
                return Compile(gxx, "-O2", "-fno-omit-frame-pointer", "-o", exe, src);
            default:
                if (Which("rustc") is not { } rustc) return "rustc is not installed (rustup's ~/.cargo/bin is searched too)";
                src = Path.Combine(dir, Path.GetFileName(exe).Replace('-', '_') + ".rs");
                File.WriteAllText(src, RustSource);
                var args = new List<string> { "-O", "-C", "force-frame-pointers=yes", "-o", exe, src };
                if (kind == "rust-v0") args.InsertRange(0, ["-C", "symbol-mangling-version=v0"]);
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
