package io.livemig.restore.validation;

/** A frame that breaks the migration protocol; the stream ends with INVALID_ARGUMENT. */
public class InvalidFrameException extends Exception {
  public InvalidFrameException(String message) {
    super(message);
  }
}
