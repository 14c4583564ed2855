import Foundation
import Logging
import SeismoCollect
import ServiceLifecycle

/// Receivers run for the length of a test.
enum ReceiverHarness {
    /// Runs `service` (a receiver on port 0) in a service group, calls `body` with its port,
    /// then shuts it down gracefully.
    static func withReceiver<T: Sendable>(
        _ make: (@escaping @Sendable (String, Int) async -> Void) -> any Service, _ body: (Int) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let service = make { _, port in continuation.yield(port) }
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let result: T
            do {
                result = try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }
}
