using System.Reflection;

namespace XenProf.Reporter.Web;

/// <summary>
/// The browser report's front end (<c>index.html</c>, <c>app.js</c>, <c>app.css</c>: our own plain JavaScript and CSS,
/// embedded in this assembly at build time, so nothing is fetched from the network at run time). The page reads the
/// JSON views under <c>api/</c> (<see cref="WebSession"/>) and keeps its state in the URL's hash.
/// </summary>
public static class WebApp
{
    /// <summary>The asset names, as served at the site's root.</summary>
    public static readonly IReadOnlyList<string> Assets = ["index.html", "app.js", "app.css"];

    /// <summary>The bytes and media type of asset <paramref name="name"/>, or null when there is no such asset.</summary>
    public static (byte[] Bytes, string ContentType)? Asset(string name)
    {
        if (!Assets.Contains(name)) return null;
        using var s = typeof(WebApp).Assembly.GetManifestResourceStream("XenProf.Web." + name)
            ?? throw new InvalidOperationException($"asset {name} is not embedded in {typeof(WebApp).Assembly.GetName().Name}");
        using var m = new MemoryStream();
        s.CopyTo(m);
        string type = System.IO.Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            _ => "text/css; charset=utf-8",
        };
        return (m.ToArray(), type);
    }
}
