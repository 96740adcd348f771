import HTTPTypes
import Hummingbird
import Platform

/// Limits requests per client IP before anything else is done for them (S5.4): a 429 problem with
/// `Retry-After`, and `RateLimit-*` headers on every answer.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = ContexoRequestContext
    let limiter: RateLimiter
    let rate: RateLimit
    let scope: String
    let clientAddress: ClientAddress

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let ip = clientAddress.ip(of: request, context: context)
        let decision = await limiter.check(scope: scope, address: ip, rate: rate)
        let headers = try Self.enforce(decision, rate: rate, who: "this address")
        var response: Response
        do {
            response = try await next(request, context)
        } catch var problem as Problem {
            // The gateway's own refusals after the limiter (401, 413, 503, 504…) count too.
            problem.headers.merge(headers) { own, _ in own }
            throw problem
        }
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        return response
    }

    /// The `RateLimit-*` headers of a decision; throws the 429 problem (with them and
    /// `Retry-After`) when it is a refusal. `who` names what was limited.
    static func enforce(_ decision: RateDecision, rate: RateLimit, who: String) throws(Problem) -> [String: String] {
        let headers = [
            "RateLimit-Limit": String(rate.limit),
            "RateLimit-Remaining": String(decision.remaining),
            "RateLimit-Reset": String((decision.resetMilliseconds + 999) / 1000),
            "RateLimit-Policy": "\(rate.limit);w=\(rate.period.components.seconds)",
        ]
        guard decision.allowed else {
            var limited = Problem(status: .tooManyRequests, slug: "rate-limited", title: "Too Many Requests",
                                  detail: "Too many requests from \(who). Retry after \((decision.retryAfterMilliseconds + 999) / 1000) s.")
            limited.headers = headers
            limited.headers["Retry-After"] = String(max(1, (decision.retryAfterMilliseconds + 999) / 1000))
            throw limited
        }
        return headers
    }
}
