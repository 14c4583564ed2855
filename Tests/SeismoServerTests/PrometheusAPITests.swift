import Foundation
import Hummingbird
import NIOCore
import SeismoCore
import SeismoQuery
import SeismoStore
import SeismoTesting
import Testing

@testable import SeismoServer

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Two counters of job "api" and one of job "web", a sample every 15 s for 10 minutes.
func fixtureQuerier() -> InMemoryQuerier {
    var series: [StoredSeries] = []
    for (job, instance, slope) in [("api", "a", 1.0), ("api", "b", 2.0), ("web", "a", 4.0)] {
        let ts = (0...40).map { Int64($0) * 15_000 }
        series.append(
            StoredSeries(
                labels: ["__name__": "requests_total", "job": job, "instance": instance], timestamps: ts,
                values: ts.map { Double($0) / 1000 * slope }))
    }
    return InMemoryQuerier(series)
}

/// Runs the API on a free loopback port for the duration of `body`, which gets the base URL.
func withAPI<T: Sendable>(
    _ engineOptions: EngineOptions = EngineOptions(), _ body: @Sendable (String) async throws -> T
) async throws -> T {
    let querier = fixtureQuerier()
    let router = Router()
    PrometheusAPI(querier: querier, engine: Engine(querier: querier, options: engineOptions)).register(on: router)
    return try await withLoopbackServer(router, body)
}

/// GET (or POST a form to) `uri`; the status code and body.
func request(_ base: String, _ uri: String, post body: String? = nil) async throws -> (Int, String) {
    var request = URLRequest(url: URL(string: base + uri)!)
    if let body {
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

@Suite("Prometheus HTTP API")
struct PrometheusAPITests {
    func get(_ uri: String, post body: String? = nil) async throws -> (Int, String) {
        try await withAPI { base in try await request(base, uri, post: body) }
    }

    @Test("instant query: a vector in Prometheus's envelope, at the evaluation time")
    func instant() async throws {
        let (status, body) = try await get("/api/v1/query?query=sum+by+(job)(requests_total)&time=600")
        #expect(status == 200)
        #expect(
            body
                == #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[600,"1800"]},{"metric":{"job":"web"},"value":[600,"2400"]}]}}"#
        )
    }

    @Test("POST with a form body is the same query")
    func post() async throws {
        let (status, body) = try await get(
            "/api/v1/query", post: "query=scalar(sum(requests_total%7Bjob%3D%22web%22%7D))&time=15.5")
        #expect(status == 200)
        #expect(body == #"{"status":"success","data":{"resultType":"scalar","result":[15.500,"60"]}}"#)
    }

    @Test("range query: a matrix sorted by labels, RFC 3339 times and duration step")
    func range() async throws {
        let (status, body) = try await get(
            "/api/v1/query_range?query=rate(requests_total%7Bjob%3D%22api%22%7D%5B1m%5D)&start=1970-01-01T00:05:00Z&end=1970-01-01T00:06:00Z&step=30s"
        )
        #expect(status == 200)
        #expect(
            body
                == #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"instance":"a","job":"api"},"values":[[300,"1"],[330,"1"],[360,"1"]]},{"metric":{"instance":"b","job":"api"},"values":[[300,"2"],[330,"2"],[360,"2"]]}]}}"#
        )
    }

    @Test(
        "errors: bad_data 400 and execution 422, with Prometheus's messages",
        arguments: [
            ("/api/v1/query?query=sum(", 400, #""errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis""#),
            ("/api/v1/query?query=up&time=yesterday", 400, #""error":"invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp""#),
            ("/api/v1/query_range?query=up&start=10&end=5&step=1", 400, #""error":"end timestamp must not be before start time""#),
            ("/api/v1/query_range?query=up&start=0&end=5&step=0", 400, "zero or negative query resolution step widths are not accepted"),
            ("/api/v1/query_range?query=up&start=0&end=100000&step=1", 400, "exceed maximum resolution of 11,000 points"),
            ("/api/v1/query?query=requests_total%2Bon(job)requests_total&time=60", 422, #""errorType":"execution""#),
            ("/api/v1/series", 400, "no match[] parameter provided"),
            ("/api/v1/label/bad-name/values", 400, #"invalid label name: \"bad-name\""#),
        ])
    func errors(uri: String, code: Int, fragment: String) async throws {
        let (status, body) = try await get(uri)
        #expect(status == code)
        #expect(body.hasPrefix(#"{"status":"error","errorType":"#))
        #expect(body.contains(fragment), "\(body)")
    }

    @Test("series, labels, label values, metadata and buildinfo")
    func metadata() async throws {
        #expect(
            try await get("/api/v1/series?match%5B%5D=requests_total%7Binstance%3D%22a%22%7D").1
                == #"{"status":"success","data":[{"__name__":"requests_total","instance":"a","job":"api"},{"__name__":"requests_total","instance":"a","job":"web"}]}"#
        )
        #expect(try await get("/api/v1/labels").1 == #"{"status":"success","data":["__name__","instance","job"]}"#)
        #expect(try await get("/api/v1/label/job/values").1 == #"{"status":"success","data":["api","web"]}"#)
        #expect(try await get("/api/v1/metadata").1 == #"{"status":"success","data":{}}"#)
        #expect(try await get("/api/v1/status/buildinfo").1.contains(#""version":"2.42.0""#))
    }

    @Test("a query over its sample limit fails with a clear execution error")
    func sampleLimit() async throws {
        let (status, body) = try await withAPI(EngineOptions(maxSamples: 10)) { base in
            try await request(base, "/api/v1/query?query=sum_over_time(requests_total[10m])&time=600")
        }
        #expect(status == 422)
        #expect(body.contains("query processing would load too many samples into memory"))
    }

    @Test("promtool query instant and range against the API")
    func promtool() async throws {
        guard let promtool = ProcessRunner.which("promtool") else {
            Issue.record("promtool not installed (Debian package prometheus)")
            return
        }
        try await withAPI { url in
            let instant = try await ProcessRunner.run(
                promtool, ["query", "instant", "--time=600", url, "sum by (job) (requests_total)"])
            #expect(instant.status == 0, "\(instant.stderr)")
            #expect(instant.stdout.contains("{job=\"api\"} => 1800 @[600]"), "\(instant.stdout)")
            #expect(instant.stdout.contains("{job=\"web\"} => 2400 @[600]"), "\(instant.stdout)")
            let range = try await ProcessRunner.run(
                promtool,
                ["query", "range", "--start=300", "--end=360", "--step=30s", url, "rate(requests_total{job=\"web\"}[1m])"])
            #expect(range.status == 0, "\(range.stderr)")
            #expect(range.stdout.contains("{instance=\"a\", job=\"web\"} =>"), "\(range.stdout)")
            #expect(range.stdout.contains("4 @[300]") && range.stdout.contains("4 @[360]"), "\(range.stdout)")
            let bad = try await ProcessRunner.run(promtool, ["query", "instant", url, "sum("])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("parse error"), "\(bad.stderr)")
        }
    }
}
