import HTTPTypes
import Hummingbird

/// Helmet 8's default security headers on every response, errors included (S7.1), and no
/// `X-Powered-By`. Values are exactly Helmet's (see the reference's §5).
public struct SecurityHeadersMiddleware: RouterMiddleware {
    public typealias Context = ContexoRequestContext

    /// Helmet 8 defaults, in its order.
    public static let headers: [(HTTPField.Name, String)] = [
        (HTTPField.Name("Content-Security-Policy")!,
         "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"),
        (HTTPField.Name("Cross-Origin-Opener-Policy")!, "same-origin"),
        (HTTPField.Name("Cross-Origin-Resource-Policy")!, "same-origin"),
        (HTTPField.Name("Origin-Agent-Cluster")!, "?1"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        (HTTPField.Name("Strict-Transport-Security")!, "max-age=31536000; includeSubDomains"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("X-DNS-Prefetch-Control")!, "off"),
        (HTTPField.Name("X-Download-Options")!, "noopen"),
        (HTTPField.Name("X-Frame-Options")!, "SAMEORIGIN"),
        (HTTPField.Name("X-Permitted-Cross-Domain-Policies")!, "none"),
        (HTTPField.Name("X-XSS-Protection")!, "0"),
    ]
    private static let poweredBy = HTTPField.Name("X-Powered-By")!
    public static let resourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!
    public static let policyHeader = HTTPField.Name("Content-Security-Policy")!

    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = ProblemMiddleware.problem(for: error, context: context).response(requestID: context.requestID)
        }
        response.headers[Self.poweredBy] = nil
        // A resource meant for other sites (the widget script) declares `cross-origin` itself.
        let crossOrigin = response.headers[Self.resourcePolicy] == "cross-origin"
        // A page that declares a stricter policy of its own (the dashboard) keeps it.
        let ownPolicy = response.headers[Self.policyHeader]
        for (name, value) in Self.headers { response.headers[name] = value }
        if crossOrigin { response.headers[Self.resourcePolicy] = "cross-origin" }
        if let ownPolicy { response.headers[Self.policyHeader] = ownPolicy }
        return response
    }
}
