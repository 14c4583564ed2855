import Foundation
import SeismoCore

/// The backtest as one self-contained HTML page: the metrics table, then one inline SVG per
/// series (detector × group) — values, expected value and band, labelled windows, detections,
/// and below them the scores against the threshold.
public enum BacktestReport {
    public static func html(_ result: Backtest.Result, pipeline: String, source: String) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Backtest \(escape(pipeline))</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
            table { border-collapse: collapse; margin-bottom: 24px; }
            td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
            th:first-child, td:first-child { text-align: left; }
            h2 { font-size: 15px; margin: 24px 0 4px; }
            .legend span { margin-right: 16px; }
            </style></head><body>
            <h1>Backtest of pipeline \(escape(pipeline))</h1>
            <p>History: \(escape(source)). Scored causally, window by window; NAB windows rules and probation.</p>
            <table><tr><th>detector</th><th>model</th><th>rows</th><th>detections</th><th>windows found</th>
            <th>precision</th><th>recall</th><th>F1</th><th>NAB standard</th><th>NAB low FP</th><th>NAB low FN</th></tr>

            """
        for m in result.metrics {
            out += "<tr><td>\(escape(m.detector))</td><td>\(escape(m.model))</td><td>\(m.rows)</td><td>\(m.detections)</td>"
            out += "<td>\(m.windowsDetected) / \(m.windows)</td><td>\(f(m.precision, 3))</td><td>\(f(m.recall, 3))</td><td>\(f(m.f1, 3))</td>"
            out += m.nab.map { "<td>\(f($0.result.normalised, 2))</td>" }.joined() + "</tr>\n"
        }
        out += """
            </table>
            <p class="legend"><span style="color:#1f77b4">━ value</span><span style="color:#555">┅ expected</span>
            <span style="color:#9ecae1">▇ band</span><span style="color:#d62728">● detection</span>
            <span style="color:#f4a3a3">▇ labelled window</span><span style="color:#ff7f0e">━ score</span>
            <span style="color:#999">┅ threshold</span></p>

            """
        for s in result.series {
            out += "<h2>\(escape(s.detector)) (\(escape(s.detectorType))) · \(escape(s.group.description)) · \(escape(s.feature))</h2>\n"
            out += svg(s) + "\n"
        }
        return out + "</body></html>\n"
    }

    /// One series as SVG: values panel (300 px) above scores panel (120 px).
    public static func svg(_ s: BacktestSeries) -> String {
        let width = 960.0, left = 76.0, right = 16.0
        let top = (y: 12.0, h: 280.0), bottom = (y: 320.0, h: 110.0)
        let height = 460.0
        let n = s.times.count
        guard n > 0 else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"40\"><text x=\"8\" y=\"24\">no rows</text></svg>"
        }
        let t0 = Double(s.times.first!), t1 = Double(max(s.times.last!, s.times.first! + 1))
        func x(_ t: Int64) -> Double { left + (Double(t) - t0) / (t1 - t0) * (width - left - right) }
        var ys = s.values.filter(\.isFinite)
        for series in [s.lower, s.upper, s.expected] { ys += series.compactMap { $0 }.filter(\.isFinite) }
        var (lo, hi) = (ys.min() ?? 0, ys.max() ?? 1)
        if hi <= lo { (lo, hi) = (lo - 1, hi + 1) }
        let pad = (hi - lo) * 0.05
        (lo, hi) = (lo - pad, hi + pad)
        func y(_ v: Double) -> Double { top.y + top.h - (min(max(v, lo), hi) - lo) / (hi - lo) * top.h }
        let scores = s.scores.compactMap { $0 }.filter(\.isFinite)
        let scoreHigh = max(s.threshold * 1.5, min(scores.max() ?? 1, s.threshold * 10))
        func yScore(_ v: Double) -> Double { bottom.y + bottom.h - min(max(v, 0), scoreHigh) / scoreHigh * bottom.h }

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
        // Labelled windows across both panels.
        for w in s.labelled {
            let a = max(x(w.lowerBound), left), b = min(x(w.upperBound), width - right)
            guard b >= a else { continue }
            svg += "<rect x=\"\(f(a))\" y=\"\(f(top.y))\" width=\"\(f(max(b - a, 2)))\" height=\"\(f(bottom.y + bottom.h - top.y))\" fill=\"#f4a3a3\" fill-opacity=\"0.45\"><title>labelled \(TimeParser.formatRFC3339(Timestamp(milliseconds: w.lowerBound))) – \(TimeParser.formatRFC3339(Timestamp(milliseconds: w.upperBound)))</title></rect>"
        }
        // Probation shading.
        if s.probation > 0, s.probation < n {
            svg += "<rect x=\"\(f(left))\" y=\"\(f(top.y))\" width=\"\(f(x(s.times[s.probation]) - left))\" height=\"\(f(bottom.y + bottom.h - top.y))\" fill=\"#eee\" fill-opacity=\"0.6\"><title>probation / training</title></rect>"
        }
        // Band as one polygon per contiguous run.
        var run: [(Int64, Double, Double)] = []
        func flushBand() {
            guard run.count >= 2 else { run = []; return }
            let upperPath = run.map { "\(f(x($0.0))),\(f(y($0.2)))" }
            let lowerPath = run.reversed().map { "\(f(x($0.0))),\(f(y($0.1)))" }
            svg += "<polygon points=\"\((upperPath + lowerPath).joined(separator: " "))\" fill=\"#9ecae1\" fill-opacity=\"0.5\" stroke=\"none\"/>"
            run = []
        }
        for i in 0..<n {
            if let l = s.lower[i], let u = s.upper[i], l.isFinite, u.isFinite { run.append((s.times[i], l, u)) } else { flushBand() }
        }
        flushBand()
        svg += polyline(s.times, s.expected, x: x, y: y, stroke: "#555", dash: true)
        svg += polyline(s.times, s.values.map { Optional($0) }, x: x, y: y, stroke: "#1f77b4", dash: false)
        for i in 0..<n where s.detections[i] {
            svg += "<circle cx=\"\(f(x(s.times[i])))\" cy=\"\(f(y(s.values[i].isFinite ? s.values[i] : lo)))\" r=\"3.5\" fill=\"#d62728\"><title>detection at \(TimeParser.formatRFC3339(Timestamp(milliseconds: s.times[i]))), score \(f(s.scores[i] ?? 0, 3))</title></circle>"
        }
        // Scores panel.
        svg += polyline(s.times, s.scores, x: x, y: yScore, stroke: "#ff7f0e", dash: false)
        svg += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(yScore(s.threshold)))\" y2=\"\(f(yScore(s.threshold)))\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
        // Axes and labels.
        for (py, ph) in [top, bottom] {
            svg += "<rect x=\"\(f(left))\" y=\"\(f(py))\" width=\"\(f(width - left - right))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#888\"/>"
        }
        svg += "<text x=\"\(f(left - 4))\" y=\"\(f(top.y + 10))\" text-anchor=\"end\">\(axis(hi))</text>"
        svg += "<text x=\"\(f(left - 4))\" y=\"\(f(top.y + top.h))\" text-anchor=\"end\">\(axis(lo))</text>"
        svg += "<text x=\"\(f(left - 4))\" y=\"\(f(bottom.y + 10))\" text-anchor=\"end\">\(axis(scoreHigh))</text>"
        svg += "<text x=\"\(f(left - 4))\" y=\"\(f(yScore(s.threshold) + 4))\" text-anchor=\"end\">thr \(f(s.threshold, 3))</text>"
        svg += "<text x=\"\(f(left - 4))\" y=\"\(f(bottom.y + bottom.h))\" text-anchor=\"end\">0</text>"
        svg += "<text x=\"\(f(left + 4))\" y=\"\(f(bottom.y - 4))\">score</text>"
        for k in 0...4 {
            let t = Int64(t0 + (t1 - t0) * Double(k) / 4)
            let label = TimeParser.formatRFC3339(Timestamp(milliseconds: t)).prefix(16).replacingOccurrences(of: "T", with: " ")
            let anchor = k == 0 ? "start" : (k == 4 ? "end" : "middle")
            svg += "<text x=\"\(f(x(t)))\" y=\"\(f(bottom.y + bottom.h + 16))\" text-anchor=\"\(anchor)\">\(label)</text>"
        }
        return svg + "</svg>"
    }

    private static func polyline(
        _ times: [Int64], _ values: [Double?], x: (Int64) -> Double, y: (Double) -> Double, stroke: String, dash: Bool
    ) -> String {
        var out = ""
        var points: [String] = []
        func flush() {
            if points.count >= 2 {
                out += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"1.2\"\(dash ? " stroke-dasharray=\"5 3\"" : "")/>"
            }
            points = []
        }
        for (t, v) in zip(times, values) {
            if let v, v.isFinite { points.append("\(f(x(t))),\(f(y(v)))") } else { flush() }
        }
        flush()
        return out
    }

    /// Axis labels: 4 significant digits, thousands and millions as k and M.
    static func axis(_ x: Double) -> String {
        guard x.isFinite else { return "–" }
        switch abs(x) {
        case 1e6...: return String(format: "%.4gM", x / 1e6)
        case 1e4...: return String(format: "%.4gk", x / 1e3)
        default: return String(format: "%.4g", x)
        }
    }

    static func f(_ x: Double, _ digits: Int = 1) -> String {
        guard x.isFinite else { return "–" }
        return digits == 1 ? String(format: "%.1f", x) : String(format: "%.\(digits)g", x)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
