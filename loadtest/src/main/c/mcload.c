/*
 * mcload.c - a client that loads a memcached server with data and keeps
 * writing to it, as the benchmark's third-party server workload.
 *
 * Build:  gcc -O2 -Wall -Wextra -o mcload mcload.c workload.c
 *
 * Usage:  mcload --socket PATH --status FILE [--mib N] [--value-bytes S]
 *                [--write-mib-per-sec R] [--seed X]
 *
 *   Connects to memcached's unix socket PATH (retrying for 10 s while the
 *   server starts), stores n = N MiB / S items "k<10 digits>" of S bytes
 *   each, then sets random items at R MiB/s of values.
 *
 * Item i last written at step v (v = 0: the initial load) holds S/8 words
 *     V(i, v)[w] = splitmix64(seed * 0x9E3779B97F4A7C15 ^ (i << 24)
 *                             ^ (v << 1) ^ w * 0xD1B54A32D192ED03)
 *   Step s sets item splitmix64(seed ^ s) % n. The client remembers the
 *   last step of every item, so on SIGUSR1 it can fetch every item back and
 *   report "verify OK items=<n> steps=<s>" or
 *   "verify BAD item=<i> expected_step=<v> steps=<s> (<why>)".
 *   Status file and signals: see workload.h.
 *
 * Both the client's memory and the server's must survive a migration
 * together for the check to pass: run memcached as this process's child,
 * e.g. unshare --pid --fork setsid sh -c 'memcached -s P ... & exec mcload ...'
 * Server replies other than the expected ones end the client (exit 1),
 * so the server refusing to store (memcached -M when full) is not hidden.
 */
#define _GNU_SOURCE
#include "workload.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BATCH     64u               /* commands in flight per round trip */
#define KEY_FMT   "k%010llu"

static uint64_t g_seed = 1;
static uint64_t g_seed_mix;
static uint64_t g_items;
static uint64_t g_value_bytes = 1024;
static uint64_t *g_last;            /* last writer step of each item */
static int g_fd = -1;

static unsigned char *g_out;        /* one batch of commands */
static size_t g_out_len, g_out_cap;
static unsigned char g_in[1 << 16]; /* server replies */
static size_t g_in_pos, g_in_len;
static uint64_t *g_value;           /* one value's words: built here, as their
                                       place in g_out is not 8-aligned */

static void value_words(uint64_t i, uint64_t v, uint64_t *dst)
{
    for (uint64_t w = 0; w < g_value_bytes / 8; w++)
        dst[w] = splitmix64(g_seed_mix ^ (i << 24) ^ (v << 1) ^
                            (w * 0xD1B54A32D192ED03ull));
}

static void connect_server(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        wl_fatal_msg("--socket path too long");
    strcpy(sa.sun_path, path);
    uint64_t give_up = wl_now_ns(CLOCK_MONOTONIC) + 10000000000ull;
    for (;;) {
        g_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (g_fd < 0)
            wl_fatal("socket");
        if (connect(g_fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return;
        if (errno != ENOENT && errno != ECONNREFUSED && errno != EINTR)
            wl_fatal("connect to memcached");
        close(g_fd);
        if (wl_now_ns(CLOCK_MONOTONIC) > give_up)
            wl_fatal("memcached did not accept within 10 s");
        usleep(10000);
    }
}

static void out_reserve(size_t more)
{
    if (g_out_len + more <= g_out_cap)
        return;
    g_out_cap = (g_out_len + more) * 2;
    g_out = realloc(g_out, g_out_cap);
    if (!g_out)
        wl_fatal_msg("malloc failed");
}

static void out_text(const char *s)
{
    size_t n = strlen(s);
    out_reserve(n);
    memcpy(g_out + g_out_len, s, n);
    g_out_len += n;
}

static void flush_out(void)
{
    size_t off = 0;
    while (off < g_out_len) {
        ssize_t r = write(g_fd, g_out + off, g_out_len - off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            wl_fatal("write to memcached");
        }
        off += (size_t)r;
    }
    g_out_len = 0;
}

static void fill_in(void)
{
    if (g_in_pos < g_in_len)
        return;
    for (;;) {
        ssize_t r = read(g_fd, g_in, sizeof g_in);
        if (r > 0) {
            g_in_pos = 0;
            g_in_len = (size_t)r;
            return;
        }
        if (r == 0)
            wl_fatal_msg("memcached closed the connection");
        if (errno != EINTR)
            wl_fatal("read from memcached");
    }
}

/* One reply line without its "\r\n", at most cap-1 characters. */
static void read_line(char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        fill_in();
        char ch = (char)g_in[g_in_pos++];
        if (ch == '\n')
            break;
        if (n + 1 >= cap)
            wl_fatal_msg("memcached reply line too long");
        line[n++] = ch;
    }
    if (n > 0 && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
}

static void read_bytes(unsigned char *dst, size_t n)
{
    while (n > 0) {
        fill_in();
        size_t k = g_in_len - g_in_pos < n ? g_in_len - g_in_pos : n;
        memcpy(dst, g_in + g_in_pos, k);
        g_in_pos += k;
        dst += k;
        n -= k;
    }
}

static void queue_set(uint64_t i, uint64_t v)
{
    char head[64];
    snprintf(head, sizeof head, "set " KEY_FMT " 0 0 %llu\r\n",
             (unsigned long long)i, (unsigned long long)g_value_bytes);
    out_text(head);
    out_reserve(g_value_bytes + 2);
    value_words(i, v, g_value);
    memcpy(g_out + g_out_len, g_value, g_value_bytes);
    g_out_len += g_value_bytes;
    out_text("\r\n");
}

static void await_stored(unsigned count)
{
    char line[256];
    for (unsigned k = 0; k < count; k++) {
        read_line(line, sizeof line);
        if (strcmp(line, "STORED") != 0) {
            fprintf(stderr, "mcload: set answered \"%s\"\n", line);
            exit(1);
        }
    }
}

static void load_all(void)
{
    for (uint64_t i = 0; i < g_items; i += BATCH) {
        unsigned k = 0;
        for (; k < BATCH && i + k < g_items; k++)
            queue_set(i + k, 0);
        flush_out();
        await_stored(k);
        if (wl_term_req)
            exit(0);
    }
}

static void do_steps(uint64_t n)
{
    while (n > 0 && !wl_verify_req && !wl_term_req) {
        unsigned k = 0;
        for (; k < BATCH && k < n; k++) {
            uint64_t s = wl_step + 1 + k;
            uint64_t i = splitmix64(g_seed ^ s) % g_items;
            queue_set(i, s);
            g_last[i] = s;
        }
        flush_out();
        await_stored(k);
        wl_step += k;
        n -= k;
    }
}

/* Checks one "VALUE" answer for item i; returns NULL or what is wrong. */
static const char *check_value(uint64_t i, unsigned char *buf)
{
    char line[256], key[32];
    unsigned long long bytes;
    unsigned flags;
    read_line(line, sizeof line);
    size_t klen = (size_t)snprintf(key, sizeof key, KEY_FMT, (unsigned long long)i);
    /* The whole key, up to the space before the flags: not just a prefix of it. */
    if (strncmp(line, "VALUE ", 6) != 0 || strncmp(line + 6, key, klen) != 0 ||
        line[6 + klen] != ' ')
        return strcmp(line, "END") == 0 || strncmp(line, "VALUE ", 6) == 0
                   ? "missing" : "unexpected reply";
    if (sscanf(line + 6 + klen, " %u %llu", &flags, &bytes) != 2 ||
        bytes != g_value_bytes)
        return "wrong length";
    read_bytes(buf, g_value_bytes + 2);
    if (buf[g_value_bytes] != '\r' || buf[g_value_bytes + 1] != '\n')
        return "no \\r\\n after the value";
    value_words(i, g_last[i], g_value);
    return memcmp(buf, g_value, g_value_bytes) == 0 ? NULL : "wrong content";
}

static int verify_all(void)
{
    unsigned char *buf = malloc(g_value_bytes + 2);
    if (!buf)
        wl_fatal_msg("malloc failed");
    char line[256];
    uint64_t last_hb = wl_now_ns(CLOCK_MONOTONIC);
    for (uint64_t i = 0; i < g_items; i += BATCH) {
        uint64_t end = i + BATCH < g_items ? i + BATCH : g_items;
        out_text("get");
        for (uint64_t j = i; j < end; j++) {
            char key[32];
            snprintf(key, sizeof key, " " KEY_FMT, (unsigned long long)j);
            out_text(key);
        }
        out_text("\r\n");
        flush_out();
        for (uint64_t j = i; j < end; j++) {
            const char *why = check_value(j, buf);
            if (why) {
                snprintf(line, sizeof line,
                         "verify BAD item=%llu expected_step=%llu steps=%llu (%s)\n",
                         (unsigned long long)j, (unsigned long long)g_last[j],
                         (unsigned long long)wl_step, why);
                wl_verify_result(line);
                free(buf);
                exit(1);    /* the connection is out of step now */
            }
        }
        read_line(line, sizeof line);
        if (strcmp(line, "END") != 0)
            wl_fatal_msg("get answered without END");
        if (wl_term_req) {
            free(buf);
            return -1;
        }
        wl_heartbeat_if_due(&last_hb);
    }
    free(buf);
    snprintf(line, sizeof line, "verify OK items=%llu steps=%llu\n",
             (unsigned long long)g_items, (unsigned long long)wl_step);
    wl_verify_result(line);
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: mcload --socket PATH --status FILE [--mib N] [--value-bytes S]\n"
            "              [--write-mib-per-sec R] [--seed X]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t mib = 64;
    double rate = 0.0;
    const char *status_path = NULL, *socket_path = NULL;

    static const struct option opts[] = {
        { "socket",            required_argument, NULL, 'c' },
        { "mib",               required_argument, NULL, 'm' },
        { "value-bytes",       required_argument, NULL, 'v' },
        { "write-mib-per-sec", required_argument, NULL, 'r' },
        { "status",            required_argument, NULL, 's' },
        { "seed",              required_argument, NULL, 'S' },
        { "help",              no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': socket_path = optarg; break;
        case 'm': mib = wl_parse_u64(optarg, "mib"); break;
        case 'v': g_value_bytes = wl_parse_u64(optarg, "value-bytes"); break;
        case 'r': rate = wl_parse_rate(optarg, "write-mib-per-sec"); break;
        case 's': status_path = optarg; break;
        case 'S': g_seed = wl_parse_u64(optarg, "seed"); break;
        default: usage();
        }
    }
    if (optind != argc || !status_path || !*status_path || !socket_path)
        usage();
    /* memcached's default item size limit is 1 MiB, with the item header. */
    if (g_value_bytes == 0 || g_value_bytes % 8 != 0 || g_value_bytes > 512 * 1024)
        wl_fatal_msg("--value-bytes must be a multiple of 8, at most 512 KiB");
    if (mib == 0 || mib > (1ull << 30))
        wl_fatal_msg("--mib must be > 0");

    g_seed_mix = g_seed * 0x9E3779B97F4A7C15ull;
    g_items = mib * 1048576u / g_value_bytes;
    if (g_items == 0)
        wl_fatal_msg("--mib is smaller than one value");
    g_last = calloc(g_items, sizeof *g_last);
    g_value = malloc(g_value_bytes);
    if (!g_last || !g_value)
        wl_fatal_msg("malloc failed");

    wl_init("mcload", status_path);
    connect_server(socket_path);
    load_all();
    wl_run(rate * 1048576.0 / (double)g_value_bytes, do_steps, verify_all);
    return 0;
}
