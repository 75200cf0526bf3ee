using System.CommandLine;
using XenProf.Hypervisor.Binary;
using XenProf.Sampler.Store;

namespace XenProf.Cli.Commands;

/// <summary>The one place that maps exceptions to exit codes and messages for every verb.</summary>
internal static class Run
{
    /// <summary>Runs <paramref name="body"/>; anticipated failures print one line to stderr and return 1, others print "internal error" and return 2.</summary>
    public static int Guarded(string verb, bool verbose, Func<CancellationToken, int> body)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
        try
        {
            return body(cts.Token);
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"xenoprof {verb}: {e.Message}");
            return (int)ExitCode.UserError;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"xenoprof {verb}: internal error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            else Console.Error.WriteLine("(run with --verbose for the stack trace)");
            return (int)ExitCode.InternalError;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static bool IsUserError(Exception e) => e is UserErrorException or MalformedDataException or StoreException
        or XenProf.Sampler.Session.SessionException or XenProf.Hypervisor.PerfEvents.PerfEventOpenException
        or FormatException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
        or XenProf.Hypervisor.Xenoprof.ScenarioException or XenProf.Hypervisor.Xenoprof.XenoprofException
        or XenProf.Hypervisor.Xenoprof.XenUnavailableException or XenProf.Reporter.Symbols.XenSymsUnavailableException or ArgumentException;

    /// <summary><c>--verbose</c>: print stack traces of internal errors.</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-V") { Description = "Print the stack trace of internal errors" };
}
