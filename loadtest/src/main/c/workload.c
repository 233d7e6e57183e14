/*
 * workload.c - see workload.h.
 *
 * Why the tick loop sleeps the way it does: deadlines are absolute
 * CLOCK_MONOTONIC times, but the sleep itself is a relative
 * clock_nanosleep clamped to [0, 10 ms]. A TIMER_ABSTIME sleep interrupted
 * by a dump is re-executed by CRIU on restore with the *old* absolute
 * deadline; if the destination's monotonic clock is behind (no time
 * namespace), it would sleep for hours. A relative sleep is restarted via
 * restart_syscall and at worst returns EINTR early. A deadline more than
 * 100 ms in the past (clock jumped forward) or more than one tick in the
 * future (clock jumped backward) is resynchronised to "now".
 */
#define _GNU_SOURCE
#include "workload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_NS        10000000ull          /* 10 ms */
#define BEHIND_MAX_NS  100000000ull         /* resync if >100 ms late */
#define HB_EVERY_NS    50000000ull          /* heartbeat during verify */

volatile sig_atomic_t wl_verify_req = 0;
volatile sig_atomic_t wl_term_req = 0;
uint64_t wl_step = 0;

static const char *g_prog = "workload";
static int g_status_fd = -1;
static char *g_verify_path;
static char *g_verify_tmp;

void wl_fatal(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", g_prog, what, strerror(errno));
    exit(1);
}

void wl_fatal_msg(const char *msg)
{
    fprintf(stderr, "%s: %s\n", g_prog, msg);
    exit(1);
}

uint64_t wl_parse_u64(const char *s, const char *name)
{
    char *end;
    errno = 0;
    if (*s != '-') {
        unsigned long long v = strtoull(s, &end, 0);
        if (errno == 0 && end != s && *end == '\0')
            return (uint64_t)v;
    }
    fprintf(stderr, "%s: invalid value for --%s: %s\n", g_prog, name, s);
    exit(2);
}

double wl_parse_rate(const char *s, const char *name)
{
    char *end;
    errno = 0;
    double rate = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(rate >= 0.0) || rate > 1e9) {
        fprintf(stderr, "%s: invalid value for --%s: %s\n", g_prog, name, s);
        exit(2);
    }
    return rate;
}

uint64_t wl_now_ns(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        wl_fatal("clock_gettime");
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void wl_heartbeat(void)
{
    char buf[128];
    uint64_t mono = wl_now_ns(CLOCK_MONOTONIC);
    uint64_t real = wl_now_ns(CLOCK_REALTIME);
    int n = snprintf(buf, sizeof buf,
                     "heartbeat %020llu %020llu steps=%020llu state=running\n",
                     (unsigned long long)mono, (unsigned long long)real,
                     (unsigned long long)wl_step);
    if (n <= 0 || (size_t)n >= sizeof buf)
        wl_fatal_msg("heartbeat formatting failed");
    ssize_t off = 0;
    while (off < n) {
        ssize_t r = pwrite(g_status_fd, buf + off, (size_t)(n - off), off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            wl_fatal("pwrite status");
        }
        off += r;
    }
    if (ftruncate(g_status_fd, n) != 0)
        wl_fatal("ftruncate status");
}

void wl_heartbeat_if_due(uint64_t *last_hb)
{
    uint64_t t = wl_now_ns(CLOCK_MONOTONIC);
    if (t - *last_hb >= HB_EVERY_NS || t < *last_hb) {
        wl_heartbeat();
        *last_hb = t;
    }
}

void wl_verify_result(const char *line)
{
    int fd;
    do {
        fd = open(g_verify_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        wl_fatal("open verify tmp");
    size_t len = strlen(line), off = 0;
    while (off < len) {
        ssize_t r = write(fd, line + off, len - off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            wl_fatal("write verify tmp");
        }
        off += (size_t)r;
    }
    if (close(fd) != 0 && errno != EINTR)
        wl_fatal("close verify tmp");
    if (rename(g_verify_tmp, g_verify_path) != 0)
        wl_fatal("rename verify");
}

static void on_usr1(int sig)
{
    (void)sig;
    wl_verify_req = 1;
}

static void on_term(int sig)
{
    (void)sig;
    wl_term_req = 1;
}

static void install_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;                        /* no SA_RESTART: wake the sleep */
    if (sigaction(sig, &sa, NULL) != 0)
        wl_fatal("sigaction");
}

static char *with_suffix(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    char *s = malloc(a + b + 1);
    if (!s)
        wl_fatal_msg("malloc failed");
    memcpy(s, path, a);
    memcpy(s + a, suffix, b + 1);
    return s;
}

void wl_init(const char *prog, const char *status_path)
{
    g_prog = prog;
    g_verify_path = with_suffix(status_path, ".verify");
    g_verify_tmp = with_suffix(status_path, ".verify.tmp");
    install_handler(SIGUSR1, on_usr1);
    install_handler(SIGTERM, on_term);
    install_handler(SIGINT, on_term);
    g_status_fd = open(status_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                       0644);
    if (g_status_fd < 0)
        wl_fatal("open status file");
}

void wl_run(double steps_per_sec, void (*do_steps)(uint64_t n),
            int (*verify)(void))
{
    const double steps_per_tick = steps_per_sec / 100.0;
    double carry = 0.0;
    uint64_t deadline = wl_now_ns(CLOCK_MONOTONIC);

    wl_heartbeat();
    while (!wl_term_req) {
        if (wl_verify_req) {
            wl_verify_req = 0;  /* a SIGUSR1 during verify triggers another */
            if (verify() < 0)
                break;
            wl_heartbeat();
            /* The verification took time; don't try to catch up. */
            deadline = wl_now_ns(CLOCK_MONOTONIC);
            continue;
        }

        uint64_t now = wl_now_ns(CLOCK_MONOTONIC);
        if (now >= deadline) {
            carry += steps_per_tick;
            uint64_t n = (uint64_t)carry;
            carry -= (double)n;
            do_steps(n);
            wl_heartbeat();
            deadline += TICK_NS;
            now = wl_now_ns(CLOCK_MONOTONIC);
            if (now > deadline && now - deadline > BEHIND_MAX_NS)
                deadline = now;     /* far behind (e.g. after restore) */
            continue;
        }

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
            wl_fatal("clock_nanosleep");
        }
    }
}
