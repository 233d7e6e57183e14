package io.livemig.loadtest.bench;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Writes maps, lists, strings, numbers and booleans as JSON; all the report needs. */
final class Json {
  private Json() {}

  static String write(Object value) {
    StringBuilder b = new StringBuilder();
    write(b, value, "");
    return b.append('\n').toString();
  }

  private static void write(StringBuilder b, Object v, String indent) {
    String inner = indent + "  ";
    if (v instanceof Map<?, ?> map) {
      b.append("{");
      Iterator<? extends Map.Entry<?, ?>> it = map.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<?, ?> e = it.next();
        b.append('\n').append(inner);
        string(b, String.valueOf(e.getKey()));
        b.append(": ");
        write(b, e.getValue(), inner);
        b.append(it.hasNext() ? "," : "\n" + indent);
      }
      b.append("}");
    } else if (v instanceof List<?> list) {
      b.append("[");
      for (int i = 0; i < list.size(); i++) {
        b.append('\n').append(inner);
        write(b, list.get(i), inner);
        b.append(i + 1 < list.size() ? "," : "\n" + indent);
      }
      b.append("]");
    } else if (v instanceof Double d) {
      b.append(d.isNaN() || d.isInfinite() ? "null" : String.format("%.6g", d));
    } else if (v instanceof Number || v instanceof Boolean) {
      b.append(v);
    } else if (v == null) {
      b.append("null");
    } else {
      string(b, v.toString());
    }
  }

  private static void string(StringBuilder b, String s) {
    b.append('"');
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
