import Contract
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// A service's audit trail of security-relevant actions (S10): appended in the same tenant
/// transaction as the action, so an entry exists exactly when the action happened; never changed
/// afterwards (the service role can only call `<schema>.record_audit`). The customer reads the
/// merged trail of every service at `GET /v1/account/audit`.
public struct AuditTrail: Sendable {
    /// Who did it: the signed-in customer, a widget's visitor, the payment provider, or the system.
    public enum Actor: String, Sendable {
        case customer, visitor, provider, system
    }

    public let schema: String

    public init(service: ServiceName) {
        self.schema = service.rawValue
    }

    init(schema: String) {
        self.schema = schema
    }

    /// The gateway's request id of the request the current task serves (set with the ticket by
    /// ``InternalAuthMiddleware``): what ties an entry to the gateway's and the services' logs.
    @TaskLocal public static var requestID: String?

    /// Appends one entry for the tenant `connection`'s transaction is in (`action`: dotted lower
    /// case, such as `widget.updated`; `subject`: what it was done to, such as a widget id).
    /// `detail` holds what changed and never content (no message text, no document text).
    public func record(_ action: String, subject: String?, detail: [String: JSONValue] = [:], actor: Actor = .customer,
                       requestID: String? = AuditTrail.requestID, on connection: PostgresConnection, logger: Logger) async throws {
        let json = String(decoding: try JSONEncoder().encode(JSONValue.object(detail)), as: UTF8.self)
        try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(schema).record_audit($1, $2, $3, $4::jsonb, $5)", binds: {
                var binds = PostgresBindings()
                binds.append(actor.rawValue)
                binds.append(action)
                binds.append(subject)
                binds.append(json)
                binds.append(requestID)
                return binds
            }()),
            logger: logger)
    }

    /// `GET /internal/account/audit?limit=N&before=ISO8601`: the calling customer's newest entries
    /// in this service, `{"entries": [...]}`, newest first.
    public func register(on group: RouterGroup<ContexoRequestContext>, postgres: PostgresClient, logger: Logger) {
        let schema = self.schema
        group.get("/internal/account/audit") { request, context -> Response in
            let owner = try context.requireCustomer().id
            let limit = request.uri.queryParameters["limit"].flatMap { Int32($0) } ?? 100
            var before: Date?
            if let text = request.uri.queryParameters["before"] {
                guard let parsed = try? Date(String(text), strategy: .iso8601) else {
                    throw Problem.unprocessable("before must be an ISO 8601 time.", fields: ["before"])
                }
                before = parsed
            }
            let lines = try await postgres.withTenantTransaction(owner, logger: logger) { connection in
                try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT \(schema).audit_trail_page($1, $2)", binds: {
                        var binds = PostgresBindings()
                        binds.append(limit)
                        binds.append(before)
                        return binds
                    }()),
                    logger: logger
                ).collect().map { try $0.decode(String.self) }
            }
            var body = ByteBuffer(string: #"{"entries":["#)
            body.writeString(lines.joined(separator: ","))
            body.writeString("]}")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
    }
}
