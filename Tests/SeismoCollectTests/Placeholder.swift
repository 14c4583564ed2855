import Testing
@testable import SeismoCollect

@Test func moduleLinks() {}
