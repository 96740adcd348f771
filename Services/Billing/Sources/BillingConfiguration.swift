import Platform

/// Billing's configuration, read from the environment (see the README's configuration table).
public struct BillingConfiguration: ContexoServiceConfiguration {
    public static let defaultPort = 8083
    public var service: ServiceConfiguration
    public var database: DatabaseConfiguration

    public init(service: ServiceConfiguration, database: DatabaseConfiguration) {
        self.service = service
        self.database = database
    }

    public static func read(from reader: inout ConfigurationReader) -> BillingConfiguration {
        BillingConfiguration(
            service: .read(from: &reader, defaultPort: defaultPort),
            database: .read(from: &reader))
    }
}
