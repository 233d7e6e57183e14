package io.livemig.common.network;

/** A network handoff step that did not happen. */
public final class HandoffException extends Exception {
  private final HandoffStep step;

  public HandoffException(HandoffStep step, ServiceAddress address, String detail,
      Throwable cause) {
    super("network handoff step " + step.argument() + " of service address " + address
        + " failed: " + detail, cause);
    this.step = step;
  }

  public HandoffStep step() {
    return step;
  }
}
