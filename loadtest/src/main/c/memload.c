/*
 * memload.c - memory-dirtying test workload for CRIU live migration.
 *
 * Build:  gcc -O2 -Wall -Wextra -o memload memload.c
 *
 * Usage:  memload --status FILE [--mib N] [--dirty-mib-per-sec R]
 *                 [--pattern uniform|hot|seq] [--seed S]
 *
 *   --mib N                memory size in MiB (default 64)
 *   --dirty-mib-per-sec R  pages dirtied per second = R*256 (default 0)
 *   --pattern P            uniform (default), hot or seq
 *   --status FILE          heartbeat file (required); verification results
 *                          go to FILE.verify
 *   --seed S               64-bit seed (default 1; decimal, 0x.. hex ok)
 *
 * Memory
 *   One anonymous private mapping of N MiB = npages 4096-byte pages.
 *   Page p written at step v holds 512 uint64 words:
 *
 *     C(p, v)[w] = splitmix64( seed * 0x9E3779B97F4A7C15
 *                              ^ ((uint64_t)p << 24)
 *                              ^ ((uint64_t)v << 1)
 *                              ^ (uint64_t)w * 0xD1B54A32D192ED03 )
 *
 *   splitmix64(x): z = x + 0x9E3779B97F4A7C15;
 *                  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
 *                  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
 *                  return z ^ (z >> 31);
 *
 *   Step 0 (initial fill): page p gets C(p, 0), except pages with
 *   p % 8 == 7, which are memset to zero (resident but all-zero).
 *   Write step s = 1, 2, 3, ... writes C(target(s), s) into page target(s).
 *
 * target(s) (pure function of s, seed, npages, pattern; all arithmetic
 * is uint64_t):
 *   uniform: splitmix64(seed ^ s) % npages
 *   hot:     h = splitmix64(seed ^ s ^ 0x5BD1E9955BD1E995);
 *            r = splitmix64(h);
 *            hot_n = max(1, npages / 10);
 *            (h % 10 != 0) ? r % hot_n : r % npages     (90% hot)
 *   seq:     (s - 1) % npages
 *
 * Rate
 *   Main loop ticks every 10 ms; per tick it performs R*256/100 steps with
 *   the fractional remainder carried to the next tick.
 *
 * Status file (opened once, O_WRONLY|O_CREAT|O_TRUNC, 0644); every tick it
 *   is overwritten at offset 0 (pwrite + ftruncate) with one fixed-width line:
 *     "heartbeat %020llu %020llu steps=%020llu state=running\n"
 *   fields: CLOCK_MONOTONIC ns, CLOCK_REALTIME ns, current step counter.
 *   (93 bytes.)  The heartbeat is also refreshed during long verifications.
 *
 * Verification (on SIGUSR1): writing stops, the last writer step of each
 *   page is recomputed by replaying target(1..step), every page is compared
 *   with C(p, last) (zero page if last == 0 and p % 8 == 7), and the result
 *   is written to FILE.verify.tmp and renamed to FILE.verify:
 *     "verify OK pages=<npages> steps=<step>\n"
 *     "verify BAD page=<p> expected_step=<v> steps=<step>\n"  (first bad page)
 *   Then writing resumes.  Each SIGUSR1 produces a fresh file.
 *
 * SIGTERM / SIGINT: exit 0.
 *
 * CRIU notes
 *   - No pid is cached; no threads; only the status fd stays open.
 *   - Deadlines are kept as absolute CLOCK_MONOTONIC times, but the sleep
 *     itself is a relative clock_nanosleep clamped to [0, 10 ms].  Reason:
 *     a TIMER_ABSTIME sleep interrupted by a dump is re-executed by CRIU on
 *     restore with the *old* absolute deadline; if the destination's
 *     monotonic clock is behind (no time namespace), it would sleep for
 *     hours.  A relative sleep is restarted via restart_syscall and at worst
 *     returns EINTR early.  If the deadline is more than 100 ms in the past
 *     (clock jumped forward) or more than one tick in the future (clock
 *     jumped backward), the deadline is resynchronised to "now" instead of
 *     trying to catch up.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SZ        4096u
#define WORDS_PER_PAGE (PAGE_SZ / 8u)
#define TICK_NS        10000000ull          /* 10 ms */
#define BEHIND_MAX_NS  100000000ull         /* resync if >100 ms late */
#define HB_EVERY_NS    50000000ull          /* heartbeat during verify */

enum pattern { PAT_UNIFORM, PAT_HOT, PAT_SEQ };

static volatile sig_atomic_t g_verify_req = 0;
static volatile sig_atomic_t g_term_req = 0;

static uint64_t g_seed = 1;
static uint64_t g_seed_mix;                 /* seed * 0x9E3779B97F4A7C15 */
static uint64_t g_npages;
static uint64_t g_hot_n;
static enum pattern g_pattern = PAT_UNIFORM;
static unsigned char *g_mem;
static uint64_t g_step = 0;                 /* global progress counter */

static int g_status_fd = -1;
static char *g_verify_path;
static char *g_verify_tmp;

static void fatal(const char *what)
{
    fprintf(stderr, "memload: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fatal_msg(const char *msg)
{
    fprintf(stderr, "memload: %s\n", msg);
    exit(1);
}

static inline uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t content_word(uint64_t p, uint64_t v, uint64_t w)
{
    return splitmix64(g_seed_mix ^ (p << 24) ^ (v << 1) ^
                      (w * 0xD1B54A32D192ED03ull));
}

static inline uint64_t *page_ptr(uint64_t p)
{
    return (uint64_t *)(void *)(g_mem + p * PAGE_SZ);
}

static void write_page(uint64_t p, uint64_t v)
{
    uint64_t *pg = page_ptr(p);
    for (uint64_t w = 0; w < WORDS_PER_PAGE; w++)
        pg[w] = content_word(p, v, w);
}

/* Returns 1 if page p holds the expected content for last writer v. */
static int check_page(uint64_t p, uint64_t v)
{
    const uint64_t *pg = page_ptr(p);
    if (v == 0 && p % 8 == 7) {
        for (uint64_t w = 0; w < WORDS_PER_PAGE; w++)
            if (pg[w] != 0)
                return 0;
        return 1;
    }
    for (uint64_t w = 0; w < WORDS_PER_PAGE; w++)
        if (pg[w] != content_word(p, v, w))
            return 0;
    return 1;
}

static inline uint64_t target(uint64_t s)
{
    switch (g_pattern) {
    case PAT_HOT: {
        uint64_t h = splitmix64(g_seed ^ s ^ 0x5BD1E9955BD1E995ull);
        uint64_t r = splitmix64(h);
        return (h % 10 != 0) ? r % g_hot_n : r % g_npages;
    }
    case PAT_SEQ:
        return (s - 1) % g_npages;
    case PAT_UNIFORM:
    default:
        return splitmix64(g_seed ^ s) % g_npages;
    }
}

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        fatal("clock_gettime");
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void write_heartbeat(void)
{
    char buf[128];
    uint64_t mono = now_ns(CLOCK_MONOTONIC);
    uint64_t real = now_ns(CLOCK_REALTIME);
    int n = snprintf(buf, sizeof buf,
                     "heartbeat %020llu %020llu steps=%020llu state=running\n",
                     (unsigned long long)mono, (unsigned long long)real,
                     (unsigned long long)g_step);
    if (n <= 0 || (size_t)n >= sizeof buf)
        fatal_msg("heartbeat formatting failed");
    ssize_t off = 0;
    while (off < n) {
        ssize_t r = pwrite(g_status_fd, buf + off, (size_t)(n - off), off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fatal("pwrite status");
        }
        off += r;
    }
    if (ftruncate(g_status_fd, n) != 0)
        fatal("ftruncate status");
}

static void write_verify_result(const char *line)
{
    int fd;
    do {
        fd = open(g_verify_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        fatal("open verify tmp");
    size_t len = strlen(line), off = 0;
    while (off < len) {
        ssize_t r = write(fd, line + off, len - off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fatal("write verify tmp");
        }
        off += (size_t)r;
    }
    if (close(fd) != 0 && errno != EINTR)
        fatal("close verify tmp");
    if (rename(g_verify_tmp, g_verify_path) != 0)
        fatal("rename verify");
}

/* Keep the heartbeat alive during long verifications. */
static void maybe_heartbeat(uint64_t *last_hb)
{
    uint64_t t = now_ns(CLOCK_MONOTONIC);
    if (t - *last_hb >= HB_EVERY_NS || t < *last_hb) {
        write_heartbeat();
        *last_hb = t;
    }
}

/* Returns 0 normally, -1 if aborted by a termination request. */
static int verify_all(void)
{
    uint64_t *last = malloc(g_npages * sizeof *last);
    if (!last)
        fatal_msg("malloc for verification failed");
    memset(last, 0, g_npages * sizeof *last);

    uint64_t last_hb = now_ns(CLOCK_MONOTONIC);
    const uint64_t steps = g_step;

    for (uint64_t s = 1; s <= steps; s++) {
        last[target(s)] = s;
        if ((s & 0xFFFFF) == 0) {
            if (g_term_req) {
                free(last);
                return -1;
            }
            maybe_heartbeat(&last_hb);
        }
    }

    char line[160];
    uint64_t bad = UINT64_MAX;
    for (uint64_t p = 0; p < g_npages; p++) {
        if (!check_page(p, last[p])) {
            bad = p;
            break;
        }
        if ((p & 0x3FF) == 0x3FF) {
            if (g_term_req) {
                free(last);
                return -1;
            }
            maybe_heartbeat(&last_hb);
        }
    }

    if (bad == UINT64_MAX)
        snprintf(line, sizeof line, "verify OK pages=%llu steps=%llu\n",
                 (unsigned long long)g_npages, (unsigned long long)steps);
    else
        snprintf(line, sizeof line,
                 "verify BAD page=%llu expected_step=%llu steps=%llu\n",
                 (unsigned long long)bad, (unsigned long long)last[bad],
                 (unsigned long long)steps);
    free(last);
    write_verify_result(line);
    return 0;
}

static void on_usr1(int sig)
{
    (void)sig;
    g_verify_req = 1;
}

static void on_term(int sig)
{
    (void)sig;
    g_term_req = 1;
}

static void install_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;                        /* no SA_RESTART: wake the sleep */
    if (sigaction(sig, &sa, NULL) != 0)
        fatal("sigaction");
}

static void usage(void)
{
    fprintf(stderr,
            "usage: memload --status FILE [--mib N] [--dirty-mib-per-sec R]\n"
            "               [--pattern uniform|hot|seq] [--seed S]\n");
    exit(2);
}

static uint64_t parse_u64(const char *s, const char *name)
{
    char *end;
    errno = 0;
    if (*s == '-')
        goto bad;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0')
        goto bad;
    return (uint64_t)v;
bad:
    fprintf(stderr, "memload: invalid value for --%s: %s\n", name, s);
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t mib = 64;
    double rate = 0.0;
    const char *status_path = NULL;

    static const struct option opts[] = {
        { "mib",               required_argument, NULL, 'm' },
        { "dirty-mib-per-sec", required_argument, NULL, 'r' },
        { "pattern",           required_argument, NULL, 'p' },
        { "status",            required_argument, NULL, 's' },
        { "seed",              required_argument, NULL, 'S' },
        { "help",              no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            mib = parse_u64(optarg, "mib");
            break;
        case 'r': {
            char *end;
            errno = 0;
            rate = strtod(optarg, &end);
            if (errno != 0 || end == optarg || *end != '\0' ||
                !(rate >= 0.0) || rate > 1e9) {
                fprintf(stderr, "memload: invalid value for "
                        "--dirty-mib-per-sec: %s\n", optarg);
                exit(2);
            }
            break;
        }
        case 'p':
            if (strcmp(optarg, "uniform") == 0)
                g_pattern = PAT_UNIFORM;
            else if (strcmp(optarg, "hot") == 0)
                g_pattern = PAT_HOT;
            else if (strcmp(optarg, "seq") == 0)
                g_pattern = PAT_SEQ;
            else {
                fprintf(stderr, "memload: invalid --pattern: %s\n", optarg);
                exit(2);
            }
            break;
        case 's':
            status_path = optarg;
            break;
        case 'S':
            g_seed = parse_u64(optarg, "seed");
            break;
        default:
            usage();
        }
    }
    if (optind != argc || !status_path || !*status_path)
        usage();
    if (mib == 0 || mib > (UINT64_MAX >> 21))
        fatal_msg("--mib must be > 0");

    g_seed_mix = g_seed * 0x9E3779B97F4A7C15ull;
    g_npages = mib * (1048576u / PAGE_SZ);
    g_hot_n = g_npages / 10;
    if (g_hot_n == 0)
        g_hot_n = 1;

    size_t vlen = strlen(status_path);
    g_verify_path = malloc(vlen + sizeof ".verify");
    g_verify_tmp = malloc(vlen + sizeof ".verify.tmp");
    if (!g_verify_path || !g_verify_tmp)
        fatal_msg("malloc failed");
    memcpy(g_verify_path, status_path, vlen);
    memcpy(g_verify_path + vlen, ".verify", sizeof ".verify");
    memcpy(g_verify_tmp, status_path, vlen);
    memcpy(g_verify_tmp + vlen, ".verify.tmp", sizeof ".verify.tmp");

    install_handler(SIGUSR1, on_usr1);
    install_handler(SIGTERM, on_term);
    install_handler(SIGINT, on_term);

    g_status_fd = open(status_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                       0644);
    if (g_status_fd < 0)
        fatal("open status file");

    size_t bytes = (size_t)(g_npages * PAGE_SZ);
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        fatal("mmap");
    g_mem = m;

    /* Step 0: initial fill. */
    for (uint64_t p = 0; p < g_npages; p++) {
        if (p % 8 == 7)
            memset(page_ptr(p), 0, PAGE_SZ);   /* resident, all zero */
        else
            write_page(p, 0);
        if (g_term_req)
            return 0;
    }
    g_step = 0;

    const double steps_per_tick = rate * 256.0 / 100.0;
    double carry = 0.0;
    uint64_t deadline = now_ns(CLOCK_MONOTONIC);

    write_heartbeat();

    for (;;) {
        if (g_term_req)
            break;

        if (g_verify_req) {
            g_verify_req = 0;   /* a SIGUSR1 during verify triggers another */
            if (verify_all() < 0)
                break;
            write_heartbeat();
            /* The verification took time; don't try to catch up. */
            deadline = now_ns(CLOCK_MONOTONIC);
            continue;
        }

        uint64_t now = now_ns(CLOCK_MONOTONIC);
        if (now >= deadline) {
            /* Tick: do this tick's steps. */
            carry += steps_per_tick;
            uint64_t n = (uint64_t)carry;
            carry -= (double)n;
            for (uint64_t i = 0; i < n; i++) {
                uint64_t s = g_step + 1;
                write_page(target(s), s);
                g_step = s;
                if (g_verify_req || g_term_req)
                    break;      /* stop writing promptly; carry is dropped */
            }
            write_heartbeat();

            deadline += TICK_NS;
            now = now_ns(CLOCK_MONOTONIC);
            if (now > deadline && now - deadline > BEHIND_MAX_NS)
                deadline = now;     /* far behind (e.g. after restore) */
            continue;
        }

        /* now < deadline: sleep until deadline, at most one tick. */
        uint64_t rem = deadline - now;
        if (rem > TICK_NS) {
            /* Monotonic clock went backwards (e.g. restored elsewhere). */
            deadline = now + TICK_NS;
            rem = TICK_NS;
        }
        struct timespec ts = {
            .tv_sec = (time_t)(rem / 1000000000ull),
            .tv_nsec = (long)(rem % 1000000000ull),
        };
        int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
        if (r != 0 && r != EINTR) {
            errno = r;
            fatal("clock_nanosleep");
        }
    }

    close(g_status_fd);
    return 0;
}
