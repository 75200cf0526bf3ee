using System.CommandLine;
using XenProf.Cli.Commands;
using XenProf.Sampler.Session;

namespace XenProf.Cli;

/// <summary>Entry point of the <c>xenoprof</c> command: a list of verbs.</summary>
public static class Program
{
    /// <summary>Runs the command line; returns the process exit code (see <see cref="ExitCode"/>).</summary>
    public static int Main(string[] args)
    {
        // Before any thread or SQLite connection exists.
        XenProf.Sampler.Store.SessionStore.ConfigureSqlite();
        var root = new RootCommand("XenProf: system-wide sampling profiler for hypervisor, kernels, processes and JIT code")
        {
            RecordCommand.Create(),
            OpcontrolCommand.Create(),
            OpreportCommand.Create(),
            PushCommand.Create(),
            DiffCommand.Create(),
            OpannotateCommand.Create(),
            FlameCommand.Create(),
            ServeCommand.Create(),
            ImportCommand.Create(),
            ListEventsCommand.Create(),
            DaemonCommand.Create(),
            DemoCommand.Create(),
        };
        // oprofile's tools take --help and -? for help: -h is opcontrol's --shutdown.
        for (int i = root.Options.Count - 1; i >= 0; i--)
            if (root.Options[i] is System.CommandLine.Help.HelpOption) root.Options.RemoveAt(i);
        var help = new System.CommandLine.Help.HelpOption("--help", "-?");
        XenProf.Cli.Options.HelpGroups.Install(help); // opreport's options in groups
        root.Options.Add(help);
        // Sessions are private unless a verb's --group says otherwise: samples name commands, addresses and kernel symbols.
        SessionPrivacy.ApplyUmask(null);
        return root.Parse(args).Invoke();
    }
}
