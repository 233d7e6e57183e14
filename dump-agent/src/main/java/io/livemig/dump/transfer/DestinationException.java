package io.livemig.dump.transfer;

import java.io.IOException;

/** The restore agent rejected the migration or could not be reached; the message is its own. */
public class DestinationException extends IOException {
  public DestinationException(String message, Throwable cause) {
    super(message, cause);
  }
}
