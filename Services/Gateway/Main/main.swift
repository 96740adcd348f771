import Gateway
import Platform

await ServiceMain.run(service: .gateway, configuration: GatewayConfiguration.read, application: buildApplication)
