using System.Globalization;
using System.Text;
using System.Xml;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;

namespace XenProf.Reporter.Xml;

/// <summary>
/// Writes an opreport query as oprofile's XML report: the document that oprofile 0.9.x's <c>doc/opreport.xsd</c> describes
/// at schema major version 3 (<c>schemaversion="3.0"</c>, the value oprofile's <c>libpp/xml_utils.cpp</c> writes), so tools
/// that read oprofile XML read ours.
/// <para>Element order, as the schema's sequences require:</para>
/// <code>
/// &lt;profile schemaversion="3.0" cputype processor mhz title&gt;
///   &lt;options debuginfo? details? excludesymbols? includesymbols? reversesort?/&gt;
///   &lt;setup&gt;&lt;eventsetup id eventname unitmask? setupcount/&gt;…&lt;/setup&gt;
///   &lt;classes&gt;&lt;class name="cN" event? mask?/&gt;…&lt;/classes&gt;      only with several events or a non-zero unit mask
///   &lt;binary name&gt;&lt;count class?&gt;N&lt;/count&gt;… &lt;symbol idref detaillo? detailhi?&gt;&lt;count&gt;…&lt;/symbol&gt;…&lt;/binary&gt;…
///   &lt;symboltable&gt;&lt;symboldata id name file? line? startingaddr? codelength?/&gt;…&lt;/symboltable&gt;
///   &lt;detailtable&gt;&lt;symboldetails id&gt;&lt;detaildata id vmaoffset&gt;&lt;count&gt;…&lt;/detaildata&gt;…&lt;/symboldetails&gt;…&lt;/detailtable&gt;   with -d
/// &lt;/profile&gt;
/// </code>
/// <para>Facts of the format carried over from oprofile: a <c>count</c> carries <c>class</c> only when <c>classes</c> is
/// written, and zero counts are left out; <c>idref</c> is the symbol's index in <c>symboltable</c>; a binary is one
/// image (named by its full path), its own count the image's total, its symbols those the symbol list shows. XenProf's
/// choices: <c>startingaddr</c> is 16 lower-case hex digits without <c>0x</c> (opreport <c>-w</c>'s column; written with
/// <c>-w</c> or <c>-d</c>), <c>codelength</c> the function size in bytes (with <c>-d</c>), <c>vmaoffset</c> the sampled
/// address minus the symbol's start in hex with an even number of digits (the schema types it <c>xs:hexBinary</c>),
/// <c>detaillo</c>/<c>detailhi</c> the first and last <c>detaildata</c> id of the symbol; <c>file</c> (basename, full path
/// with <c>-f</c>) and <c>line</c> the symbol start's source position with <c>-g</c> (left out when unknown); symbols
/// follow <c>--sort</c>'s order inside each binary. <c>cputype</c> is the
/// session's <c>arch</c> meta value (<c>unknown</c> when it has none) and <c>processor</c> its CPU model (meta <c>cpu</c>),
/// both made NCNames (other characters become <c>_</c>);
/// <c>mhz</c> is 0 when the session did not record it. <c>callers</c>/<c>callees</c> and <c>bytestable</c> are not written.</para>
/// <para>A separated report (<see cref="Profile.Profile.Separation"/>) is laid out as oprofile's libpp/xml_utils.cpp lays
/// one out: with CPU separation the classes are per (event, CPU), carry <c>cpu</c>, and the profile carries
/// <c>separatedcpus</c> (the highest sampled CPU + 1) when that is above 1; with thread or thread-group separation the
/// body is <c>&lt;process pid name&gt;&lt;count&gt;… &lt;thread tid&gt;&lt;count&gt;… &lt;module name&gt;&lt;count&gt;…
/// &lt;symbol&gt;…</c> instead of binaries (a process separated by thread group only has one thread, its own pid); with
/// library separation each <c>binary</c> is an application, its own count and symbols those of its executable, and
/// every other image sampled under it a <c>module</c> inside it. <c>symboldata</c> is written once per (image,
/// symbol), shared by every process, thread and application that sampled it.</para>
/// </summary>
public static class OpreportXmlWriter
{
    /// <summary>The <c>schemaversion</c> written: major version 3 of oprofile's opreport.xsd.</summary>
    public const string SchemaVersion = "3.0";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the XML report of <paramref name="p"/> to <paramref name="w"/> (UTF-8 declared; write it to a UTF-8
    /// destination), with <paramref name="title"/> as the profile's title (oprofile writes <c>opreport</c> and the
    /// command's options). <paramref name="w"/> stays open and is flushed.</summary>
    public static void Write(Profile.Profile p, TextWriter w, OpreportOptions o, string title = "opreport")
    {
        w.WriteLine("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        using var x = XmlWriter.Create(w, new XmlWriterSettings { OmitXmlDeclaration = true, Indent = true, IndentChars = " ", CloseOutput = false, NewLineChars = w.NewLine });
        var symbols = OpreportRows.Symbols(p, o).ToList();
        // The XML classes: one per (event, CPU) of the report's columns; threads and thread groups are elements instead.
        var xmlClasses = p.Columns.Select(c => (c.Event, c.Cpu)).Distinct().OrderBy(k => k.Event).ThenBy(k => k.Cpu ?? -1).ToList();
        int cpus = p.Columns.Any(c => c.Cpu != null) ? p.Columns.Max(c => c.Cpu ?? 0) + 1 : 1;
        bool classes = p.Events.Count > 1 || p.Events.Any(e => e.UnitMask != 0) || cpus > 1;
        bool addresses = o.Details || o.ShowAddress;

        x.WriteStartElement("profile");
        x.WriteAttributeString("schemaversion", SchemaVersion);
        x.WriteAttributeString("cputype", NcName(p.Meta.GetValueOrDefault("arch") ?? "unknown"));
        x.WriteAttributeString("processor", NcName(p.Meta.GetValueOrDefault("cpu") ?? "unknown"));
        x.WriteAttributeString("mhz", (p.Meta.TryGetValue("cpu_mhz", out var mhz) && decimal.TryParse(mhz, NumberStyles.Number, Inv, out var m) && m >= 0 ? m : 0m).ToString(Inv));
        x.WriteAttributeString("title", title);
        if (cpus > 1) x.WriteAttributeString("separatedcpus", cpus.ToString(Inv));

        x.WriteStartElement("options");
        if (o.DebugInfo) x.WriteAttributeString("debuginfo", "true");
        if (o.Details) x.WriteAttributeString("details", "true");
        if (p.Query.ExcludeSymbols.Count > 0) x.WriteAttributeString("excludesymbols", string.Join(",", p.Query.ExcludeSymbols));
        if (p.Query.IncludeSymbols.Count > 0) x.WriteAttributeString("includesymbols", string.Join(",", p.Query.IncludeSymbols));
        if (o.ReverseSort) x.WriteAttributeString("reversesort", "true");
        x.WriteEndElement();

        x.WriteStartElement("setup");
        for (int e = 0; e < p.Events.Count; e++)
        {
            var ev = p.Events[e];
            x.WriteStartElement("eventsetup");
            x.WriteAttributeString("id", e.ToString(Inv));
            x.WriteAttributeString("eventname", XmlName(ev.Name));
            if (ev.UnitMask != 0) x.WriteAttributeString("unitmask", ev.UnitMask.ToString(Inv));
            x.WriteAttributeString("setupcount", ev.Count.ToString(Inv));
            x.WriteEndElement();
        }
        x.WriteEndElement();

        if (classes)
        {
            x.WriteStartElement("classes");
            for (int k = 0; k < xmlClasses.Count; k++)
            {
                var (e, cpu) = xmlClasses[k];
                x.WriteStartElement("class");
                x.WriteAttributeString("name", "c" + k.ToString(Inv));
                if (cpus > 1) x.WriteAttributeString("cpu", (cpu ?? 0).ToString(Inv));
                if (p.Events.Count > 1) x.WriteAttributeString("event", e.ToString(Inv));
                if (p.Events.Any(v => v.UnitMask != 0)) x.WriteAttributeString("mask", p.Events[e].UnitMask.ToString(Inv));
                x.WriteEndElement();
            }
            x.WriteEndElement();
        }

        // A row's samples per XML class, of the columns a process/thread element selects (all of them when null).
        long[] PerClass(CountRow row, Func<ProfileClass, bool>? only = null)
        {
            var v = new long[xmlClasses.Count];
            foreach (var c in p.Columns)
                if (only == null || only(c)) v[xmlClasses.IndexOf((c.Event, c.Cpu))] += row.Of(c);
            return v;
        }

        void Counts(long[] samples)
        {
            for (int k = 0; k < samples.Length; k++)
            {
                if (samples[k] == 0) continue;
                x.WriteStartElement("count");
                if (classes) x.WriteAttributeString("class", "c" + k.ToString(Inv));
                x.WriteString(samples[k].ToString(Inv));
                x.WriteEndElement();
            }
        }

        // Symbol ids in symbol-list order, one per (image, symbol); detail ids numbered across the whole report.
        var ids = new Dictionary<SymbolRow, int>();
        var idOf = new Dictionary<(string, string), int>();
        var firstRows = new List<SymbolRow>();
        var detailRange = new Dictionary<SymbolRow, (int Lo, int Hi)>();
        int nextDetail = 0;
        foreach (var s in symbols)
        {
            var key = (s.ImageRow.Image.Path, s.Symbol);
            if (!idOf.TryGetValue(key, out var id)) { idOf[key] = id = firstRows.Count; firstRows.Add(s); }
            ids[s] = id;
            if (o.Details && s.Details.Count > 0) { detailRange[s] = (nextDetail, nextDetail + s.Details.Count - 1); nextDetail += s.Details.Count; }
        }

        void Symbol(SymbolRow s, long[] counts)
        {
            x.WriteStartElement("symbol");
            x.WriteAttributeString("idref", ids[s].ToString(Inv));
            if (detailRange.TryGetValue(s, out var range))
            {
                x.WriteAttributeString("detaillo", range.Lo.ToString(Inv));
                x.WriteAttributeString("detailhi", range.Hi.ToString(Inv));
            }
            Counts(counts);
            x.WriteEndElement();
        }
        static string PathOf(ImageRow image) => string.IsNullOrEmpty(image.Image.Path) ? image.Name : image.Image.Path;

        if (p.Separation.HasFlag(Separation.Tgid) || p.Separation.HasFlag(Separation.Tid)) WriteProcesses(p, x, symbols, PerClass, Counts, Symbol, PathOf);
        else if (p.Separation.HasFlag(Separation.Lib))
        {
            // A binary per application: its executable's own count and symbols, then a module per other image under it.
            var byApp = symbols.ToLookup(s => s.ImageRow.App!);
            foreach (var app in p.Applications.Where(a => byApp.Contains(a)))
            {
                x.WriteStartElement("binary");
                x.WriteAttributeString("name", string.IsNullOrEmpty(app.Image.Path) ? app.Name : app.Image.Path);
                var own = app.Images.FirstOrDefault(i => i.Image.Id == app.Image.Id);
                if (own != null) Counts(PerClass(own.Counts));
                foreach (var s in byApp[app].Where(s => s.ImageRow == own)) Symbol(s, PerClass(s.Counts));
                foreach (var module in app.Images.Where(i => i != own && byApp[app].Any(s => s.ImageRow == i)))
                {
                    x.WriteStartElement("module");
                    x.WriteAttributeString("name", PathOf(module));
                    Counts(PerClass(module.Counts));
                    foreach (var s in byApp[app].Where(s => s.ImageRow == module)) Symbol(s, PerClass(s.Counts));
                    x.WriteEndElement();
                }
                x.WriteEndElement();
            }
        }
        else
        {
            var byImage = symbols.ToLookup(s => s.ImageRow);
            foreach (var image in p.Images.Where(i => byImage.Contains(i)))
            {
                x.WriteStartElement("binary");
                x.WriteAttributeString("name", PathOf(image));
                Counts(PerClass(image.Counts));
                foreach (var s in byImage[image]) Symbol(s, PerClass(s.Counts));
                x.WriteEndElement();
            }
        }

        x.WriteStartElement("symboltable");
        foreach (var s in firstRows)
        {
            x.WriteStartElement("symboldata");
            x.WriteAttributeString("id", ids[s].ToString(Inv));
            x.WriteAttributeString("name", s.Symbol);
            if (o.DebugInfo && s.Source is { } src)
            {
                x.WriteAttributeString("file", o.LongFilenames ? src.File : Path.GetFileName(src.File));
                x.WriteAttributeString("line", src.Line.ToString(Inv));
            }
            if (addresses) x.WriteAttributeString("startingaddr", s.Start.ToString("x16", Inv));
            if (o.Details) x.WriteAttributeString("codelength", s.Size.ToString(Inv));
            x.WriteEndElement();
        }
        x.WriteEndElement();

        if (detailRange.Count > 0)
        {
            x.WriteStartElement("detailtable");
            foreach (var s in symbols.Where(detailRange.ContainsKey))
            {
                x.WriteStartElement("symboldetails");
                x.WriteAttributeString("id", ids[s].ToString(Inv));
                int id = detailRange[s].Lo;
                foreach (var d in s.Details)
                {
                    x.WriteStartElement("detaildata");
                    x.WriteAttributeString("id", (id++).ToString(Inv));
                    x.WriteAttributeString("vmaoffset", HexBinary(d.Vma - s.Start));
                    Counts(PerClass(d.Counts));
                    x.WriteEndElement();
                }
                x.WriteEndElement();
            }
            x.WriteEndElement();
        }

        x.WriteEndElement();
        x.Flush();
        w.WriteLine();
        w.Flush();
    }

    /// <summary>
    /// The body of a report separated by thread or thread group (libpp/xml_utils.cpp <c>build_process_tree</c>): a
    /// <c>process</c> per thread group, a <c>thread</c> per thread in it, a <c>module</c> per image sampled by that
    /// thread with the symbols it sampled; every count is of that process's or thread's own columns. Processes and
    /// threads are ordered as the columns are (by id).
    /// </summary>
    private static void WriteProcesses(Profile.Profile p, XmlWriter x, List<SymbolRow> symbols, Func<CountRow, Func<ProfileClass, bool>?, long[]> perClass,
        Action<long[]> counts, Action<SymbolRow, long[]> symbol, Func<ImageRow, string> pathOf)
    {
        var threads = p.Columns.Where(c => c.Tgid != null || c.Tid != null).Select(c => (Tgid: c.Tgid ?? c.Tid!.Value, Tid: c.Tid ?? c.Tgid!.Value))
            .Distinct().OrderBy(t => t.Tgid).ThenBy(t => t.Tid).ToList();
        bool Any(long[] v) => v.Any(n => n != 0);
        foreach (var tgid in threads.Select(t => t.Tgid).Distinct())
        {
            var inProcess = symbols.Select(s => (Row: s, Counts: perClass(s.Counts, c => c.Tgid == tgid || c.Tgid == null && c.Tid == tgid))).Where(r => Any(r.Counts)).ToList();
            if (inProcess.Count == 0) continue;
            x.WriteStartElement("process");
            x.WriteAttributeString("pid", tgid.ToString(Inv));
            x.WriteAttributeString("name", p.Labels.ProcessName(0, tgid));
            var total = new long[inProcess[0].Counts.Length];
            foreach (var r in inProcess) for (int k = 0; k < total.Length; k++) total[k] += r.Counts[k];
            counts(total);
            foreach (var (_, tid) in threads.Where(t => t.Tgid == tgid))
            {
                bool InThread(ProfileClass c) => (c.Tgid ?? c.Tid) == tgid && (c.Tid ?? tgid) == tid;
                var inThread = symbols.Select(s => (Row: s, Counts: perClass(s.Counts, InThread))).Where(r => Any(r.Counts)).ToList();
                if (inThread.Count == 0) continue;
                x.WriteStartElement("thread");
                x.WriteAttributeString("tid", tid.ToString(Inv));
                var threadTotal = new long[total.Length];
                foreach (var r in inThread) for (int k = 0; k < total.Length; k++) threadTotal[k] += r.Counts[k];
                counts(threadTotal);
                foreach (var module in inThread.GroupBy(r => pathOf(r.Row.ImageRow)))
                {
                    x.WriteStartElement("module");
                    x.WriteAttributeString("name", module.Key);
                    var moduleTotal = new long[total.Length];
                    foreach (var r in module) for (int k = 0; k < total.Length; k++) moduleTotal[k] += r.Counts[k];
                    counts(moduleTotal);
                    foreach (var r in module) symbol(r.Row, r.Counts);
                    x.WriteEndElement();
                }
                x.WriteEndElement();
            }
            x.WriteEndElement();
        }
    }

    /// <summary>A value as <c>xs:hexBinary</c>: lower-case hex digits, padded to an even count (<c>0</c> → <c>00</c>).</summary>
    internal static string HexBinary(ulong v)
    {
        var s = v.ToString("x", Inv);
        return s.Length % 2 == 0 ? s : "0" + s;
    }

    /// <summary><paramref name="s"/> as an <c>xs:NCName</c>: letters, digits, <c>.-_</c> kept, anything else <c>_</c>, and a
    /// leading <c>_</c> when it would start with a digit, <c>.</c> or <c>-</c>; <c>unknown</c> when empty.</summary>
    internal static string NcName(string s)
    {
        var b = new StringBuilder(s.Length + 1);
        foreach (var c in s.Trim()) b.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        if (b.Length == 0) return "unknown";
        if (!char.IsAsciiLetter(b[0]) && b[0] != '_') b.Insert(0, '_');
        return b.ToString();
    }

    // xs:Name also allows ':', which event names such as "cpu-clock" never need; NCName is the safe subset.
    private static string XmlName(string s) => NcName(s);
}
