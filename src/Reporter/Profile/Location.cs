using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// One distinct sampled or calling address of the profile, in the spirit of pprof's Location: an offset in a mapping
/// (<see cref="Image"/>, offset as <see cref="ImageKind"/> defines it) with its function's name. <see cref="Name"/> is how
/// every report and export shows it: the symbol, or <c>[image]</c> when nothing resolved; frames of a passive domain's
/// images are prefixed with the image name (<c>domain1-kernel:schedule</c>). <see cref="Index"/> numbers locations densely
/// from 0 in order of first use (the shared frame tables of speedscope and Chrome trace).
/// </summary>
/// <param name="Index">Dense index, from 0.</param>
/// <param name="Id">The stored frame.</param>
/// <param name="Name">Display name.</param>
/// <param name="Symbol">The function's name, or null when nothing resolved.</param>
/// <param name="Kind">Where the code runs, decided once by <see cref="FrameKinds.Of"/>.</param>
/// <param name="Image">The mapping's image.</param>
/// <param name="ImageName">The image's display name (<see cref="ImageNames.Display"/>, basename).</param>
/// <param name="Offset">The frame's offset in the image.</param>
/// <param name="GuestDomain">The passive domain whose image this is (<see cref="ImageNames.IsPassive"/>), or null.</param>
public sealed record Location(int Index, FrameId Id, string Name, string? Symbol, FrameKind Kind, StoredImage Image, string ImageName, ulong Offset, int? GuestDomain);

/// <summary>The profile model's one set of rules for what a frame is and how its image is named.</summary>
public static class FrameKinds
{
    /// <summary>
    /// The kind that colours a frame and picks its folded annotation, following FlameGraph's stackcollapse-perf.pl
    /// (<c>--all</c>: <c>_[k]</c> for every image perf prints in brackets, i.e. the kernel, modules and <c>[vdso]</c>, except
    /// <c>[unknown]</c>; <c>_[j]</c> only for JIT code that a perf map named). A kernel image read from a file (a vmlinux, a
    /// passive domain's kernel) is kernel code; the hypervisor is XenProf's own <c>_[h]</c>; a passive domain's image is
    /// <see cref="FrameKind.Guest"/>.
    /// </summary>
    /// <remarks>
    /// Earlier the flame exports and the opreport-side stacks classified differently: one called unnamed anonymous memory
    /// JIT and <c>[vdso]</c> user code, the other did neither. This rule is stackcollapse-perf.pl's, which is what users
    /// compare folded output with.
    /// </remarks>
    public static FrameKind Of(StoredImage image, string imageName, string? symbol, int? guestDomain) =>
        guestDomain != null ? FrameKind.Guest : image.Kind switch
        {
            ImageKind.Hypervisor => FrameKind.Hypervisor,
            ImageKind.Kernel or ImageKind.KernelModule or ImageKind.KernelImage or ImageKind.Vdso => FrameKind.Kernel,
            ImageKind.Anonymous => symbol != null ? FrameKind.Jit : FrameKind.Unknown,
            ImageKind.Managed => FrameKind.Jit,
            _ when imageName.StartsWith('[') && imageName != "[unknown]" => FrameKind.Kernel,
            ImageKind.Unknown => FrameKind.Unknown,
            _ => FrameKind.User,
        };

}
