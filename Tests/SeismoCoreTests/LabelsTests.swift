import Testing

@testable import SeismoCore

/// Specification of `Labels`, `Label` and `LabelLimits`: a series' identity.
@Suite("Labels")
struct LabelsTests {
    // MARK: Construction

    @Test("pairs are sorted by name, whatever the order they were given in")
    func sortsByName() throws {
        let labels = try Labels(validating: [Label("job", "api"), Label("__name__", "up"), Label("instance", "a:1")])
        #expect(labels.pairs.map(\.name) == ["__name__", "instance", "job"])
        #expect(labels.pairs.map(\.value) == ["up", "a:1", "api"])
    }

    @Test("sorting is by byte order, so upper case comes before lower case and _ between them")
    func sortsByByteOrder() throws {
        let labels = try Labels(validating: [
            Label("b", "1"), Label("_x", "1"), Label("a", "1"), Label("B", "1"), Label("A", "1"),
        ])
        #expect(labels.pairs.map(\.name) == ["A", "B", "_x", "a", "b"])
    }

    @Test("a label with an empty value is the same as an absent label, so it is dropped")
    func dropsEmptyValues() throws {
        let labels = try Labels(validating: [Label("job", "api"), Label("env", ""), Label("zone", "")])
        #expect(labels.count == 1)
        #expect(labels["env"] == nil)
        #expect(labels == ["job": "api"])
    }

    @Test("a set of only empty values is the empty set")
    func allEmptyIsEmpty() throws {
        let labels = try Labels(validating: ["a": "", "b": ""])
        #expect(labels.isEmpty)
        #expect(labels == Labels())
    }

    @Test("the dictionary initializer and the literal agree with the sequence initializer")
    func dictionaryAndLiteral() throws {
        let fromPairs = try Labels(validating: [Label("b", "2"), Label("a", "1")])
        let fromDictionary = try Labels(validating: ["a": "1", "b": "2"])
        let fromLiteral: Labels = ["b": "2", "a": "1"]
        #expect(fromPairs == fromDictionary)
        #expect(fromPairs == fromLiteral)
    }

    @Test("valid label names are accepted", arguments: ["a", "A", "_", "__name__", "a1", "_9", "job_name", "Z_z_0"])
    func validNames(name: String) throws {
        #expect(Labels.isValidLabelName(name))
        let labels = try Labels(validating: [Label(name, "v")])
        #expect(labels[name] == "v")
    }

    @Test(
        "invalid label names are rejected with .invalidLabelName",
        arguments: ["", "1a", "a-b", "a.b", "a b", "a:b", "é", "a\u{0}", "-", "9"])
    func invalidNames(name: String) {
        #expect(!Labels.isValidLabelName(name))
        let error = #expect(throws: SeismoError.self) { try Labels(validating: [Label(name, "v")]) }
        #expect(error?.code == .invalidLabelName)
        #expect(error?.context == name)
    }

    @Test(
        "valid metric names are accepted",
        arguments: ["up", "http_requests_total", "a:b:c", ":x", "_", "node_cpu_seconds_total", "A1"])
    func validMetricNames(name: String) throws {
        #expect(Labels.isValidMetricName(name))
        let labels = try Labels(validating: [Label("__name__", name)])
        #expect(labels.name == name)
    }

    @Test(
        "invalid metric names are rejected with .invalidMetricName",
        arguments: ["1up", "up-time", "up time", "up.total", "ü"])
    func invalidMetricNames(name: String) {
        #expect(!Labels.isValidMetricName(name))
        let error = #expect(throws: SeismoError.self) { try Labels(validating: [Label("__name__", name)]) }
        #expect(error?.code == .invalidMetricName)
        #expect(error?.context == name)
    }

    @Test("the empty string is not a metric name, but an empty __name__ is simply absent")
    func emptyMetricName() throws {
        #expect(!Labels.isValidMetricName(""))
        let labels = try Labels(validating: [Label("__name__", ""), Label("job", "api")])
        #expect(labels.name == nil)
    }

    @Test("colons are allowed in metric names but not in other label names")
    func colonsOnlyInMetricNames() {
        #expect(Labels.isValidMetricName("job:rate5m"))
        #expect(!Labels.isValidLabelName("job:rate5m"))
        let error = #expect(throws: SeismoError.self) { try Labels(validating: [Label("a:b", "1")]) }
        #expect(error?.code == .invalidLabelName)
    }

    @Test("values may be any string: the metric-name rule applies only to __name__")
    func valuesAreFree() throws {
        let labels = try Labels(validating: ["path": "/api/v1/query?x=1", "msg": "line\nbreak \"quoted\" é 🙂"])
        #expect(labels["msg"] == "line\nbreak \"quoted\" é 🙂")
    }

    @Test(
        "a name given twice is rejected with .duplicateLabel, whether the values differ or not",
        arguments: [("1", "2"), ("1", "1")])
    func duplicates(first: String, second: String) {
        let error = #expect(throws: SeismoError.self) {
            try Labels(validating: [Label("job", first), Label("a", "x"), Label("job", second)])
        }
        #expect(error?.code == .duplicateLabel)
        #expect(error?.context == "job")
    }

    @Test("a name given twice where one value is empty is not a duplicate: the empty one is absent")
    func duplicateWithEmptyValue() throws {
        let labels = try Labels(validating: [Label("job", ""), Label("job", "api")])
        #expect(labels == ["job": "api"])
    }

    // MARK: Limits

    @Test("the default limits are 128 labels, 256-byte names and 16 KiB values")
    func defaultLimits() {
        #expect(LabelLimits.default == LabelLimits(maxLabels: 128, maxNameBytes: 256, maxValueBytes: 16 * 1024))
    }

    @Test("a set at the label-count limit is accepted; one more is rejected with .tooManyLabels")
    func tooManyLabels() throws {
        let limits = LabelLimits(maxLabels: 3)
        let three = (0..<3).map { Label("l\($0)", "v") }
        #expect(try Labels(validating: three, limits: limits).count == 3)
        let error = #expect(throws: SeismoError.self) {
            try Labels(validating: three + [Label("l3", "v")], limits: limits)
        }
        #expect(error?.code == .tooManyLabels)
    }

    @Test("labels with empty values do not count against the label-count limit")
    func emptyValuesDoNotCount() throws {
        let limits = LabelLimits(maxLabels: 1)
        let labels = try Labels(validating: [Label("a", "1"), Label("b", ""), Label("c", "")], limits: limits)
        #expect(labels.count == 1)
    }

    @Test("the default limit of 128 labels holds")
    func defaultLabelCount() throws {
        let many = (0..<128).map { Label("l\($0)", "v") }
        #expect(try Labels(validating: many).count == 128)
        let error = #expect(throws: SeismoError.self) { try Labels(validating: many + [Label("extra", "v")]) }
        #expect(error?.code == .tooManyLabels)
    }

    @Test("a name at the byte limit is accepted; one byte more is rejected with .invalidLabelName")
    func nameTooLong() throws {
        let limits = LabelLimits(maxNameBytes: 8)
        #expect(try Labels(validating: [Label(String(repeating: "n", count: 8), "v")], limits: limits).count == 1)
        let error = #expect(throws: SeismoError.self) {
            try Labels(validating: [Label(String(repeating: "n", count: 9), "v")], limits: limits)
        }
        #expect(error?.code == .invalidLabelName)
    }

    @Test("a value at the byte limit is accepted; one byte more is rejected with .invalidLabelValue")
    func valueTooLong() throws {
        let limits = LabelLimits(maxValueBytes: 4)
        #expect(try Labels(validating: ["k": "abcd"], limits: limits).count == 1)
        let error = #expect(throws: SeismoError.self) { try Labels(validating: ["k": "abcde"], limits: limits) }
        #expect(error?.code == .invalidLabelValue)
    }

    @Test("value limits count UTF-8 bytes, not characters")
    func valueLimitCountsBytes() {
        let limits = LabelLimits(maxValueBytes: 4)
        // Three characters, six bytes.
        let error = #expect(throws: SeismoError.self) { try Labels(validating: ["k": "ééé"], limits: limits) }
        #expect(error?.code == .invalidLabelValue)
    }

    @Test("a value over the default 16 KiB limit is rejected")
    func defaultValueLimit() throws {
        #expect(try Labels(validating: ["k": String(repeating: "x", count: 16 * 1024)]).count == 1)
        let error = #expect(throws: SeismoError.self) {
            try Labels(validating: ["k": String(repeating: "x", count: 16 * 1024 + 1)])
        }
        #expect(error?.code == .invalidLabelValue)
    }

    // MARK: Lookup

    @Test("subscript finds every present label and returns nil for absent ones")
    func subscriptLookup() throws {
        let names = (0..<20).map { $0 < 10 ? "n0\($0)" : "n\($0)" }
        let labels = try Labels(validating: names.map { Label($0, "v-\($0)") })
        for name in names { #expect(labels[name] == "v-\(name)") }
        for absent in ["", "a", "n", "n000", "n20", "n5", "zzz", "N00"] { #expect(labels[absent] == nil) }
    }

    @Test("subscript on the empty set is always nil")
    func subscriptOnEmpty() {
        #expect(Labels()["job"] == nil)
        #expect(Labels()[""] == nil)
    }

    @Test("name is the value of __name__, or nil without one")
    func metricName() {
        let withName: Labels = ["__name__": "up", "job": "api"]
        let withoutName: Labels = ["job": "api"]
        #expect(withName.name == "up")
        #expect(withoutName.name == nil)
        #expect(Labels.metricName == "__name__")
    }

    @Test("iterating yields the sorted pairs")
    func iteration() {
        let labels: Labels = ["c": "3", "a": "1", "b": "2"]
        #expect(Array(labels) == [Label("a", "1"), Label("b", "2"), Label("c", "3")])
        #expect(labels.count == 3)
        #expect(!labels.isEmpty)
    }

    // MARK: Copies

    @Test("setting adds a new label in sorted position")
    func settingAdds() throws {
        let labels: Labels = ["a": "1", "c": "3"]
        let updated = try labels.setting("b", to: "2")
        #expect(updated.pairs == [Label("a", "1"), Label("b", "2"), Label("c", "3")])
        #expect(labels.count == 2, "the original is unchanged")
    }

    @Test("setting replaces an existing label's value")
    func settingReplaces() throws {
        let labels: Labels = ["a": "1", "b": "2"]
        #expect(try labels.setting("a", to: "9") == ["a": "9", "b": "2"])
    }

    @Test("setting a label to the empty value removes it")
    func settingEmptyRemoves() throws {
        let labels: Labels = ["a": "1", "b": "2"]
        #expect(try labels.setting("a", to: "") == ["b": "2"])
        #expect(try labels.setting("zzz", to: "") == labels)
    }

    @Test("setting validates the name, the metric name and the limits")
    func settingValidates() throws {
        let labels: Labels = ["a": "1"]
        let name = #expect(throws: SeismoError.self) { try labels.setting("1a", to: "x") }
        #expect(name?.code == .invalidLabelName)
        let metric = #expect(throws: SeismoError.self) { try labels.setting("__name__", to: "not-valid") }
        #expect(metric?.code == .invalidMetricName)
        let long = #expect(throws: SeismoError.self) {
            try labels.setting("big", to: String(repeating: "x", count: 16 * 1024 + 1))
        }
        #expect(long?.code == .invalidLabelValue)
    }

    @Test("removing drops the named labels and ignores names that are absent")
    func removing() {
        let labels: Labels = ["__name__": "up", "job": "api", "instance": "a:1"]
        #expect(labels.removing(["__name__"]) == ["job": "api", "instance": "a:1"])
        #expect(labels.removing(["job", "instance", "nope"]) == ["__name__": "up"])
        #expect(labels.removing([]) == labels)
        #expect(labels.removing(["__name__", "job", "instance"]).isEmpty)
    }

    @Test("keeping keeps only the named labels and ignores names that are absent")
    func keeping() {
        let labels: Labels = ["__name__": "up", "job": "api", "instance": "a:1"]
        #expect(labels.keeping(["job", "nope"]) == ["job": "api"])
        #expect(labels.keeping([]).isEmpty)
        #expect(labels.keeping(["__name__", "job", "instance"]) == labels)
    }

    @Test("removing and keeping the same names partition the set")
    func removingAndKeepingPartition() throws {
        let labels: Labels = ["a": "1", "b": "2", "c": "3", "d": "4"]
        let names: Set = ["b", "d"]
        let kept = labels.keeping(names)
        let removed = labels.removing(names)
        #expect(kept.count + removed.count == labels.count)
        #expect(try Labels(validating: Array(kept) + Array(removed)) == labels)
    }

    // MARK: Description

    @Test(
        "description is Prometheus notation",
        arguments: [
            (["__name__": "up"], "up"),
            (["__name__": "up", "job": "api"], #"up{job="api"}"#),
            (["job": "api", "instance": "a:1"], #"{instance="a:1", job="api"}"#),
            ([:], "{}"),
            (
                ["__name__": "http_requests_total", "code": "200", "method": "GET"],
                #"http_requests_total{code="200", method="GET"}"#
            ),
        ] as [([String: String], String)])
    func description(dictionary: [String: String], expected: String) throws {
        #expect(try Labels(validating: dictionary).description == expected)
    }

    @Test("description escapes backslashes, double quotes and newlines in values, and nothing else")
    func descriptionEscapes() {
        let labels: Labels = ["path": #"C:\dir"#, "msg": "say \"hi\"\nbye", "tab": "a\tb", "u": "é"]
        #expect(labels.description == "{msg=\"say \\\"hi\\\"\\nbye\", path=\"C:\\\\dir\", tab=\"a\tb\", u=\"é\"}")
    }

    @Test(
        "escape follows the text exposition format",
        arguments: [
            ("plain", "plain"), (#"a\b"#, #"a\\b"#), (#"a"b"#, #"a\"b"#), ("a\nb", #"a\nb"#), ("'", "'"), ("", ""),
        ])
    func escape(raw: String, escaped: String) {
        #expect(Labels.escape(raw) == escaped)
    }

    // MARK: Stable hash

    /// Expected values computed independently with Python's `xxhash` package (the C
    /// reference implementation) over `name 0xFF value 0xFF …` of the sorted pairs.
    @Test(
        "stableHash is xxHash64 of the sorted pairs with 0xFF separators: pinned values",
        arguments: [
            ([:], 0xEF46_DB37_51D8_E999),
            (["__name__": "up"], 0x23D4_C2CB_1338_7598),
            (["__name__": "up", "job": "api"], 0x2796_7EC8_7265_EAEF),
            (["a": "b"], 0x6088_91B6_A4FD_3588),
            (["a": "bc"], 0x2574_3FBA_3CC4_6906),
            (["ab": "c"], 0x4793_0896_7D48_9BA5),
            (["city": "Zürich"], 0xCE5C_45D7_6E6D_B784),
            (
                [
                    "__name__": "http_requests_total", "code": "200", "instance": "10.0.0.1:9100", "job": "node",
                    "method": "GET",
                ], 0xB2BE_E10E_0C78_559E
            ),
        ] as [([String: String], UInt64)])
    func stableHashPinned(dictionary: [String: String], expected: UInt64) throws {
        #expect(try Labels(validating: dictionary).stableHash == expected)
    }

    @Test("stableHash does not depend on the order the labels were given in")
    func stableHashOrderIndependent() throws {
        let pairs = [
            Label("__name__", "http_requests_total"), Label("code", "200"), Label("instance", "10.0.0.1:9100"),
            Label("job", "node"), Label("method", "GET"),
        ]
        let expected: UInt64 = 0xB2BE_E10E_0C78_559E
        #expect(try Labels(validating: pairs).stableHash == expected)
        #expect(try Labels(validating: pairs.reversed()).stableHash == expected)
        #expect(try Labels(validating: [pairs[3], pairs[0], pairs[4], pairs[2], pairs[1]]).stableHash == expected)
        let built = try Labels().setting("method", to: "GET").setting("job", to: "node")
            .setting("__name__", to: "http_requests_total").setting("instance", to: "10.0.0.1:9100")
            .setting("code", to: "200")
        #expect(built.stableHash == expected)
    }

    @Test("stableHash ignores labels with empty values, as identity does")
    func stableHashIgnoresEmpty() throws {
        #expect(try Labels(validating: ["a": "b", "c": ""]).stableHash == 0x6088_91B6_A4FD_3588)
    }

    @Test("separator bytes keep the boundary between name and value: {a=\"bc\"} and {ab=\"c\"} differ")
    func stableHashSeparatesNameFromValue() {
        let left: Labels = ["a": "bc"]
        let right: Labels = ["ab": "c"]
        #expect(left != right)
        #expect(left.stableHash != right.stableHash)
    }

    @Test("separator bytes keep the boundary between pairs: one label and two labels differ")
    func stableHashSeparatesPairs() {
        let one: Labels = ["a": "bc"]
        let two: Labels = ["a": "b", "c": "d"]
        let three: Labels = ["a": "b", "cd": "x"]
        #expect(Set([one.stableHash, two.stableHash, three.stableHash]).count == 3)
    }

    @Test("stableHash is consistent with equality: equal sets hash the same")
    func stableHashConsistentWithEquality() throws {
        let a = try Labels(validating: ["x": "1", "y": "2"])
        let b = try Labels(validating: [Label("y", "2"), Label("x", "1")])
        #expect(a == b)
        #expect(a.stableHash == b.stableHash)
        #expect(a.hashValue == b.hashValue)
    }

    @Test("label values are compared as bytes, as in Prometheus: NFC and NFD spellings are different series")
    func unicodeNormalizationIsNotIdentity() throws {
        let composed = try Labels(validating: ["city": "\u{E9}"])  // é, one scalar
        let decomposed = try Labels(validating: ["city": "e\u{301}"])  // e + combining acute
        #expect(composed.stableHash == 0x8476_B657_1371_93A8)
        #expect(decomposed.stableHash == 0xFF3F_BE69_1E33_FF5C)
        // Equal values must have equal stable hashes: the series key is the bytes.
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed]).count == 2)
    }

    @Test("label names are looked up by bytes: the Kelvin sign is not the letter K")
    func lookupIsByBytes() {
        let labels: Labels = ["K": "kelvin"]
        #expect(labels["K"] == "kelvin")
        #expect(labels["\u{212A}"] == nil)
    }

    // MARK: Label

    @Test("Label orders by name, then by value")
    func labelOrder() {
        #expect(Label("a", "z") < Label("b", "a"))
        #expect(Label("a", "1") < Label("a", "2"))
        #expect(!(Label("a", "1") < Label("a", "1")))
    }

    // MARK: Literals

    @Test("an invalid literal is a programming error that stops the process")
    func invalidLiteralTraps() async {
        await #expect(processExitsWith: .failure) {
            let labels: Labels = ["1a": "x"]
            _ = labels
        }
    }
}
