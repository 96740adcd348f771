import Foundation

/// Where a Redis server is: parsed from `redis://[:password@]host[:port][/db]`.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var password: String?
    public var database: Int

    public init(host: String, port: Int = 6379, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
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
        self.init(
            host: host, port: components.port ?? 6379,
            password: components.password.map { $0.removingPercentEncoding ?? $0 }, database: database)
    }

    public var description: String { "redis://\(host):\(port)/\(database)" }
}
