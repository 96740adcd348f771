import Foundation
import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs `body` in a transaction scoped to one tenant, entered with the current task's
    /// ``TenantTicket`` (which must name `tenant`): every RLS policy then sees only that tenant's
    /// rows, until the transaction ends. A query outside such a transaction sees no tenant rows.
    public func withTenantTransaction<Result>(
        _ tenant: UUID,
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await withTransaction(logger: logger, isolation: isolation) { connection in
            try await connection.setTenant(tenant, logger: logger)
            return try await body(connection)
        }
    }
}

extension PostgresConnection {
    /// Enters `tenant` for the rest of the current transaction with the current task's ticket.
    /// Throws ``TenantTicketError`` when the task holds no ticket for `tenant`, or Postgres refuses it.
    public func setTenant(_ tenant: UUID, logger: Logger) async throws {
        guard let ticket = TenantTicket.current, ticket.tenant == tenant else {
            throw TenantTicketError.missing(tenant: tenant)
        }
        try await enterTenant(ticket, logger: logger)
    }

    /// Enters the ticket's tenant for the rest of the current transaction; Postgres checks the
    /// signature, the expiry and, for an event's ticket, that no other transaction used it.
    public func enterTenant(_ ticket: TenantTicket, logger: Logger) async throws {
        let entered = try await query("SELECT contexo_tickets.enter(\(ticket.text))", logger: logger)
            .collect().first?.decode(UUID?.self) ?? nil
        guard entered == ticket.tenant else { throw TenantTicketError.refused(tenant: ticket.tenant) }
    }
}

/// A tenant transaction that could not start: the work is not this caller's to do.
public enum TenantTicketError: Error, Equatable, CustomStringConvertible, ProblemConvertible {
    /// The request or event carries no ticket for the tenant the code wants to enter.
    case missing(tenant: UUID)
    /// Postgres refused the ticket: forged, expired, signed with an unknown key, or already used.
    case refused(tenant: UUID)

    public var description: String {
        switch self {
        case .missing(let tenant): "no tenant ticket for \(tenant.uuidString.lowercased())"
        case .refused(let tenant): "the tenant ticket for \(tenant.uuidString.lowercased()) was refused"
        }
    }

    public var problem: Problem {
        Problem(status: .forbidden, slug: "tenant-ticket-refused", title: "Forbidden",
                detail: "This request does not carry a valid ticket for the account it touches.")
    }
}
