using MathNet.Numerics;

namespace XenProf.Reporter.Profile;

/// <summary>
/// The statistics of differential profiles: the pooled two-proportion z-test per row, and Holm's step-down correction
/// for testing every row of a report at once.
/// </summary>
/// <remarks>
/// <para>Why this test: a row's samples are a binomial count out of its profile's total, the same model behind the
/// error bars of the flat report (<see cref="Profile.Share(long, long)"/>, standard error <c>sqrt(p(1−p)/N)</c>). Two profiles are
/// two independent binomial samples, and the question is whether the row's share differs; the two-proportion z-test
/// answers it, with the variance taken under the null hypothesis of equal shares (the pooled share), as in any
/// statistics text (e.g. NIST/SEMATECH e-Handbook of Statistical Methods, section 7.3.3). A row absent from one side
/// has 0 samples there and is tested the same way.</para>
/// <para>Why a correction: a report tests every row at once, tens to thousands of them, so some would fall under any
/// fixed per-row level by chance alone. Holm's step-down method (S. Holm, "A simple sequentially rejective multiple
/// test procedure", Scand. J. Statist. 6, 1979) keeps the chance of flagging any unchanged row at most α, like
/// Bonferroni, and rejects at least as much as Bonferroni.</para>
/// </remarks>
public static class ProportionTest
{
    /// <summary>
    /// Two-sided p-value of the pooled two-proportion z-test of <paramref name="x1"/> samples out of <paramref name="n1"/>
    /// against <paramref name="x2"/> out of <paramref name="n2"/>: <c>z = (x2/n2 − x1/n1) / sqrt(p(1−p)(1/n1 + 1/n2))</c>
    /// with the pooled share <c>p = (x1 + x2)/(n1 + n2)</c>, and <c>p-value = erfc(|z|/√2)</c>. 1 when either total is 0
    /// or the pooled share is 0 or 1 (nothing to compare).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or larger than its total.</exception>
    public static double PValue(long x1, long n1, long x2, long n2)
    {
        if (x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2) throw new ArgumentOutOfRangeException(nameof(x1), "counts must lie between 0 and their totals");
        if (n1 == 0 || n2 == 0) return 1;
        double pooled = (double)(x1 + x2) / (n1 + n2);
        double variance = pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2);
        if (variance <= 0) return 1;
        double z = ((double)x2 / n2 - (double)x1 / n1) / Math.Sqrt(variance);
        return Math.Min(1, SpecialFunctions.Erfc(Math.Abs(z) / Math.Sqrt(2)));
    }

    /// <summary>
    /// Holm's step-down procedure at family-wise level <paramref name="alpha"/>: sorts the p-values ascending and rejects
    /// the k-th smallest (k from 1) while it is below <c>α/(m − k + 1)</c>, m = the number of p-values; the first that is
    /// not stops it. Returns, in input order, whether each hypothesis is rejected (the row is significant).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not in (0, 1).</exception>
    public static bool[] Holm(IReadOnlyList<double> pValues, double alpha)
    {
        if (!(alpha > 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must lie between 0 and 1");
        var order = Enumerable.Range(0, pValues.Count).OrderBy(i => pValues[i]).ToArray();
        var rejected = new bool[pValues.Count];
        for (int k = 0; k < order.Length; k++)
        {
            if (!(pValues[order[k]] < alpha / (order.Length - k))) break;
            rejected[order[k]] = true;
        }
        return rejected;
    }
}
