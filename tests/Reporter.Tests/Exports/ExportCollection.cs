using Xunit;

namespace XenProf.Reporter.Tests.Exports;

/// <summary>
/// The export tests start node, go and chromium, which load both cores; they run alone, after the parallel
/// collections, so they do not skew other classes' timing assertions (SvgFlameGraphTests' 100k-node render).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExportCollection
{
    public const string Name = "exports (external tools)";
}
