using XenProf.Reporter.Profile;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Xen;

/// <summary>One report per Xen domain (opreport <c>--domain=all</c>).</summary>
public static class XenDomainReports
{
    /// <summary>
    /// The profile of every domain of the session that has samples, in domain order (dom0 always, with any passive
    /// domains inside it), each built with <paramref name="options"/> (its <see cref="ProfileOptions.Domain"/> replaced). Throws <see cref="StoreException"/> when the directory holds no session store.
    /// </summary>
    public static IEnumerable<(int Domain, string Name, Profile.Profile Profile)> LoadAll(string sessionDir, ProfileOptions? options = null)
    {
        var query = options ?? new ProfileOptions();
        var dom0 = SessionProfiles.Load(sessionDir, query with { Domain = 0 });
        foreach (var (id, name) in dom0.Labels.Domains.OrderBy(kv => kv.Key))
        {
            var p = id == 0 ? dom0 : SessionProfiles.Load(sessionDir, query with { Domain = id });
            if (id == 0 || p.Totals.Sum() > 0) yield return (id, name, p);
        }
    }
}
