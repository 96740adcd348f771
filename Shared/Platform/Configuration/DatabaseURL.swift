import Foundation
import NIOSSL
import PostgresNIO

/// A parsed `postgres://user:password@host:port/database` URL.
///
/// `sslmode=require` (or `verify-full`) in the query turns TLS on; the password is kept out of `description`.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool

    public init?(_ string: String) {
        guard let components = URLComponents(string: string),
              let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme),
              let host = components.host, !host.isEmpty,
              let user = components.user, !user.isEmpty
        else { return nil }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { return nil }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
        let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value
        self.requireTLS = sslMode == "require" || sslMode == "verify-full" || sslMode == "verify-ca"
    }

    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    /// A `PostgresClient` configuration for this URL.
    public func clientConfiguration(maximumConnections: Int = 20) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = requireTLS ? .require(.makeClientConfiguration()) : .disable
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    /// A single-connection configuration (migrations, tools).
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}
