import Foundation

/// Where a Redis server is, and as whom to log in: parsed from
/// `redis://[[user]:password@]host[:port][/db]`. With a user name, the connection sends
/// `AUTH user password` (a Redis 6+ ACL user); with a password alone, `AUTH password` (`default`).
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    public init?(url: String) {
        guard let components = URLComponents(string: url), components.scheme == "redis",
              let host = components.host, !host.isEmpty
        else { return nil }
        let path = components.path.drop(while: { $0 == "/" })
        let database = path.isEmpty ? 0 : Int(path)
        guard let database, database >= 0 else { return nil }
        let user = components.user.flatMap { $0.isEmpty ? nil : ($0.removingPercentEncoding ?? $0) }
        let password = components.password.map { $0.removingPercentEncoding ?? $0 }
        guard user == nil || password != nil else { return nil }  // a user logs in with a password
        self.init(host: host, port: components.port ?? 6379, username: user, password: password, database: database)
    }

    /// The same server and database, logged in as `username` with `password`.
    public func user(_ username: String, password: String) -> RedisEndpoint {
        RedisEndpoint(host: host, port: port, username: username, password: password, database: database)
    }

    /// Never shows the password.
    public var description: String { "redis://\(username.map { $0 + "@" } ?? "")\(host):\(port)/\(database)" }
}
