import Contract
import Foundation
import HTTPTypes
import Hummingbird
import Platform

/// The visitor surface (`/widget/v1/widgets/{id}/…`, S5.1 and S5.4), in this order and before
/// anything is forwarded (so before any AI work): the per-IP limit; the widget's CORS allow-list —
/// a preflight from an origin not on it is a 403 without `Access-Control-Allow-Origin`, and an
/// actual request from it, or without any `Origin`, is refused server-side; then the per-widget
/// limit. Allowed answers carry `Access-Control-Allow-Origin` for that origin only.
struct WidgetSurfaceMiddleware: RouterMiddleware {
    typealias Context = ContexoRequestContext
    static let prefix = "/widget/v1/widgets/"
    static let allowedMethods = "GET, POST"
    static let allowedHeaders = "Content-Type, X-Contexo-Session, X-Request-Id, Accept"

    let allowLists: WidgetAllowListCache
    let limiter: RateLimiter
    let perIP: RateLimit
    let perWidget: RateLimit
    let clientAddress: ClientAddress

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix(Self.prefix) else { return try await next(request, context) }
        let ip = clientAddress.ip(of: request, context: context)
        let idText = path.dropFirst(Self.prefix.count).prefix { $0 != "/" }
        var headers: [String: String]
        do {
            headers = try RateLimitMiddleware.enforce(await limiter.check(scope: "widget", address: ip, rate: perIP), rate: perIP,
                                                      who: "this address")
        } catch {
            // Limited before any lookup. If the widget's allow-list is already cached and admits the
            // page, the 429 carries CORS headers, so the widget can read Retry-After and say so.
            guard let widget = UUID(uuidString: String(idText)), let origin = request.headers[.origin],
                  case .allowed(let allowList, _) = allowLists.cached(widget), allowList.contains(where: { $0.allows(origin) })
            else { throw error }
            var response = error.response(requestID: context.requestID)
            CORSHeaders.allow(&response, origin: origin)
            return response
        }
        guard let widget = UUID(uuidString: String(idText)) else { throw Problem.notFound("No such widget.") }
        guard let origin = request.headers[.origin] ?? Self.sameOrigin(of: request) else {
            throw Self.refused("Widget requests must come from a browser page on one of the widget's domains (no Origin header).")
        }
        guard case .allowed(let allowList, let owner) = try await allowLists.lookup(widget, requestID: context.requestID) else {
            throw Problem.notFound("No such widget.")
        }
        guard allowList.contains(where: { $0.allows(origin) }) else {
            context.logger.notice("widget origin refused", metadata: ["widget": "\(widget)", "origin": "\(origin.prefix(200))"])
            throw Self.refused("This widget is not allowed on \(origin.prefix(200)).")
        }
        if request.method == .options {
            return CORSHeaders.preflight(origin: origin, methods: Self.allowedMethods, headers: Self.allowedHeaders)
        }
        var response: Response
        do {
            headers.merge(try RateLimitMiddleware.enforce(await limiter.check("widget:id:\(widget)", rate: perWidget),
                                                          rate: perWidget, who: "this widget")) { _, widget in widget }
            var context = context
            context.widgetOwner = owner
            response = try await next(request, context)
        } catch {
            // The page's script may read why a call failed: errors carry the CORS headers too.
            response = ProblemMiddleware.problem(for: error, context: context).response(requestID: context.requestID)
        }
        for (name, value) in headers {
            if let field = HTTPField.Name(name), response.headers[field] == nil { response.headers[field] = value }
        }
        CORSHeaders.allow(&response, origin: origin)
        return response
    }

    /// A browser sends no `Origin` on a same-origin GET (the dashboard's preview of a widget, served
    /// by the gateway itself), but says `Sec-Fetch-Site: same-origin`: the page's origin is then this
    /// host's, and it must be on the widget's allow-list like any other.
    static func sameOrigin(of request: Request) -> String? {
        guard request.headers[HTTPField.Name("Sec-Fetch-Site")!] == "same-origin", let authority = request.head.authority else {
            return nil
        }
        let scheme = request.head.scheme ?? (authority.hasPrefix("127.0.0.1") || authority.hasPrefix("localhost") ? "http" : "https")
        return "\(scheme)://\(authority)"
    }

    static func refused(_ detail: String) -> Problem {
        Problem(status: .forbidden, slug: "origin-not-allowed", title: "Origin Not Allowed", detail: detail)
    }
}
