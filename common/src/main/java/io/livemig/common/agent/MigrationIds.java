package io.livemig.common.agent;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Migration ids name folders on both hosts, so they are plain names: an id that could be a path
 * ("../x", "/") must never reach a file system call.
 */
public final class MigrationIds {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private MigrationIds() {}

  public static boolean isValid(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** The id, or a fresh one when none is given; IllegalArgumentException when it is not plain. */
  public static String orNew(String id) {
    if (id == null || id.isEmpty()) {
      return "m-" + UUID.randomUUID().toString().substring(0, 13);
    }
    if (!isValid(id)) {
      throw new IllegalArgumentException("migration id '" + id
          + "' must be 1-64 characters of [A-Za-z0-9_-]");
    }
    return id;
  }
}
