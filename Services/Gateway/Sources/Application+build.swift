import Hummingbird
import Logging
import Platform

/// Builds the gateway, the only public door. Its readiness depends on Redis only (rate limits), not
/// on the upstream services: restarting one service must not take the whole edge out of rotation.
public func buildApplication(configuration: GatewayConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let resources = try await ServiceResources(
        service: .gateway, configuration: configuration.service, database: nil, logger: logger,
        verifiesInternalTokens: false)
    let routing = resources.makeRouter()
    return resources.application(router: routing.router, configuration: configuration.service, logger: logger)
}
