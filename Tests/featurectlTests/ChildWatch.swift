import Foundation
import SQLite

/// Watches a child process from a thread of its own: the moment at which a crash test kills its child must not wait
/// behind other suites' work on the cooperative pool (two threads on CI), or the child finishes first.
enum ChildWatch {
    /// Calls `probe` every 20 ms until it returns true, the child exits or `seconds` pass; then, if the child still
    /// runs, kills it with SIGKILL. Returns whether the probe was satisfied while the child was running.
    static func kill(_ child: Process, when probe: @escaping @Sendable () -> Bool, within seconds: Double = 60) async -> Bool {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                let deadline = Date().addingTimeInterval(seconds)
                var satisfied = false
                while Date() < deadline, child.isRunning {
                    if probe() { satisfied = true; break }
                    usleep(20_000)
                }
                if child.isRunning { Foundation.kill(child.processIdentifier, SIGKILL) }
                child.waitUntilExit()
                continuation.resume(returning: satisfied)
            }
            thread.start()
        }
    }

    /// Rows committed to a view's table in an embedded online store, read with a connection of its own (0 while the
    /// store or the table does not exist yet).
    static func onlineRows(at path: String, view: String) -> Int {
        guard FileManager.default.fileExists(atPath: path),
              let connection = try? Connection(path: path, mode: .readOnly),
              let tables = try? connection.prepare("SELECT table_name FROM online_tables WHERE view = ?").rows([.text(view)]),
              case .text(let table)? = tables.first?.first,
              case .integer(let count)? = try? connection.prepare("SELECT count(*) FROM \"\(table)\"").rows().first?.first
        else { return 0 }
        return Int(count)
    }
}
