import Foundation

// scripts/bench ingest | chat: see IngestBench.swift and ChatBench.swift.
let environment = BenchEnvironment()
switch CommandLine.arguments.dropFirst().first {
case "ingest": try await IngestBench(environment: environment).run()
case "chat": try await ChatBench(environment: environment).run()
default:
    FileHandle.standardError.write(Data("usage: KnowledgeBench ingest|chat\n".utf8))
    exit(64)
}
