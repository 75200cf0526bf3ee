using XenProf.Reporter.Profile;
namespace XenProf.Reporter.Flame;

/// <summary>
/// A call stack and how many samples ended in it: the input of every flame-graph builder and writer.
/// <see cref="Frames"/> is root first: by convention <c>Frames[0]</c> is the process frame
/// (<see cref="FrameKind.Process"/>) and the last frame is the leaf, where the samples were taken.
/// Identical stacks may appear more than once; consumers sum their counts.
/// </summary>
public sealed class FlameStack
{
    /// <summary>Creates a stack.</summary>
    /// <param name="frames">Frames, root first; at least one. The list is kept, not copied: do not mutate it afterwards.</param>
    /// <param name="count">Number of samples (or summed weight) for this stack; zero or more.</param>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="frames"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public FlameStack(IReadOnlyList<FlameFrame> frames, long count)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0)
        {
            throw new ArgumentException("A flame stack needs at least one frame (the process frame).", nameof(frames));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Frames = frames;
        Count = count;
    }

    /// <summary>Frames, root first (outermost caller first, leaf last); never empty.</summary>
    public IReadOnlyList<FlameFrame> Frames { get; }

    /// <summary>Samples (or summed sample weight) attributed to this exact stack; never negative.</summary>
    public long Count { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Join(";", Frames.Select(f => f.Name)) + " " + Count;
}
