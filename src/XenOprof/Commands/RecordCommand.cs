using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Sampler.Session;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof record [-- CMD ARGS…]</c>: profile one command (and its children) or, with <c>-a</c>, the whole machine while it runs.</summary>
internal static class RecordCommand
{
    /// <summary>File name of the built-in workload, built next to this program from samples/workload/hotloop.c.</summary>
    public const string BuiltInWorkload = "hotloop";

    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var ev = CommonOptions.Event();
        var callgraph = new Option<bool>("--callgraph", "-g") { Description = "Record kernel and user callchains (frame pointers)" };
        var systemWide = new Option<bool>("--system-wide", "-a") { Description = "Sample every CPU and process while the command runs" };
        var group = CommonOptions.Group();
        var separate = CommonOptions.Separate("What opreport keeps apart by default (samples always keep pid, tid and cpu): lib, kernel (implies lib), thread, cpu, all or none (the default); opreport --merge/--separate override it");
        var dotnet = new Option<bool>("--dotnet") { Description = "The command is a .NET program: also record its managed stacks through EventPipe (method names) and turn its JIT perf map on" };
        var command = new Argument<string[]>("command")
        {
            Description = $"Command and arguments to profile, after --. Default: the built-in workload ({BuiltInWorkload}: three functions taking 60/30/10 % of its time)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var cmd = new Command("record", "Profile a command from start to exit (like operf)") { dir, group, ev, callgraph, systemWide, separate, dotnet, command, Run.Verbose };
        cmd.SetAction(pr => Run.Guarded("record", pr.GetValue(Run.Verbose), ct => Execute(
            CommonOptions.Session(pr.GetValue(dir)!, pr.GetValue(group)),
            new SessionConfig { Events = CommonOptions.SplitEvents(pr.GetValue(ev)).ToList(), CallgraphDepth = pr.GetValue(callgraph) ? 127 : 0, SystemWide = pr.GetValue(systemWide), Separate = CommonOptions.CheckSeparate(pr.GetValue(separate)) },
            pr.GetValue(command) ?? [], Console.Error, ct, new RecordOptions { Dotnet = pr.GetValue(dotnet), Log = Console.Error })));
        return cmd;
    }

    /// <summary>Records <paramref name="commandLine"/> (or the built-in workload when empty) into <paramref name="dir"/>; returns the command's exit code.</summary>
    public static int Execute(SessionDirectory dir, SessionConfig config, IReadOnlyList<string> commandLine, TextWriter stderr, CancellationToken ct,
        RecordOptions? options = null)
    {
        if (DaemonLauncher.IsRunning(dir))
            throw new UserErrorException($"a daemon is running on session {dir.Path}; shut it down (opcontrol --shutdown) or use another --session-dir");
        string file;
        IReadOnlyList<string> args;
        if (commandLine.Count == 0)
        {
            file = Path.Combine(AppContext.BaseDirectory, BuiltInWorkload);
            if (!File.Exists(file))
                throw new UserErrorException($"the built-in workload {file} was not built (gcc missing when xenoprof was built?); install gcc and rebuild, or give a command after --");
            args = [];
            stderr.WriteLine($"xenoprof record: no command given, profiling the built-in workload {file}");
        }
        else
        {
            file = commandLine[0];
            args = commandLine.Skip(1).ToList();
        }
        var r = Progress.Run(stderr, "recording", report => Recorder.Run(dir, config, file, args, ct,
            (samples, lost) => report($"{samples} samples, {lost} lost"), options));
        stderr.WriteLine($"xenoprof record: {r.Samples} samples, {r.LostSamples} lost, written to {r.StorePath}");
        if (options?.Dotnet == true)
            stderr.WriteLine(r.DotnetWarning is { } w ? $"xenoprof record: warning: --dotnet: {w}" : $"xenoprof record: {r.ManagedSamples} EventPipe samples of managed stacks added");
        return r.ExitCode;
    }
}
