import Hummingbird
import NIOConcurrencyHelpers

/// The routes a service serves, by path pattern and method, filled once when the application is
/// built (``ServiceRouter/sealRoutes()``), so that a request for a served path with a method it
/// does not take is a 405 naming the methods in `Allow`, not a 404.
public final class RouteTable: Sendable {
    private let routes = NIOLockedValueBox<[(segments: [Substring], method: String)]>([])

    public init() {}

    func install(_ descriptions: [(path: String, method: String)]) {
        routes.withLockedValue { routes in
            routes = descriptions.map { (Self.segments($0.path), $0.method) }
        }
    }

    /// The methods served for `path`, empty when no route matches it.
    func methods(for path: String) -> Set<String> {
        let parts = Self.segments(path)
        return routes.withLockedValue { routes in
            Set(routes.filter { Self.matches($0.segments, parts) }.map(\.method))
        }
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// `**` matches the rest, `*` and captures (`{id}`, `:id`, `file.{ext}`) one segment.
    private static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        var index = 0
        for segment in pattern {
            if segment == "**" { return true }
            guard index < path.count else { return false }
            let wild = segment == "*" || segment.hasPrefix(":") || segment.contains("{")
            if !wild && segment != path[index] { return false }
            index += 1
        }
        return index == path.count
    }
}

/// Turns the router's 404 for a served path into a 405 with `Allow` (RFC 9110 §15.5.6).
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = ContexoRequestContext
    let table: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = table.methods(for: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else { throw error }
            let list = allowed.sorted().joined(separator: ", ")
            throw Problem(status: .methodNotAllowed, slug: "method-not-allowed", title: "Method Not Allowed",
                          detail: "\(request.uri.path.prefix(200)) accepts \(list).").with(header: "Allow", list)
        }
    }
}
