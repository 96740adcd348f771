import Foundation
import NIOSSL
import PostgresNIO

/// A parsed `postgres://user:password@host:port/database` URL.
///
/// `sslmode=require`, `verify-ca` or `verify-full` in the query turns TLS on, always with the
/// server's certificate verified (chain and host name), against the system's roots or the PEM file
/// in `sslrootcert` (a managed provider's CA). The password is kept out of `description`.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool
    /// A PEM file of the CA certificates that sign the server's certificate (`sslrootcert`).
    public var rootCertificateFile: String?

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
        self.rootCertificateFile = components.queryItems?.first(where: { $0.name == "sslrootcert" })?.value
    }

    /// The TLS settings: full verification, with the configured CA file when there is one.
    public var tlsConfiguration: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        if let rootCertificateFile { tls.trustRoots = .file(rootCertificateFile) }
        return tls
    }

    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    /// A `PostgresClient` configuration for this URL.
    public func clientConfiguration(maximumConnections: Int = 20) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = requireTLS ? .require(tlsConfiguration) : .disable
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    /// A single-connection configuration (migrations, tools).
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            requireTLS ? .require(try NIOSSLContext(configuration: tlsConfiguration)) : .disable
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}
