// Minimal SVG charts for the pruning report (per-layer density, accuracy across the schedule), so
// that a person can open them in any browser. No LibTorch, no plotting dependency.
#pragma once

#include <string>
#include <vector>

namespace gnconvert {

// Vertical bars, one per label; values in [0, 1] drawn as percentages.
std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& labels,
                          const std::vector<double>& values);

struct Series {
  std::string name;
  std::vector<double> values;  // in [0, 1], one per x label; NaN = no point
};

// Lines with points over categorical x labels; values drawn as percentages, y range fitted.
std::string svg_line_chart(const std::string& title, const std::vector<std::string>& labels,
                           const std::vector<Series>& series);

}  // namespace gnconvert
