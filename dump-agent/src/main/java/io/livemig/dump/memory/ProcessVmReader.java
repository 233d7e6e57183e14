package io.livemig.dump.memory;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import io.livemig.common.os.LibC;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Copies another process's pages into one reusable native buffer with process_vm_readv, many
 * runs per call (one remote iovec each). The buffer is allocated once: the agent's memory does not
 * grow with the size of the migrated process.
 */
public final class ProcessVmReader implements AutoCloseable {
  /** Linux IOV_MAX. */
  public static final int MAX_RUNS = 1024;
  private static final int ESRCH = 3;
  private static final int ENOMEM = 12;
  private static final int EFAULT = 14;

  private final Memory data;
  private final ByteBuffer view;
  private final Memory localIov = new Memory(16);
  private final Memory remoteIov = new Memory(16L * MAX_RUNS);
  private final boolean[] readable = new boolean[MAX_RUNS];

  /** Receives one batch read by {@link #readRuns}. */
  @FunctionalInterface
  public interface Batch {
    /**
     * @param runs the batch's runs, back to back in buf
     * @param readable readable[i] is false for a run the task unmapped meanwhile (garbage in buf)
     */
    void accept(List<PageRun> runs, ByteBuffer buf, boolean[] readable) throws IOException;
  }

  public ProcessVmReader(int capacityBytes) {
    data = new Memory(capacityBytes);
    view = data.getByteBuffer(0, capacityBytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  public int capacity() {
    return view.capacity();
  }

  /**
   * Reads runs back to back into the buffer (their bytes must fit, at most {@link #MAX_RUNS}).
   * A run that cannot be read (the task unmapped it meanwhile) gets readable[i] = false and its
   * bytes in the buffer are garbage. Returns a view of the buffer from 0 to the runs' total size.
   *
   * @throws TaskGoneException if the task exited
   */
  public ByteBuffer read(int pid, List<PageRun> runs, boolean[] readable) throws IOException {
    long total = 0;
    for (PageRun r : runs) {
      total += r.bytes();
    }
    if (total > view.capacity() || runs.size() > MAX_RUNS) {
      throw new IllegalArgumentException(runs.size() + " runs of " + total
          + " bytes do not fit a buffer of " + view.capacity());
    }
    int first = 0;
    long offset = 0;
    while (first < runs.size()) {
      int count = runs.size() - first;
      long want = 0;
      for (int i = 0; i < count; i++) {
        PageRun r = runs.get(first + i);
        remoteIov.setLong(16L * i, r.vaddr());
        remoteIov.setLong(16L * i + 8, r.bytes());
        want += r.bytes();
      }
      localIov.setPointer(0, data.share(offset));
      localIov.setLong(8, want);
      long got;
      try {
        got = LibC.process_vm_readv(pid, localIov, 1, remoteIov, count, 0);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == ESRCH) {
          throw new TaskGoneException(pid);
        }
        if (e.getErrorCode() != EFAULT && e.getErrorCode() != ENOMEM) {
          throw new IOException("process_vm_readv of pid " + pid + " failed with errno "
              + e.getErrorCode() + " (EPERM: the agent needs CAP_SYS_PTRACE over the tree)", e);
        }
        got = 0; // the first run is no longer mapped: skip it below
      }
      // A transfer that fails inside a run reports the bytes before it; that run is skipped
      // whole and the next call starts after it.
      while (first < runs.size() && got >= runs.get(first).bytes()) {
        long b = runs.get(first).bytes();
        readable[first++] = true;
        got -= b;
        offset += b;
      }
      if (first < runs.size()) {
        readable[first] = false;
        offset += runs.get(first++).bytes();
      }
    }
    return view.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0).limit((int) total);
  }

  /**
   * Reads runs (sorted) of task pid in buffer-sized batches of at most {@link #MAX_RUNS} runs,
   * splitting runs larger than the buffer, and hands each batch to batch before reading the next.
   *
   * @throws TaskGoneException if the task exited
   */
  public void readRuns(int pid, List<PageRun> runs, Batch batch) throws IOException {
    int maxPages = capacity() / PageSize.BYTES;
    List<PageRun> pending = new ArrayList<>(MAX_RUNS);
    int pendingPages = 0;
    for (PageRun run : runs) {
      long addr = run.vaddr();
      int left = run.nrPages();
      while (left > 0) {
        if (pendingPages == maxPages || pending.size() == MAX_RUNS) {
          batch.accept(pending, read(pid, pending, readable), readable);
          pending.clear();
          pendingPages = 0;
        }
        int n = Math.min(left, maxPages - pendingPages);
        pending.add(new PageRun(addr, n));
        pendingPages += n;
        addr += (long) n << PageSize.SHIFT;
        left -= n;
      }
    }
    if (!pending.isEmpty()) {
      batch.accept(pending, read(pid, pending, readable), readable);
    }
  }

  @Override
  public void close() {
    data.close();
    localIov.close();
    remoteIov.close();
  }
}
