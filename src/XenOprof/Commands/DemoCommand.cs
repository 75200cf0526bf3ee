using System.CommandLine;
using XenProf.Cli.Demo;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof demo</c>: the Xen Summit 2006 workflow (active, then passive domains) on the emulated Xen, in one command.</summary>
internal static class DemoCommand
{
    /// <summary>Default scenario, relative to the repository root or the working directory.</summary>
    public const string DefaultScenario = "samples/scenarios/xen-summit-2006.json";

    public static Command Create()
    {
        var scenario = new Option<string>("--scenario") { Description = $"Scenario file (default {DefaultScenario})" };
        var output = new Option<string>("--output", "-o") { Description = "Folder for both sessions and the flame graphs", DefaultValueFactory = _ => "./xenoprof_demo" };
        var depth = new Option<int>("--callgraph", "-c") { Description = "Call-chain depth", DefaultValueFactory = _ => 4 };
        var top = new Option<int>("--top") { Description = "Symbol rows shown per domain (0 = all)", DefaultValueFactory = _ => 15 };
        var cmd = new Command("demo", "Profile dom0 with active domains, then passive domains, on the emulated Xen; print opreport per domain and check the totals")
        {
            scenario, output, depth, top, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("demo", pr.GetValue(Run.Verbose), _ =>
        {
            var ok = XenDemo.Run(new XenDemoOptions
            {
                Scenario = pr.GetValue(scenario) ?? FindDefaultScenario(),
                OutputDirectory = pr.GetValue(output)!, CallgraphDepth = pr.GetValue(depth), TopSymbols = pr.GetValue(top),
            }, Console.Out, Console.Error);
            return ok ? 0 : (int)ExitCode.InternalError;
        }));
        return cmd;
    }

    /// <summary>The default scenario: in the working directory, else beside the installed binary's repository checkout.</summary>
    public static string FindDefaultScenario()
    {
        if (File.Exists(DefaultScenario)) return DefaultScenario;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, DefaultScenario);
            if (File.Exists(p)) return p;
        }
        throw new UserErrorException($"no scenario given and {DefaultScenario} not found; pass --scenario FILE");
    }
}
