import AsyncHTTPClient
import Contract
import Foundation
import Logging
import NIOCore
import Platform

/// `GET /v1/account`: one picture of a customer's account, put together from the three services
/// that each own a part of it, asked at the same time:
///
/// - Billing (`GET /v1/billing/entitlements`): plan, status, period end, portal, credits bought;
/// - Chat (`GET /v1/chat/usage`): widgets, this month's messages against the allowance, credits
///   left, debt, and messages per month for the last twelve months;
/// - Ingest (`GET /internal/knowledge/usage`): knowledge bytes against the limit, documents by status.
///
/// Limits shown beside usage are the ones the enforcing service holds. A part that does not answer
/// within the lookup timeout is left out and named in `missing`; only when no part answers is the
/// whole request a 503.
struct AccountSummary: Sendable {
    let httpClient: HTTPClient
    let issuer: InternalTokenIssuer
    let upstreams: GatewayConfiguration.Upstreams
    let timeout: Duration

    /// One part of the picture and where it comes from.
    enum Part: String, CaseIterable, Sendable {
        case plan, messages, knowledge

        var service: ServiceName {
            switch self {
            case .plan: .billing
            case .messages: .chat
            case .knowledge: .ingest
            }
        }

        var path: String {
            switch self {
            case .plan: "/v1/billing/entitlements"
            case .messages: "/v1/chat/usage"
            case .knowledge: "/internal/knowledge/usage"
            }
        }
    }

    func summary(customer: UUID, email: String?, requestID: String, logger: Logger) async throws -> [String: JSONValue] {
        var parts: [Part: JSONValue] = [:]
        var missing: [JSONValue] = []
        await withTaskGroup(of: (Part, Result<JSONValue, PartFailure>).self) { group in
            for part in Part.allCases {
                group.addTask { (part, await fetch(part, customer: customer, requestID: requestID, logger: logger)) }
            }
            for await (part, result) in group {
                switch result {
                case .success(let value): parts[part] = value
                case .failure(let failure):
                    missing.append(.object(["part": .string(part.rawValue), "service": .string(part.service.rawValue),
                                            "detail": .string(failure.detail)]))
                }
            }
        }
        guard !parts.isEmpty else {
            throw Problem.serviceUnavailable("No part of the account could be read; try again shortly.").with(header: "Retry-After", "5")
        }
        missing.sort { ($0.member("part")?.text ?? "") < ($1.member("part")?.text ?? "") }
        return Self.compose(customer: customer, email: email, parts: parts, missing: missing)
    }

    /// The response body from the parts that answered.
    static func compose(customer: UUID, email: String?, parts: [Part: JSONValue], missing: [JSONValue]) -> [String: JSONValue] {
        var body: [String: JSONValue] = [
            "customer": .object(["id": .string(customer.uuidString.lowercased()), "email": email.map(JSONValue.string) ?? .null]),
            "missing": .array(missing),
        ]
        var usage: [String: JSONValue] = [:]
        if let plan = parts[.plan] {
            body["plan"] = .object([
                "id": plan.member("plan") ?? .null, "status": plan.member("status") ?? .null,
                "period_end": plan.member("period_end") ?? .null, "portal_url": plan.member("portal_url") ?? .null,
                "limits": plan.member("limits") ?? .null, "credits": plan.member("credits") ?? .null,
            ])
        }
        if let chat = parts[.messages] {
            usage["widgets"] = .object(["used": chat.member("widgets_used") ?? .null, "limit": chat.member("widgets_limit") ?? .null])
            usage["messages"] = .object([
                "period": chat.member("period") ?? .null, "used": chat.member("messages_used") ?? .null,
                "allowance": chat.member("messages_allowance") ?? .null, "remaining": chat.member("messages_remaining") ?? .null,
                "credits_remaining": chat.member("credits_remaining") ?? .null, "credit_debt": chat.member("credit_debt") ?? .null,
            ])
            body["message_history"] = chat.member("history") ?? .array([])
        }
        if let knowledge = parts[.knowledge] {
            usage["knowledge_bytes"] = .object(["used": knowledge.member("bytes_used") ?? .null,
                                                "limit": knowledge.member("bytes_limit") ?? .null])
            body["documents"] = knowledge.member("documents") ?? .object([:])
        }
        body["usage"] = .object(usage)
        return body
    }

    struct PartFailure: Error {
        let detail: String
    }

    private func fetch(_ part: Part, customer: UUID, requestID: String, logger: Logger) async -> Result<JSONValue, PartFailure> {
        await fetch(part.path, on: part.service, customer: customer, requestID: requestID, logger: logger)
    }

    /// The JSON `service` answers at `path` for `customer`, within the lookup timeout.
    func fetch(_ path: String, on service: ServiceName, customer: UUID, requestID: String,
               logger: Logger) async -> Result<JSONValue, PartFailure> {
        do {
            let request = try await issuer.request(path, on: service, upstreams: upstreams, customer: customer, requestID: requestID)
            let response = try await httpClient.execute(request, timeout: .init(timeout))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                logger.warning("account part refused", metadata: ["path": "\(path)", "status": "\(response.status.code)"])
                return .failure(.init(detail: "The \(service.rawValue) service answered \(response.status.code)."))
            }
            return .success(JSONValue(any: try JSONSerialization.jsonObject(with: Data(buffer: body))))
        } catch {
            logger.warning("account part unavailable", metadata: ["path": "\(path)", "error": "\(error)"])
            return .failure(.init(detail: "The \(service.rawValue) service did not answer in time."))
        }
    }
}

extension JSONValue {
    /// The member `key` of an object; nil for anything else.
    func member(_ key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The value of a string.
    var text: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}
