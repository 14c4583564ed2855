import ArgumentParser

/// The `seismo` command line.
@main
struct Seismo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seismo",
        abstract: "Observability stream processor with anomaly detection.",
        subcommands: [Run.self, Collect.self, Validate.self, Query.self, Broker.self, Produce.self, Subscribe.self, Topics.self, Train.self, Models.self, BacktestCommand.self, Alerts.self]
    )
}
