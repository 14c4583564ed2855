import Foundation

/// Locates the programs integration tests run.
public enum Binaries {
    /// The `seismo` executable: `$SEISMO_BIN`, else the debug build next to the sources.
    public static var seismo: String {
        if let path = ProcessInfo.processInfo.environment["SEISMO_BIN"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for candidate in [".build/debug/seismo", ".build/x86_64-unknown-linux-gnu/debug/seismo", ".build/release/seismo"] {
            let path = root.appendingPathComponent(candidate).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return root.appendingPathComponent(".build/debug/seismo").path
    }

    /// kcat, the independent Kafka client the interop tests use (Debian package `kcat`).
    public static var kcat: String? { ProcessRunner.which("kcat") }

    /// The repository's root folder.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }
}
