package io.livemig.common.os;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/** Folder helpers for the agents' own folders. */
public final class Dirs {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");
  private Dirs() {}

  /**
   * Makes dir a folder that only this process's user can enter: created 0700 when missing; an
   * existing one must be a real directory (not a symbolic link) owned by this user, and is
   * narrowed to 0700. The agents keep process memory and CRIU images in such folders, often
   * below world-writable ones like /dev/shm, where another user could plant a link or read.
   */
  public static Path privateDir(Path dir) throws IOException {
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (FileAlreadyExistsException exists) {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException(dir + " exists and is not a directory (or is a symbolic link);"
            + " remove it or choose another folder");
      }
      Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      Object me = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      if (!owner.equals(me)) {
        throw new IOException(dir + " belongs to uid " + owner + ", not to this agent (uid "
            + me + "); remove it or choose another folder");
      }
    }
    Files.setPosixFilePermissions(dir, OWNER_ONLY);
    return dir;
  }

  /**
   * Removes dir and everything below it, after checking that it lies strictly inside root: the
   * agents delete only inside the folders they were given.
   */
  public static void deleteTree(Path root, Path dir) throws IOException {
    Path r = root.toAbsolutePath().normalize();
    Path d = dir.toAbsolutePath().normalize();
    if (!d.startsWith(r) || d.equals(r)) {
      throw new IOException("refusing to delete " + d + ": not inside " + r);
    }
    if (!Files.exists(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    // Files.walk does not follow symbolic links, so a 'parent' link is removed, not its target.
    try (Stream<Path> walk = Files.walk(d)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
