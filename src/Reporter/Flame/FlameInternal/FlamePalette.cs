using XenProf.Reporter.Profile;
namespace XenProf.Reporter.Flame.FlameInternal;

/// <summary>
/// Frame colours: one hue family per <see cref="FrameKind"/>, the shade within it a hash of the name, so a
/// function has the same colour in every graph and run.
/// </summary>
internal static class FlamePalette
{
    /// <summary>Fill of frames that match a search (also hard-coded in the script).</summary>
    public const string SearchHighlight = "rgb(230,0,230)";

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static (byte R, byte G, byte B) Color(FlameFrame frame, bool isRoot)
    {
        uint h = Hash(frame.Name);
        double v1 = (h & 0xFF) / 255.0, v2 = ((h >> 8) & 0xFF) / 255.0, v3 = ((h >> 16) & 0xFF) / 255.0;
        if (isRoot)
        {
            return (200, 200, 205);
        }

        return frame.Kind switch
        {
            // warm: red through orange to yellow
            FrameKind.User or FrameKind.Process => Mix(205 + 50 * v1, 40 + 170 * v2, 20 + 40 * v3),
            // sky / steel blue
            FrameKind.Kernel => Mix(60 + 70 * v1, 140 + 60 * v2, 215 + 40 * v3),
            // lavender / violet
            FrameKind.Hypervisor => Mix(160 + 50 * v1, 110 + 50 * v2, 215 + 40 * v3),
            // green
            FrameKind.Jit => Mix(50 + 80 * v1, 175 + 60 * v2, 50 + 60 * v3),
            // pink
            FrameKind.Guest => Mix(235 + 20 * v1, 140 + 40 * v2, 175 + 40 * v3),
            _ => Mix(170 + 30 * v1, 170 + 30 * v1, 170 + 30 * v1),
        };
    }

    private static (byte, byte, byte) Mix(double r, double g, double b) => ((byte)r, (byte)g, (byte)b);

    // FNV-1a over the UTF-16 code units, with a final avalanche so that similar names spread out.
    private static uint Hash(string? name)
    {
        uint h = 2166136261;
        foreach (char c in name ?? string.Empty)
        {
            h = (h ^ c) * 16777619;
        }

        h ^= h >> 15;
        h *= 0x2C1B3C6D;
        h ^= h >> 12;
        return h;
    }
}
