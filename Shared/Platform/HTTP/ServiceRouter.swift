import Foundation
import Hummingbird

/// Builds the router every service starts from: request ids, metrics and problem+json errors on
/// every route; `/healthz`, `/readyz`, `/metrics` and `/version` outside authentication; and a
/// ``businessRoutes`` group that only answers the gateway.
public struct ServiceRouter {
    public let router: Router<ContexoRequestContext>
    /// Routes that require the gateway's internal token.
    public let businessRoutes: RouterGroup<ContexoRequestContext>
    public let metrics: HTTPMetrics

    /// - Parameter verifier: nil for the gateway itself, whose business routes are public.
    /// - Parameter securityHeaders: Helmet's headers on every response (the public gateway).
    public init(build: BuildInfo, readiness: [DependencyCheck], verifier: InternalTokenVerifier?,
                metrics: HTTPMetrics? = nil, securityHeaders: Bool = false) {
        let metrics = metrics ?? HTTPMetrics(build: build)
        let router = Router(context: ContexoRequestContext.self)
        router.middlewares.add(RequestIDMiddleware())
        if securityHeaders { router.middlewares.add(SecurityHeadersMiddleware()) }
        router.middlewares.add(AccessLogMiddleware())
        router.middlewares.add(HTTPMetricsMiddleware(metrics: metrics))
        router.middlewares.add(ProblemMiddleware())
        Self.addOperationalRoutes(to: router, build: build, readiness: readiness, metrics: metrics)
        let group = router.group()
        if let verifier { group.add(middleware: InternalAuthMiddleware(verifier: verifier)) }
        self.router = router
        self.businessRoutes = group
        self.metrics = metrics
    }

    private static func addOperationalRoutes(
        to router: Router<ContexoRequestContext>, build: BuildInfo, readiness: [DependencyCheck], metrics: HTTPMetrics
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
        router.get("/metrics") { _, _ in
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
