import Foundation
import Synchronization

/// Training progress on stderr: a redrawn bar on a terminal, plain lines otherwise (one per
/// change of step, or per 10% of progress), so logs and CI output stay readable.
final class ProgressReporter: Sendable {
    private struct State {
        var lastMessage = ""
        var lastTenth = -1
    }

    let label: String
    let isTerminal: Bool
    private let state = Mutex(State())

    init(label: String, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.isTerminal = isTerminal
    }

    func update(_ fraction: Double, _ message: String) {
        let f = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        let line: String? = state.withLock { s in
            if isTerminal {
                let width = 30
                let filled = Int((f * Double(width)).rounded())
                let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
                return "\r\u{1B}[2K\(label) [\(bar)] \(String(format: "%3d", Int(f * 100)))% \(message)" + (f >= 1 ? "\n" : "")
            }
            let tenth = Int(f * 10)
            guard message != s.lastMessage || tenth != s.lastTenth else { return nil }
            s.lastMessage = message
            s.lastTenth = tenth
            return "\(label): \(Int(f * 100))% \(message)\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }
}
