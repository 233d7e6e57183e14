/*
 * pagepoke.c - a process whose page writes a test dictates, for checking dirty-page trackers
 * against exactly what was written.
 *
 * Reads one command a line on stdin, answers one line on stdout ("ERR ..." on failure):
 *   map N thp|nothp        maps N private anonymous pages (2 MiB aligned), advises huge pages
 *                          on or off, writes every page; answers the address (hex)
 *   write ADDR I...        writes one byte into page I of ADDR, for each I; answers "ok"
 *   move ADDR N            moves the N pages at ADDR elsewhere with mremap; answers the new address
 *   unmap ADDR N           munmap; answers "ok"
 *   zap ADDR I N           empties pages I..I+N-1 with MADV_DONTNEED, then reads each of them
 *                          (a read fault maps the zero page, or the huge zero page); answers "ok"
 *   fork                   forks a child that waits for child-write commands; answers its pid
 *   child-write ADDR I...  the child writes into those pages; answers "ok" once it has
 *   thp ADDR               answers the kB of ADDR's mapping that are huge pages (smaps)
 *   exit                   ends (the child too)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
#define HUGE (2UL << 20)
#define MAX_PAGES 4096

/* Shared with the child: the pages it writes next, and a sequence number it acknowledges. */
struct control {
  volatile uint64_t addr;
  volatile int n;
  volatile int pages[MAX_PAGES];
  volatile int requested;
  volatile int done;
};

static struct control *ctl;
static pid_t child = -1;

static void poke(uint64_t addr, const int *pages, int n, unsigned char value) {
  for (int i = 0; i < n; i++) {
    ((volatile unsigned char *)addr)[(uint64_t)pages[i] * PAGE] = value;
  }
}

static void child_loop(void) {
  int seen = 0;
  for (;;) {
    while (ctl->requested == seen) {
      usleep(1000);
    }
    seen = ctl->requested;
    int pages[MAX_PAGES];
    for (int i = 0; i < ctl->n; i++) {
      pages[i] = ctl->pages[i];
    }
    poke(ctl->addr, pages, ctl->n, 0xC5);
    __sync_synchronize();
    ctl->done = seen;
  }
}

static int parse_pages(char *rest, int *pages) {
  int n = 0;
  for (char *tok = strtok(rest, " \n"); tok && n < MAX_PAGES; tok = strtok(NULL, " \n")) {
    pages[n++] = atoi(tok);
  }
  return n;
}

static long huge_kb(uint64_t addr) {
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[512];
  int inside = 0;
  long kb = -1;
  while (f && fgets(line, sizeof line, f)) {
    uint64_t start, end;
    if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
      inside = addr >= start && addr < end;
    } else if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) {
      break;
    }
  }
  if (f) {
    fclose(f);
  }
  return kb;
}

int main(void) {
  char line[65536];
  static int pages[MAX_PAGES];
  setvbuf(stdout, NULL, _IOLBF, 0);
  ctl = mmap(NULL, sizeof *ctl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (ctl == MAP_FAILED) {
    return 1;
  }
  while (fgets(line, sizeof line, stdin)) {
    char cmd[32];
    int used = 0;
    if (sscanf(line, "%31s %n", cmd, &used) != 1) {
      continue;
    }
    char *rest = line + used;
    if (strcmp(cmd, "map") == 0) {
      unsigned long n;
      char mode[16];
      if (sscanf(rest, "%lu %15s", &n, mode) != 2) {
        puts("ERR usage: map N thp|nothp");
        continue;
      }
      size_t len = n * PAGE;
      char *raw = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE,
          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED) {
        puts("ERR mmap");
        continue;
      }
      char *p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
      if (p > raw) {
        munmap(raw, p - raw);
      }
      munmap(p + len, raw + len + HUGE - (p + len));
      madvise(p, len, strcmp(mode, "thp") == 0 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
      for (size_t i = 0; i < n; i++) {
        p[i * PAGE] = (char)(i % 255 + 1);
      }
      printf("%lx\n", (unsigned long)p);
    } else if (strcmp(cmd, "write") == 0) {
      uint64_t addr = strtoull(rest, &rest, 16);
      int n = parse_pages(rest, pages);
      poke(addr, pages, n, 0xA5);
      puts("ok");
    } else if (strcmp(cmd, "move") == 0) {
      uint64_t addr;
      unsigned long n;
      if (sscanf(rest, "%lx %lu", &addr, &n) != 2) {
        puts("ERR usage: move ADDR N");
        continue;
      }
      /* A reserved spot elsewhere makes the move certain. */
      void *to = mmap(NULL, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      void *moved = to == MAP_FAILED ? MAP_FAILED
          : mremap((void *)addr, n * PAGE, n * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
      if (moved == MAP_FAILED) {
        puts("ERR mremap");
      } else {
        printf("%lx\n", (unsigned long)moved);
      }
    } else if (strcmp(cmd, "unmap") == 0) {
      uint64_t addr;
      unsigned long n;
      if (sscanf(rest, "%lx %lu", &addr, &n) != 2 || munmap((void *)addr, n * PAGE) != 0) {
        puts("ERR munmap");
      } else {
        puts("ok");
      }
    } else if (strcmp(cmd, "zap") == 0) {
      uint64_t addr;
      unsigned long first, n;
      if (sscanf(rest, "%lx %lu %lu", &addr, &first, &n) != 3
          || madvise((void *)(addr + first * PAGE), n * PAGE, MADV_DONTNEED) != 0) {
        puts("ERR zap");
        continue;
      }
      unsigned long sum = 0;
      for (unsigned long i = first; i < first + n; i++) {
        sum += ((volatile unsigned char *)addr)[i * PAGE];
      }
      printf(sum == 0 ? "ok\n" : "ERR zapped pages read %lu\n", sum);
    } else if (strcmp(cmd, "fork") == 0) {
      fflush(stdout);
      child = fork();
      if (child == 0) {
        child_loop();
      }
      printf("%d\n", (int)child);
    } else if (strcmp(cmd, "child-write") == 0) {
      uint64_t addr = strtoull(rest, &rest, 16);
      int n = parse_pages(rest, pages);
      if (child <= 0) {
        puts("ERR no child");
        continue;
      }
      ctl->addr = addr;
      ctl->n = n;
      for (int i = 0; i < n; i++) {
        ctl->pages[i] = pages[i];
      }
      int want = ctl->requested + 1;
      __sync_synchronize();
      ctl->requested = want;
      while (ctl->done != want) {
        usleep(1000);
      }
      puts("ok");
    } else if (strcmp(cmd, "thp") == 0) {
      printf("%ld\n", huge_kb(strtoull(rest, NULL, 16)));
    } else if (strcmp(cmd, "exit") == 0) {
      break;
    } else {
      printf("ERR unknown command %s\n", cmd);
    }
  }
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
  }
  return 0;
}
