import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// A Contexo service's Hummingbird application, which also says which routes it serves. The gateway's
/// OpenAPI document is checked against these lists (route parity), so a route added in code and not
/// described, or described and never served, fails a test instead of surprising a client.
public struct ServiceApplication: ApplicationProtocol {
    public typealias Responder = RouterResponder<ContexoRequestContext>
    public typealias Context = ContexoRequestContext

    private let base: Application<Responder>
    /// Every method and path the router answers, in registration-independent order.
    public let routes: [Route]

    /// One method on one path pattern (`{id}` for a capture, `**` for "everything below").
    public struct Route: Hashable, Sendable, CustomStringConvertible {
        public var method: String
        public var path: String

        public init(method: String, path: String) {
            self.method = method
            self.path = path
        }

        public var description: String { "\(method) \(path)" }
    }

    init(router: Router<ContexoRequestContext>, server: HTTPServerBuilder, configuration: ApplicationConfiguration,
         services: [any Service], onServerRunning: @escaping @Sendable (any Channel) async -> Void, logger: Logger) {
        routes = router.routes
            .map { Route(method: $0.method.rawValue, path: "/" + $0.path.description.drop { $0 == "/" }) }
            .sorted { ($0.path, $0.method) < ($1.path, $1.method) }
        base = Application(router: router, server: server, configuration: configuration, services: services,
                           onServerRunning: onServerRunning, logger: logger)
    }

    public var responder: Responder { base.responder }
    public var server: HTTPServerBuilder { base.server }
    public var eventLoopGroup: any EventLoopGroup { base.eventLoopGroup }
    public var configuration: ApplicationConfiguration { base.configuration }
    public var logger: Logger { base.logger }
    public var services: [any Service] { base.services }
    public var processesRunBeforeServerStart: [@Sendable () async throws -> Void] { base.processesRunBeforeServerStart }

    @Sendable public func onServerRunning(_ channel: any Channel) async { await base.onServerRunning(channel) }
}
