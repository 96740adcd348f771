import Contract
import Foundation
import HTTPTypes
import Hummingbird
import Platform
import TestSupport

/// Builds the shared configuration a service under test runs with, against the test stack.
func serviceConfiguration(_ stack: TestStack, for service: ServiceName, redis: RedisEndpoint? = nil) -> ServiceConfiguration {
    ServiceConfiguration(
        environment: .development, port: 0, logLevel: .warning,
        internalTokenSecret: TestStack.internalSecret, redis: redis ?? stack.redis(for: service), events: TestEventKeys.events(for: service))
}

/// Headers carrying a gateway-signed internal token for `service`, with a tenant ticket for
/// `tenant` (the customer unless said otherwise: a visitor's request names the widget's owner).
func gatewayHeaders(for service: ServiceName, customer: UUID?, tenant: UUID? = nil) async throws -> HTTPFields {
    let issuer = await InternalTokenIssuer(secret: TestStack.internalSecret, ticketKey: TestStack.ticketKey)
    let token = try await issuer.token(for: service, customerID: customer, tenant: tenant, requestID: "test", plan: nil)
    return [HTTPField.Name(InternalTokenVerifier.header)!: token]
}
