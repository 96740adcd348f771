import Chat
import Platform

await ServiceMain.run(service: .chat, configuration: ChatConfiguration.read, application: buildApplication)
