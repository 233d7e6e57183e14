package io.livemig.common.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * An agent's configuration file (e.g. /etc/livemig/dump-agent.conf): one {@code name = value}
 * per line, name being a long option of the agent without its dashes ({@code tls-cert =
 * /etc/livemig/tls/dump-agent.pem}), blank lines and {@code #} comments allowed. The values are
 * the options' defaults, so a flag on the command line wins over the file. A name no option
 * has is refused, not ignored: a misspelt limit must not silently run with its default.
 */
public final class ConfigFile implements CommandLine.IDefaultValueProvider {
  public static final String OPTION = "--config";
  /** Larger than any sensible configuration; the file is read whole. */
  static final long MAX_BYTES = 64 * 1024;

  private final Map<String, String> values;

  private ConfigFile(Map<String, String> values) {
    this.values = values;
  }

  /** Parses file against the options of spec; IllegalArgumentException says what is wrong. */
  public static ConfigFile load(Path file, CommandSpec spec) throws IOException {
    if (Files.size(file) > MAX_BYTES) {
      throw new IllegalArgumentException(file + " is larger than " + MAX_BYTES + " bytes");
    }
    Set<String> known = new TreeSet<>();
    for (OptionSpec o : spec.options()) {
      known.add(key(o));
    }
    known.remove(key(OPTION));
    Map<String, String> values = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = file + ":" + (i + 1) + ": ";
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(where + "expected 'name = value', got '" + line
            + "'");
      }
      String name = line.substring(0, eq).strip();
      String value = line.substring(eq + 1).strip();
      if (!known.contains(name)) {
        throw new IllegalArgumentException(where + "'" + name + "' is no option of "
            + spec.name() + "; the options are: " + String.join(", ", known));
      }
      if (values.put(name, value) != null) {
        throw new IllegalArgumentException(where + "'" + name + "' is set twice");
      }
    }
    return new ConfigFile(Map.copyOf(values));
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    return arg instanceof OptionSpec o ? values.get(key(o)) : null;
  }

  /**
   * Runs command with args, its defaults from the file named by {@code --config FILE} when
   * args have one; returns the exit code. A bad file is a usage error, told on stderr.
   */
  public static int execute(Object command, String[] args) {
    CommandLine cl = new CommandLine(command);
    Path file = configArgument(args);
    if (file != null) {
      try {
        cl.setDefaultValueProvider(load(file, cl.getCommandSpec()));
      } catch (IOException | IllegalArgumentException e) {
        System.err.println(cl.getCommandName() + ": configuration file " + file + ": "
            + e.getMessage());
        return CommandLine.ExitCode.USAGE;
      }
    }
    return cl.execute(args);
  }

  /** The value of --config in args, null when there is none. */
  static Path configArgument(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals(OPTION) && i + 1 < args.length) {
        return Path.of(args[i + 1]);
      }
      if (args[i].startsWith(OPTION + "=")) {
        return Path.of(args[i].substring(OPTION.length() + 1));
      }
    }
    return null;
  }

  private static String key(OptionSpec o) {
    return key(o.longestName());
  }

  private static String key(String optionName) {
    return optionName.replaceFirst("^-+", "");
  }
}
