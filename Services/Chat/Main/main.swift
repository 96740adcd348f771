import Chat
import Platform

await ServiceMain.run(service: .chat, configuration: ChatConfiguration.read) { configuration, logger in
    try await buildApplication(configuration: configuration, logger: logger)
}
