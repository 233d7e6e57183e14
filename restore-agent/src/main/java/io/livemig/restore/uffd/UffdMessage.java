package io.livemig.restore.uffd;

import com.sun.jna.Pointer;

/**
 * One struct uffd_msg (linux/userfaultfd.h, 32 bytes): a page fault or a change of the faulting
 * process's memory map that userfaultfd reports to its handler.
 *
 * @param kind what happened
 * @param a the fault's address, the fork's new uffd, the remap's old address, or the start of
 *     an unmapped or removed range
 * @param b the remap's new address, or the end of an unmapped or removed range
 * @param c the remap's length
 */
public record UffdMessage(Kind kind, long a, long b, long c) {
  /** The size of struct uffd_msg. */
  public static final int BYTES = 32;

  /** The events a non-cooperative handler gets (UFFD_EVENT_*). */
  public enum Kind { PAGEFAULT, FORK, REMAP, REMOVE, UNMAP }

  /** Parses the message at offset of buf. */
  public static UffdMessage parse(Pointer buf, long offset) {
    int event = buf.getByte(offset) & 0xff;
    Kind kind = switch (event) {
      case 0x12 -> Kind.PAGEFAULT;
      case 0x13 -> Kind.FORK;
      case 0x14 -> Kind.REMAP;
      case 0x15 -> Kind.REMOVE;
      case 0x16 -> Kind.UNMAP;
      default -> throw new IllegalStateException(String.format(
          "userfaultfd reported event %#x, which this agent does not handle", event));
    };
    return switch (kind) {
      case PAGEFAULT -> new UffdMessage(kind, buf.getLong(offset + 16), 0, 0);
      case FORK -> new UffdMessage(kind, buf.getInt(offset + 8), 0, 0);
      case REMAP -> new UffdMessage(kind, buf.getLong(offset + 8), buf.getLong(offset + 16),
          buf.getLong(offset + 24));
      case REMOVE, UNMAP -> new UffdMessage(kind, buf.getLong(offset + 8),
          buf.getLong(offset + 16), 0);
    };
  }
}
