package io.livemig.common.criu;

/** CRIU is missing, unusable, or one of its runs failed; the message says which and how. */
public class CriuException extends Exception {
  public CriuException(String message) {
    super(message);
  }

  public CriuException(String message, Throwable cause) {
    super(message, cause);
  }
}
