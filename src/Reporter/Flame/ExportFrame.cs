using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>
/// One distinct stored frame with its display name, as every export names it: the symbol, or
/// <c>[image]</c> when nothing resolved; frames of a passive domain's images are prefixed with the
/// image name (<c>domain1-kernel:schedule</c>). <see cref="Index"/> numbers frames densely from 0 in order
/// of first use, which is what the shared frame tables of speedscope and Chrome trace want.
/// </summary>
public sealed record ExportFrame(int Index, FrameId Id, string Name, string? Symbol, FrameKind Kind, StoredImage Image, string ImageName, ulong Offset);
