import Foundation

/// The soak as JUnit XML, for CI systems: one test case per phase (its
/// reproducer in the failure text), one for the RSS check.
public enum JUnit {
    public static func xml(_ s: SoakResult) -> String {
        var cases: [String] = []
        for p in s.phases {
            let name = "phase \(p.phase): \(p.strategy) \(p.workload.rawValue) \(p.faulters)f\(p.mutators)m \(p.index.rawValue)"
                + (p.rcuFlavor.map { " \($0.rawValue)" } ?? "")
                + (p.perturbations.isEmpty ? "" : " " + p.perturbations.joined(separator: " "))
            var body = ""
            switch p.verdict {
            case .failure:
                let first = p.violations.first
                let message = first.map { "\($0.invariant.rawValue): \($0.seen)" } ?? "\(p.violationCount) violation(s)"
                let text = "reproduce: \(p.reproduce)\n\n" + p.violations.map(\.text).joined(separator: "\n\n")
                body = "<failure type=\"\(escape(first?.invariant.rawValue ?? "violation"))\" message=\"\(escape(message))\">"
                    + escape(text) + "</failure>"
            case .interrupted, .incomplete:
                body = "<skipped message=\"\(escape("interrupted by \(s.interruptedBy ?? "a signal")"))\"/>"
            case .success:
                break
            }
            body += "<system-out>\(escape("reproduce: \(p.reproduce)\nfaults \(p.faults), mutations \(p.mutations), checkpoints \(p.checkpoints), stutters \(p.stutters), shuffles \(p.shuffles)"))</system-out>"
            cases.append("    <testcase classname=\"vmastress.soak.\(escape(p.strategy))\" name=\"\(escape(name))\" time=\"\(seconds(p.wallSeconds))\">\(body)</testcase>")
        }
        let rss = s.rss.verdict
        let rssBody = rss.growing ? "<failure type=\"RSS\" message=\"\(escape(rss.reason))\"/>"
            : rss.judged ? "" : "<skipped message=\"\(escape(rss.reason))\"/>"
        cases.append("    <testcase classname=\"vmastress.soak\" name=\"rss steady\" time=\"0\">\(rssBody)</testcase>")
        // Written at every checkpoint too: a soak killed outright leaves this error behind, never a
        // file that reads as passed (or the previous run's SUCCESS).
        let incomplete = s.verdict == .incomplete
        if incomplete {
            cases.append("    <testcase classname=\"vmastress.soak\" name=\"soak finished\" time=\"0\"><error type=\"INCOMPLETE\" message=\"\(escape("the soak had not finished when this file was written (\(s.phases.count) phase(s) done); it was killed or is still running"))\"/></testcase>")
        }
        let failures = s.phases.filter { $0.verdict == .failure }.count + (rss.growing ? 1 : 0)
        let skipped = s.phases.filter { $0.verdict == .interrupted }.count + (rss.judged ? 0 : 1)
        let props = [("seed", "\(s.plan.seed)"), ("duration", "\(s.durationSeconds)"), ("verdict", s.verdict.rawValue),
                     ("start", s.startLine), ("end", s.endLine)]
            .map { "      <property name=\"\($0.0)\" value=\"\(escape($0.1))\"/>" }.joined(separator: "\n")
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="vmastress soak" tests="\(cases.count)" failures="\(failures)" errors="\(incomplete ? 1 : 0)" time="\(seconds(s.elapsedSeconds))">
              <testsuite name="vmastress.soak" tests="\(cases.count)" failures="\(failures)" errors="\(incomplete ? 1 : 0)" skipped="\(skipped)" time="\(seconds(s.elapsedSeconds))" timestamp="\(escape(s.createdAt))" hostname="\(escape(s.machine.hostname))">
                <properties>
            \(props)
                </properties>
            \(cases.joined(separator: "\n"))
              </testsuite>
            </testsuites>

            """
    }

    static func seconds(_ s: Double) -> String { String(format: "%.3f", s) }

    /// XML text and attribute escaping; control characters other than tab and newline are dropped.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t": out.unicodeScalars.append(ch)
            default: if ch.value >= 0x20 { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}
