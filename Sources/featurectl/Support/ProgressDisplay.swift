import Foundation
import Synchronization

/// A one-line progress display on standard error (a label, rows done, rows/s, ETA), drawn only on a terminal and
/// at most ten times a second. The rate restarts whenever the label changes.
final class ProgressDisplay: Sendable {
    private let enabled: Bool
    private let state = Mutex<(label: String, started: Double, last: Double, shown: Bool)>(("", 0, 0, false))

    init(enabled: Bool = Console.isTerminalError) {
        self.enabled = enabled
    }

    func update(_ label: String, rows: Int, total: Int, unit: String = "rows") {
        guard enabled else { return }
        let now = Date().timeIntervalSince1970
        let line: String? = state.withLock { s in
            if s.label != label { s = (label, now, 0, s.shown) }
            guard now - s.last > 0.1 || rows == total else { return nil }
            s.last = now
            s.shown = true
            var text = label
            if total > 0 {
                let rate = Double(rows) / max(now - s.started, 1e-3)
                let eta = rate > 0 ? Double(total - rows) / rate : 0
                text += unit == "rows" ? String(format: " %d/%d rows, %.0f rows/s, ETA %.0fs", rows, total, rate, eta) : " \(rows)/\(total) \(unit)"
            }
            return text
        }
        if let line { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8)) }
    }

    /// Clears the line, if anything was drawn.
    func finish() {
        if enabled && state.withLock({ $0.shown }) { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
