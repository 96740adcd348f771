import Foundation

// scripts/bench ingest | chat | quality: see IngestBench.swift, ChatBench.swift and QualityBench.swift.
let environment = BenchEnvironment()
switch CommandLine.arguments.dropFirst().first {
case "ingest": try await IngestBench(environment: environment).run()
case "chat": try await ChatBench(environment: environment).run()
case "quality": try await QualityBench(environment: environment).run()
default:
    FileHandle.standardError.write(Data("usage: KnowledgeBench ingest|chat|quality\n".utf8))
    exit(64)
}
