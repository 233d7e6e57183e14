package io.livemig.cli;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table: columns as wide as their widest cell, numbers right-aligned. */
final class Table {
  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... headers) {
    this.headers = List.of(headers);
  }

  Table row(Object... cells) {
    if (cells.length != headers.size()) {
      throw new IllegalArgumentException(cells.length + " cells for " + headers.size()
          + " columns");
    }
    List<String> r = new ArrayList<>();
    for (Object c : cells) {
      r.add(String.valueOf(c));
    }
    rows.add(r);
    return this;
  }

  /** Every line indented by indent; the last column is left-aligned and not padded. */
  String render(String indent) {
    int[] width = new int[headers.size()];
    for (int c = 0; c < width.length; c++) {
      width[c] = headers.get(c).length();
      for (List<String> r : rows) {
        width[c] = Math.max(width[c], r.get(c).length());
      }
    }
    StringBuilder b = new StringBuilder();
    line(b, indent, headers, width);
    for (List<String> r : rows) {
      line(b, indent, r, width);
    }
    return b.toString();
  }

  private static void line(StringBuilder b, String indent, List<String> cells, int[] width) {
    b.append(indent);
    for (int c = 0; c < cells.size(); c++) {
      String cell = cells.get(c);
      if (c == cells.size() - 1) {
        b.append(cell);
      } else {
        b.append(" ".repeat(width[c] - cell.length())).append(cell).append("  ");
      }
    }
    b.append('\n');
  }
}
