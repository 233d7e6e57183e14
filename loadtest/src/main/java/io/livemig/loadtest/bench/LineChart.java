package io.livemig.loadtest.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** A small line chart written as PNG with the JDK's own 2D graphics (headless). */
final class LineChart {
  record Series(String name, List<double[]> points, boolean dashed) {}

  private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728),
      new Color(0x2ca02c), new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b)};
  private static final int W = 900;
  private static final int H = 540;
  private static final int LEFT = 80;
  private static final int RIGHT = 250;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();

  LineChart(String title, String xLabel, String yLabel) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
  }

  LineChart add(Series s) {
    if (!s.points().isEmpty()) {
      series.add(s);
    }
    return this;
  }

  void write(Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    double maxX = 0;
    double maxY = 0;
    for (Series s : series) {
      for (double[] p : s.points()) {
        maxX = Math.max(maxX, p[0]);
        maxY = Math.max(maxY, p[1]);
      }
    }
    maxX = niceCeil(maxX);
    maxY = niceCeil(maxY);
    int pw = W - LEFT - RIGHT;
    int ph = H - TOP - BOTTOM;
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString(title, LEFT, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int i = 0; i <= 5; i++) {
      int y = TOP + ph - ph * i / 5;
      int x = LEFT + pw * i / 5;
      g.setColor(new Color(0xdddddd));
      g.drawLine(LEFT, y, LEFT + pw, y);
      g.drawLine(x, TOP, x, TOP + ph);
      g.setColor(Color.BLACK);
      g.drawString(fmt(maxY * i / 5), 10, y + 4);
      g.drawString(fmt(maxX * i / 5), x - 10, TOP + ph + 18);
    }
    g.drawRect(LEFT, TOP, pw, ph);
    g.drawString(xLabel, LEFT + pw / 2 - 40, H - 15);
    g.drawString(yLabel, 10, TOP - 10);
    int legendY = TOP + 10;
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      g.setColor(COLORS[i % COLORS.length]);
      g.setStroke(s.dashed() ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
          10f, new float[] {8f, 6f}, 0f) : new BasicStroke(2.5f));
      int px = -1;
      int py = -1;
      for (double[] p : s.points()) {
        int x = LEFT + (int) (pw * p[0] / maxX);
        int y = TOP + ph - (int) (ph * p[1] / maxY);
        g.fillOval(x - 4, y - 4, 8, 8);
        if (px >= 0) {
          g.drawLine(px, py, x, y);
        }
        px = x;
        py = y;
      }
      g.drawLine(W - RIGHT + 15, legendY, W - RIGHT + 45, legendY);
      g.setColor(Color.BLACK);
      g.drawString(s.name(), W - RIGHT + 52, legendY + 4);
      legendY += 20;
    }
    g.dispose();
    ImageIO.write(img, "png", png.toFile());
  }

  private static double niceCeil(double v) {
    if (v <= 0) {
      return 1;
    }
    double mag = Math.pow(10, Math.floor(Math.log10(v)));
    for (double step : new double[] {1, 2, 2.5, 5, 10}) {
      if (step * mag >= v) {
        return step * mag;
      }
    }
    return 10 * mag;
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format("%.2f", v);
  }
}
