package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.livemig.common.images.ImageFile;
import io.livemig.common.images.ImageMagic;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.TlsOptions;
import io.livemig.common.security.TransportSecurity;
import io.livemig.proto.ImageFileChunk;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreRequest;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.proto.RoundEnd;
import io.livemig.proto.RoundStart;
import io.livemig.proto.Task;
import io.livemig.proto.criu.CoreEntry;
import io.livemig.proto.criu.CredsEntry;
import io.livemig.proto.criu.PstreeEntry;
import io.livemig.proto.criu.ThreadCoreEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restore agent process fed hand-made frames over gRPC: every malformed frame ends its stream
 * with INVALID_ARGUMENT and a message naming the problem, nothing is written outside the agent's
 * images folder (and the failed migration's folder is removed), and the agent keeps serving.
 */
class RestoreAgentRejectsBadInputIT {
  @TempDir
  static Path dir;
  static AgentProcess agent;
  static ManagedChannel channel;
  static Pki pki;
  static Path images;
  static int ids;

  @BeforeAll
  static void start() throws Exception {
    images = dir.resolve("images");
    pki = Pki.in(dir.resolve("pki"));
    List<String> args = new ArrayList<>(List.of("--images-dir", images.toString(),
        "--state-dir", dir.resolve("state").toString()));
    args.addAll(pki.flags("restore-agent", LocalCluster.HOST));
    agent = AgentProcess.start("restore-agent",
        Repo.root().resolve("restore-agent/target/restore-agent.jar"),
        dir.resolve("restore-agent.log"), args, Map.of());
    channel = channel("dump-agent", "source");
  }

  /** A TLS channel to the agent as the given identity of the cluster's CA. */
  static ManagedChannel channel(String role, String name) throws Exception {
    pki.issue(role, name);
    TransportSecurity tls = new TlsOptions(pki.ca(), pki.cert(role, name), pki.key(role, name))
        .load();
    return NettyChannelBuilder.forTarget(agent.address(), tls.channelTo(agent.address(),
        IdentityPattern.parse(pki.identity("restore-agent", LocalCluster.HOST)))).build();
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    agent.close();
  }

  static MigrationFrame header() {
    return MigrationFrame.newBuilder().setHeader(MigrationHeader.newBuilder()
        .setMigrationId("bad-input-" + (++ids)).setSourceHost("test").setPageSize(4096)
        .setRssBytes(1 << 20).addTasks(Task.newBuilder().setPid(100).setVpid(1))).build();
  }

  static MigrationFrame roundStart(int round, boolean fin) {
    return MigrationFrame.newBuilder()
        .setRoundStart(RoundStart.newBuilder().setRound(round).setFinal(fin)).build();
  }

  static MigrationFrame roundEnd(int round) {
    return MigrationFrame.newBuilder().setRoundEnd(RoundEnd.newBuilder().setRound(round)).build();
  }

  static int crc(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return (int) c.getValue();
  }

  static MigrationFrame pages(long vaddr, int nrPages, byte[] payload, int crc) {
    return MigrationFrame.newBuilder().setPages(PageChunk.newBuilder().setVpid(1).setVaddr(vaddr)
        .setNrPages(nrPages).setKind(PageKind.PRESENT).setPayload(ByteString.copyFrom(payload))
        .setCrc32C(crc)).build();
  }

  static MigrationFrame goodPages(long vaddr, int nrPages) {
    byte[] b = new byte[nrPages * 4096];
    b[0] = 1;
    return pages(vaddr, nrPages, b, crc(b));
  }

  /** Collects what the agent answers on one stream: replies, then an end or an error. */
  static final class Replies implements StreamObserver<RestoreEvent> {
    final List<RestoreEvent> events = new ArrayList<>();
    final CompletableFuture<Object> first = new CompletableFuture<>();
    final CompletableFuture<Object> second = new CompletableFuture<>();
    final CompletableFuture<Object> end = new CompletableFuture<>();

    @Override
    public void onNext(RestoreEvent e) {
      events.add(e);
      (first.isDone() ? second : first).complete(e);
    }

    @Override
    public void onError(Throwable t) {
      first.complete(t);
      second.complete(t);
      end.complete(t);
    }

    @Override
    public void onCompleted() {
      end.complete(events);
    }
  }

  /** Sends frames, half-closes, and returns the replies or the error that ended the stream. */
  static Object exchange(List<MigrationFrame> frames) throws Exception {
    Replies replies = new Replies();
    StreamObserver<MigrationFrame> out = RestoreServiceGrpc.newStub(channel).migrate(replies);
    frames.forEach(out::onNext);
    out.onCompleted();
    return replies.end.get(30, TimeUnit.SECONDS);
  }

  static void assertRejected(List<MigrationFrame> frames, String messagePart) throws Exception {
    assertRejected(frames, Status.Code.INVALID_ARGUMENT, messagePart);
  }

  static void assertRejected(List<MigrationFrame> frames, Status.Code code, String messagePart)
      throws Exception {
    Object result = exchange(frames);
    assertTrue(result instanceof StatusRuntimeException, "expected rejection, got " + result);
    Status s = ((StatusRuntimeException) result).getStatus();
    assertEquals(code, s.getCode(), s.toString());
    assertTrue(s.getDescription().contains(messagePart), s.getDescription());
    assertTrue(isEmpty(images), "failed migration's folder removed");
    assertTrue(agent.alive());
    assertAgentStillServes();
  }

  /** A valid round after every rejection: the agent commits it. */
  static void assertAgentStillServes() throws Exception {
    Replies replies = new Replies();
    StreamObserver<MigrationFrame> out = RestoreServiceGrpc.newStub(channel).migrate(replies);
    out.onNext(header());
    out.onNext(roundStart(0, false));
    out.onNext(goodPages(0x10000, 2));
    out.onNext(roundEnd(0));
    Object first = replies.first.get(30, TimeUnit.SECONDS);
    assertTrue(first instanceof RestoreEvent e && e.hasAccepted(), "accepted expected: " + first);
    Object second = replies.second.get(30, TimeUnit.SECONDS);
    assertTrue(second instanceof RestoreEvent, "commit expected, got " + second);
    assertEquals(8192, ((RestoreEvent) second).getRoundCommitted().getPageBytesWritten());
    out.onError(Status.CANCELLED.asRuntimeException());
    // The abandoned migration's folder goes away too.
    for (int i = 0; i < 100 && !isEmpty(images); i++) {
      Thread.sleep(50);
    }
    assertTrue(isEmpty(images), "abandoned migration's folder removed");
  }

  static boolean isEmpty(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.findAny().isEmpty();
    }
  }

  @Test
  void misalignedAddress() throws Exception {
    assertRejected(List.of(header(), roundStart(0, false), goodPages(0x10010, 1)),
        "not page aligned");
  }

  @Test
  void payloadNotMatchingNrPages() throws Exception {
    byte[] b = new byte[4096];
    assertRejected(List.of(header(), roundStart(0, false), pages(0x10000, 2, b, crc(b))),
        "payload has 4096 bytes, expected 8192");
  }

  @Test
  void badChecksum() throws Exception {
    byte[] b = new byte[4096];
    assertRejected(List.of(header(), roundStart(0, false), pages(0x10000, 1, b, crc(b) ^ 1)),
        "checksum mismatch");
  }

  @Test
  void overlappingEntries() throws Exception {
    assertRejected(List.of(header(), roundStart(0, false), goodPages(0x10000, 4),
        goodPages(0x12000, 1)), "overlaps or precedes");
  }

  @Test
  void imageFileNameWithPathSeparators() throws Exception {
    byte[] data = "evil".getBytes();
    MigrationFrame image = MigrationFrame.newBuilder().setImage(ImageFileChunk.newBuilder()
        .setName("../../escape.img").setData(ByteString.copyFrom(data)).setLast(true)
        .setCrc32C(crc(data))).build();
    assertRejected(List.of(header(), roundStart(0, false), goodPages(0x10000, 1), roundEnd(0),
        roundStart(1, true), image), "not a plain file name");
    assertTrue(Files.notExists(dir.resolve("escape.img")));
    assertTrue(Files.notExists(images.getParent().resolve("escape.img")));
  }

  @Test
  void parentReferenceToPagesNeverSent() throws Exception {
    MigrationFrame parent = MigrationFrame.newBuilder().setPages(PageChunk.newBuilder().setVpid(1)
        .setVaddr(0x50000).setNrPages(1).setKind(PageKind.PARENT)).build();
    assertRejected(List.of(header(), roundStart(0, false), goodPages(0x10000, 1), roundEnd(0),
        roundStart(1, true), parent), "no earlier round sent");
  }

  @Test
  void framesOutOfOrder() throws Exception {
    assertRejected(List.of(header(), goodPages(0x10000, 1)), "not valid now");
    assertRejected(List.of(header(), roundStart(1, false)), "expected round 0");
  }

  @Test
  void chunkForATaskTheHeaderDoesNotName() throws Exception {
    MigrationFrame other = MigrationFrame.newBuilder().setPages(PageChunk.newBuilder().setVpid(2)
        .setVaddr(0x10000).setNrPages(1).setKind(PageKind.ZERO)).build();
    assertRejected(List.of(header(), roundStart(0, false), other), "does not name");
  }

  @Test
  void imageNameWithAHugePagesIdIsReservedNotACrash() throws Exception {
    byte[] data = "x".getBytes();
    MigrationFrame image = MigrationFrame.newBuilder().setImage(ImageFileChunk.newBuilder()
        .setName("pages-99999999999.img").setData(ByteString.copyFrom(data)).setLast(true)
        .setCrc32C(crc(data))).build();
    assertRejected(List.of(header(), roundStart(0, false), goodPages(0x10000, 1), roundEnd(0),
        roundStart(1, true), image), "reserved");
  }

  @Test
  void framesLargerThanAChunkAreRefusedByTheTransport() throws Exception {
    // A 4 MiB chunk: what the agent used to allow, now four times its frame limit, so no
    // stream can make it hold more than 1 MiB of transport buffers per queued frame.
    MigrationFrame big = goodPages(0x10000, 1024);
    Object result = exchange(List.of(header(), roundStart(0, false), big));
    assertTrue(result instanceof StatusRuntimeException, "expected rejection, got " + result);
    // The server ends the call with RESOURCE_EXHAUSTED by resetting the stream, which the
    // client sees as CANCELLED; when the client was still writing the rest of the 4 MiB, HTTP/2
    // flow control ends the whole connection instead, which it sees as UNAVAILABLE.
    Status.Code code = ((StatusRuntimeException) result).getStatus().getCode();
    assertTrue(code == Status.Code.RESOURCE_EXHAUSTED || code == Status.Code.CANCELLED
        || code == Status.Code.UNAVAILABLE, result.toString());
    assertTrue(isEmpty(images), "the refused migration's folder is removed");
    assertAgentStillServes();
  }

  @Test
  void aPeerThatIsNotADumpAgentCannotOpenAStream() throws Exception {
    ManagedChannel asClient = channel("client", "ops");
    try {
      Replies replies = new Replies();
      StreamObserver<MigrationFrame> out = RestoreServiceGrpc.newStub(asClient).migrate(replies);
      out.onNext(header());
      out.onCompleted();
      Object result = replies.end.get(30, TimeUnit.SECONDS);
      assertTrue(result instanceof StatusRuntimeException, "expected refusal, got " + result);
      Status s = ((StatusRuntimeException) result).getStatus();
      assertEquals(Status.Code.PERMISSION_DENIED, s.getCode(), s.toString());
      assertTrue(s.getDescription().contains("not a dump agent this restore agent accepts"),
          s.getDescription());
      assertTrue(isEmpty(images));
    } finally {
      asClient.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** An image file as the final round carries it, in one piece. */
  static MigrationFrame imageFrame(String name, byte[] data) {
    return MigrationFrame.newBuilder().setImage(ImageFileChunk.newBuilder().setName(name)
        .setData(ByteString.copyFrom(data)).setLast(true).setCrc32C(crc(data))).build();
  }

  static byte[] image(int magic, MessageLite... records) throws Exception {
    Path f = Files.createTempFile(dir, "img", ".img");
    Files.delete(f);
    try (ImageFile.Writer w = ImageFile.Writer.create(f, magic)) {
      for (MessageLite r : records) {
        w.write(r);
      }
    }
    return Files.readAllBytes(f);
  }

  @Test
  void imagesThatWouldRestoreRootAreRefusedWhateverTheHeaderDeclared() throws Exception {
    MigrationFrame h = header().toBuilder().setHeader(header().getHeader().toBuilder()
        .setTasks(0, Task.newBuilder().setPid(100).setVpid(1)
            .addAllUids(List.of(1000, 1000, 1000, 1000))
            .addAllGids(List.of(1000, 1000, 1000, 1000)))).build();
    CredsEntry root = CredsEntry.newBuilder().setUid(0).setEuid(0).setSuid(0).setFsuid(0)
        .setGid(1000).setEgid(1000).setSgid(1000).setFsgid(1000).build();
    byte[] pstree = image(ImageMagic.PSTREE, PstreeEntry.newBuilder().setPid(1).setPpid(0)
        .setPgid(1).setSid(1).addThreads(1).build());
    byte[] core = image(ImageMagic.CORE, CoreEntry.newBuilder()
        .setThreadCore(ThreadCoreEntry.newBuilder().setCreds(root)).build());
    MigrationFrame restore = MigrationFrame.newBuilder()
        .setRestore(RestoreRequest.newBuilder().setRootVpid(1)).build();
    assertRejected(List.of(h, roundStart(0, false), goodPages(0x10000, 1), roundEnd(0),
        roundStart(1, true), imageFrame("pstree.img", pstree), imageFrame("core-1.img", core),
        roundEnd(1), restore), Status.Code.PERMISSION_DENIED,
        "would restore thread 1 of process 1 with uid 0");
    try (Stream<Path> left = Files.list(images)) {
      assertTrue(left.noneMatch(p -> p.toString().contains(".restore.log")), "criu never ran");
    }
  }

  @Test
  void migrationIdThatIsAPath() throws Exception {
    MigrationFrame h = MigrationFrame.newBuilder().setHeader(MigrationHeader.newBuilder()
        .setMigrationId("../x").setPageSize(4096).addTasks(Task.newBuilder().setVpid(1))).build();
    assertRejected(List.of(h), "must be 1-64 characters");
  }
}
