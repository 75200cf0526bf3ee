using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using XenProf.Sampler.Attribution;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Import.NetTrace;

/// <summary>
/// Writes the managed stacks of a <c>.nettrace</c> (EventPipe) into a session store, through Attribution like every source
/// (each sample a <see cref="RawSample"/> whose frames carry their method names, <see cref="NamedFrame"/>), read with TraceEvent's
/// <see cref="TraceLog"/> in file mode (docs/dependencies.md, TraceEvent: the live mode leaves methods JIT-compiled before the
/// session unnamed until rundown). Every <c>Microsoft-DotNETCore-SampleProfiler</c> <c>Thread/Sample</c> event is one
/// sample of its thread, at its own timestamp; frames are named <c>Namespace.Type.Method(args)</c> in an image
/// per managed module named as TraceEvent names it (<c>System.Private.CoreLib</c>) (<see cref="ImageKind.Managed"/>), at the JIT-code address TraceEvent gives.
/// <para>
/// The sample profiler samples every managed thread about once a millisecond, whether it runs managed code or not;
/// its <c>Type</c> field says which (runtime's <c>SampleProfiler.cpp</c>: 1 external, 2 managed). Samples of threads
/// running managed code form the event <see cref="ManagedEvent"/>, the rest (waiting, or inside native code)
/// <see cref="ExternalEvent"/>, so a CPU report is not diluted by idle threads and nothing is dropped.
/// </para>
/// </summary>
internal sealed class NetTraceImporter(SessionStore store)
{
    /// <summary>Event of samples of threads that were running managed code.</summary>
    public const string ManagedEvent = "THREAD_SAMPLE_MANAGED";
    /// <summary>Event of samples of threads outside managed code (blocked, or in native code).</summary>
    public const string ExternalEvent = "THREAD_SAMPLE_EXTERNAL";

    private const string SampleProvider = "Microsoft-DotNETCore-SampleProfiler";
    private readonly Attributor _attributor = new(store, new KernelLayout([]));
    private readonly List<ulong> _ips = [];
    private readonly List<NamedFrame> _names = [];
    private EventId _managed, _external;

    /// <summary>Samples written.</summary>
    public long Samples { get; private set; }

    /// <summary>Samples written per event name.</summary>
    public Dictionary<string, long> SamplesByEvent { get; } = new(StringComparer.Ordinal);

    /// <summary>Events read from the trace (all providers).</summary>
    public long Events { get; private set; }

    /// <summary>Events the runtime could not write (its buffers were full).</summary>
    public long EventsLost { get; private set; }

    /// <summary>The traced machine's name, when the trace says.</summary>
    public string? MachineName { get; private set; }

    /// <summary>Samples without a call stack (kept on an <c>[unknown]</c> frame).</summary>
    public long WithoutStack { get; private set; }

    /// <summary>
    /// Imports <paramref name="nettrace"/> into the store (a new one, or a recording's, beside its perf_event samples:
    /// only the two sample events, their frames and <c>nettrace_*</c> meta and counters are added); the intermediate <c>.etlx</c> goes to <paramref name="etlxPath"/> and is deleted after.
    /// </summary>
    public void Import(string nettrace, string etlxPath, IProgress<double>? progress, CancellationToken ct)
    {
        string etlx;
        NetTraceMetadataGuard.Check(nettrace);
        try { etlx = TraceLog.CreateFromEventPipeDataFile(nettrace, etlxPath); }
        catch (Exception e) when (e is not OperationCanceledException and not IOException and not UnauthorizedAccessException)
        {
            // TraceLog converts the whole file or nothing: a cut trace has no samples to keep.
            try { File.Delete(etlxPath); } catch (IOException) { }
            throw new Hypervisor.Binary.MalformedDataException(nettrace, 0, "nettrace", "TraceEvent could not read this EventPipe trace: " + e.Message);
        }
        try
        {
            using var log = new TraceLog(etlx);
            double interval = log.SampleProfileInterval.TotalMilliseconds;
            ulong periodNs = (ulong)Math.Round((interval > 0 ? interval : 1) * 1_000_000);
            _managed = store.AddEvent(new StoredEvent(ManagedEvent, 0, 0, periodNs, 0, false, true, "ns",
                "EventPipe SampleProfiler, threads running managed code")).Id;
            _external = store.AddEvent(new StoredEvent(ExternalEvent, 0, 0, periodNs, 0, false, true, "ns",
                "EventPipe SampleProfiler, threads outside managed code (waiting or native)")).Id;
            var seenThreads = new HashSet<int>();
            var seenProcesses = new HashSet<int>();
            long total = Math.Max(1, log.EventCount);
            foreach (var ev in log.Events)
            {
                Events++;
                if ((Events & 0xfff) == 0)
                {
                    ct.ThrowIfCancellationRequested();
                    progress?.Report((double)Events / total);
                }
                if (ev.ProviderName != SampleProvider || ev.EventName != "Thread/Sample") continue;
                int pid = ev.ProcessID, tid = ev.ThreadID;
                if (seenProcesses.Add(pid)) store.SetProcess(0, pid, 0, ProcessName(ev, pid));
                if (seenThreads.Add(tid)) store.SetThread(0, tid, pid, ProcessName(ev, pid));
                bool managed = IsManaged(ev);
                _ips.Clear();
                _names.Clear();
                for (var cs = ev.CallStack(); cs != null; cs = cs.Caller) // leaf to root
                {
                    var ca = cs.CodeAddress;
                    string module = ca.ModuleName is { Length: > 0 } m ? m : "[unknown]";
                    string? method = ca.FullMethodName is { Length: > 0 } fm ? fm : null;
                    _ips.Add(ca.Address);
                    _names.Add(new NamedFrame(module, KindOf(module), method));
                }
                if (_names.Count == 0)
                {
                    WithoutStack++;
                    _ips.Add(0);
                    _names.Add(new NamedFrame("[unknown]", ImageKind.Unknown, null));
                }
                long timeNs = (long)Math.Round(ev.TimeStampRelativeMSec * 1_000_000);
                _attributor.Sample(new RawSample(0, SampleMode.User, pid, tid, ev.ProcessorNumber < 0 ? 0 : ev.ProcessorNumber, timeNs, _ips[0],
                    System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ips), managed ? _managed : _external)
                {
                    Names = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_names),
                    Period = periodNs,
                });
                Samples++;
                var name = managed ? ManagedEvent : ExternalEvent;
                SamplesByEvent[name] = SamplesByEvent.GetValueOrDefault(name) + 1;
                if ((Samples & 0xffff) == 0) store.Commit();
            }
            MachineName = log.MachineName;
            EventsLost = log.EventsLost;
            store.SetMeta("nettrace_start_utc", log.SessionStartTime.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            store.SetMeta("nettrace_sample_interval_ms", interval.ToString(CultureInfo.InvariantCulture));
            if (WithoutStack > 0) store.AddCounter("nettrace_samples_without_stack", WithoutStack);
        }
        catch (Exception e) when (e is not OperationCanceledException and not Hypervisor.Binary.XenProfUserException and not SqliteException
                                      and not IOException and not UnauthorizedAccessException)
        {
            // TraceEvent converts some damaged traces and then fails reading its own conversion back (found by afl++:
            // "Read past end of stream" from its event enumerator): the trace is malformed, not our fault.
            throw new Hypervisor.Binary.MalformedDataException(nettrace, -1, "nettrace",
                $"TraceEvent stopped reading this EventPipe trace after {Events} events ({Samples} samples): {e.Message}");
        }
        finally
        {
            try { File.Delete(etlx); } catch (IOException) { }
        }
    }

    /// <summary>The sample's <c>Type</c> payload field: 2 = managed code (ClrThreadSampleType); unknown counts as managed.</summary>
    private static bool IsManaged(TraceEvent ev)
    {
        try { return ev.PayloadByName("Type") is not { } t || Convert.ToInt32(t, CultureInfo.InvariantCulture) != 1; }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException) { return true; }
    }

    private static string ProcessName(TraceEvent ev, int pid) =>
        ev.ProcessName is { Length: > 0 } n && !n.StartsWith("Process(", StringComparison.Ordinal) ? n : "dotnet:" + pid.ToString(CultureInfo.InvariantCulture);

    private static ImageKind KindOf(string module) => module == "[unknown]" ? ImageKind.Unknown : ImageKind.Managed;
}
