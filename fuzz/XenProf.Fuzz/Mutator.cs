using System.Diagnostics;
using System.Text;
using XenProf.Hypervisor.Binary;

namespace XenProf.Fuzz;

/// <summary>What one execution of a harness threw: <see cref="Expected"/> when it is the malformed-input exception.</summary>
/// <param name="Input">The bytes that were run.</param>
/// <param name="Exception">What escaped the harness (for a hang, a <see cref="TimeoutException"/> saying how long it took).</param>
/// <param name="Expected">True for <see cref="MalformedDataException"/>: bad input reported as such.</param>
public sealed record Outcome(byte[] Input, Exception Exception, bool Expected);

/// <summary>Totals of an in-process run: executions, how many inputs were rejected as malformed, and the findings.</summary>
/// <param name="Executions">Harness calls made.</param>
/// <param name="Malformed">Calls that ended in <see cref="MalformedDataException"/>.</param>
/// <param name="Findings">Calls that ended in any other exception, or took longer than <see cref="Mutator.SlowExecution"/>.</param>
public sealed record MutationReport(long Executions, long Malformed, IReadOnlyList<Outcome> Findings);

/// <summary>
/// A small afl-style mutator for in-process runs (tests, and machines without afl++): runs every seed, then mutations
/// of random seeds with afl's havoc steps (bit flips, interesting bytes and integers, block deletion, duplication and
/// splicing, truncation) plus text ones (numbers beyond every integer range, signs, junk words, duplicated lines).
/// Deterministic for a given seed. Not coverage-guided: afl++ through <c>fuzz/run.sh</c> is the long run.
/// </summary>
public static class Mutator
{
    /// <summary>An execution slower than this is a finding (a parser that hangs on small input).</summary>
    public static readonly TimeSpan SlowExecution = TimeSpan.FromSeconds(5);

    private static readonly long[] Interesting =
    [
        0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
        long.MaxValue, long.MinValue, 16, 24, 40, 48, 104, 4096,
    ];

    private static readonly string[] TextTokens =
    [
        "99999999999", "18446744073709551616", "-1", "-2147483649", "2147483648", "nan", "inf", "1e309", "0x", "ffffffffffffffffff",
        " ", "\t", ":", "/", "[", "]", "(", ")", "\n", "\n\n", "0", "4294967296", "9223372036854775808", ".", "..", "+0x", "->", "\"", "{", "}", ",",
    ];

    /// <summary>Runs <paramref name="harness"/> once on <paramref name="input"/>; null when it returned normally.</summary>
    public static Outcome? RunOne(Action<byte[]> harness, byte[] input)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            harness(input);
        }
        catch (MalformedDataException e)
        {
            return new Outcome(input, e, true);
        }
        catch (Exception e)
        {
            return new Outcome(input, e, false);
        }
        if (sw.Elapsed > SlowExecution)
            return new Outcome(input, new TimeoutException($"took {sw.Elapsed.TotalSeconds:F1} s on {input.Length} bytes"), false);
        return null;
    }

    /// <summary>Runs every seed, then <paramref name="mutations"/> mutated inputs; stops early after 20 findings.</summary>
    public static MutationReport Run(Action<byte[]> harness, IReadOnlyList<byte[]> seeds, int mutations, int seed = 1)
    {
        var rng = new Random(seed);
        long execs = 0, malformed = 0;
        var findings = new List<Outcome>();
        void Exec(byte[] input)
        {
            execs++;
            var o = RunOne(harness, input);
            if (o == null) return;
            if (o.Expected) malformed++;
            else findings.Add(o);
        }
        foreach (var s in seeds) Exec(s);
        var pool = seeds.Count > 0 ? seeds : [Array.Empty<byte>()];
        for (int i = 0; i < mutations && findings.Count < 20; i++)
            Exec(Mutate(pool[rng.Next(pool.Count)], pool, rng));
        return new MutationReport(execs, malformed, findings);
    }

    /// <summary>One havoc-style mutation of <paramref name="input"/> (1 to 8 stacked steps).</summary>
    public static byte[] Mutate(byte[] input, IReadOnlyList<byte[]> pool, Random rng)
    {
        var b = new List<byte>(input);
        int steps = 1 << rng.Next(4);
        for (int s = 0; s < steps; s++)
        {
            int pos = b.Count == 0 ? 0 : rng.Next(b.Count);
            switch (rng.Next(11))
            {
                case 0 when b.Count > 0: b[pos] ^= (byte)(1 << rng.Next(8)); break;
                case 1 when b.Count > 0: b[pos] = (byte)Interesting[rng.Next(Interesting.Length)]; break;
                case 2: // an interesting integer of 2, 4 or 8 bytes, little-endian, over what is there
                {
                    int width = 2 << rng.Next(3);
                    long v = Interesting[rng.Next(Interesting.Length)];
                    for (int k = 0; k < width && pos + k < b.Count; k++) b[pos + k] = (byte)(v >> (8 * k));
                    break;
                }
                case 3 when b.Count > 0: b[pos] = (byte)(b[pos] + rng.Next(-35, 36)); break;
                case 4 when b.Count > 1: // delete a block
                {
                    int len = Math.Min(b.Count - pos, 1 + rng.Next(Math.Min(64, b.Count)));
                    b.RemoveRange(pos, len);
                    break;
                }
                case 5 when b.Count > 0: // duplicate a block
                {
                    int from = rng.Next(b.Count), len = Math.Min(b.Count - from, 1 + rng.Next(64));
                    b.InsertRange(pos, b.GetRange(from, len));
                    break;
                }
                case 6: // splice in a block of another seed
                {
                    var other = pool[rng.Next(pool.Count)];
                    if (other.Length == 0) break;
                    int from = rng.Next(other.Length), len = Math.Min(other.Length - from, 1 + rng.Next(256));
                    b.InsertRange(pos, other.AsSpan(from, len).ToArray());
                    break;
                }
                case 7 when b.Count > 0: b.RemoveRange(pos, b.Count - pos); break; // truncate
                case 8 or 9: // text: a token, at a token boundary when there is one nearby
                {
                    int at = pos;
                    while (at < b.Count && at - pos < 16 && b[at] is not ((byte)' ' or (byte)'\n' or (byte)'\t' or (byte)':' or (byte)',')) at++;
                    var tok = Encoding.ASCII.GetBytes(TextTokens[rng.Next(TextTokens.Length)]);
                    if (rng.Next(2) == 0) { int end = at; while (end < b.Count && end - at < 24 && b[end] is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f') end++; b.RemoveRange(at, end - at); }
                    b.InsertRange(Math.Min(at, b.Count), tok);
                    break;
                }
                case 10 when b.Count > 0: // duplicate or drop a whole line
                {
                    int start = pos; while (start > 0 && b[start - 1] != '\n') start--;
                    int end = pos; while (end < b.Count && b[end] != '\n') end++;
                    if (end < b.Count) end++;
                    if (rng.Next(2) == 0) b.InsertRange(start, b.GetRange(start, end - start)); else b.RemoveRange(start, end - start);
                    break;
                }
            }
        }
        return b.ToArray();
    }
}
