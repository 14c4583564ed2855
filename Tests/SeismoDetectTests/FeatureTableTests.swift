import SeismoDetect
import Testing

@Suite("FeatureTable")
struct FeatureTableTests {
    @Test("rows are consecutive runs of featureCount values")
    func rows() {
        let table = FeatureTable(featureNames: ["a", "b"], rowCount: 3, values: [1, 2, 3, 4, 5, 6])
        #expect(table.featureCount == 2)
        #expect(Array(table.row(1)) == [3, 4])
        #expect(Array(table.row(2)) == [5, 6])
    }
}
