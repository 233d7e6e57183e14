package io.livemig.restore.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.internal.CompositeReadableBuffer;
import io.grpc.internal.ForwardingReadableBuffer;
import io.grpc.internal.ReadableBuffer;
import io.grpc.internal.ReadableBuffers;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.PageBatch;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.restore.RestoreLimits;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FrameMarshallerTest {
  private final FrameMarshaller marshaller = new FrameMarshaller();
  private final AtomicInteger closed = new AtomicInteger();
  private final List<ByteBuffer> pieces = new ArrayList<>();

  private static MigrationFrame pages(int nrPages) {
    byte[] payload = new byte[nrPages * 4096];
    new Random(nrPages).nextBytes(payload);
    return MigrationFrame.newBuilder().setPages(PageChunk.newBuilder().setVpid(1)
        .setVaddr(0x400000).setNrPages(nrPages).setKind(PageKind.PRESENT)
        .setPayload(ByteString.copyFrom(payload)).setCrc32C(7)).build();
  }

  /** The bytes in 64 KiB direct buffers, as a transport delivers them. */
  private InputStream transportStream(byte[] wire) {
    CompositeReadableBuffer composite = new CompositeReadableBuffer();
    for (int off = 0; off < wire.length; off += 65536) {
      ByteBuffer b = ByteBuffer.allocateDirect(Math.min(65536, wire.length - off));
      b.put(wire, off, b.capacity()).flip();
      pieces.add(b);
      ReadableBuffer counted = new ForwardingReadableBuffer(ReadableBuffers.wrap(b)) {
        @Override
        public void close() {
          closed.incrementAndGet();
        }
      };
      composite.addBuffer(counted);
    }
    return ReadableBuffers.openStream(composite, true);
  }

  @Test
  void payloadPointsIntoTheTransportBuffersUntilReleased() {
    MigrationFrame sent = pages(64);
    ReceivedFrame got = marshaller.parse(transportStream(sent.toByteArray()));
    assertEquals(sent, got.frame());
    assertEquals(0, closed.get(), "buffers are kept while the frame lives");

    ByteBuffer third = pieces.get(2);
    third.put(100, (byte) (third.get(100) ^ 1));
    assertNotEquals(sent.getPages().getPayload(), got.frame().getPages().getPayload(),
        "the payload is the transport's memory, not a copy");

    got.release();
    got.release();
    assertEquals(pieces.size(), closed.get(), "every buffer returned once");
  }

  @Test
  void streamsThatCannotHandOverBuffersAreParsedAsACopy() {
    MigrationFrame sent = pages(3);
    ReceivedFrame got = marshaller.parse(new ByteArrayInputStream(sent.toByteArray()));
    assertEquals(sent, got.frame());
    got.release();
  }

  @Test
  void malformedFrameCarriesItsReasonAndItsBuffersAreReturned() {
    byte[] wire = pages(32).toByteArray();
    byte[] cut = java.util.Arrays.copyOf(wire, wire.length - 1000);
    ReceivedFrame got = marshaller.parse(transportStream(cut));
    assertNotNull(got.malformed(), "a parse failure is a frame the writer rejects, not a throw");
    assertTrue(got.malformed().contains("truncated"), got.malformed());
    assertEquals(pieces.size(), closed.get());
  }

  @Test
  void malformedCopiedFrameCarriesItsReasonToo() {
    ReceivedFrame got = marshaller.parse(new ByteArrayInputStream(new byte[] {(byte) 0xff, 1}));
    assertNotNull(got.malformed());
  }

  private static MigrationFrame batch(int chunks) {
    PageBatch.Builder b = PageBatch.newBuilder();
    for (int i = 0; i < chunks; i++) {
      b.addChunks(PageChunk.newBuilder().setVpid(1).setVaddr(0x400000L + i * 8192L)
          .setNrPages(1).setKind(PageKind.ZERO));
    }
    return MigrationFrame.newBuilder().setPageBatch(b).build();
  }

  @Test
  void batchOfTheMostChunksAllowedParses() {
    MigrationFrame sent = batch(RestoreLimits.MAX_BATCH_CHUNKS);
    ReceivedFrame got = marshaller.parse(transportStream(sent.toByteArray()));
    assertNull(got.malformed());
    assertEquals(sent, got.frame());
    got.release();
  }

  @Test
  void batchOfMoreChunksIsRefusedBeforeItIsParsed() {
    byte[] wire = batch(RestoreLimits.MAX_BATCH_CHUNKS + 1).toByteArray();
    for (ReceivedFrame got : List.of(marshaller.parse(transportStream(wire)),
        marshaller.parse(new ByteArrayInputStream(wire)))) {
      assertNotNull(got.malformed());
      assertTrue(got.malformed().contains("page batch of over 1024 chunks"), got.malformed());
    }
    assertEquals(pieces.size(), closed.get());
  }

  @Test
  void batchSplitOverRepeatedFieldsCountsAsOne() {
    // The parser merges a repeated message field: two halves make one batch of both.
    byte[] half = batch(RestoreLimits.MAX_BATCH_CHUNKS / 2 + 1).toByteArray();
    byte[] wire = new byte[half.length * 2];
    System.arraycopy(half, 0, wire, 0, half.length);
    System.arraycopy(half, 0, wire, half.length, half.length);
    ReceivedFrame got = marshaller.parse(transportStream(wire));
    assertNotNull(got.malformed(), "a batch of " + (RestoreLimits.MAX_BATCH_CHUNKS + 2)
        + " chunks in two pieces");
  }

  @Test
  void releasedFrameRefusesToBeRead() {
    ReceivedFrame got = marshaller.parse(transportStream(pages(2).toByteArray()));
    got.release();
    assertThrows(IllegalStateException.class, got::frame);
  }
}
