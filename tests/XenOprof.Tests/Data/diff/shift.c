/*
 * shift: a workload whose argument moves work from f() to g(), for differential profiles.
 *
 * Each round makes 100 calls split between f() and g() as the first argument says (F calls of f, 100 - F of g),
 * plus 25 calls of h(), which no argument changes. Every call does the same unit of work, so f takes about
 * F/125 of the CPU time, g (100 - F)/125 and h 20 %. Recorded with two arguments, f and g change by opposite
 * amounts and h stays.
 *
 * Build: gcc -O2 -fno-omit-frame-pointer -o shift shift.c
 * Usage: shift [F] [SECONDS]   (default 50 and 2; runs whole rounds until SECONDS of CPU time pass)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;

/* Keeps f, g and h non-leaf, so frame-pointer callchains show main above them. */
__attribute__((noinline)) void consume(uint64_t v) { sink += v; }

static inline uint64_t unit_of_work(uint64_t x)
{
    for (uint32_t i = 0; i < 100000u; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x += i;
    }
    return x;
}

__attribute__((noinline)) void f(uint64_t s) { consume(unit_of_work(s)); sink++; }
__attribute__((noinline)) void g(uint64_t s) { consume(unit_of_work(s ^ 0x5555)); sink++; }
__attribute__((noinline)) void h(uint64_t s) { consume(unit_of_work(s ^ 0x7777)); sink++; }

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int share_f = argc > 1 ? atoi(argv[1]) : 50;
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    if (share_f < 0 || share_f > 100 || seconds <= 0) {
        fprintf(stderr, "shift: usage: shift [F 0..100] [SECONDS > 0]\n");
        return 1;
    }
    double start = cpu_seconds();
    uint64_t rounds = 0;
    while (cpu_seconds() - start < seconds) {
        for (int i = 0; i < 100; i++) {
            if (i < share_f) f(rounds + i); else g(rounds + i);
            if (i % 4 == 0) h(rounds + i);
        }
        rounds++;
    }
    printf("shift: %llu rounds (f %d, g %d, h 25 calls each)\n", (unsigned long long)rounds, share_f, 100 - share_f);
    return 0;
}
