package io.livemig.common.journal;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.livemig.common.agent.MigrationIds;
import io.livemig.common.os.Dirs;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationPhase;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * An agent's record of its migrations: one JSON file per migration in the agent's state
 * folder, replaced atomically at every phase change, so that an agent killed at any moment
 * finds, when it starts again, each migration in the last phase it reached. Finished migrations
 * stay as history until {@link #prune}.
 *
 * <p>Only the phases that must outlive a crash of the whole host are fsync'ed (file and
 * folder): see {@link #survivesHostCrash}. The others are in the page cache, which an agent's
 * crash leaves intact; they are the handoff's own steps, inside the frozen window, where an
 * fsync waits behind every dirty page of the file system (an image folder on the same disk
 * made one take 1.7 s here).
 */
public final class Journal {
  private static final Logger LOG = Logger.getLogger(Journal.class.getName());
  /** An entry is a few hundred bytes; anything much larger is not one of ours. */
  static final int MAX_ENTRY_BYTES = 256 << 10;
  private static final String SUFFIX = ".json";

  private final Path dir;

  private Journal(Path dir) {
    this.dir = dir;
  }

  /** The journal in dir, created (private to this agent) when missing. */
  public static Journal open(Path dir) throws IOException {
    return new Journal(Dirs.privateDir(dir));
  }

  public Path dir() {
    return dir;
  }

  /** Whether a migration in this phase needs nothing more from its agent. */
  public static boolean finished(MigrationPhase phase) {
    return phase == MigrationPhase.RESUMED || phase == MigrationPhase.ABORTED;
  }

  /**
   * Whether a phase's record is fsync'ed. A crash of the host ends every process on it: the
   * source tree, the CRIU holding it, a copy and its helpers. What a restarted agent then
   * decides from an in-flight handoff phase (FROZEN to RESTORED_STOPPED, POSTCOPY) is what its
   * peer decides without it: no copy survives on a destination that lost it, and a source that
   * lost its tree before the commit point has nothing to give back. The commit point is
   * different: the copy on the other host is then the only one, and a source that comes back
   * must tell it to run; so are the start and the outcome, which operators read as history.
   */
  static boolean survivesHostCrash(MigrationPhase phase) {
    return switch (phase) {
      case FROZEN, IMAGES_COMPLETE, RESTORED_STOPPED, POSTCOPY -> false;
      default -> true;
    };
  }

  /**
   * Writes the entry, replacing the migration's previous one; durably when
   * {@link #survivesHostCrash} says so.
   */
  public synchronized void record(JournalEntry entry) throws IOException {
    String id = entry.getMigrationId();
    if (!MigrationIds.isValid(id)) {
      throw new IllegalArgumentException("journal entry for an invalid migration id '" + id + "'");
    }
    JournalEntry stamped = entry.toBuilder().setUpdatedUnixMs(System.currentTimeMillis()).build();
    Path tmp = dir.resolve(id + SUFFIX + ".tmp");
    ByteBuffer bytes = ByteBuffer.wrap(JsonFormat.printer().print(stamped)
        .getBytes(StandardCharsets.UTF_8));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      while (bytes.hasRemaining()) {
        ch.write(bytes);
      }
      if (survivesHostCrash(entry.getPhase())) {
        ch.force(true);
      }
    }
    Files.move(tmp, file(id), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    if (survivesHostCrash(entry.getPhase())) {
      syncDir();
    }
  }

  /** The migration's entry, if the journal has one. */
  public synchronized Optional<JournalEntry> read(String id) {
    if (!MigrationIds.isValid(id)) {
      return Optional.empty();
    }
    Path f = file(id);
    if (!Files.exists(f)) {
      return Optional.empty();
    }
    try {
      return Optional.of(parse(f));
    } catch (IOException e) {
      LOG.warning("journal entry " + f + " is unreadable: " + e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Every entry, oldest first. An unreadable file (a disk error, or not written by an agent) is
   * renamed to *.corrupt and logged, not silently dropped: the migration it stood for may need
   * an operator.
   */
  public synchronized List<JournalEntry> entries() throws IOException {
    List<JournalEntry> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path f : files) {
        try {
          out.add(parse(f));
        } catch (IOException e) {
          Path aside = f.resolveSibling(f.getFileName() + ".corrupt");
          LOG.severe("journal entry " + f + " is unreadable (" + e.getMessage() + "); moved to "
              + aside + ": check the migration it names by hand");
          Files.move(f, aside, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    out.sort(Comparator.comparingLong(JournalEntry::getStartedUnixMs));
    return out;
  }

  /** Drops finished entries older than maxAge, and all but the newest keep finished ones. */
  public synchronized void prune(Duration maxAge, int keep) throws IOException {
    long oldest = System.currentTimeMillis() - maxAge.toMillis();
    List<JournalEntry> done = entries().stream().filter(e -> finished(e.getPhase())).toList();
    for (int i = 0; i < done.size(); i++) {
      JournalEntry e = done.get(i);
      if (e.getUpdatedUnixMs() < oldest || i < done.size() - keep) {
        Files.deleteIfExists(file(e.getMigrationId()));
      }
    }
    syncDir();
  }

  private Path file(String id) {
    return dir.resolve(id + SUFFIX);
  }

  private static JournalEntry parse(Path f) throws IOException {
    if (Files.size(f) > MAX_ENTRY_BYTES) {
      throw new IOException("larger than " + MAX_ENTRY_BYTES + " bytes");
    }
    JournalEntry.Builder b = JournalEntry.newBuilder();
    try {
      JsonFormat.parser().merge(Files.readString(f), b);
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      throw new IOException("not a journal entry: " + e.getMessage(), e);
    }
    String expected = f.getFileName().toString();
    if (!(b.getMigrationId() + SUFFIX).equals(expected)) {
      throw new IOException("names migration '" + b.getMigrationId() + "'");
    }
    return b.build();
  }

  private void syncDir() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }
}
