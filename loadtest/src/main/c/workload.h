/*
 * workload.h - what the test workloads (memload, mcload) share: the
 * heartbeat status file, the verify protocol, signals, and a 10 ms tick
 * loop that survives being checkpointed and restored elsewhere.
 *
 * Status file: overwritten at offset 0 every tick with one fixed-width line
 *     "heartbeat %020llu %020llu steps=%020llu state=running\n"
 *   (CLOCK_MONOTONIC ns, CLOCK_REALTIME ns, progress counter).
 * SIGUSR1: the workload checks its state and writes one line to
 *   STATUS.verify (via STATUS.verify.tmp and rename): "verify OK ..." or
 *   "verify BAD ...". SIGTERM / SIGINT: exit 0.
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

extern volatile sig_atomic_t wl_verify_req;
extern volatile sig_atomic_t wl_term_req;
extern uint64_t wl_step;                    /* progress counter */

static inline uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Names the program in messages, opens the status file, installs handlers. */
void wl_init(const char *prog, const char *status_path);

void wl_fatal(const char *what) __attribute__((noreturn));     /* + errno */
void wl_fatal_msg(const char *msg) __attribute__((noreturn));
uint64_t wl_parse_u64(const char *s, const char *name);
double wl_parse_rate(const char *s, const char *name);

uint64_t wl_now_ns(clockid_t clk);
void wl_heartbeat(void);
/* For long loops (verification): a heartbeat every 50 ms at most. */
void wl_heartbeat_if_due(uint64_t *last_hb);
void wl_verify_result(const char *line);

/*
 * Runs until SIGTERM: every 10 ms, do_steps(n) with this tick's share of
 * steps_per_sec (do_steps should stop early when a request is pending);
 * on SIGUSR1, verify() (returns -1 when cut short by SIGTERM).
 */
void wl_run(double steps_per_sec, void (*do_steps)(uint64_t n),
            int (*verify)(void));

#endif
