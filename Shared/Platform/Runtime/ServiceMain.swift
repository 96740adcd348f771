import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// A service's configuration: every Contexo service has the shared part.
public protocol ContexoServiceConfiguration: Sendable {
    var service: ServiceConfiguration { get }
}

/// The body of every service executable: validate the whole configuration (exit 78 with one
/// message naming every bad variable), log as JSON, run the application until SIGTERM/SIGINT, then
/// shut down gracefully — stop accepting, finish in-flight requests, stop background loops — and
/// exit 0.
public enum ServiceMain {
    /// How long in-flight work may take after a shutdown signal before it is cancelled.
    public static let gracePeriod: Duration = .seconds(7)

    public static func run<Configuration: ContexoServiceConfiguration, App: ApplicationProtocol>(
        service: ServiceName,
        configuration load: (inout ConfigurationReader) -> Configuration,
        application makeApplication: (Configuration, Logger) async throws -> App
    ) async -> Never {
        // A write to a socket its peer closed must be an error, not the end of the process. NIO
        // ignores SIGPIPE when it opens its first socket; a hiredis write may come before that.
        _ = signal(SIGPIPE, SIG_IGN)
        var reader = ConfigurationReader()
        let configuration = load(&reader)
        do {
            try reader.validate(service: "contexo-\(service.rawValue)")
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            exit(78)  // EX_CONFIG
        }
        let build = BuildInfo.current(service: service.rawValue)
        let level = configuration.service.logLevel
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, service: service.rawValue, level: level) }
        var logger = Logger(label: "contexo.\(service.rawValue)")
        logger.logLevel = level
        logger.info("starting", metadata: [
            "version": "\(build.version)", "commit": "\(build.commit)",
            "address": "\(configuration.service.host):\(configuration.service.port)",
            "environment": "\(configuration.service.environment.rawValue)",
        ])
        do {
            let app = try await makeApplication(configuration, logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            ).withGrace(gracePeriod))
            try await group.run()
            logger.info("stopped")
            exit(0)
        } catch {
            logger.critical("failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}

extension ServiceGroupConfiguration {
    func withGrace(_ grace: Duration) -> Self {
        var copy = self
        copy.maximumGracefulShutdownDuration = grace
        copy.maximumCancellationDuration = .seconds(2)
        return copy
    }
}

import Contract
