import Platform

/// Chat's configuration, read from the environment (see the README's configuration table).
public struct ChatConfiguration: ContexoServiceConfiguration {
    public static let defaultPort = 8081
    public var service: ServiceConfiguration
    public var database: DatabaseConfiguration

    public init(service: ServiceConfiguration, database: DatabaseConfiguration) {
        self.service = service
        self.database = database
    }

    public static func read(from reader: inout ConfigurationReader) -> ChatConfiguration {
        ChatConfiguration(
            service: .read(from: &reader, defaultPort: defaultPort),
            database: .read(from: &reader))
    }
}
