using XenProf.Hypervisor.Binary;

namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>Shared checks for the fixed-layout kernel records: type, minimum size, and a cursor over the body without the trailer.</summary>
internal static class RecordBody
{
    /// <summary>
    /// Checks <paramref name="raw"/> is <paramref name="expected"/> and holds header + <paramref name="fixedBody"/> +
    /// trailer, then returns a cursor over the body up to (not including) the sample_id trailer.
    /// </summary>
    public static SpanCursor Open(in RawRecord raw, SampleLayout layout, int fixedBody, PerfRecordType expected, PerfRecordType? alternative = null)
    {
        if (raw.Type != expected && raw.Type != alternative)
            throw new ArgumentException($"expected {PerfRecordNames.Of(expected)}, got {PerfRecordNames.Of(raw.Type)}", nameof(raw));
        int trailer = (uint)raw.Type < 64 ? layout.TrailerSize : 0;
        raw.RequireSize(fixedBody, trailer);
        int bodyLen = raw.Size - PerfEventHeader.Size - trailer;
        return new SpanCursor(raw.Body.Slice(0, bodyLen), raw.Path, raw.Offset + PerfEventHeader.Size, PerfRecordNames.Of(raw.Type));
    }
}
