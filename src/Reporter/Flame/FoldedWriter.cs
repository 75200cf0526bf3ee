using XenProf.Reporter.Profile;
using System.Globalization;
using System.Text;
using XenProf.Reporter.Flame.FlameInternal;

namespace XenProf.Reporter.Flame;

/// <summary>
/// Writes stacks in the folded ("collapsed") format read by flamegraph.pl, inferno, speedscope and others
/// (FlameGraph's stackcollapse-perf.pl output): one line <c>frame;frame;…;frame count\n</c> per distinct stack, root first,
/// lines sorted by the stack text in byte order, identical stacks summed, exactly what stackcollapse-perf.pl prints.
/// </summary>
/// <remarks>
/// Frame names are sanitized so that no name can break the format: <c>;</c> becomes <c>:</c> (as stackcollapse
/// does) and CR or LF become a space. Other characters, spaces included, are kept: readers take the count after the
/// last space. Two stacks that only differ before sanitizing are merged. A null name is written as empty.
/// The whole input is aggregated in memory before the first line is written (output must be sorted).
/// </remarks>
public static class FoldedWriter
{
    /// <summary>Writes <paramref name="stacks"/> to <paramref name="output"/>, lines ending in <c>\n</c>.</summary>
    /// <param name="stacks">Stacks, any order, duplicates allowed.</param>
    /// <param name="output">Destination; not flushed or closed.</param>
    /// <param name="options">Annotation options; null means <see cref="FoldedOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stacks"/>, <paramref name="output"/> or a stack is null.</exception>
    /// <exception cref="OverflowException">Counts of one stack sum past <see cref="long.MaxValue"/>.</exception>
    public static void Write(IEnumerable<FlameStack> stacks, TextWriter output, FoldedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stacks);
        ArgumentNullException.ThrowIfNull(output);
        options ??= FoldedOptions.Default;

        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        var sb = new StringBuilder(256);
        foreach (var stack in stacks)
        {
            ArgumentNullException.ThrowIfNull(stack, nameof(stacks));
            sb.Clear();
            var frames = stack.Frames;
            for (int i = 0; i < frames.Count; i++)
            {
                if (i > 0)
                {
                    sb.Append(FoldedSyntax.Separator);
                }

                var frame = frames[i];
                FoldedSyntax.AppendName(sb, frame.Name);
                if (options.AnnotateKernel && FoldedSyntax.Suffix(frame.Kind) is { } suffix)
                {
                    sb.Append(suffix);
                }
            }

            string key = sb.ToString();
            totals.TryGetValue(key, out long sum);
            totals[key] = checked(sum + stack.Count);
        }

        var keys = new string[totals.Count];
        totals.Keys.CopyTo(keys, 0);
        Array.Sort(keys, Utf8Order.Comparer);
        foreach (var key in keys)
        {
            output.Write(key);
            output.Write(' ');
            output.Write(totals[key].ToString(CultureInfo.InvariantCulture));
            output.Write('\n');
        }
    }
}
