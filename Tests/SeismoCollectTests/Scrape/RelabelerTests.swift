import SeismoCore
import SeismoPipeline
import Testing

@testable import SeismoCollect

@Suite("Relabeler")
struct RelabelerTests {
    static func run(_ rules: [RelabelRule], _ labels: [String: String]) throws -> [String: String]? {
        let relabeler = try Relabeler(rules)
        let input = try Labels(validating: labels)
        guard let out = relabeler.apply(input) else { return nil }
        return Dictionary(uniqueKeysWithValues: out.map { ($0.name, $0.value) })
    }

    @Test("replace joins source labels with the separator and expands $1 and ${name} in replacement and target")
    func replace() throws {
        let rules = [
            RelabelRule(
                sourceLabels: ["a", "b"], separator: "-", regex: "(?P<first>[a-z]+)-(\\d+)", targetLabel: "joined",
                replacement: "${first}_$2"),
            RelabelRule(sourceLabels: ["a"], regex: "(.)(.*)", targetLabel: "x_$1", replacement: "$2!"),
        ]
        let out = try Self.run(rules, ["a": "foo", "b": "42"])
        #expect(out == ["a": "foo", "b": "42", "joined": "foo_42", "x_f": "oo!"])
    }

    @Test("the regex is fully anchored: a partial match does nothing")
    func anchored() throws {
        let rule = RelabelRule(sourceLabels: ["a"], regex: "oo", targetLabel: "hit", replacement: "yes")
        #expect(try Self.run([rule], ["a": "foo"]) == ["a": "foo"])
        let whole = RelabelRule(sourceLabels: ["a"], regex: "f.+", targetLabel: "hit", replacement: "yes")
        #expect(try Self.run([whole], ["a": "foo"]) == ["a": "foo", "hit": "yes"])
    }

    @Test("replace with an empty result removes the target; an invalid expanded target name is skipped")
    func replaceEdges() throws {
        let remove = RelabelRule(sourceLabels: ["missing"], regex: "(.*)", targetLabel: "a", replacement: "$1")
        #expect(try Self.run([remove], ["a": "1", "b": "2"]) == ["b": "2"])
        let badTarget = RelabelRule(sourceLabels: ["a"], regex: "(.*)", targetLabel: "$1", replacement: "v")
        #expect(try Self.run([badTarget], ["a": "1-x"]) == ["a": "1-x"])
    }

    @Test("Go template rules: $$ is a dollar, $1x is the (absent) group named 1x, a lone $ stays")
    func expandRules() throws {
        let rule = RelabelRule(sourceLabels: ["a"], regex: "(.*)", targetLabel: "t", replacement: "$$-$1x-${1}x-$-$")
        #expect(try Self.run([rule], ["a": "v"])?["t"] == "$--vx-$-$")
    }

    @Test("keep and drop decide on the joined value; unmatched missing labels are the empty string")
    func keepDrop() throws {
        let keep = RelabelRule(action: .keep, sourceLabels: ["job"], regex: "node|api")
        #expect(try Self.run([keep], ["job": "node"]) != nil)
        #expect(try Self.run([keep], ["job": "nodes"]) == nil)
        let drop = RelabelRule(action: .drop, sourceLabels: ["env"], regex: "")
        #expect(try Self.run([drop], ["job": "x"]) == nil)
        #expect(try Self.run([drop], ["job": "x", "env": "prod"]) == ["job": "x", "env": "prod"])
    }

    @Test("keepequal and dropequal compare the source value with the target label")
    func equal() throws {
        let keep = RelabelRule(action: .keepequal, sourceLabels: ["a"], targetLabel: "b")
        #expect(try Self.run([keep], ["a": "1", "b": "1"]) != nil)
        #expect(try Self.run([keep], ["a": "1", "b": "2"]) == nil)
        let drop = RelabelRule(action: .dropequal, sourceLabels: ["a"], targetLabel: "b")
        #expect(try Self.run([drop], ["a": "1", "b": "1"]) == nil)
    }

    @Test("labelmap copies matching labels under the expanded name; labeldrop and labelkeep match names")
    func labelActions() throws {
        let map = RelabelRule(action: .labelmap, regex: "__meta_kubernetes_pod_label_(.+)", replacement: "$1")
        let out = try Self.run([map], ["__meta_kubernetes_pod_label_app": "web", "__meta_kubernetes_pod_label_tier": "fe", "x": "1"])
        #expect(out?["app"] == "web")
        #expect(out?["tier"] == "fe")
        #expect(out?["__meta_kubernetes_pod_label_app"] == "web")
        let drop = RelabelRule(action: .labeldrop, regex: "__meta_.*")
        #expect(try Self.run([map, drop], ["__meta_kubernetes_pod_label_app": "web", "x": "1"]) == ["app": "web", "x": "1"])
        let keep = RelabelRule(action: .labelkeep, regex: "__name__|job")
        #expect(try Self.run([keep], ["__name__": "up", "job": "j", "instance": "i"]) == ["__name__": "up", "job": "j"])
    }

    @Test("hashmod is the last 8 bytes of the MD5, big-endian, modulo the modulus (as Prometheus)")
    func hashmod() throws {
        // Expected values from Python's hashlib: int.from_bytes(md5(v)[8:], "big") % 1000.
        for (value, expected) in [("foo", "696"), ("10.0.0.1:9100", "645")] {
            let rule = RelabelRule(action: .hashmod, sourceLabels: ["__address__"], modulus: 1000, targetLabel: "__tmp_hash")
            #expect(try Self.run([rule], ["__address__": value])?["__tmp_hash"] == expected)
        }
        let joined = RelabelRule(action: .hashmod, sourceLabels: ["a", "b"], modulus: 1000, targetLabel: "h")
        #expect(try Self.run([joined], ["a": "a", "b": "b"])?["h"] == "74")
    }

    @Test("MD5 matches RFC 1321's test vectors")
    func md5() {
        func hex(_ s: String) -> String { MD5.digest(s.utf8).map { String(format: "%02x", $0) }.joined() }
        #expect(hex("") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(hex("abc") == "900150983cd24fb0d6963f7d28e17f72")
        #expect(hex(String(repeating: "1234567890", count: 8)) == "57edf4a22be3c955ac49da2e2107b67a")
    }

    @Test("lowercase and uppercase set the target from the joined value")
    func caseActions() throws {
        let lower = RelabelRule(action: .lowercase, sourceLabels: ["a"], targetLabel: "l")
        let upper = RelabelRule(action: .uppercase, sourceLabels: ["a"], targetLabel: "u")
        #expect(try Self.run([lower, upper], ["a": "MiXed"]) == ["a": "MiXed", "l": "mixed", "u": "MIXED"])
    }

    @Test("rules run in order: a later rule sees what an earlier one wrote; . matches a newline")
    func order() throws {
        let rules = [
            RelabelRule(sourceLabels: ["__address__"], regex: "([^:]+):\\d+", targetLabel: "host", replacement: "$1"),
            RelabelRule(action: .keep, sourceLabels: ["host"], regex: "web-.*"),
            RelabelRule(sourceLabels: ["note"], regex: "a.b", targetLabel: "dot", replacement: "yes"),
        ]
        #expect(try Self.run(rules, ["__address__": "web-1:80", "note": "a\nb"])?["dot"] == "yes")
        #expect(try Self.run(rules, ["__address__": "db-1:80"]) == nil)
    }

    @Test("an invalid regex is a CollectError, not a crash")
    func invalidRegex() {
        #expect(throws: CollectError.self) { try Relabeler([RelabelRule(regex: "(unclosed")]) }
    }
}

import Foundation
