using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using XenProf.Hypervisor.Binary;
using XenProf.Reporter.Web;

namespace XenProf.Cli.Serve;

/// <summary>
/// The HTTP side of <c>xenoprof serve</c>, after <c>pprof -http</c> and Jupyter's token scheme: Kestrel (slim builder, one
/// request delegate, no reflection) serving the embedded front end (<see cref="WebApp"/>) and the read-only JSON views of
/// one <see cref="WebSession"/> under <c>/api/</c>. Every request needs the random token the printed URL carries, in the
/// <c>token</c> query parameter or, after the first visit, the cookie it sets: none gives 401, a wrong one 403. Nothing
/// but those paths is served (404), only GET and HEAD (405); bad parameters get 400 with a one-line JSON error, never a
/// stack trace.
/// </summary>
internal sealed class WebServer : IAsyncDisposable
{
    /// <summary>Name of the cookie that carries the token after the first visit.</summary>
    public const string CookieName = "xenprof-token";

    private readonly WebApplication _app;
    private readonly WebSession _session;
    private readonly byte[] _token;

    private WebServer(WebApplication app, WebSession session, string token, Uri url)
    {
        _app = app; _session = session; Token = token; _token = Encoding.ASCII.GetBytes(token); Url = url;
    }

    /// <summary>The access token.</summary>
    public string Token { get; }

    /// <summary>The URL to open, token included (<c>http://127.0.0.1:PORT/?token=…</c>).</summary>
    public Uri Url { get; }

    /// <summary>
    /// Listens on <paramref name="address"/>:<paramref name="port"/> (0 = a free port) and serves <paramref name="session"/>.
    /// Throws <see cref="UserErrorException"/> when the address cannot be bound (in use, not local).
    /// </summary>
    public static async Task<WebServer> StartAsync(WebSession session, IPAddress address, int port, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => { o.AddServerHeader = false; o.Listen(address, port); });
        var app = builder.Build();
        string token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        WebServer? server = null;
        app.Run(ctx => server!.Handle(ctx));
        try { await app.StartAsync(ct); }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new UserErrorException($"--listen {address} --port {port}: cannot listen there ({e.Message})");
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int actualPort = new Uri(bound).Port;
        string host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        server = new WebServer(app, session, token, new Uri($"http://{host}:{actualPort}/?token={token}"));
        return server;
    }

    /// <summary>Stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task Handle(HttpContext ctx)
    {
        var req = ctx.Request;
        var res = ctx.Response;
        res.Headers.CacheControl = "no-store";
        res.Headers["X-Content-Type-Options"] = "nosniff";
        res.Headers["Referrer-Policy"] = "no-referrer";
        res.Headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:";
        if (!HttpMethods.IsGet(req.Method) && !HttpMethods.IsHead(req.Method)) { await Text(res, 405, "only GET and HEAD: this report is read-only"); return; }

        string? given = req.Query.TryGetValue("token", out var q) ? q.ToString() : req.Cookies.TryGetValue(CookieName, out var c) ? c : null;
        if (string.IsNullOrEmpty(given)) { await Text(res, 401, "this report needs the access token: open the URL xenoprof serve printed (…/?token=…)"); return; }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(given), _token)) { await Text(res, 403, "wrong access token: open the URL xenoprof serve printed"); return; }
        if (req.Query.ContainsKey("token"))
            res.Cookies.Append(CookieName, Token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });

        string path = req.Path.Value ?? "/";
        if (path == "/") path = "/index.html";
        if (path.StartsWith("/api/", StringComparison.Ordinal)) { await Api(ctx, path["/api/".Length..]); return; }
        if (WebApp.Asset(path[1..]) is { } asset)
        {
            res.ContentType = asset.ContentType;
            await res.Body.WriteAsync(asset.Bytes);
            return;
        }
        await Text(res, 404, $"{Clip(path)}: not part of this report");
    }

    private async Task Api(HttpContext ctx, string view)
    {
        var query = ctx.Request.Query;
        string? Get(string name) => query.TryGetValue(name, out var v) ? v.ToString() : null;
        string Required(string name) => Get(name) is { Length: > 0 } v ? v : throw new WebQueryException($"{name}: missing parameter");
        try
        {
            var q = WebQuery.Parse(Get);
            switch (view)
            {
                case "summary": await Json(ctx.Response, _session.Summary(q), WebJson.Default.WebSummary); break;
                case "top": await Json(ctx.Response, _session.Top(q, Get("by") ?? "symbol"), WebJson.Default.WebTop); break;
                case "flame": await Json(ctx.Response, _session.Flame(q), WebJson.Default.WebFlame); break;
                case "diff": await Json(ctx.Response, _session.Diff(q, Get("by") ?? "symbol"), WebJson.Default.WebDiffTop); break;
                case "callgraph": await Json(ctx.Response, _session.CallGraph(q, Required("fn")), WebJson.Default.WebCallGraph); break;
                case "annotate": await Json(ctx.Response, _session.Annotate(q, Required("fn")), WebJson.Default.WebAnnotation); break;
                case "window":
                    var series = Get("fn") is { Length: > 0 } fn ? _session.AnnotateWindowSeries(q, fn) : _session.WindowSeries(q);
                    ctx.Response.ContentType = "application/octet-stream";
                    await ctx.Response.Body.WriteAsync(series);
                    break;
                case "timeline":
                    long buckets = WebQuery.Number(Get, "buckets") ?? 200;
                    await Json(ctx.Response, _session.Timeline(q, Get("by") ?? "domain", (int)Math.Min(buckets, int.MaxValue)), WebJson.Default.WebTimeline);
                    break;
                default: await Json(ctx.Response, new WebError($"/api/{Clip(view)}: no such view (summary, top, diff, flame, callgraph, annotate, timeline, window)"), WebJson.Default.WebError, 404); break;
            }
        }
        catch (WebQueryException e) { await Json(ctx.Response, new WebError(e.Message), WebJson.Default.WebError, e.Status); }
        catch (XenProfUserException e) { await Json(ctx.Response, new WebError(e.Message), WebJson.Default.WebError, 503); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine($"xenoprof serve: internal error answering /api/{Clip(view)}: {e.Message}");
            await Json(ctx.Response, new WebError("internal error: " + e.Message.Split('\n')[0]), WebJson.Default.WebError, 500);
        }
    }

    private static async Task Json<T>(HttpResponse res, T value, JsonTypeInfo<T> type, int status = 200)
    {
        res.StatusCode = status;
        res.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(res.Body, value, type);
    }

    private static async Task Text(HttpResponse res, int status, string message)
    {
        res.StatusCode = status;
        res.ContentType = "text/plain; charset=utf-8";
        await res.WriteAsync(message + "\n");
    }

    private static string Clip(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
