package io.livemig.dump.shmem;

import io.livemig.proto.SharedKind;
import io.livemig.proto.SharedObject;

/**
 * A shared memory object of the tree as pre-copy found it: CRIU's shmid, what it is, its size,
 * the bytes of data in it (pages ever written, resident or swapped: what CRIU would dump) and
 * one mapping to read it through.
 */
public record ShmemObject(long shmid, SharedKind kind, long sizeBytes, long dataBytes,
    SharedMapping mapping) {

  public SharedObject declaration() {
    return SharedObject.newBuilder().setShmid(shmid).setSizeBytes(sizeBytes).setKind(kind)
        .build();
  }
}
