package io.livemig.common.images;

import java.io.IOException;

/** A CRIU image file that does not have the layout CRIU gives it. */
public class ImageFormatException extends IOException {
  public ImageFormatException(String message) {
    super(message);
  }
}
