package io.livemig.common.images;

/** Magic numbers from CRIU's criu/include/magic.h that this project reads or writes. */
public final class ImageMagic {
  /** First u32 of every protobuf image but inventory.img. */
  public static final int IMG_COMMON = 0x54564319;
  /** First u32 of stats-dump / stats-restore. */
  public static final int IMG_SERVICE = 0x55105940;
  public static final int INVENTORY = 0x58313116;
  public static final int PAGEMAP = 0x56084025;
  public static final int STATS = 0x57093306;

  private ImageMagic() {}
}
