package io.livemig.restore.handoff;

import io.livemig.common.agent.EventLog;
import io.livemig.common.criu.Criu;
import io.livemig.common.journal.Journal;
import io.livemig.common.network.HandoffException;
import io.livemig.common.network.NetworkHandoff;
import io.livemig.common.os.Dirs;
import io.livemig.common.os.Incarnation;
import io.livemig.common.security.Peer;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.ReconcileReply;
import io.livemig.proto.ReconcileRequest;
import io.livemig.restore.postcopy.LazyPages;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Every migration this restore agent has not settled: those whose stream runs, and the
 * unconfirmed copies, restored and stopped, whose stream was lost before the source said
 * whether it is gone. Those wait for the source to {@link #reconcile}, and are killed when
 * the unconfirmed-copy timeout passes without word: a copy runs only on the source's word that
 * the source is gone.
 */
public final class Handoffs implements AutoCloseable {
  private final Journal journal;
  private final NetworkHandoff network;
  private final Path imagesDir;
  private final Duration unconfirmedTimeout;
  private final Map<String, DestinationHandoff> open = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "unconfirmed-copies");
    t.setDaemon(true);
    return t;
  });

  public Handoffs(Journal journal, NetworkHandoff network, Path imagesDir,
      Duration unconfirmedTimeout) {
    this.journal = journal;
    this.network = network;
    this.imagesDir = imagesDir;
    this.unconfirmedTimeout = unconfirmedTimeout;
  }

  /** Journals a new migration from peer (its identity) and tracks it. */
  public DestinationHandoff begin(String id, Peer peer, String serviceAddress)
      throws IOException {
    if (open.containsKey(id) || journal.read(id).isPresent()) {
      throw new IllegalArgumentException("migration id " + id + " was received before by this"
          + " restore agent; ids are not reused");
    }
    JournalEntry.Builder e = JournalEntry.newBuilder().setMigrationId(id)
        .setPeer(peer.identity()).setServiceAddress(serviceAddress)
        .setStartedUnixMs(System.currentTimeMillis());
    DestinationHandoff h = new DestinationHandoff(journal, e, network);
    journal.record(e.setPhase(MigrationPhase.PRECOPY).setDetail("receiving").build());
    open.put(id, h);
    return h;
  }

  /**
   * The migration's stream ended. A stopped copy stays, waiting for the source's word, until
   * the unconfirmed-copy timeout; anything short of a copy is aborted.
   */
  public void streamEnded(DestinationHandoff h, String why) {
    if (h.phase() == MigrationPhase.RESTORED_STOPPED) {
      awaitWord(h, why);
      return;
    }
    if (h.phase() == MigrationPhase.POSTCOPY) {
      // Its post-copy stream settles it.
      return;
    }
    if (!Journal.finished(h.phase())) {
      h.abort("stream ended: " + why);
    }
    open.remove(h.id(), h);
  }

  private void awaitWord(DestinationHandoff h, String why) {
    Instant until = Instant.now().plus(unconfirmedTimeout);
    EventLog.of(h.id(), "copy-unconfirmed").with("pid", h.copyPid()).with("reason", why)
        .with("kept_stopped_until", until).with("action", "waiting for the source to reconcile;"
            + " the copy is killed then unless the source says it is gone").warning();
    timer.schedule(() -> expire(h), unconfirmedTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void expire(DestinationHandoff h) {
    if (h.phase() == MigrationPhase.RESTORED_STOPPED) {
      String done = h.abort("no word from the source within " + unconfirmedTimeout.toSeconds()
          + " s (--unconfirmed-copy-timeout)");
      EventLog.of(h.id(), "copy-expired").with("done", done)
          .with("timeout_s", unconfirmedTimeout.toSeconds()).severe();
    }
    open.remove(h.id(), h);
  }

  /** The journal entry of a migration peer opened that is no longer open here, if any. */
  public Optional<JournalEntry> settled(String id, Peer peer) {
    if (open.containsKey(id)) {
      return Optional.empty();
    }
    return journal.read(id).filter(e -> e.getPeer().equals(peer.identity()));
  }

  /** A post-copy migration ended, whichever way. */
  public void finished(DestinationHandoff h) {
    open.remove(h.id(), h);
  }

  /**
   * The post-copy page server of migration id, for the dump agent that opened it.
   *
   * @throws SecurityException when peer did not open it
   * @throws IllegalArgumentException when it has no post-copy in progress
   */
  public LazyPages postcopy(String id, Peer peer) {
    DestinationHandoff h = open.get(id);
    if (h == null || h.pages() == null) {
      throw new IllegalArgumentException("migration " + id + " has no post-copy here");
    }
    if (!h.peer().equals(peer.identity())) {
      throw new SecurityException(peer + " did not open migration " + id);
    }
    return h.pages();
  }

  /** The source's outcome for a migration; only the dump agent that opened it may give it. */
  public ReconcileReply reconcile(ReconcileRequest request, Peer peer) {
    String id = request.getMigrationId();
    DestinationHandoff h = open.get(id);
    if (h == null) {
      MigrationPhase phase = journal.read(id).filter(e -> e.getPeer().equals(peer.identity()))
          .map(JournalEntry::getPhase).orElse(MigrationPhase.PHASE_UNKNOWN);
      return reply(phase, phase == MigrationPhase.PHASE_UNKNOWN ? "no record of " + id
          : "settled before");
    }
    if (!h.peer().equals(peer.identity())) {
      throw new SecurityException(peer + " did not open migration " + id);
    }
    switch (request.getSourcePhase()) {
      case SOURCE_KILLED -> {
        try {
          int pid = h.resume();
          EventLog.of(id, "resumed").with("pid", pid).with("by", "reconciliation").info();
          open.remove(id, h);
          return reply(MigrationPhase.RESUMED, "pid " + pid + " runs");
        } catch (IllegalStateException | IOException | HandoffException e) {
          return reply(h.phase(), e.getMessage());
        }
      }
      case ABORTED -> {
        if (h.phase() == MigrationPhase.POSTCOPY) {
          String done = h.abort("the source's memory is gone (it reconciled as aborted)"
              + " before post-copy finished");
          open.remove(id, h);
          return reply(h.phase(), done);
        }
        if (h.phase() == MigrationPhase.RESUMED) {
          EventLog.of(id, "reconcile-conflict").with("detail", "the source says it was given"
              + " back, but the copy runs here: two copies may run").severe();
          return reply(MigrationPhase.RESUMED, "the copy runs");
        }
        // Its images go with its stream, or went at this agent's start.
        String done = h.abort("the source reconciled as aborted");
        open.remove(id, h);
        return reply(h.phase(), done);
      }
      default -> {
        return reply(h.phase(), "");
      }
    }
  }

  private static ReconcileReply reply(MigrationPhase phase, String detail) {
    return ReconcileReply.newBuilder().setPhase(phase).setDetail(detail).build();
  }

  /**
   * At start: migrations a predecessor left unfinished. A stopped copy that is still there
   * waits for its source's word as if its stream had just ended; anything else is aborted.
   * A restore it was running is awaited in the background, and its copy removed. Every other
   * image folder is removed, unless kept for inspection.
   */
  /** @return the ids of copies kept stopped, waiting for their source's word */
  public Set<String> recover(boolean keepImages) throws IOException {
    Set<String> settling = new HashSet<>();
    for (JournalEntry e : journal.entries()) {
      if (Journal.finished(e.getPhase())) {
        continue;
      }
      DestinationHandoff h = new DestinationHandoff(journal, e.toBuilder(), network);
      // A post-copy copy (it has helpers) lacks memory that only the lost page server knew.
      boolean copyThere = e.getPhase() == MigrationPhase.RESTORED_STOPPED
          && e.getHelpersCount() == 0 && Incarnation.from(e.getRestoredRoot()).alive();
      EventLog.of(e.getMigrationId(), "recovered").with("was", e.getPhase())
          .with("copy", copyThere ? e.getRestoredRoot().getPid() : null).warning();
      if (copyThere) {
        open.put(h.id(), h);
        awaitWord(h, "the restore agent restarted");
      } else if (e.getPhase() == MigrationPhase.IMAGES_COMPLETE) {
        // CRIU may still be restoring; its images go once it is done.
        settling.add(h.id());
        settleInterruptedRestore(h);
      } else {
        h.abort("the restore agent restarted before the copy was confirmed");
      }
    }
    if (!keepImages) {
      try (DirectoryStream<Path> dirs = Files.newDirectoryStream(imagesDir,
          Files::isDirectory)) {
        for (Path d : dirs) {
          // A stopped copy needs no images any more: CRIU restored its memory.
          if (!settling.contains(d.getFileName().toString())) {
            removeImages(d.getFileName().toString());
          }
        }
      }
    }
    return Set.copyOf(open.keySet());
  }

  private void settleInterruptedRestore(DestinationHandoff h) {
    Thread t = new Thread(() -> {
      String done;
      try {
        done = InterruptedRestore.settle(imagesDir.resolve(h.id()).resolve("final"),
            Criu.RESTORE_TIMEOUT);
      } catch (IOException e) {
        done = "could not settle the interrupted restore: " + e.getMessage();
      }
      h.abort("the restore agent restarted during the restore; " + done);
      EventLog.of(h.id(), "recovered-restore").with("done", done).warning();
      removeImages(h.id());
    }, "recover-" + h.id());
    t.setDaemon(true);
    t.start();
  }

  private void removeImages(String id) {
    try {
      Dirs.deleteTree(imagesDir, imagesDir.resolve(id));
    } catch (IOException e) {
      EventLog.of(id, "cleanup").with("error", e.getMessage()).warning();
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
