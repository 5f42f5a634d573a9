import DataQuality
import Foundation

/// A feature's distribution drawn by the server as an SVG: the current profile's bars over the baseline's outline
/// (numbers binned over both ranges; categories as their most frequent values), every label escaped.
enum HistogramSVG {
    static let width = 300.0, height = 96.0, bins = 20

    /// The chart of `current` against `baseline` (nil: no baseline), or nil when the profile has nothing to draw.
    static func svg(feature: String, current: FeatureProfile, baseline: FeatureProfile?) -> String? {
        if let sketch = current.sketch, sketch.count > 0 {
            return numeric(feature: feature, current: sketch, baseline: baseline?.sketch)
        }
        let top = current.topValues(8)
        guard !top.isEmpty else { return nil }
        return categorical(feature: feature, current: current, baseline: baseline, values: top.map(\.value))
    }

    private static func numeric(feature: String, current: QuantileSketch, baseline: QuantileSketch?) -> String {
        var lo = current.min, hi = current.max
        if let baseline, baseline.count > 0 { lo = min(lo, baseline.min); hi = max(hi, baseline.max) }
        func shares(_ sketch: QuantileSketch) -> [Double] {
            var counts = [Double](repeating: 0, count: bins)
            for (value, count) in sketch.buckets {
                // A range too wide for a double (-1e308 .. 1e308) is scaled in halves, so no NaN reaches Int().
                let position = hi > lo ? ((value / 2 - lo / 2) / (hi / 2 - lo / 2) * Double(bins)).rounded(.down) : 0
                let i = position.isFinite ? Int(max(0, min(Double(bins - 1), position))) : 0
                counts[i] += Double(count)
            }
            let total = max(1, Double(sketch.count))
            return counts.map { $0 / total }
        }
        let now = shares(current), before = baseline.flatMap { $0.count > 0 ? shares($0) : nil }
        let top = max(now.max() ?? 0, before?.max() ?? 0, 1e-9)
        let plotHeight = height - 22, barWidth = width / Double(bins)
        var out = header(feature: feature, kind: "numeric")
        for (i, share) in now.enumerated() {
            let h = share / top * plotHeight
            out += ##"<rect class="now" x="\##(fmt(Double(i) * barWidth + 1))" y="\##(fmt(plotHeight - h))" width="\##(fmt(barWidth - 2))" height="\##(fmt(h))" fill="#60a5fa"/>"##
        }
        if let before {
            var path = ""
            for (i, share) in before.enumerated() {
                let y = plotHeight - share / top * plotHeight
                path += (i == 0 ? "M" : " L") + " \(fmt(Double(i) * barWidth)) \(fmt(y)) L \(fmt(Double(i + 1) * barWidth)) \(fmt(y))"
            }
            out += ##"<path class="baseline" d="\##(path)" fill="none" stroke="#b45309" stroke-width="1.5"/>"##
        }
        out += label(x: 0, anchor: "start", text: shortNumber(lo)) + label(x: width, anchor: "end", text: shortNumber(hi))
        return out + "</svg>"
    }

    private static func categorical(feature: String, current: FeatureProfile, baseline: FeatureProfile?, values: [String]) -> String {
        let total = max(1, Double(current.count - current.nullCount))
        let counts = Dictionary(current.topValues(FeatureProfile.maxDistinct).map { ($0.value, $0.count) }) { a, _ in a }
        let before = baseline.map { b in (Dictionary(b.topValues(FeatureProfile.maxDistinct).map { ($0.value, $0.count) }) { a, _ in a },
                                          max(1, Double(b.count - b.nullCount))) }
        let rowHeight = (height - 6) / Double(values.count), labelWidth = 110.0
        var out = header(feature: feature, kind: "categorical")
        for (i, value) in values.enumerated() {
            let y = 3 + Double(i) * rowHeight, share = Double(counts[value] ?? 0) / total
            out += ##"<text x="\##(fmt(labelWidth - 4))" y="\##(fmt(y + rowHeight * 0.75))" font-size="10" text-anchor="end" fill="#334155">\##(LineageGraph.escape(LineageGraph.fitted(value.isEmpty ? "(empty)" : value, characters: 18)))</text>"##
            out += ##"<rect class="now" x="\##(fmt(labelWidth))" y="\##(fmt(y + 1))" width="\##(fmt(share * (width - labelWidth)))" height="\##(fmt(rowHeight - 2))" fill="#60a5fa"/>"##
            if let (baseCounts, baseTotal) = before {
                let x = labelWidth + Double(baseCounts[value] ?? 0) / baseTotal * (width - labelWidth)
                out += ##"<line class="baseline" x1="\##(fmt(x))" x2="\##(fmt(x))" y1="\##(fmt(y))" y2="\##(fmt(y + rowHeight))" stroke="#b45309" stroke-width="2"/>"##
            }
        }
        return out + "</svg>"
    }

    private static func header(feature: String, kind: String) -> String {
        ##"<svg xmlns="http://www.w3.org/2000/svg" class="histogram \##(kind)" role="img" aria-label="distribution of \##(LineageGraph.escape(feature))" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))"><title>\##(LineageGraph.escape(feature)): current (bars) and baseline (line)</title>"##
    }

    private static func label(x: Double, anchor: String, text: String) -> String {
        ##"<text x="\##(fmt(x))" y="\##(fmt(height - 6))" font-size="10" text-anchor="\##(anchor)" fill="#5b6475">\##(LineageGraph.escape(text))</text>"##
    }

    private static func fmt(_ x: Double) -> String { String(format: "%.1f", x.isFinite ? x : 0) }
    private static func shortNumber(_ x: Double) -> String { String(format: "%.4g", x) }
}
