package io.livemig.common.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.Int64Value;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class TransportWarmupTest {
  static final MethodDescriptor.Marshaller<Int64Value> LONGS =
      ProtoUtils.marshaller(Int64Value.getDefaultInstance());

  @Test
  void everyMessageSentReachesTheServerSideInOrder() throws IOException {
    List<Long> taken = new ArrayList<>();
    TransportWarmup.run(LONGS, LONGS, v -> taken.add(v.getValue()), send -> {
      for (long i = 0; i < 1000; i++) {
        send.send(Int64Value.of(i));
      }
    });
    assertEquals(LongStream.range(0, 1000).boxed().toList(), taken);
  }

  @Test
  void aServerSideThatFailsFailsTheWarmup() {
    IOException e = assertThrows(IOException.class, () -> TransportWarmup.run(LONGS, LONGS,
        v -> {
          throw new IllegalStateException("refused");
        }, send -> {
          for (long i = 0; i < 10; i++) {
            send.send(Int64Value.of(i));
          }
        }));
    assertEquals(IOException.class, e.getClass(), e.toString());
  }
}
