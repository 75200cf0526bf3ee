/* Load workload for LoadTests and bench/load.sh: recursion 24 calls deep with the CPU time spent at the bottom, so
 * every sample has a callchain deeper than the 16 frames the daemon is asked to keep.
 * Build: gcc -O0 -fno-omit-frame-pointer -o deeprec deeprec.c   (frame pointers: perf's default callchain walk)
 * Run:   deeprec SECONDS */
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

__attribute__((noinline)) static unsigned long leaf(unsigned long x)
{
    for (int i = 0; i < 20000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    return x;
}

__attribute__((noinline)) static unsigned long descend(int depth, unsigned long x)
{
    if (depth == 0) return leaf(x);
    unsigned long r = descend(depth - 1, x + (unsigned long)depth);
    sink += r;
    return r;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
    {
        sink += descend(24, sink);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
    return 0;
}
