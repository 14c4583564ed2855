import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import SeismoCore
import SeismoPipeline

/// The network side of probes: HTTP(S), TCP, DNS (the system resolver) and ICMP echo.
struct Probers: Sendable {
    /// Verifies certificates.
    let client: HTTPClient
    /// Accepts any certificate (`insecure_skip_verify`).
    let insecureClient: HTTPClient
    let timeout: Duration
    /// Largest body read for `body_regex`.
    static let bodyLimit = 4 << 20

    func probe(_ target: ProbeTargetSpec) async -> ProbeResult {
        let clock = ContinuousClock()
        let start = clock.now
        var result: ProbeResult
        switch target.module {
        case .http: result = await http(target)
        case .tcp: result = await tcp(target)
        case .dns: result = dns(target.target)
        case .icmp: result = await icmp(target.target)
        }
        result.duration = start.duration(to: clock.now)
        return result
    }

    // MARK: HTTP

    func http(_ target: ProbeTargetSpec) async -> ProbeResult {
        var result = ProbeResult(success: false, duration: .zero)
        guard let url = URLComponents(string: target.target), let host = url.host, let scheme = url.scheme else {
            result.error = "invalid URL \(target.target)"
            return result
        }
        let https = scheme == "https"
        result.tls = https
        let port = url.port ?? (https ? 443 : 80)
        let clock = ContinuousClock()
        // resolve, connect and TLS on a connection of our own, to time them and read the certificate.
        var mark = clock.now
        guard Self.resolve(host).addresses > 0 else {
            result.error = "cannot resolve \(host)"
            return result
        }
        result.phases["resolve"] = ProbeReport.seconds(mark.duration(to: clock.now))
        do {
            let connection = try await Self.connect(
                host: host, port: port, tls: https ? Self.tls(insecure: target.insecureSkipVerify) : nil, timeout: timeout)
            result.phases["connect"] = connection.connect
            if let tls = connection.tls { result.phases["tls"] = tls }
            result.certificateExpiry = connection.certificateExpiry
        } catch {
            result.error = "\(error)"
            return result
        }
        // The request itself: time to the response head, then the body.
        mark = clock.now
        var request = HTTPClientRequest(url: target.target)
        request.method = .init(rawValue: target.method)
        request.headers.add(name: "User-Agent", value: "seismo-probe")
        do {
            let client = target.insecureSkipVerify ? insecureClient : self.client
            let response = try await client.execute(request, timeout: .milliseconds(max(1, timeout.milliseconds)))
            result.phases["processing"] = ProbeReport.seconds(mark.duration(to: clock.now))
            mark = clock.now
            let body = try await response.body.collect(upTo: Self.bodyLimit)
            result.phases["transfer"] = ProbeReport.seconds(mark.duration(to: clock.now))
            result.statusCode = Int(response.status.code)
            result.contentLength = body.readableBytes
            let valid = target.validStatusCodes.isEmpty ? (200..<300).contains(Int(response.status.code))
                : target.validStatusCodes.contains(Int(response.status.code))
            result.success = valid
            if !valid { result.error = "status \(response.status.code)" }
            if let pattern = target.bodyRegex, let regex = try? Regex(pattern) {
                let text = String(decoding: body.readableBytesView, as: UTF8.self)
                if (try? regex.firstMatch(in: text)) == nil {
                    result.failedDueToRegex = true
                    result.success = false
                    result.error = "body does not match \(pattern)"
                }
            }
        } catch {
            result.error = HTTPFetch.describe(error)
        }
        return result
    }

    static func tls(insecure: Bool) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if insecure { configuration.certificateVerification = .none }
        return configuration
    }

    struct Connection {
        var connect: Double
        var tls: Double?
        var certificateExpiry: Double?
    }

    /// Connects (and with `tls`, completes the handshake), then closes.
    static func connect(host: String, port: Int, tls: TLSConfiguration?, timeout: Duration) async throws -> Connection {
        let clock = ContinuousClock()
        let start = clock.now
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(max(1, timeout.milliseconds)))
        let channel = try await bootstrap.connect(host: host, port: port).get()
        var connection = Connection(connect: ProbeReport.seconds(start.duration(to: clock.now)))
        defer { channel.close(promise: nil) }
        guard let tls else { return connection }
        let context = try NIOSSLContext(configuration: tls)
        let handshakeStart = clock.now
        let done = channel.eventLoop.makePromise(of: Void.self)
        let serverName = isIPAddress(host) ? nil : host
        try await channel.eventLoop.submit {
            let ssl = try NIOSSLClientHandler(context: context, serverHostname: serverName)
            try channel.pipeline.syncOperations.addHandler(ssl)
            try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: done))
        }.get()
        // On timeout the channel is closed, which fails the handshake.
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(max(1, timeout.milliseconds))) {
            channel.close(promise: nil)
        }
        do {
            try await done.futureResult.get()
        } catch {
            deadline.cancel()
            throw CollectError(.network, "TLS handshake failed: \(error)", context: "\(host):\(port)")
        }
        deadline.cancel()
        connection.tls = ProbeReport.seconds(handshakeStart.duration(to: clock.now))
        if let certificate = try await channel.nioSSL_peerCertificate().get() {
            connection.certificateExpiry = Double(certificate.notValidAfter)
        }
        return connection
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    // MARK: TCP

    func tcp(_ target: ProbeTargetSpec) async -> ProbeResult {
        var result = ProbeResult(success: false, duration: .zero)
        guard let colon = target.target.lastIndex(of: ":"), let port = Int(target.target[target.target.index(after: colon)...]) else {
            result.error = "expected host:port, got \(target.target)"
            return result
        }
        var host = String(target.target[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        do {
            let connection = try await Self.connect(host: host, port: port, tls: nil, timeout: timeout)
            result.phases["connect"] = connection.connect
            result.success = true
        } catch {
            result.error = "\(error)"
        }
        return result
    }

    // MARK: DNS

    /// Resolves `name` with the system resolver (`getaddrinfo`).
    static func resolve(_ name: String) -> (addresses: Int, error: String?) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0 else { return (0, String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var count = 0
        var cursor = list
        while let entry = cursor {
            count += 1
            cursor = entry.pointee.ai_next
        }
        return (count, nil)
    }

    func dns(_ name: String) -> ProbeResult {
        let clock = ContinuousClock()
        let start = clock.now
        let (answers, error) = Self.resolve(name)
        var result = ProbeResult(success: answers > 0, duration: .zero, error: error)
        result.phases["resolve"] = ProbeReport.seconds(start.duration(to: clock.now))
        result.answers = answers
        return result
    }

    // MARK: ICMP

    /// One echo request over an unprivileged ICMP socket (`net.ipv4.ping_group_range`);
    /// where the system does not permit one, a clear error.
    func icmp(_ host: String) async -> ProbeResult {
        var result = ProbeResult(success: false, duration: .zero)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 || Self.resolveIPv4(host, into: &address) else {
            result.error = "cannot resolve \(host) to an IPv4 address"
            return result
        }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), Int32(IPPROTO_ICMP))
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            result.error =
                "ICMP is not permitted here (\(reason)): allow it with sysctl net.ipv4.ping_group_range or CAP_NET_RAW"
            return result
        }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var packet: [UInt8] = [8, 0, 0, 0, 0, 0, 0, 1] + Array("seismo-probe".utf8)
        let checksum = Self.checksum(packet)
        packet[2] = UInt8(checksum >> 8)
        packet[3] = UInt8(checksum & 0xFF)
        let clock = ContinuousClock()
        let start = clock.now
        let sent = packet.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == packet.count else {
            result.error = "cannot send an ICMP echo request: \(String(cString: strerror(errno)))"
            return result
        }
        var reply = [UInt8](repeating: 0, count: 1500)
        while start.duration(to: clock.now) < timeout {
            let count = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 8, reply[0] == 0 {  // echo reply
                result.success = true
                result.phases["rtt"] = ProbeReport.seconds(start.duration(to: clock.now))
                return result
            }
            do { try await Task.sleep(for: .milliseconds(1)) } catch { break }
        }
        result.error = "no ICMP echo reply within \(timeout)"
        return result
    }

    static func resolveIPv4(_ host: String, into address: inout sockaddr_in) -> Bool {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address = $0.pointee }
        return true
    }

    /// The Internet checksum (RFC 1071).
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

/// Completes `done` when the TLS handshake finishes, or fails it with the handshake's error.
private final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let done: EventLoopPromise<Void>
    /// The promise is completed once only (all calls run on the channel's event loop).
    private var completed = false

    init(done: EventLoopPromise<Void>) { self.done = done }

    private func complete(_ error: (any Error)?) {
        guard !completed else { return }
        completed = true
        if let error { done.fail(error) } else { done.succeed(()) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { complete(nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        complete(ChannelError.ioOnClosedChannel)
    }
}

/// The `probe` collector: every `interval` each target gets a round of `pings` probes
/// (one after another); the round's series are emitted as one batch per target.
public struct ProbeSource: LiveCollectorSource {
    public let name: String
    public let spec: ProbeSpec
    private let rounds: RoundClock
    private let logger: Logging.Logger

    public init(name: String, spec: ProbeSpec, clock: some Clock<Duration> = ContinuousClock(), logger: Logging.Logger) {
        self.name = name
        self.spec = spec
        rounds = RoundClock(clock)
        self.logger = logger
    }

    public func run(emit: @escaping @Sendable (SourceBatch) -> Bool) async throws {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let insecure = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: HTTPClient.Configuration(certificateVerification: .none))
        let probers = Probers(client: client, insecureClient: insecure, timeout: spec.timeout)
        do {
            try await loop(probers, emit: emit)
        } catch {
            try? await client.shutdown()
            try? await insecure.shutdown()
            throw error
        }
        try? await client.shutdown()
        try? await insecure.shutdown()
    }

    /// One round of every target.
    func round(_ probers: Probers) async -> [(ProbeTargetSpec, [ProbeResult])] {
        await withTaskGroup(of: (Int, [ProbeResult]).self) { group in
            for (index, target) in spec.targets.enumerated() {
                group.addTask {
                    var results: [ProbeResult] = []
                    for _ in 0..<max(1, spec.pings) {
                        if Task.isCancelled { break }
                        results.append(await probers.probe(target))
                    }
                    return (index, results)
                }
            }
            var out: [(Int, [ProbeResult])] = []
            for await item in group { out.append(item) }
            return out.sorted { $0.0 < $1.0 }.map { (spec.targets[$0.0], $0.1) }
        }
    }

    private func loop(_ probers: Probers, emit: @escaping @Sendable (SourceBatch) -> Bool) async throws {
        var lastError: [Int: String] = [:]
        while !Task.isCancelled {
            let started = rounds.elapsed()
            let time = Timestamp.now
            let results = await round(probers)
            if Task.isCancelled { return }
            for (index, (target, round)) in results.enumerated() {
                let error = round.first?.error
                if let error, lastError[index] != error { logger.warning("probe \(target.module.rawValue) \(target.target): \(error)") }
                lastError[index] = error
                _ = emit(SourceBatch(time: time, samples: ProbeReport.samples(job: name, target: target, round: round, time: time)))
            }
            try await rounds.waitForNextRound(started: started, interval: spec.interval)
        }
    }
}

import Logging
