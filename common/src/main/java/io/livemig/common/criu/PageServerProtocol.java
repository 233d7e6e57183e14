package io.livemig.common.criu;

/**
 * CRIU's page-server protocol (criu/page-xfer.c), as both agents speak it to CRIU: a 32-byte
 * header in host byte order, {@code u32 cmd; u32 pad; u64 nr_pages; u64 vaddr; u64 dst_id},
 * where cmd carries a command in its low 16 bits and PE_* flags above them.
 */
public final class PageServerProtocol {
  /** The header's size since CRIU 4.2 (older ones had a 32-bit nr_pages and 24 bytes). */
  public static final int HEADER_BYTES = 32;
  public static final int ADD = 1;
  public static final int HOLE = 2;
  public static final int OPEN = 3;
  public static final int OPEN2 = 4;
  public static final int ADD_F = 6;
  public static final int CLOSE = 0x1023;
  public static final int FORCE_CLOSE = 0x1024;
  /**
   * Most pages asked for at once: CRIU's lazy-pages daemon's MAX_XFER_LEN (4 MiB, criu/uffd.c),
   * which bounds the restore agent's post-copy demands too.
   */
  public static final int MAX_GET_PAGES = 1024;

  private PageServerProtocol() {}

  public static int command(int cmdWord) {
    return cmdWord & 0xFFFF;
  }

  public static int flags(int cmdWord) {
    return cmdWord >>> 16;
  }

  public static int cmdWord(int command, int flags) {
    return flags << 16 | command;
  }
}
