import Foundation

/// Runs external programs (kcat, the `seismo` binary) from tests and benchmarks.
public enum ProcessRunner {
    /// The result of one run.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutBytes: Data
    }

    /// The absolute path of `program` on `PATH`, or nil.
    public static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` with `arguments`, feeding `stdin`, and waits up to `timeout`
    /// (then kills it and reports status -9).
    public static func run(
        _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        let writer = Thread {
            if let stdin { inPipe.fileHandleForWriting.write(stdin) }
            try? inPipe.fileHandleForWriting.close()
        }
        writer.start()
        let outBox = DataBox()
        let errBox = DataBox()
        let readers = [
            Thread { outBox.set(outPipe.fileHandleForReading.readDataToEndOfFile()) },
            Thread { errBox.set(errPipe.fileHandleForReading.readDataToEndOfFile()) },
        ]
        readers.forEach { $0.start() }
        let deadline = ContinuousClock.now + timeout
        var killed = false
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                kill(process.processIdentifier, SIGKILL)
                killed = true
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()
        while !outBox.isSet || !errBox.isSet { try await Task.sleep(for: .milliseconds(5)) }
        let out = outBox.get()
        return Output(
            status: killed ? -9 : process.terminationStatus,
            stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: errBox.get(), as: UTF8.self),
            stdoutBytes: out)
    }
}

private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data ?? Data() } }
    var isSet: Bool { lock.withLock { data != nil } }
}
