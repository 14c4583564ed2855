import Foundation
import Hummingbird
import NIOCore
import SeismoCore
import SeismoQuery
import SeismoStore

/// Prometheus's HTTP query API (`/api/v1/…`) over a `Querier` and the PromQL engine, with
/// Prometheus's JSON envelopes, error types and status codes, so that Grafana's Prometheus
/// data source and `promtool query` work unchanged.
public struct PrometheusAPI: Sendable {
    public let querier: any Querier
    public let engine: Engine
    /// Most points per series a range query may return (Prometheus: 11,000).
    public var maxPointsPerSeries = 11_000
    /// Largest POST body accepted.
    public var maxBodyBytes = 4 << 20

    public init(querier: any Querier, engine: Engine) {
        self.querier = querier
        self.engine = engine
    }

    /// An API error: Prometheus's `errorType` and the HTTP status it answers with.
    struct APIError: Error {
        enum Kind: String {
            case badData = "bad_data", execution, timeout, canceled, `internal`, notFound = "not_found"
        }
        var kind: Kind
        var message: String

        var status: HTTPResponse.Status {
            switch kind {
            case .badData: .badRequest
            case .execution: .unprocessableContent
            case .timeout, .canceled: .serviceUnavailable
            case .internal: .internalServerError
            case .notFound: .notFound
            }
        }

        init(_ kind: Kind, _ message: String) {
            self.kind = kind
            self.message = message
        }

        init(_ error: QueryError) {
            switch error.code {
            case .parse: self.init(.badData, error.message)
            case .execution, .tooManySamples: self.init(.execution, error.message)
            case .timeout: self.init(.timeout, error.message)
            case .canceled: self.init(.canceled, error.message)
            case .storage: self.init(.internal, error.message)
            }
        }
    }

    /// Adds the API's routes (GET, and POST with a form body where Prometheus accepts it).
    public func register<Context: RequestContext>(on router: Router<Context>) {
        let api = self
        func route(_ path: String, post: Bool, _ handler: @escaping @Sendable (Form, Context) async throws(APIError) -> String) {
            let respond: @Sendable (Request, Context) async throws -> Response = { request, context in
                var request = request
                var form = Form(query: request.uri.query ?? "")
                if request.method == .post,
                    request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true
                {
                    let body = try await request.collectBody(upTo: api.maxBodyBytes)
                    form.add(String(buffer: body))
                }
                let result: Result<String, APIError>
                do throws(APIError) {
                    result = .success(try await handler(form, context))
                } catch {
                    result = .failure(error)
                }
                switch result {
                case .success(let body): return Self.response(.ok, body)
                case .failure(let error):
                    return Self.response(
                        error.status,
                        #"{"status":"error","errorType":"\#(error.kind.rawValue)","error":\#(JSON.string(error.message))}"#)
                }
            }
            router.get(RouterPath(path), use: respond)
            if post { router.post(RouterPath(path), use: respond) }
        }
        route("api/v1/query", post: true) { form, _ throws(APIError) in try await api.query(form) }
        route("api/v1/query_range", post: true) { form, _ throws(APIError) in try await api.queryRange(form) }
        route("api/v1/series", post: true) { form, _ throws(APIError) in try await api.series(form) }
        route("api/v1/labels", post: true) { form, _ throws(APIError) in try await api.labels(form) }
        route("api/v1/label/:name/values", post: false) { form, context throws(APIError) in
            try await api.labelValues(context.parameters.get("name") ?? "", form)
        }
        route("api/v1/metadata", post: false) { _, _ in Self.success("{}") }
        route("api/v1/status/buildinfo", post: false) { _, _ in
            Self.success(
                #"{"version":"2.42.0","revision":"seismo","branch":"seismo","buildUser":"seismo","buildDate":"","goVersion":"none"}"#
            )
        }
    }

    static func response(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func success(_ data: String) -> String { #"{"status":"success","data":\#(data)}"# }

    /// A query result as the body `/api/v1/query` answers with.
    public static func encode(_ value: QueryValue) -> String {
        success(#"{"resultType":"\#(value.resultType)","result":\#(JSON.result(value))}"#)
    }

    // MARK: Handlers

    func query(_ form: Form) async throws(APIError) -> String {
        let query = form["query"] ?? ""
        let time = try form["time"].map { v throws(APIError) in try Self.parseTime(v, "time") } ?? Timestamp.now.milliseconds
        let engine = try engine(timeout: form["timeout"])
        do {
            let value = try await engine.instantQuery(query, at: time)
            return Self.success(#"{"resultType":"\#(value.resultType)","result":\#(JSON.result(value))}"#)
        } catch {
            throw APIError(error)
        }
    }

    func queryRange(_ form: Form) async throws(APIError) -> String {
        let start = try Self.parseTime(form["start"] ?? "", "start")
        let end = try Self.parseTime(form["end"] ?? "", "end")
        guard end >= start else { throw APIError(.badData, "end timestamp must not be before start time") }
        let step = try Self.parseDuration(form["step"] ?? "", "step")
        guard step > 0 else {
            throw APIError(.badData, "zero or negative query resolution step widths are not accepted. Try a positive integer")
        }
        guard (end - start) / step <= Int64(maxPointsPerSeries) else {
            throw APIError(
                .badData,
                "exceed maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let engine = try engine(timeout: form["timeout"])
        do {
            let value = try await engine.rangeQuery(form["query"] ?? "", start: start, end: end, step: step)
            return Self.success(#"{"resultType":"matrix","result":\#(JSON.result(value))}"#)
        } catch {
            throw APIError(error)
        }
    }

    func series(_ form: Form) async throws(APIError) -> String {
        let selectors = form.all("match[]")
        guard !selectors.isEmpty else { throw APIError(.badData, "no match[] parameter provided") }
        let (start, end) = try Self.bounds(form)
        var seen = Set<Labels>()
        var out: [Labels] = []
        for selector in selectors {
            let matchers = try Self.matchers(selector)
            do {
                for labels in try await querier.series(matchers, from: start, to: end) where seen.insert(labels).inserted {
                    out.append(labels)
                }
            } catch {
                throw APIError(.internal, "\(error)")
            }
        }
        out.sort { a, b in a.pairs.lexicographicallyPrecedes(b.pairs) }
        return Self.success("[" + out.map(JSON.labels).joined(separator: ",") + "]")
    }

    func labels(_ form: Form) async throws(APIError) -> String {
        var names = Set<String>()
        do {
            let selectors = form.all("match[]")
            if selectors.isEmpty {
                names.formUnion(try await querier.labelNames([]))
            } else {
                for selector in selectors { names.formUnion(try await querier.labelNames(try Self.matchers(selector))) }
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internal, "\(error)")
        }
        return Self.success("[" + names.sorted().map(JSON.string).joined(separator: ",") + "]")
    }

    func labelValues(_ name: String, _ form: Form) async throws(APIError) -> String {
        guard Labels.isValidLabelName(name) else { throw APIError(.badData, "invalid label name: \"\(name)\"") }
        var values = Set<String>()
        do {
            let selectors = form.all("match[]")
            if selectors.isEmpty {
                values.formUnion(try await querier.labelValues(name, matching: []))
            } else {
                for selector in selectors {
                    values.formUnion(try await querier.labelValues(name, matching: try Self.matchers(selector)))
                }
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internal, "\(error)")
        }
        return Self.success("[" + values.sorted().map(JSON.string).joined(separator: ",") + "]")
    }

    // MARK: Parameters

    private func engine(timeout: String?) throws(APIError) -> Engine {
        guard let timeout else { return engine }
        var options = engine.options
        let ms = try Self.parseDuration(timeout, "timeout")
        options.timeout = min(options.timeout, .milliseconds(ms))
        return Engine(querier: engine.querier, options: options)
    }

    static func matchers(_ selector: String) throws(APIError) -> [Matcher] {
        do {
            return try Parser.parseSelector(selector)
        } catch {
            throw APIError(.badData, error.message)
        }
    }

    static func bounds(_ form: Form) throws(APIError) -> (Int64, Int64) {
        let start = try form["start"].map { v throws(APIError) in try parseTime(v, "start") } ?? Int64.min
        let end = try form["end"].map { v throws(APIError) in try parseTime(v, "end") } ?? Int64.max
        return (start, end)
    }

    /// Unix seconds with a fraction, or RFC 3339, as Prometheus's `parseTime`.
    static func parseTime(_ text: String, _ parameter: String) throws(APIError) -> Int64 {
        if let seconds = Double(text), seconds.isFinite {
            let whole = seconds.rounded(.towardZero)
            return Int64(whole) * 1000 + Int64(((seconds - whole) * 1000).rounded())
        }
        if let ts = TimeParser.parseRFC3339(text) { return ts.milliseconds }
        throw APIError(.badData, "invalid parameter \"\(parameter)\": cannot parse \"\(text)\" to a valid timestamp")
    }

    /// Seconds with a fraction, or a Prometheus duration (`5m`, `1h30m`).
    static func parseDuration(_ text: String, _ parameter: String) throws(APIError) -> Int64 {
        if let seconds = Double(text), seconds.isFinite {
            guard abs(seconds * 1000) < 9.2e18 else {
                throw APIError(
                    .badData, "invalid parameter \"\(parameter)\": cannot parse \"\(text)\" to a valid duration. It overflows int64")
            }
            return Int64((seconds * 1000).rounded())
        }
        if let ms = try? DurationParser.parseMilliseconds(text) { return ms }
        throw APIError(.badData, "invalid parameter \"\(parameter)\": cannot parse \"\(text)\" to a valid duration")
    }
}

/// Form values from a query string and a form-encoded body (`+` is a space, `%XX` a byte).
struct Form: Sendable {
    private var pairs: [(String, String)] = []

    init(query: String) { add(query) }

    mutating func add(_ encoded: String) {
        for part in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            pairs.append((Self.decode(kv[0]), kv.count > 1 ? Self.decode(kv[1]) : ""))
        }
    }

    subscript(name: String) -> String? { pairs.first { $0.0 == name }?.1 }

    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var it = Array(text.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if b == UInt8(ascii: "%"), it.count >= 2,
                let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Prometheus's JSON encodings of query results.
enum JSON {
    static func string(_ s: String) -> String { JSONQuoting.quote(s) }

    static func labels(_ labels: Labels) -> String {
        "{" + labels.map { "\(string($0.name)):\(string($0.value))" }.joined(separator: ",") + "}"
    }

    /// Seconds with up to three decimals, as Prometheus's `MarshalTimestamp`.
    static func time(_ ms: Int64) -> String {
        var out = ""
        appendTime(&out, ms)
        return out
    }

    static func appendTime(_ out: inout String, _ ms: Int64) {
        if ms < 0 { out += "-" }
        let m = ms.magnitude
        out += String(m / 1000)
        let fraction = m % 1000
        if fraction != 0 {
            out += fraction < 10 ? ".00" : fraction < 100 ? ".0" : "."
            out += String(fraction)
        }
    }

    static func point(_ t: Int64, _ v: Double) -> String {
        var out = ""
        appendPoint(&out, t, v)
        return out
    }

    /// Appends `[seconds,"value"]` without intermediate strings (range results hold many).
    static func appendPoint(_ out: inout String, _ t: Int64, _ v: Double) {
        out += "["
        appendTime(&out, t)
        out += ",\""
        out += formatPromFloat(v)
        out += "\"]"
    }

    static func result(_ value: QueryValue) -> String {
        switch value {
        case .scalar(let t, let v): return point(t, v)
        case .string(let t, let s): return "[\(time(t)),\(string(s))]"
        case .vector(let samples):
            return "["
                + samples.map { #"{"metric":\#(labels($0.labels)),"value":\#(point($0.timestamp, $0.value))}"# }
                .joined(separator: ",") + "]"
        case .matrix(let series):
            var out = "["
            for (i, s) in series.enumerated() {
                if i > 0 { out += "," }
                out += #"{"metric":\#(labels(s.labels)),"values":["#
                out.reserveCapacity(out.utf8.count + s.timestamps.count * 24)
                for j in s.timestamps.indices {
                    if j > 0 { out += "," }
                    appendPoint(&out, s.timestamps[j], s.values[j])
                }
                out += "]}"
            }
            return out + "]"
        }
    }
}
