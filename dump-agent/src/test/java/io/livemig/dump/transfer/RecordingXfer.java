package io.livemig.dump.transfer;

import io.livemig.common.images.PageOwner;
import io.livemig.proto.Accepted;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageKind;
import io.livemig.proto.RestoreResult;
import io.livemig.proto.RoundCommitted;
import io.livemig.proto.RoundStats;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Records what a sender hands to the transport, copying payloads as a transport would. */
public final class RecordingXfer implements PageXfer {
  public record Chunk(PageOwner owner, long vaddr, int nrPages, PageKind kind, byte[] payload) {}

  public final List<Chunk> chunks = new ArrayList<>();
  public final List<String> images = new ArrayList<>();

  @Override
  public Accepted header(MigrationHeader header) {
    return Accepted.getDefaultInstance();
  }

  @Override
  public void deadline(long nanoTime, String name) {}

  @Override
  public void liftDeadline() {}

  @Override
  public void roundStart(int round, boolean fin, boolean lazy) {}

  @Override
  public void pages(PageOwner owner, long vaddr, int nrPages, PageKind kind,
      ByteBuffer payload) {
    byte[] bytes = null;
    if (payload != null) {
      bytes = new byte[payload.remaining()];
      payload.duplicate().get(bytes);
    }
    chunks.add(new Chunk(owner, vaddr, nrPages, kind, bytes));
  }

  @Override
  public void image(String name, long offset, ByteBuffer data, boolean last) {
    images.add(name + "@" + offset + "+" + data.remaining() + (last ? " last" : ""));
  }

  @Override
  public RoundCommitted roundEnd(int round, RoundStats stats) {
    return RoundCommitted.newBuilder().setRound(round).build();
  }

  @Override
  public RestoreResult restore(int rootVpid) {
    return RestoreResult.getDefaultInstance();
  }

  @Override
  public void resume() {}

  @Override
  public long bytesSent() {
    return 0;
  }

  @Override
  public boolean abort(String why) {
    return true;
  }

  @Override
  public void cancel(String why) {}

  @Override
  public void close() {}
}
