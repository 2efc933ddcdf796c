import Foundation

/// Small self-contained SVG charts for the HTML report: lines with error
/// bars (linear or log axes) and grouped bars.
enum SVGChart {
    struct Point {
        var x: Double
        var y: Double
        var low: Double?
        var high: Double?
    }

    struct Series {
        var name: String
        var color: String
        var points: [Point]
    }

    enum Scale {
        case linear
        case log10

        func map(_ v: Double) -> Double {
            switch self {
            case .linear: return v
            case .log10: return Foundation.log10(Swift.max(v, 1e-9))
            }
        }
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    static let width = 560.0, height = 320.0
    static let left = 70.0, right = 150.0, top = 34.0, bottom = 46.0

    static func lineChart(title: String, xLabel: String, yLabel: String, series: [Series],
                          xScale: Scale = .linear, yScale: Scale = .linear,
                          xTicks: [(Double, String)], yFromZero: Bool = true) -> String {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return empty(title) }
        let xs = xTicks.map(\.0) + all.map(\.x)
        let x0 = xScale.map(xs.min()!), x1 = xScale.map(xs.max()!)
        let ys = all.flatMap { [$0.y, $0.low ?? $0.y, $0.high ?? $0.y] }
        var y0 = yScale.map(ys.min()!), y1 = yScale.map(ys.max()!)
        if yScale == .log10 {
            y0 = floor(y0)
            y1 = Swift.max(ceil(y1), y0 + 1)
        } else {
            if yFromZero { y0 = Swift.min(0, y0) }
            y1 = y1 + (y1 - y0) * 0.08 + (y1 == y0 ? 1 : 0)
        }
        let px = { (v: Double) in left + (xScale.map(v) - x0) / Swift.max(x1 - x0, 1e-9) * (width - left - right) }
        let py = { (v: Double) in height - bottom - (yScale.map(v) - y0) / Swift.max(y1 - y0, 1e-9) * (height - top - bottom) }
        var svg = frame(title: title, xLabel: xLabel, yLabel: yLabel)
        // Y ticks: powers of ten on a log axis, five steps on a linear one.
        let yTicks: [Double] = yScale == .log10
            ? stride(from: y0, through: y1, by: 1).map { pow(10, $0) }
            : (0...5).map { y0 + (y1 - y0) * Double($0) / 5 }
        for v in yTicks {
            svg += "<line class=\"grid\" x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(py(v)))\" y2=\"\(f(py(v)))\"/>"
            svg += "<text class=\"tick\" x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(tick(v))</text>"
        }
        for (v, label) in xTicks {
            svg += "<line class=\"grid\" x1=\"\(f(px(v)))\" x2=\"\(f(px(v)))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\"/>"
            svg += "<text class=\"tick\" x=\"\(f(px(v)))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\">\(escape(label))</text>"
        }
        for (i, s) in series.enumerated() {
            let pts = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline class=\"series\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\" points=\"\(pts)\"><title>\(escape(s.name))</title></polyline>"
            for p in s.points {
                if let lo = p.low, let hi = p.high {
                    svg += "<line stroke=\"\(s.color)\" x1=\"\(f(px(p.x)))\" x2=\"\(f(px(p.x)))\" y1=\"\(f(py(lo)))\" y2=\"\(f(py(hi)))\"/>"
                }
                svg += "<circle fill=\"\(s.color)\" cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\"><title>\(escape(s.name)): \(TextReport.human(p.y))</title></circle>"
            }
            svg += legend(i, s.name, s.color)
        }
        return svg + "</svg>"
    }

    /// Bars: for each group on the x axis, one bar per series.
    static func barChart(title: String, yLabel: String, groups: [String], series: [(name: String, color: String, values: [Double?])]) -> String {
        let values = series.flatMap { $0.values.compactMap { $0 } }
        guard !values.isEmpty, !groups.isEmpty else { return empty(title) }
        let y1 = Swift.max(values.max()! * 1.1, 1e-9)
        let plotW = width - left - right, plotH = height - top - bottom
        let groupW = plotW / Double(groups.count)
        let barW = groupW * 0.8 / Double(Swift.max(series.count, 1))
        let py = { (v: Double) in height - bottom - v / y1 * plotH }
        var svg = frame(title: title, xLabel: "", yLabel: yLabel)
        for k in 0...4 {
            let v = y1 * Double(k) / 4
            svg += "<line class=\"grid\" x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(py(v)))\" y2=\"\(f(py(v)))\"/>"
            svg += "<text class=\"tick\" x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(tick(v))</text>"
        }
        for (g, name) in groups.enumerated() {
            let gx = left + groupW * Double(g)
            svg += "<text class=\"tick\" x=\"\(f(gx + groupW / 2))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\">\(escape(name))</text>"
            for (i, s) in series.enumerated() {
                guard let v = s.values[g] else { continue }
                let x = gx + groupW * 0.1 + barW * Double(i)
                svg += "<rect class=\"bar\" fill=\"\(s.color)\" x=\"\(f(x))\" y=\"\(f(py(v)))\" width=\"\(f(barW * 0.9))\" height=\"\(f(Swift.max(0, height - bottom - py(v))))\"><title>\(escape(s.name)) \(escape(name)): \(TextReport.fixed(v, 2))</title></rect>"
            }
        }
        for (i, s) in series.enumerated() { svg += legend(i, s.name, s.color) }
        return svg + "</svg>"
    }

    private static func frame(title: String, xLabel: String, yLabel: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\">"
            + "<title>\(escape(title))</title>"
            + "<rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#fff\"/>"
            + "<text class=\"title\" x=\"\(f(left))\" y=\"20\">\(escape(title))</text>"
            + "<line class=\"axis\" x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\"/>"
            + "<line class=\"axis\" x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(height - bottom))\" y2=\"\(f(height - bottom))\"/>"
            + "<text class=\"label\" x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
            + "<text class=\"label\" transform=\"translate(14 \(f((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
    }

    private static func legend(_ i: Int, _ name: String, _ color: String) -> String {
        let y = top + 16 * Double(i)
        return "<rect x=\"\(f(width - right + 12))\" y=\"\(f(y - 9))\" width=\"12\" height=\"10\" fill=\"\(color)\"/>"
            + "<text class=\"legend\" x=\"\(f(width - right + 30))\" y=\"\(f(y))\">\(escape(name))</text>"
    }

    private static func empty(_ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(f(width))\" height=\"60\"><text x=\"10\" y=\"30\">\(escape(title)): no data</text></svg>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Axis labels: 1.2M and 35.0K for large values, plain digits for small ones.
    static func tick(_ v: Double) -> String {
        v >= 1000 ? TextReport.human(v) : v >= 10 || v == 0 ? String(format: "%.0f", v) : String(format: "%.2g", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
