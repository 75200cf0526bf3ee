using System.CommandLine;
using XenProf.Cli.Commands;

namespace XenProf.Cli;

/// <summary>Entry point of the <c>xenoprof</c> command: a list of verbs.</summary>
public static class Program
{
    /// <summary>Runs the command line; returns the process exit code (see <see cref="ExitCode"/>).</summary>
    public static int Main(string[] args)
    {
        var root = new RootCommand("XenProf: system-wide sampling profiler for hypervisor, kernels, processes and JIT code")
        {
            RecordCommand.Create(),
            OpcontrolCommand.Create(),
            OpreportCommand.Create(),
            OpannotateCommand.Create(),
            FlameCommand.Create(),
            ImportCommand.Create(),
            ListEventsCommand.Create(),
            DaemonCommand.Create(),
            DemoCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
