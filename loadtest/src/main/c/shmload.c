/*
 * shmload.c - shared-memory test workload for live migration: two processes
 * writing to the same MAP_SHARED anonymous mapping and the same memfd.
 *
 * Build:  gcc -O2 -Wall -Wextra -o shmload shmload.c workload.c
 *
 * Usage:  shmload --status FILE [--shared-mib N] [--memfd-mib M]
 *                 [--sysv-mib S] [--dirty-mib-per-sec R]
 *
 * Memory
 *   An anonymous MAP_SHARED mapping of N MiB (default 64) and a memfd of
 *   M MiB (default 16) mapped MAP_SHARED, both created before fork() and so
 *   shared by the root (the pid namespace's init) and its one child. The
 *   child maps the second half of the memfd a second time, at another
 *   address and file offset, and writes its memfd pages through that view.
 *   With --sysv-mib S (default 0), also a SysV segment of S MiB, attached
 *   before fork() (the tree then needs its own IPC namespace for CRIU).
 *   The first META pages of the anonymous mapping hold the control block and
 *   a version table (uint32 per data page); the data pages follow, then the
 *   SysV segment's, then the memfd's. The last eighth of the memfd is never
 *   written: a hole.
 *   Data page g written at version v holds C(g, v) (memload's content
 *   function, seed 7); v = 0 is the initial fill. Even pages are written by
 *   the root, odd pages by the child, each at R/2 MiB/s, uniformly.
 *
 * Verification (SIGUSR1 to the root, protocol of workload.h): the root asks
 *   the child to pause through the control block and waits for its answer,
 *   checks every page against the version table (holes must read zero),
 *   then writes a fresh nonce into the anonymous and the memfd control
 *   words and waits until the child has echoed both: the memory is still
 *   shared between the two processes. Verdict lines:
 *     "verify OK pages=<n> steps=<root steps>+<child steps> shared=yes"
 *     "verify BAD page=<g> version=<v>"  or  "verify BAD not shared (...)"
 */

#define _GNU_SOURCE
#include "workload.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#define PAGE_SZ        4096u
#define WORDS_PER_PAGE (PAGE_SZ / 8u)
#define SEED_MIX       (7ull * 0x9E3779B97F4A7C15ull)

struct control {
    volatile uint64_t pause_req;    /* root: pause writing until this changes */
    volatile uint64_t pause_ack;    /* child: paused for pause_req */
    volatile uint64_t ping;         /* root: nonce, anonymous mapping */
    volatile uint64_t pong;         /* child: echo of ping */
    volatile uint64_t memfd_pong;   /* child: echo of the memfd's nonce */
    volatile uint64_t child_steps;
};

static uint64_t g_meta_pages;
static uint64_t g_anon_pages;      /* data pages in the anonymous mapping */
static uint64_t g_sysv_pages;
static uint64_t g_memfd_pages;
static uint64_t g_written_pages;   /* anon data + memfd pages before the hole */
static unsigned char *g_anon;
static unsigned char *g_sysv;
static unsigned char *g_memfd;
static unsigned char *g_memfd_view; /* the child's view of the memfd's second half */
static struct control *g_ctl;
static volatile uint32_t *g_version;
static volatile uint64_t *g_memfd_ping; /* first word of the memfd */
static double g_rate_pages;

static inline uint64_t content_word(uint64_t g, uint64_t v, uint64_t w)
{
    return splitmix64(SEED_MIX ^ (g << 24) ^ (v << 1) ^ (w * 0xD1B54A32D192ED03ull));
}

/* Page g: anonymous data pages, SysV pages, then memfd pages (page 0 holds the ping word). */
static uint64_t *page_ptr(uint64_t g, int child_view)
{
    if (g < g_anon_pages)
        return (uint64_t *)(void *)(g_anon + (g_meta_pages + g) * PAGE_SZ);
    if (g < g_anon_pages + g_sysv_pages)
        return (uint64_t *)(void *)(g_sysv + (g - g_anon_pages) * PAGE_SZ);
    uint64_t m = g - g_anon_pages - g_sysv_pages;
    if (child_view && m >= g_memfd_pages / 2)
        return (uint64_t *)(void *)(g_memfd_view + (m - g_memfd_pages / 2) * PAGE_SZ);
    return (uint64_t *)(void *)(g_memfd + m * PAGE_SZ);
}

/* Word 0 of memfd page 0 is the ping word, so data content starts at word 1 there. */
static inline uint64_t first_word(uint64_t g)
{
    return g == g_anon_pages + g_sysv_pages ? 1 : 0;
}

static void write_page(uint64_t g, uint64_t v, int child_view)
{
    uint64_t *pg = page_ptr(g, child_view);
    for (uint64_t w = first_word(g); w < WORDS_PER_PAGE; w++)
        pg[w] = content_word(g, v, w);
    __atomic_store_n(&g_version[g], (uint32_t)v, __ATOMIC_RELEASE);
}

static uint64_t total_pages(void)
{
    return g_anon_pages + g_sysv_pages + g_memfd_pages;
}

static int check_page(uint64_t g)
{
    const uint64_t *pg = page_ptr(g, 0);
    uint64_t v = g_version[g];
    for (uint64_t w = first_word(g); w < WORDS_PER_PAGE; w++)
        if (pg[w] != content_word(g, v, w))
            return 0;
    return 1;
}

/* A writer's next page: uniform over its parity class of the written pages. */
static uint64_t pick(uint64_t step, int parity)
{
    uint64_t half = (g_written_pages - (uint64_t)parity + 1) / 2;
    return 2 * (splitmix64(SEED_MIX ^ (step << 1) ^ (uint64_t)parity) % half) + (uint64_t)parity;
}

static void root_steps(uint64_t n)
{
    for (uint64_t i = 0; i < n && !wl_verify_req && !wl_term_req; i++) {
        uint64_t s = wl_step + 1;
        write_page(pick(s, 0), s, 0);
        wl_step = s;
    }
}

static void child_loop(void)
{
    const double per_tick = g_rate_pages / 2.0 / 100.0;
    double carry = 0.0;
    struct timespec tick = { 0, 10000000 };
    for (;;) {
        uint64_t req = g_ctl->pause_req;
        if (g_ctl->ping != g_ctl->pong) {
            g_ctl->memfd_pong = *g_memfd_ping;
            __atomic_store_n(&g_ctl->pong, g_ctl->ping, __ATOMIC_RELEASE);
        }
        if (req % 2 == 1) {
            __atomic_store_n(&g_ctl->pause_ack, req, __ATOMIC_RELEASE);
        } else {
            carry += per_tick;
            uint64_t n = (uint64_t)carry;
            carry -= (double)n;
            for (uint64_t i = 0; i < n; i++) {
                uint64_t s = g_ctl->child_steps + 1;
                write_page(pick(s, 1), s, 1);
                g_ctl->child_steps = s;
            }
        }
        nanosleep(&tick, NULL);
    }
}

/* Waits up to 5 s for *word == want; the child answers within a tick. */
static int await_word(volatile uint64_t *word, uint64_t want)
{
    uint64_t deadline = wl_now_ns(CLOCK_MONOTONIC) + 5000000000ull;
    struct timespec ms = { 0, 1000000 };
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != want) {
        if (wl_term_req || wl_now_ns(CLOCK_MONOTONIC) > deadline)
            return 0;
        nanosleep(&ms, NULL);
    }
    return 1;
}

static int verify_all(void)
{
    char line[200];
    uint64_t req = g_ctl->pause_req + 1; /* odd: paused */
    __atomic_store_n(&g_ctl->pause_req, req, __ATOMIC_RELEASE);
    if (!await_word(&g_ctl->pause_ack, req)) {
        snprintf(line, sizeof line, "verify BAD not shared (the child never paused)\n");
        g_ctl->pause_req = req + 1;
        wl_verify_result(line);
        return wl_term_req ? -1 : 0;
    }
    uint64_t last_hb = wl_now_ns(CLOCK_MONOTONIC);
    uint64_t bad = UINT64_MAX;
    for (uint64_t g = 0; g < g_written_pages && bad == UINT64_MAX; g++) {
        if (!check_page(g))
            bad = g;
        if ((g & 0x3FF) == 0x3FF)
            wl_heartbeat_if_due(&last_hb);
    }
    for (uint64_t g = g_written_pages; g < total_pages() && bad == UINT64_MAX; g++) {
        const uint64_t *pg = page_ptr(g, 0);
        for (uint64_t w = 0; w < WORDS_PER_PAGE; w++)
            if (pg[w] != 0)
                bad = g;
    }
    uint64_t nonce = splitmix64(wl_now_ns(CLOCK_REALTIME));
    *g_memfd_ping = nonce;
    __atomic_store_n(&g_ctl->ping, nonce, __ATOMIC_RELEASE);
    int shared = await_word(&g_ctl->pong, nonce) && g_ctl->memfd_pong == nonce;
    g_ctl->pause_req = req + 1;

    if (bad != UINT64_MAX)
        snprintf(line, sizeof line, "verify BAD page=%llu version=%u\n",
                 (unsigned long long)bad, (unsigned)g_version[bad]);
    else if (!shared)
        snprintf(line, sizeof line, "verify BAD not shared (the child did not echo %s)\n",
                 g_ctl->pong == nonce ? "the memfd's nonce" : "the nonce");
    else
        snprintf(line, sizeof line, "verify OK pages=%llu steps=%llu+%llu shared=yes\n",
                 (unsigned long long)total_pages(),
                 (unsigned long long)wl_step, (unsigned long long)g_ctl->child_steps);
    wl_verify_result(line);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: shmload --status FILE [--shared-mib N] [--memfd-mib M]"
                    " [--sysv-mib S] [--dirty-mib-per-sec R]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t shared_mib = 64, memfd_mib = 16, sysv_mib = 0;
    double rate = 0.0;
    const char *status_path = NULL;
    static const struct option opts[] = {
        { "shared-mib",        required_argument, NULL, 'a' },
        { "memfd-mib",         required_argument, NULL, 'f' },
        { "sysv-mib",          required_argument, NULL, 'v' },
        { "dirty-mib-per-sec", required_argument, NULL, 'r' },
        { "status",            required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 }
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a': shared_mib = wl_parse_u64(optarg, "shared-mib"); break;
        case 'f': memfd_mib = wl_parse_u64(optarg, "memfd-mib"); break;
        case 'v': sysv_mib = wl_parse_u64(optarg, "sysv-mib"); break;
        case 'r': rate = wl_parse_rate(optarg, "dirty-mib-per-sec"); break;
        case 's': status_path = optarg; break;
        default: usage();
        }
    }
    if (optind != argc || !status_path || shared_mib == 0 || memfd_mib == 0
        || shared_mib > 4096 || memfd_mib > 4096 || sysv_mib > 4096)
        usage();

    wl_init("shmload", status_path);
    g_memfd_pages = memfd_mib * (1048576u / PAGE_SZ);
    g_sysv_pages = sysv_mib * (1048576u / PAGE_SZ);
    uint64_t anon_total = shared_mib * (1048576u / PAGE_SZ);
    /* Control block + version table (4 bytes per page of all objects), rounded to pages. */
    uint64_t pages = anon_total + g_sysv_pages + g_memfd_pages;
    g_meta_pages = (sizeof(struct control) + 4 * pages + PAGE_SZ - 1) / PAGE_SZ;
    if (g_meta_pages >= anon_total)
        wl_fatal_msg("--shared-mib too small");
    g_anon_pages = anon_total - g_meta_pages;
    g_written_pages = g_anon_pages + g_sysv_pages + g_memfd_pages - g_memfd_pages / 8;
    g_rate_pages = rate * 256.0;

    g_anon = mmap(NULL, anon_total * PAGE_SZ, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g_anon == MAP_FAILED)
        wl_fatal("mmap shared");
    if (g_sysv_pages > 0) {
        int id = shmget(IPC_PRIVATE, g_sysv_pages * PAGE_SZ, IPC_CREAT | 0600);
        if (id < 0)
            wl_fatal("shmget");
        g_sysv = shmat(id, NULL, 0);
        if (g_sysv == (void *)-1)
            wl_fatal("shmat");
        /* Not removed here: it goes with the tree's own IPC namespace. */
    }
    int fd = memfd_create("shmload", 0);
    if (fd < 0)
        wl_fatal("memfd_create");
    if (ftruncate(fd, (off_t)(g_memfd_pages * PAGE_SZ)) != 0)
        wl_fatal("ftruncate memfd");
    g_memfd = mmap(NULL, g_memfd_pages * PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (g_memfd == MAP_FAILED)
        wl_fatal("mmap memfd");
    g_ctl = (struct control *)(void *)g_anon;
    g_version = (volatile uint32_t *)(void *)(g_anon + sizeof(struct control));
    g_memfd_ping = (volatile uint64_t *)(void *)g_memfd;

    for (uint64_t g = 0; g < g_written_pages && !wl_term_req; g++)
        write_page(g, 0, 0);

    pid_t child = fork();
    if (child < 0)
        wl_fatal("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        size_t half = (size_t)(g_memfd_pages / 2) * PAGE_SZ;
        g_memfd_view = mmap(NULL, half, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)half);
        if (g_memfd_view == MAP_FAILED)
            wl_fatal("mmap memfd view");
        child_loop();
    }
    close(fd);
    wl_run(g_rate_pages / 2.0, root_steps, verify_all);
    return 0;
}
