/* Source of the ELF seeds small and small-stripped (built by fuzz/make-seeds.py). */
static int work(int n) { int s = 0; for (int i = 0; i < n; i++) s += i * i; return s; }
int helper(int n) { return work(n) + 1; }
int main(int argc, char **argv) { (void)argv; return helper(argc) & 1; }
