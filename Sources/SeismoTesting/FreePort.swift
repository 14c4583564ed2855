/// A TCP port on 127.0.0.1 that was free a moment ago, or 0 when none could be had
/// (`Loopback.freePort()` without the error), for servers a test starts that cannot report
/// the port they picked themselves.
public func freeLoopbackPort() -> Int {
    (try? Loopback.freePort()) ?? 0
}
