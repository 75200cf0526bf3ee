// The .NET workload of the nettrace tests (see ../SOURCES.md): burns CPU in two named methods, Burner.Hot doing
// three times the work of Burner.Warm with the same loop, for the seconds given as the first argument (default 3).
using System.Diagnostics;
using System.Runtime.CompilerServices;

static class Burner
{
    static long _sink;

    [MethodImpl(MethodImplOptions.NoInlining)]
    static long Hot(long seed)
    {
        long x = seed;
        for (long i = 0; i < 3_000_000; i++) x = x * 6364136223846793005 + i;
        return x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static long Warm(long seed)
    {
        long x = seed;
        for (long i = 0; i < 1_000_000; i++) x = x * 6364136223846793005 + i;
        return x;
    }

    static int Main(string[] args)
    {
        double seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            _sink = Hot(_sink);
            _sink = Warm(_sink);
        }
        Console.WriteLine("done " + (_sink & 1));
        return 0;
    }
}
