import Testing
@testable import SeismoPipeline

@Test func moduleLinks() {}
