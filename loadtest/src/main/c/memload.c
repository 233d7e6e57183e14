/*
 * memload.c - memory-dirtying test workload for CRIU live migration.
 *
 * Build:  gcc -O2 -Wall -Wextra -o memload memload.c workload.c
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
 * Status file, SIGUSR1 verification and SIGTERM: see workload.h. The
 *   heartbeat is also refreshed during long verifications. Verification
 *   stops writing, recomputes the last writer step of each page by
 *   replaying target(1..step), compares every page with C(p, last) (zero
 *   page if last == 0 and p % 8 == 7) and reports
 *     "verify OK pages=<npages> steps=<step>"
 *     "verify BAD page=<p> expected_step=<v> steps=<step>"  (first bad page)
 *
 * CRIU notes: no pid is cached; no threads; only the status fd stays open.
 */

#define _GNU_SOURCE
#include "workload.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE_SZ        4096u
#define WORDS_PER_PAGE (PAGE_SZ / 8u)

enum pattern { PAT_UNIFORM, PAT_HOT, PAT_SEQ };

static uint64_t g_seed = 1;
static uint64_t g_seed_mix;                 /* seed * 0x9E3779B97F4A7C15 */
static uint64_t g_npages;
static uint64_t g_hot_n;
static enum pattern g_pattern = PAT_UNIFORM;
static unsigned char *g_mem;

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

static void do_steps(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t s = wl_step + 1;
        write_page(target(s), s);
        wl_step = s;
        if (wl_verify_req || wl_term_req)
            break;      /* stop writing promptly; carry is dropped */
    }
}

/* Returns 0 normally, -1 if aborted by a termination request. */
static int verify_all(void)
{
    uint64_t *last = calloc(g_npages, sizeof *last);
    if (!last)
        wl_fatal_msg("malloc for verification failed");

    uint64_t last_hb = wl_now_ns(CLOCK_MONOTONIC);
    const uint64_t steps = wl_step;

    for (uint64_t s = 1; s <= steps; s++) {
        last[target(s)] = s;
        if ((s & 0xFFFFF) == 0) {
            if (wl_term_req) {
                free(last);
                return -1;
            }
            wl_heartbeat_if_due(&last_hb);
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
            if (wl_term_req) {
                free(last);
                return -1;
            }
            wl_heartbeat_if_due(&last_hb);
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
    wl_verify_result(line);
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: memload --status FILE [--mib N] [--dirty-mib-per-sec R]\n"
            "               [--pattern uniform|hot|seq] [--seed S]\n");
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
            mib = wl_parse_u64(optarg, "mib");
            break;
        case 'r':
            rate = wl_parse_rate(optarg, "dirty-mib-per-sec");
            break;
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
            g_seed = wl_parse_u64(optarg, "seed");
            break;
        default:
            usage();
        }
    }
    if (optind != argc || !status_path || !*status_path)
        usage();
    if (mib == 0 || mib > (UINT64_MAX >> 21))
        wl_fatal_msg("--mib must be > 0");

    g_seed_mix = g_seed * 0x9E3779B97F4A7C15ull;
    g_npages = mib * (1048576u / PAGE_SZ);
    g_hot_n = g_npages / 10;
    if (g_hot_n == 0)
        g_hot_n = 1;

    wl_init("memload", status_path);

    size_t bytes = (size_t)(g_npages * PAGE_SZ);
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        wl_fatal("mmap");
    g_mem = m;

    /* Step 0: initial fill. */
    for (uint64_t p = 0; p < g_npages; p++) {
        if (p % 8 == 7)
            memset(page_ptr(p), 0, PAGE_SZ);   /* resident, all zero */
        else
            write_page(p, 0);
        if (wl_term_req)
            return 0;
    }

    wl_run(rate * 256.0, do_steps, verify_all);
    return 0;
}
