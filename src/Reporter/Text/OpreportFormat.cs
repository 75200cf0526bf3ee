using XenProf.Reporter.Csv;
using XenProf.Reporter.Xml;

namespace XenProf.Reporter.Text;

/// <summary>The output formats of an opreport query (<see cref="OpreportOptions.Format"/>).</summary>
public enum OpreportFormat
{
    /// <summary>opreport's text layout (<see cref="OpreportWriter"/>).</summary>
    Text,

    /// <summary>RFC 4180 CSV, one record per (row, event) (<see cref="OpreportCsvWriter"/>; <c>--csv</c>).</summary>
    Csv,

    /// <summary>oprofile's XML report, schema <c>opreport.xsd</c> version 3.0 (<see cref="OpreportXmlWriter"/>; <c>--xml</c>).</summary>
    Xml,
}

/// <summary>Writes a profile in the format <see cref="OpreportOptions.Format"/> names.</summary>
public static class OpreportOutput
{
    /// <summary>Writes <paramref name="p"/> to <paramref name="w"/> as text, CSV or XML; <paramref name="title"/> is the XML
    /// report's <c>title</c> (the command line) and is ignored by the other formats.</summary>
    public static void Write(Profile.Profile p, TextWriter w, OpreportOptions o, string title = "opreport")
    {
        switch (o.Format)
        {
            case OpreportFormat.Csv when o.Callgraph: CallgraphCsvWriter.Write(p, w, o); break;
            case OpreportFormat.Csv: OpreportCsvWriter.Write(p, w, o); break;
            case OpreportFormat.Xml: OpreportXmlWriter.Write(p, w, o, title); break;
            default: OpreportWriter.Write(p, w, o); break;
        }
    }
}
