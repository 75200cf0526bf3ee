using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Text;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof opannotate</c>: sampled functions disassembled with per-instruction counts, as opannotate prints them,
/// of a session or (<c>--clickhouse</c>) of pushed sessions merged over hosts (<see cref="OpannotateFleet"/>).</summary>
internal static class OpannotateCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var assembly = new Option<bool>("--assembly", "-a") { Description = "Annotated disassembly (the default when neither --assembly nor --source is given)" };
        var source = new Option<bool>("--source", "-s") { Description = "Source lines from DWARF line tables (addr2line); with --assembly they are interleaved" };
        var syntax = new Option<string>("--syntax") { Description = "Assembly syntax: gas (AT&T, objdump's default) or intel", DefaultValueFactory = _ => "gas" };
        var skid = new Option<bool>("--skid-adjust") { Description = "Also charge each sample to the instruction before its IP (imprecise events skid); shows both columns" };
        var threshold = new Option<double>("--threshold", "-t") { Description = "Only functions at or above this percentage of the total" };
        var include = new Option<string[]>("--include-symbols", "-i") { Description = "Only functions whose name contains one of these (comma-separated)" };
        var image = new Option<string?>("--image") { Description = "Only functions of images whose path contains this string" };
        var vmlinux = new Option<string?>("--vmlinux") { Description = "Kernel image to read kernel code from (default /proc/kcore, root only)" };
        var noRecovery = new Option<bool>("--no-recovery") { Description = "Do not recover functions in stripped code" };
        var demangle = CommonOptions.Demangle();
        var terms = new Argument<string[]>("profile specification")
        {
            Description = "Terms tag:value choosing the samples (image:PATH[,PATH] image-exclude: event:NAME count:N unit-mask:N tgid:N[,N] tid:N[,N] cpu:N[,N] domain:N); "
                + "with --clickhouse also host:NAME[,NAME] and session:ID[,ID]",
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "tag:value…",
        };
        var fleet = new OpreportFleet();
        var cmd = new Command("opannotate", "Annotate sampled functions' machine code (and source) with sample counts, of a session or of many hosts' sessions in ClickHouse")
        {
            terms, dir, assembly, source, syntax, skid, threshold, include, image, vmlinux, noRecovery, demangle, fleet.Url, fleet.Database, fleet.From, fleet.To, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("opannotate", pr.GetValue(Run.Verbose), ct =>
        {
            CommonOptions.ApplyDemangle(pr.GetValue(demangle));
            var syn = pr.GetValue(syntax)?.ToLowerInvariant() switch
            {
                "gas" or "att" => AsmSyntax.Gas,
                "intel" => AsmSyntax.Intel,
                var s => throw new UserErrorException($"--syntax={s}: expected gas or intel"),
            };
            bool asm = pr.GetValue(assembly), src = pr.GetValue(source);
            var o = new OpannotateOptions
            {
                Assembly = asm || !src, Source = src, Syntax = syn, SkidAdjust = pr.GetValue(skid), Threshold = pr.GetValue(threshold),
                IncludeSymbols = (pr.GetValue(include) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(), Image = pr.GetValue(image),
                CommandLine = "xenoprof " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            };
            var specs = pr.GetValue(terms) ?? [];
            if (fleet.Target(pr, specs) is { } target)
                return OpannotateFleet.Execute(target, specs, o with { RecordedElsewhere = true }, Console.Out, Console.Error, pr.GetValue(vmlinux), !pr.GetValue(noRecovery), ct);
            var spec = ProfileSpec.Parse(specs);
            if (spec.Rest.Count > 0 || spec.Session != null)
                throw new UserErrorException($"{(spec.Rest.Count > 0 ? spec.Rest[0] : "session:" + spec.Session)}: opannotate reads --session-dir; expected profile specification terms tag:value (host: and session:ID with --clickhouse)");
            return Execute(pr.GetValue(dir)!, o, Console.Out, pr.GetValue(vmlinux), !pr.GetValue(noRecovery), spec.ApplyTo(new ProfileOptions()));
        }));
        return cmd;
    }

    /// <summary>Builds the profile of <paramref name="sessionDir"/> (narrowed by <paramref name="query"/>) with per-instruction counts and writes the annotation.</summary>
    public static int Execute(string sessionDir, OpannotateOptions options, TextWriter stdout, string? vmlinux = null, bool recoverFunctions = true, ProfileOptions? query = null)
    {
        using var symbolizer = new Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir) with { RecoverFunctions = recoverFunctions });
        var profile = SessionProfiles.Load(sessionDir, (query ?? new ProfileOptions()) with { WithDetails = true }, symbolizer);
        using var code = new CodeBytes(symbolizer, vmlinux);
        OpannotateWriter.Write(profile, symbolizer, code, stdout, options);
        stdout.Flush();
        return 0;
    }
}
