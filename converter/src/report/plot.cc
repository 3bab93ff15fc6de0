#include "report/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gnconvert {
namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

std::string fmt(const char* format, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a, b, c, d);
  return buf;
}

// The opening of every chart: the svg element, a white background and the title at `left`.
std::string svg_begin(double width, double height, double left, const std::string& title) {
  std::string svg =
      fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
          "font-family=\"sans-serif\" font-size=\"10\">\n",
          width, height);
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += fmt("<text x=\"%.0f\" y=\"20\" font-size=\"14\">", left) + escape(title) + "</text>\n";
  return svg;
}

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"};

}  // namespace

std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& labels,
                          const std::vector<double>& values) {
  const double left = 60, top = 40, plot_h = 300, bar_w = 14, bottom = 170;
  const double width = left + 20 + bar_w * static_cast<double>(values.size());
  const double height = top + plot_h + bottom;
  std::string svg = svg_begin(width, height, left, title);
  for (int pct = 0; pct <= 100; pct += 20) {
    double y = top + plot_h * (1.0 - pct / 100.0);
    svg += fmt("<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left,
               width - 10, y, y);
    svg += fmt("<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n", left - 5, y + 3,
               pct);
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    double v = std::min(1.0, std::max(0.0, values[i]));
    double x = left + bar_w * static_cast<double>(i);
    double h = plot_h * v;
    svg += fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f77b4\">",
               x + 1, top + plot_h - h, bar_w - 2, h);
    svg += "<title>" + escape(labels[i]) + fmt(": %.2f%%", 100 * v) + "</title></rect>\n";
    svg += fmt("<text transform=\"translate(%.1f,%.1f) rotate(-70)\" text-anchor=\"end\">",
               x + bar_w / 2 + 3, top + plot_h + 6) +
           escape(labels[i]) + "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

std::string svg_line_chart(const std::string& title, const std::vector<std::string>& labels,
                           const std::vector<Series>& series) {
  double lo = 1, hi = 0;
  for (const auto& s : series) {
    for (double v : s.values) {
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  if (lo > hi) lo = 0, hi = 1;
  lo = std::max(0.0, std::floor(lo * 50 - 0.5) / 50);  // 2-point grid
  hi = std::min(1.0, std::ceil(hi * 50 + 0.5) / 50);
  if (hi - lo < 0.02) hi = lo + 0.02;
  const double left = 60, top = 40, plot_w = std::max(300.0, 60.0 * labels.size()), plot_h = 260;
  const double width = left + plot_w + 160, height = top + plot_h + 110;
  std::string svg = svg_begin(width, height, left, title);
  auto ypos = [&](double v) { return top + plot_h * (1.0 - (v - lo) / (hi - lo)); };
  auto xpos = [&](std::size_t i) {
    return left + (labels.size() > 1 ? plot_w * i / (labels.size() - 1.0) : plot_w / 2);
  };
  for (int k = 0; k <= 5; ++k) {
    double v = lo + (hi - lo) * k / 5.0;
    svg += fmt("<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left,
               left + plot_w, ypos(v), ypos(v));
    svg += fmt("<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.1f%%</text>\n", left - 5,
               ypos(v) + 3, 100 * v);
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    svg += fmt("<text transform=\"translate(%.1f,%.1f) rotate(-40)\" text-anchor=\"end\">", xpos(i),
               top + plot_h + 12) +
           escape(labels[i]) + "</text>\n";
  }
  for (std::size_t k = 0; k < series.size(); ++k) {
    const char* color = kColors[k % 5];
    std::string points;
    for (std::size_t i = 0; i < series[k].values.size() && i < labels.size(); ++i) {
      double v = series[k].values[i];
      if (!std::isfinite(v)) continue;
      points += fmt("%.1f,%.1f ", xpos(i), ypos(v));
      svg += fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"", xpos(i), ypos(v)) + color +
             "\"><title>" + escape(series[k].name) + " " + escape(labels[i]) +
             fmt(": %.2f%%", 100 * v) + "</title></circle>\n";
    }
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(color) + "\" points=\"" + points +
           "\"/>\n";
    svg += fmt("<text x=\"%.0f\" y=\"%.0f\" fill=\"", left + plot_w + 15, top + 15 + 16.0 * k) +
           color + "\">" + escape(series[k].name) + "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace gnconvert
