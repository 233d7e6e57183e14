package io.livemig.common.images;

/** Magic numbers from CRIU's criu/include/magic.h that this project reads or writes. */
public final class ImageMagic {
  /** First u32 of every protobuf image but inventory.img. */
  public static final int IMG_COMMON = 0x54564319;
  public static final int PAGEMAP = 0x56084025;
  /** inventory.img has no head magic: this is its first word. */
  public static final int INVENTORY = 0x58313116;
  public static final int PSTREE = 0x50273030;
  public static final int CORE = 0x55053847;

  private ImageMagic() {}
}
