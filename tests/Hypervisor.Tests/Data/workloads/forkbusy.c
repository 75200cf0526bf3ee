/* Workload for the live sampling tests: the process forks one child; parent and child each spin on the CPU
 * for the number of milliseconds given as argv[1] (default 600), then the parent waits for the child.
 * Build: gcc -O1 -g -o forkbusy forkbusy.c   (the test builds it into a temporary directory) */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static volatile unsigned long sink;

static void spin(double ms) {
    double end = now_ms() + ms;
    while (now_ms() < end)
        for (int i = 0; i < 100000; i++) sink += (unsigned long)i * 2654435761u;
}

int main(int argc, char **argv) {
    double ms = argc > 1 ? atof(argv[1]) : 600;
    pid_t child = fork();
    if (child < 0) return 2;
    spin(ms);
    if (child == 0) return 0;
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 3;
}
