import Testing
@testable import SeismoStore

@Test func moduleLinks() {}
