/*
 * hotloop: the built-in workload profiled by `xenoprof record` and the README quick start.
 *
 * Three hot functions do the same unit of work; a shared caller, dispatch(), calls them
 * 6 : 3 : 1 times per round, so by construction they take about 60 %, 30 % and 10 % of
 * the CPU time (less the ~2 % a round spends in the kernel reading /dev/zero), and every sampled
 * callchain reads main -> run_rounds -> dispatch -> hot_*.
 *
 * Build: gcc -O2 -fno-omit-frame-pointer -o hotloop hotloop.c
 *
 * gcc gives leaf functions no frame even with -fno-omit-frame-pointer, and turns a call in tail position
 * into a jump; either would hide dispatch() from frame-pointer callchains. So each hot function hands its
 * result to consume() and then does more work, and dispatch() does work after its last call.
 * Usage: hotloop [SECONDS]   (default 2; runs whole rounds until SECONDS of CPU time pass)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define UNIT 200000u /* inner iterations per call: about 0.2 ms of work */

static volatile uint64_t sink;
static volatile uint64_t calls;

/* Keeps the hot functions non-leaf (so they set up a frame); negligible time. */
__attribute__((noinline)) void consume(uint64_t v) { sink += v; }

/* One unit of work: an integer hash loop the compiler cannot fold away. */
static inline uint64_t unit_of_work(uint64_t seed)
{
    uint64_t x = seed;
    for (uint32_t i = 0; i < UNIT; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x += i;
    }
    return x;
}

__attribute__((noinline)) void hot_sixty(uint64_t seed) { consume(unit_of_work(seed)); calls++; }
__attribute__((noinline)) void hot_thirty(uint64_t seed) { consume(unit_of_work(seed ^ 0x3333)); calls++; }
__attribute__((noinline)) void hot_ten(uint64_t seed) { consume(unit_of_work(seed ^ 0x1111)); calls++; }

static int zero_fd = -1;
static char zero_buf[65536];

/* A little kernel work per round (about 2 % of the time): reads from /dev/zero, so a profile of this
 * workload also shows kernel functions, resolved by name from kallsyms. */
__attribute__((noinline)) void kernel_io(void)
{
    for (int i = 0; i < 32; i++)
        if (read(zero_fd, zero_buf, sizeof zero_buf) < 0) break;
}

/* The shared caller: one round is 6 + 3 + 1 calls. */
__attribute__((noinline)) void dispatch(uint64_t round)
{
    for (int i = 0; i < 6; i++) hot_sixty(round + i);
    for (int i = 0; i < 3; i++) hot_thirty(round + i);
    hot_ten(round);
    kernel_io();
    sink ^= round; /* work after the last call: no tail call, so dispatch stays on the stack */
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) uint64_t run_rounds(double seconds)
{
    uint64_t round = 0;
    double start = cpu_seconds();
    while (cpu_seconds() - start < seconds) {
        for (int k = 0; k < 10; k++) dispatch(round++);
    }
    return round;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0) {
        fprintf(stderr, "hotloop: SECONDS must be positive\n");
        return 1;
    }
    zero_fd = open("/dev/zero", O_RDONLY);
    uint64_t rounds = run_rounds(seconds);
    printf("hotloop: %llu rounds (6:3:1 calls of hot_sixty, hot_thirty, hot_ten)\n",
           (unsigned long long)rounds);
    return 0;
}
