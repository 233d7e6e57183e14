package io.livemig.restore.images;

import com.google.protobuf.ByteString;
import io.livemig.common.images.PageFlags;
import io.livemig.common.images.Pagemap;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One task's or shared object's pages within one image folder: payloads go straight to
 * pages-ID.img, all-zero runs become holes in that file (they read back as zeros and take no
 * disk blocks), and the runs are remembered, merged when adjacent, to write the pagemap at the
 * end.
 */
final class PagesWriter {
  private final RandomAccessFile file;
  private final FileChannel channel;
  private final List<Pagemap.Entry> entries = new ArrayList<>();
  private long position;
  private long payloadBytes;

  PagesWriter(Path pagesFile) throws IOException {
    file = new RandomAccessFile(pagesFile.toFile(), "rw");
    channel = file.getChannel();
  }

  /** The methods adding runs return 1 when the run is a new pagemap entry, 0 when merged. */
  int present(long vaddr, int nrPages, ByteString payload) throws IOException {
    for (ByteBuffer b : payload.asReadOnlyByteBufferList()) {
      while (b.hasRemaining()) {
        position += channel.write(b, position);
      }
    }
    payloadBytes += payload.size();
    return add(vaddr, nrPages, PageFlags.PRESENT);
  }

  int zero(long vaddr, int nrPages) {
    position += (long) nrPages * Pagemap.PAGE_SIZE;
    return add(vaddr, nrPages, PageFlags.PRESENT);
  }

  int parent(long vaddr, int nrPages) {
    return add(vaddr, nrPages, PageFlags.PARENT);
  }

  /** Pages the copy fetches after it runs (post-copy); no data here. */
  int lazy(long vaddr, int nrPages) {
    return add(vaddr, nrPages, PageFlags.LAZY);
  }

  private int add(long vaddr, long nrPages, int flags) {
    int last = entries.size() - 1;
    if (last >= 0) {
      Pagemap.Entry prev = entries.get(last);
      if (prev.flags() == flags && prev.end() == vaddr && (flags != PageFlags.LAZY
          || prev.nrPages() + nrPages <= Pagemap.MAX_LAZY_RUN_PAGES)) {
        entries.set(last, new Pagemap.Entry(prev.vaddr(), prev.nrPages() + nrPages, flags));
        return 0;
      }
    }
    entries.add(new Pagemap.Entry(vaddr, nrPages, flags));
    return 1;
  }

  List<Pagemap.Entry> entries() {
    return entries;
  }

  long payloadBytes() {
    return payloadBytes;
  }

  /** Extends the file over trailing zero runs and closes it. */
  void finish() throws IOException {
    try (file) {
      if (file.length() < position) {
        file.setLength(position);
      }
    }
  }

  void abandon() {
    try {
      file.close();
    } catch (IOException ignored) {
      // the folder is being removed
    }
  }
}
