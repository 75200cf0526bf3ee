using XenProf.Hypervisor.PerfEvents.Records;

namespace XenProf.Sampler.Import.PerfData;

/// <summary>
/// Receives what a <see cref="PerfDataReader"/> reads: the kernel records through <see cref="IPerfRecordSink"/>
/// (event index = the attr's position in <see cref="PerfDataReader.Attrs"/>), plus the container's own signals.
/// </summary>
public interface IPerfDataSink : IPerfRecordSink
{
    /// <summary>Called once, before the first kernel record: the event list is complete (pipe mode: all HEADER_ATTRs seen).</summary>
    void OnAttrsReady(IReadOnlyList<PerfDataAttr> attrs) { }

    /// <summary>PERF_RECORD_FINISHED_ROUND: every record older than the previous round's newest has been delivered (<c>process_finished_round</c> in tools/perf/util/session.c).</summary>
    void OnFinishedRound() { }
}
