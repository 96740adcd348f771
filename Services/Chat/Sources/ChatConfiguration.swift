import Platform

/// Chat's configuration, read from the environment (see the README's configuration table).
public struct ChatConfiguration: ContexoServiceConfiguration {
    public static let defaultPort = 8081
    public var service: ServiceConfiguration
    public var database: DatabaseConfiguration
    /// Widgets allowed to a tenant Billing never announced a plan for (the catalog's free plan).
    public var freeWidgetLimit: Int

    public init(service: ServiceConfiguration, database: DatabaseConfiguration, freeWidgetLimit: Int = 1) {
        self.service = service
        self.database = database
        self.freeWidgetLimit = freeWidgetLimit
    }

    public static func read(from reader: inout ConfigurationReader) -> ChatConfiguration {
        ChatConfiguration(
            service: .read(from: &reader, defaultPort: defaultPort),
            database: .read(from: &reader),
            freeWidgetLimit: reader.integer("CONTEXO_FREE_WIDGET_LIMIT", default: 1, in: 0...10_000))
    }
}
