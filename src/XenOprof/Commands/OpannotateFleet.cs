using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Text;
using XenProf.Sampler.Fleet;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof opannotate --clickhouse URL [host:NAME[,NAME]] [session:ID[,ID]] [tag:value…] [--from T] [--to T]</c>: the annotation of many hosts' pushed sessions.</summary>
internal static class OpannotateFleet
{
    /// <summary>
    /// Builds the merged profile with per-instruction counts (<see cref="FleetProfiles"/>: ClickHouse sums the samples
    /// per leaf frame, each frame located in its function on its recording host; images of different builds stay
    /// apart) and writes the annotation. Code is disassembled from a binary here only when it is the build that was
    /// sampled (<see cref="OpannotateOptions.RecordedElsewhere"/>); other functions are listed by sampled address, and
    /// each image whose code is missing, or whose hosts ran different builds, gets one warning on
    /// <paramref name="stderr"/>.
    /// </summary>
    public static int Execute(FleetTarget target, IReadOnlyList<string> terms, OpannotateOptions options, TextWriter stdout, TextWriter stderr,
        string? vmlinux, bool recoverFunctions, CancellationToken ct)
    {
        var (selection, query) = OpreportFleet.Select(target, terms, new ProfileOptions { WithDetails = true });
        Profile profile;
        using (var ch = new ClickHouseHttp(target.Url)) profile = FleetProfiles.Load(ch, selection, query, ct);
        using var symbolizer = new Symbolizer(new SymbolizerOptions { RecoverFunctions = recoverFunctions });
        using var code = new CodeBytes(symbolizer, vmlinux);
        var notes = new List<string>();
        OpannotateWriter.Write(profile, symbolizer, code, stdout, options, notes.Add);
        stdout.Flush();
        foreach (var warning in profile.Warnings.Concat(notes)) stderr.WriteLine("xenoprof opannotate: warning: " + warning);
        return 0;
    }
}
