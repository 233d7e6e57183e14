package io.livemig.restore.validation;

/**
 * A frame or image the restore agent refuses; the stream ends with the status its kind maps to
 * and this message, and the source resumes its tree.
 */
public class InvalidFrameException extends Exception {
  /** Why a frame is refused, which decides the gRPC status the sender sees. */
  public enum Kind {
    /** Breaks the protocol or the image format: INVALID_ARGUMENT. */
    MALFORMED,
    /** Over a quota or a limit of this agent: RESOURCE_EXHAUSTED. */
    OVER_LIMIT,
    /** Valid, but this agent's policy does not allow it: PERMISSION_DENIED. */
    FORBIDDEN
  }

  private final Kind kind;

  public InvalidFrameException(String message) {
    this(Kind.MALFORMED, message);
  }

  public InvalidFrameException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
