package io.livemig.dump.criu;

import io.livemig.common.images.Pagemap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A CRIU dump folder split the way the migration sends it: the task pagemaps and their pages
 * files, which are compared page by page with what the destination holds, and every other image
 * file, sent as is.
 */
public record FinalDump(Path dir, List<TaskPages> tasks, List<Path> otherImages) {
  private static final Pattern TASK_PAGEMAP = Pattern.compile("pagemap-(\\d+)\\.img");

  public record TaskPages(int vpid, Pagemap pagemap, Path pagesFile) {}

  public static FinalDump open(Path dir) throws IOException {
    List<TaskPages> tasks = new ArrayList<>();
    Set<Path> streamed = new HashSet<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    for (Path f : files) {
      Matcher m = TASK_PAGEMAP.matcher(f.getFileName().toString());
      if (m.matches()) {
        Pagemap pagemap = Pagemap.read(f);
        Path pages = dir.resolve(Pagemap.pagesFileName(pagemap.pagesId()));
        tasks.add(new TaskPages(Integer.parseInt(m.group(1)), pagemap, pages));
        streamed.add(f);
        streamed.add(pages);
      }
    }
    List<Path> others = files.stream().filter(f -> !streamed.contains(f)).toList();
    return new FinalDump(dir, List.copyOf(tasks), others);
  }
}
