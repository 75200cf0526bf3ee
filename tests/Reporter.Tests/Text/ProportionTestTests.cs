using XenProf.Reporter.Profile;
using Xunit;

namespace XenProf.Reporter.Tests.Text;

/// <summary>
/// The differential report's statistics: p-values of the pooled two-proportion z-test against values computed
/// independently (Python's <c>math.erfc</c> on the same formula), and Holm's step-down rule on a list whose outcome is
/// known by hand.
/// </summary>
public sealed class ProportionTestTests
{
    [Theory]
    [InlineData(120, 1000, 160, 1000, 0.009946136752047769)]
    [InlineData(947, 1982, 638, 1996, 2.2494110780953304e-24)] // f of the shift workload, recorded with 60 and 40
    [InlineData(0, 2000, 10, 2000, 0.0015442442309764562)] // a row on one side only
    [InlineData(5, 100, 5, 100, 1.0)]
    public void PValue_MatchesTheFormula(long x1, long n1, long x2, long n2, double expected)
    {
        var p = ProportionTest.PValue(x1, n1, x2, n2);
        Assert.True(Math.Abs(p - expected) <= 1e-9 * expected, $"{p} vs {expected}");
        Assert.Equal(p, ProportionTest.PValue(x2, n2, x1, n1), 15); // symmetric
    }

    [Fact]
    public void PValue_IsOneWhenThereIsNothingToCompare()
    {
        Assert.Equal(1, ProportionTest.PValue(0, 0, 3, 10));
        Assert.Equal(1, ProportionTest.PValue(0, 10, 0, 20));
        Assert.Equal(1, ProportionTest.PValue(10, 10, 20, 20));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProportionTest.PValue(11, 10, 0, 20));
    }

    [Fact]
    public void Holm_StepsDownAndStopsAtTheFirstAcceptance()
    {
        // m = 4, alpha = 0.05: thresholds 0.0125, 0.01667, 0.025, 0.05 for the sorted p-values.
        // 0.001 < 0.0125 rejects, 0.012 < 0.01667 rejects, 0.03 >= 0.025 stops: 0.04 is kept though it is below 0.05.
        Assert.Equal([false, true, true, false], ProportionTest.Holm([0.04, 0.012, 0.001, 0.03], 0.05));
        // Bonferroni alone (0.0125 for all) would keep 0.014; Holm rejects it after the smallest.
        Assert.Equal([true, true, false, false], ProportionTest.Holm([0.001, 0.014, 0.5, 0.9], 0.05));
        Assert.Empty(ProportionTest.Holm([], 0.001));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProportionTest.Holm([0.1], 1));
    }
}
