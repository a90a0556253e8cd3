//===- CompressionPlot.cpp - the compression report as a picture -*- C++ -*-===//
//
// Two panels over the report's layers, in the model's order: bytes before
// (grey) and after (blue) compression, and the largest relative error of
// the layer's weights (red), each on its own linear scale with its maximum
// labelled. Plain SVG 1.1: any browser shows it, nothing to install.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/CompressionReport.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace tlmc;

/// `text` with the five XML metacharacters escaped.
static std::string escapeXML(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string tlmc::plotCompressionReport(const llvm::json::Object &report) {
  const llvm::json::Array &layers = *report.getArray("layers");
  double maxBytes = 1, maxError = 0;
  for (const llvm::json::Value &v : layers) {
    const llvm::json::Object &l = *v.getAsObject();
    maxBytes = std::max({maxBytes, double(*l.getInteger("float_bytes")),
                         double(*l.getInteger("bytes"))});
    maxError = std::max(maxError, *l.getNumber("max_relative_error"));
  }
  const double left = 70, top = 40, slot = 28, barsHeight = 220,
               errorHeight = 120, gap = 50, labels = 90;
  // Wide enough for the titles however few the layers.
  const double width =
      std::max(520.0, left + slot * std::max<size_t>(layers.size(), 1) + 20);
  const double errorTop = top + barsHeight + gap;
  const double height = errorTop + errorHeight + labels;
  std::string svg;
  llvm::raw_string_ostream os(svg);
  os << llvm::formatv("<svg xmlns='http://www.w3.org/2000/svg' width='{0}' "
                      "height='{1}' font-family='sans-serif' "
                      "font-size='11'>\n",
                      width, height);
  const llvm::json::Object &total = *report.getObject("total");
  os << llvm::formatv(
      "<text x='{0}' y='18' font-size='13'>compression by layer: {1} -> {2} "
      "bytes (grey before, blue after)</text>\n",
      left, *total.getInteger("float_bytes"), *total.getInteger("bytes"));
  os << llvm::formatv("<text x='4' y='{0}'>{1} B</text>\n", top + 4,
                      int64_t(maxBytes));
  os << llvm::formatv("<text x='4' y='{0}'>0</text>\n", top + barsHeight);
  os << llvm::formatv("<text x='{0}' y='{1}' font-size='13'>largest "
                      "relative error of the layer's weights</text>\n",
                      left, errorTop - 14);
  os << llvm::formatv("<text x='4' y='{0}'>{1:f4}</text>\n", errorTop + 4,
                      maxError);
  os << llvm::formatv("<text x='4' y='{0}'>0</text>\n",
                      errorTop + errorHeight);
  for (size_t i = 0; i < layers.size(); ++i) {
    const llvm::json::Object &l = *layers[i].getAsObject();
    double x = left + slot * double(i);
    double before = barsHeight * double(*l.getInteger("float_bytes")) / maxBytes;
    double after = barsHeight * double(*l.getInteger("bytes")) / maxBytes;
    std::string name = escapeXML(*l.getString("layer"));
    os << llvm::formatv("<rect x='{0}' y='{1}' width='11' height='{2}' "
                        "fill='#bbbbbb'><title>{3}: {4} bytes before"
                        "</title></rect>\n",
                        x, top + barsHeight - before, before, name,
                        *l.getInteger("float_bytes"));
    os << llvm::formatv("<rect x='{0}' y='{1}' width='11' height='{2}' "
                        "fill='#3366cc'><title>{3}: {4} bytes after"
                        "</title></rect>\n",
                        x + 12, top + barsHeight - after, after, name,
                        *l.getInteger("bytes"));
    double error = *l.getNumber("max_relative_error");
    double e = maxError > 0 ? errorHeight * error / maxError : 0;
    os << llvm::formatv("<rect x='{0}' y='{1}' width='20' height='{2}' "
                        "fill='#cc3333'><title>{3}: {4:f5}</title></rect>\n",
                        x + 2, errorTop + errorHeight - e, e, name, error);
    os << llvm::formatv("<text transform='translate({0},{1}) rotate(60)'>"
                        "{2}</text>\n",
                        x + 8, errorTop + errorHeight + 10, name);
  }
  os << llvm::formatv("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' "
                      "stroke='black'/>\n",
                      left - 4, top + barsHeight, width - 10);
  os << llvm::formatv("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' "
                      "stroke='black'/>\n",
                      left - 4, errorTop + errorHeight, width - 10);
  os << "</svg>\n";
  return svg;
}
