using System.Reflection;
using XenProf.Hypervisor.Binary;
using Xunit;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// The CLI maps one base type to exit code 1, so every exception type XenProf declares must derive from it.
/// Bugs use the BCL's own types (InvalidOperationException, ArgumentException), never one of ours.
/// </summary>
public sealed class ExceptionTypesTests
{
    public static TheoryData<string> Assemblies() => new()
    {
        "XenProf.Hypervisor", "XenProf.Sampler", "XenProf.Reporter", "xenoprof",
    };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void EveryDeclaredExceptionIsAUserError(string assembly)
    {
        // Public exception types: what can reach the CLI. A parser's private control-flow exception (the Rust demangler's
        // "invalid here, print the raw name") never leaves it.
        var types = Assembly.Load(assembly).GetTypes().Where(t => typeof(Exception).IsAssignableFrom(t) && t.IsVisible).ToList();
        Assert.NotEmpty(types);
        Assert.All(types, t => Assert.True(typeof(XenProfUserException).IsAssignableFrom(t), $"{t.FullName} does not derive from XenProfUserException"));
    }

    [Fact]
    public void MissingTraceFileIsAUserError()
    {
        var r = Cli.Run("import", "--session-dir", Cli.NewSessionDir(), "/nonexistent/xenoprof-no-such.data");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("/nonexistent/xenoprof-no-such.data: no such file", r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
    }
}
