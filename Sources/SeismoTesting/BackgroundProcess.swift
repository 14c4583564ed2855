import Foundation

/// A program started by a test that keeps running while the test works with it (a broker,
/// `seismo run`): its output so far, signals, and waiting for its exit.
public final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private var readers: [Thread] = []

    /// Starts `executable`; stdout and stderr are collected as they arrive.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil)
        throws
    {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        readers = [
            Thread { [self] in drain(outPipe.fileHandleForReading) { self.out.append($0) } },
            Thread { [self] in drain(errPipe.fileHandleForReading) { self.err.append($0) } },
        ]
        readers.forEach { $0.start() }
    }

    private func drain(_ handle: FileHandle, into append: (Data) -> Void) {
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return }
            lock.withLock { append(chunk) }
        }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    /// Standard output so far.
    public var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    /// Standard error so far.
    public var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }

    /// Sends `signal` (SIGTERM, SIGINT, SIGKILL…).
    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for stdout to contain `text`; false on timeout or exit.
    public func waitForOutput(_ text: String, timeout: Duration = .seconds(90)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if stdout.contains(text) { return true }
            if !isRunning { return stdout.contains(text) }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Once more: on a loaded machine the loop may wake only after the deadline.
        return stdout.contains(text)
    }

    /// Waits for the exit, up to `timeout` (then kills it); returns the exit status.
    @discardableResult
    public func wait(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                signal(SIGKILL)
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
