import Contract
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// The customer's own account, on the dashboard API (`/v1/account`, behind the customer token):
/// the usage picture (``AccountSummary``) and deletion, which Billing carries out (it cancels the
/// subscription, deletes the identity, erases its rows and announces `account.deleted`). Once
/// Billing confirms, the gateway refuses the customer's tokens and drops what it cached for them.
struct AccountRoutes: Sendable {
    let summary: AccountSummary
    let proxy: UpstreamProxy
    let revocations: AccountRevocations
    let plans: PlanContextCache

    func register(on group: RouterGroup<ContexoRequestContext>) {
        group.on("account", method: .options) { _, _ in Response(status: .noContent) }
        group.get("account") { _, context -> Response in
            guard let customer = context.caller?.customerID else { throw Problem.unauthorized("Sign in first.") }
            let body = try await summary.summary(customer: customer, email: context.customerEmail,
                                                 requestID: context.requestID, logger: context.logger)
            return try Self.json(body)
        }
        group.get("account/audit") { request, context -> Response in
            guard let customer = context.caller?.customerID else { throw Problem.unauthorized("Sign in first.") }
            var limit = 100
            if let text = request.uri.queryParameters["limit"] {
                guard let value = Int(text), (1...500).contains(value) else {
                    throw Problem.unprocessable("limit must be a whole number from 1 to 500.", fields: ["limit"])
                }
                limit = value
            }
            return try Self.json(try await summary.auditTrail(customer: customer, limit: limit, requestID: context.requestID,
                                                              logger: context.logger))
        }
        group.delete("account") { request, context -> Response in
            guard let customer = context.caller?.customerID else { throw Problem.unauthorized("Sign in first.") }
            let response = try await proxy.forward(request, context: context, to: .billing, customer: customer)
            if response.status == .ok {
                await revocations.revoke(customer)
                plans.invalidate(customer)
                context.logger.notice("account deleted; its tokens are refused from now on", metadata: ["owner": "\(customer)"])
            }
            return response
        }
    }

    /// What the gateway does when Billing announces a deletion it may not have seen itself (another
    /// replica took the request, or this one restarted).
    func accountDeleted(_ customer: UUID) async {
        await revocations.revoke(customer)
        plans.invalidate(customer)
    }

    static func json(_ body: [String: JSONValue]) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: JSONValue.object(body).any, options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
