import ArgumentParser
import Foundation
import SeismoAlert
import SeismoCore

/// `seismo alerts list|silence|expire`: the running process's alerts and silences, over
/// its HTTP API (`runtime.listen`).
struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List alerts, and create or expire silences, of a running `seismo run`.",
        subcommands: [List.self, SilenceCommand.self, Expire.self])

    struct Connection: ParsableArguments {
        @Option(name: .long, help: "Base URL of the running process's HTTP API.")
        var url = "http://127.0.0.1:9464"

        func call(_ method: String, _ path: String, body: [UInt8]? = nil) async throws -> (Int, [UInt8]) {
            var base = Substring(url)
            while base.hasSuffix("/") { base = base.dropLast() }
            do {
                let answer = try await HTTPPoster.send(method, "\(base)\(path)", body: body, timeout: .seconds(10))
                return (answer.status, answer.body)
            } catch {
                throw CLIError("cannot reach \(base): \(error)")
            }
        }

        func object(_ bytes: [UInt8]) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List current alerts (or silences with --silences).")
        @OptionGroup var connection: Connection
        @Flag(name: .long, help: "List silences instead of alerts.") var silences = false
        @Flag(name: .long, help: "Print the API's JSON.") var json = false

        func run() async throws {
            let (status, body) = try await connection.call("GET", silences ? "/api/v1/silences" : "/api/v1/alerts")
            guard status == 200 else { throw CLIError("HTTP \(status): \(String(decoding: body, as: UTF8.self))") }
            if json {
                print(String(decoding: body, as: UTF8.self))
                return
            }
            let document = connection.object(body)
            if silences {
                for s in document["silences"] as? [[String: Any]] ?? [] {
                    let matchers = (s["matchers"] as? [String] ?? []).joined(separator: ", ")
                    print("\(s["id"] ?? "")  \(s["state"] ?? "")  {\(matchers)}  until \(s["ends_at"] ?? "")  \(s["comment"] ?? "")")
                }
                return
            }
            for a in document["alerts"] as? [[String: Any]] ?? [] {
                let labels = (a["labels"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }
                    .map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ", ")
                var line = "\(a["status"] ?? "")  since \(a["starts_at"] ?? "")  {\(labels)}"
                if let silenced = a["silenced_by"] as? [String], !silenced.isEmpty { line += "  silenced by \(silenced.joined(separator: ","))" }
                if a["inhibited"] as? Bool == true { line += "  inhibited" }
                if let summary = (a["annotations"] as? [String: String])?["summary"] { line += "  \(summary)" }
                print(line)
            }
        }
    }

    struct SilenceCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "silence", abstract: "Silence alerts matching every matcher, e.g. service=\"checkout\".")
        @OptionGroup var connection: Connection
        @Argument(help: "Matchers: name=\"value\", name!=\"value\", name=~\"regex\", name!~\"regex\".") var matchers: [String]
        @Option(name: .long, help: "How long (e.g. 2h, 30m).") var duration = "1h"
        @Option(name: .long, help: "Who silences.") var author = ProcessInfo.processInfo.environment["USER"] ?? ""
        @Option(name: .long, help: "Why.") var comment = ""

        func run() async throws {
            let ms: Int64
            do { ms = try DurationParser.parseMilliseconds(duration) } catch { throw ValidationError("--duration: \(error.message)") }
            for text in matchers {
                do { _ = try Matcher(parsing: text) } catch { throw ValidationError("\(text): \(error.message)") }
            }
            let request: [String: Any] = [
                "matchers": matchers, "duration_seconds": Double(ms) / 1000, "created_by": author, "comment": comment,
            ]
            let body = Array(try JSONSerialization.data(withJSONObject: request))
            let (status, answer) = try await connection.call("POST", "/api/v1/silences", body: body)
            guard status == 200 else { throw CLIError("HTTP \(status): \(String(decoding: answer, as: UTF8.self))") }
            print(connection.object(answer)["id"] as? String ?? "")
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Expire a silence now.")
        @OptionGroup var connection: Connection
        @Argument(help: "The silence id (see `seismo alerts list --silences`).") var id: String

        func run() async throws {
            let (status, answer) = try await connection.call("DELETE", "/api/v1/silences/\(id)")
            guard status == 200 else { throw CLIError("HTTP \(status): \(String(decoding: answer, as: UTF8.self))") }
            print("expired \(id)")
        }
    }
}
