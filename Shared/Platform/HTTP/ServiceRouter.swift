import Foundation
import Hummingbird

/// Who may read `/metrics`, which shows per-route counts and latencies across all tenants.
public enum MetricsAccess: Sendable, Equatable {
    /// Anyone who reaches the port (an internal service on a private network).
    case open
    /// Only a scraper presenting `Authorization: Bearer <token>` (`CONTEXO_METRICS_TOKEN`).
    case bearer(String)
    /// Nobody: the route answers 404 (the public gateway without a metrics token).
    case closed

    /// A service's access: the token when one is configured, else open inside, closed at the edge.
    public static func of(token: String?, publicFacing: Bool) -> MetricsAccess {
        if let token { return .bearer(token) }
        return publicFacing ? .closed : .open
    }
}

/// Builds the router every service starts from: request ids, metrics and problem+json errors on
/// every route; `/healthz`, `/readyz`, `/metrics` and `/version` outside authentication (`/metrics`
/// as ``MetricsAccess`` allows); and a ``businessRoutes`` group that only answers the gateway.
public struct ServiceRouter {
    public let router: Router<ContexoRequestContext>
    /// Routes that require the gateway's internal token.
    public let businessRoutes: RouterGroup<ContexoRequestContext>
    public let metrics: HTTPMetrics
    /// Every route, for 405 answers; filled by ``sealRoutes()`` once all routes are added.
    public let routeTable = RouteTable()

    /// - Parameter verifier: nil for the gateway itself, whose business routes are public.
    /// - Parameter securityHeaders: Helmet's headers on every response (the public gateway).
    public init(build: BuildInfo, readiness: [DependencyCheck], verifier: InternalTokenVerifier?,
                metrics: HTTPMetrics? = nil, securityHeaders: Bool = false, metricsAccess: MetricsAccess = .open) {
        let metrics = metrics ?? HTTPMetrics(build: build)
        let router = Router(context: ContexoRequestContext.self)
        router.middlewares.add(RequestIDMiddleware())
        if securityHeaders { router.middlewares.add(SecurityHeadersMiddleware()) }
        router.middlewares.add(AccessLogMiddleware())
        router.middlewares.add(HTTPMetricsMiddleware(metrics: metrics))
        router.middlewares.add(ProblemMiddleware())
        router.middlewares.add(MethodNotAllowedMiddleware(table: routeTable))
        Self.addOperationalRoutes(to: router, build: build, readiness: readiness, metrics: metrics, access: metricsAccess)
        let group = router.group()
        if let verifier { group.add(middleware: InternalAuthMiddleware(verifier: verifier)) }
        self.router = router
        self.businessRoutes = group
        self.metrics = metrics
    }

    /// Records every route added so far, so a served path asked with another method is a 405.
    public func sealRoutes() {
        routeTable.install(router.routes.map { (path: $0.path.description, method: $0.method.rawValue) })
    }

    private static func addOperationalRoutes(
        to router: Router<ContexoRequestContext>, build: BuildInfo, readiness: [DependencyCheck], metrics: HTTPMetrics,
        access: MetricsAccess
    ) {
        router.get("/healthz") { _, _ in
            HealthStatus(status: "ok", service: build.service, version: build.version, commit: build.commit)
        }
        router.get("/version") { _, _ in build }
        router.get("/readyz") { _, context -> HealthStatus in
            let down = await failingDependencies(readiness)
            guard down.isEmpty else {
                context.logger.warning("not ready", metadata: ["down": "\(down.joined(separator: ","))"])
                throw Problem.serviceUnavailable(
                    "\(build.service) cannot reach: \(down.joined(separator: ", ")).", down: down)
            }
            return HealthStatus(status: "ready", service: build.service, version: build.version, commit: build.commit)
        }
        guard access != .closed else { return }
        router.get("/metrics") { request, _ in
            if case .bearer(let token) = access {
                let presented = request.headers[.authorization] ?? ""
                guard constantTimeEquals(Array(presented.utf8), Array(("Bearer " + token).utf8)) else {
                    throw Problem(status: .unauthorized, slug: "unauthorized", title: "Unauthorized",
                                  detail: "Metrics need the scraper's bearer token.").with(header: "WWW-Authenticate", "Bearer")
                }
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
    }
}

/// The body of `/healthz` and a successful `/readyz`.
public struct HealthStatus: ResponseCodable, Equatable {
    public var status: String
    public var service: String
    public var version: String
    public var commit: String
}

extension BuildInfo: ResponseEncodable {}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}
