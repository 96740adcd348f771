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

/// Headers carrying a gateway-signed internal token for `service`.
func gatewayHeaders(for service: ServiceName, customer: UUID?) async throws -> HTTPFields {
    let issuer = await InternalTokenIssuer(secret: TestStack.internalSecret)
    let token = try await issuer.token(for: service, customerID: customer, requestID: "test", plan: nil)
    return [HTTPField.Name(InternalTokenVerifier.header)!: token]
}
