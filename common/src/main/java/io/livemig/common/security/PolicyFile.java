package io.livemig.common.security;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads an agent's policy file: JSON for the policy messages in policy.proto, strictly. */
public final class PolicyFile {
  /** Policies are a few lines; a larger file is a mistake, not a policy. */
  static final long MAX_BYTES = 1 << 20;

  private PolicyFile() {}

  /** Fills builder from file; a missing path leaves the builder empty (all defaults). */
  public static <B extends Message.Builder> B load(Path file, B builder) throws IOException {
    if (file == null) {
      return builder;
    }
    if (Files.size(file) > MAX_BYTES) {
      throw new IOException("policy file " + file + " is over " + MAX_BYTES + " bytes");
    }
    try {
      JsonFormat.parser().merge(Files.readString(file), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("policy file " + file + ": " + e.getMessage(), e);
    }
    return builder;
  }
}
