using System.Net;
using System.Net.Http.Headers;
using System.Text;
using XenProf.Hypervisor.Binary;

namespace XenProf.Sampler.Fleet;

/// <summary>
/// A small client of ClickHouse's HTTP interface (the server's <c>http_port</c>, 8123 by default): a query is the POST
/// body, results are read as <c>TabSeparated</c>, and inserts are sent as <c>INSERT INTO t (cols) FORMAT Native</c> in
/// the URL with one <see cref="NativeBlock"/> as the body, optionally gzip-compressed (<c>Content-Encoding: gzip</c>,
/// which the server decompresses on every version). Only what every server version since 1.1 speaks is used: no query
/// parameters (<c>{name:Type}</c> came with 19.x), no per-query settings, no <c>RowBinaryWithNamesAndTypes</c>; string
/// values are quoted by <see cref="Quote"/>. Tested against clickhouse-server 18.16.1 (Debian 12's package).
/// Format rules per ClickHouse's documentation of the HTTP interface and of the TabSeparated and Native formats.
/// </summary>
public sealed class ClickHouseHttp : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>
    /// A client of the server at <paramref name="url"/> (<c>http://HOST:PORT/</c>; user and password may be given as
    /// <c>http://USER:PASSWORD@HOST:PORT/</c>). Throws <see cref="XenProfUserException"/> for a URL that is not an
    /// absolute http or https URL.
    /// </summary>
    public ClickHouseHttp(string url, HttpClient? http = null)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new XenProfUserException($"--clickhouse {url}: expected the server's HTTP URL, e.g. http://127.0.0.1:8123/");
        var builder = new UriBuilder(uri) { UserName = "", Password = "", Query = "" };
        Url = builder.Uri;
        _ownsHttp = http == null;
        _http = http ?? new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            User = Uri.UnescapeDataString(parts[0]);
            Password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "";
        }
    }

    /// <summary>The server's URL without credentials (what messages print).</summary>
    public Uri Url { get; }

    private string? User { get; }
    private string? Password { get; }

    /// <summary>Runs a statement that returns nothing (DDL, <c>INSERT … SELECT</c>). Throws <see cref="ClickHouseException"/>.</summary>
    public void Execute(string sql, CancellationToken ct = default) => Send(sql, ct);

    /// <summary>
    /// Runs a query and returns its rows as <c>TabSeparated</c> fields, unescaped. <paramref name="sql"/> must not carry its
    /// own FORMAT clause. Throws <see cref="ClickHouseException"/>.
    /// </summary>
    public List<string[]> Query(string sql, CancellationToken ct = default)
    {
        var body = Send(sql + "\nFORMAT TabSeparated", ct);
        var rows = new List<string[]>();
        var lines = body.Split('\n');
        // Every row ends with a newline, so the last element is empty; an empty line before it is a row of one empty field.
        foreach (var line in lines.Take(lines.Length - 1))
        {
            var fields = line.Split('\t');
            for (int i = 0; i < fields.Length; i++) fields[i] = Unescape(fields[i]);
            rows.Add(fields);
        }
        return rows;
    }

    /// <summary>The server's version string (<c>SELECT version()</c>), e.g. <c>18.16.1</c>.</summary>
    public string ServerVersion(CancellationToken ct = default) => Query("SELECT version()", ct)[0][0];

    /// <summary>
    /// Whether <see cref="Insert"/> compresses its body with gzip (default): a tenth of the bytes on the wire, and on
    /// 18.16 less work for the server than reading the plain block, for a little more on this side (bench/README.md "Push").
    /// </summary>
    public bool GzipInserts { get; init; } = true;

    /// <summary>
    /// Inserts <paramref name="block"/> into <paramref name="table"/> (its columns by name) in one request with a
    /// Content-Length: one block, which a MergeTree writes as one part, or nothing when the server refuses it or the
    /// request is cut short. Throws <see cref="ClickHouseException"/>.
    /// </summary>
    public void Insert(string table, NativeBlock block, CancellationToken ct = default)
    {
        HttpContent content = GzipInserts ? new ByteArrayContent(block.ToArray(gzip: true)) : new NativeContent(block);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (GzipInserts) content.Headers.ContentEncoding.Add("gzip");
        Send($"INSERT INTO {table} ({block.Names}) FORMAT Native", content, ct);
    }

    /// <summary>A block written straight into the request, its length known beforehand (no copy of the body).</summary>
    private sealed class NativeContent(NativeBlock block) : HttpContent
    {
        protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken ct) => block.WriteTo(stream);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) { block.WriteTo(stream); return Task.CompletedTask; }

        protected override bool TryComputeLength(out long length) { length = block.Length; return true; }
    }

    private string Send(string sql, CancellationToken ct)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(sql));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        return Send(null, content, ct);
    }

    private string Send(string? queryInUrl, HttpContent content, CancellationToken ct)
    {
        var target = queryInUrl == null ? Url : new Uri(Url, "?query=" + Uri.EscapeDataString(queryInUrl));
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = content };
        // The X-ClickHouse-User/Key headers came after 18.16; basic auth works on every version.
        if (User != null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + Password)));
        HttpResponseMessage response;
        try { response = _http.Send(request, HttpCompletionOption.ResponseContentRead, ct); }
        catch (HttpRequestException e)
        {
            throw new ClickHouseException($"cannot reach ClickHouse at {Url} ({e.Message}); is the server running and is its HTTP port in the URL?", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new ClickHouseException($"ClickHouse at {Url} did not answer within {_http.Timeout.TotalSeconds:0} s", e);
        }
        using (response)
        {
            using var reader = new StreamReader(response.Content.ReadAsStream(ct), Encoding.UTF8);
            var text = reader.ReadToEnd();
            if (!response.IsSuccessStatusCode)
            {
                var first = text.Split('\n', 2)[0].Trim();
                throw new ClickHouseException($"ClickHouse at {Url} refused the request (HTTP {(int)response.StatusCode}): {(first.Length > 0 ? first : response.ReasonPhrase)}");
            }
            return text;
        }
    }

    /// <summary>A string literal in ClickHouse SQL: single-quoted, with backslash and quote escaped.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\'': sb.Append(@"\'"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\t': sb.Append(@"\t"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\0': sb.Append(@"\0"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('\'').ToString();
    }

    /// <summary>Undoes TabSeparated escaping (<c>\t \n \\ \' \0 \b \f \r</c>) of one field.</summary>
    public static string Unescape(string field)
    {
        if (field.IndexOf('\\') < 0) return field;
        var sb = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            char c = field[i];
            if (c != '\\' || i + 1 == field.Length) { sb.Append(c); continue; }
            char e = field[++i];
            sb.Append(e switch { 't' => '\t', 'n' => '\n', 'r' => '\r', '0' => '\0', 'b' => '\b', 'f' => '\f', _ => e });
        }
        return sb.ToString();
    }

    /// <summary>Closes the HTTP client when this object created it.</summary>
    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }
}

/// <summary>A request ClickHouse refused or a server that could not be reached; the message names the server.</summary>
public sealed class ClickHouseException(string message, Exception? inner = null) : XenProfUserException(message, inner);
