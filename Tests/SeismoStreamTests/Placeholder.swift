import Testing
@testable import SeismoStream

@Test func moduleLinks() {}
