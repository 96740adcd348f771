import Foundation
import Logging
import Migrations
import Platform
import PostgresNIO
import TestSupport

/// Writes a result line at once (no buffering to lose if the run dies).
func report(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

/// The bench's settings, from the environment scripts/bench sets.
struct BenchEnvironment {
    let pg: String
    let adminPassword: String
    let rolePassword: String
    let redisURL: String
    let migrationsDirectory: String
    let logger: Logger

    init() {
        let environment = ProcessInfo.processInfo.environment
        func setting(_ name: String) -> String {
            guard let value = environment[name] else { fatalError("\(name) is required") }
            return value
        }
        pg = setting("BENCH_PG")
        adminPassword = setting("BENCH_ADMIN_PASSWORD")
        rolePassword = setting("BENCH_ROLE_PASSWORD")
        redisURL = setting("BENCH_REDIS_URL")
        migrationsDirectory = setting("BENCH_MIGRATIONS_DIR")
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        self.logger = logger
    }

    var admin: DatabaseURL { DatabaseURL("postgres://postgres:\(adminPassword)@\(pg)/contexo_bench")! }

    func role(_ service: String) -> DatabaseURL {
        DatabaseURL("postgres://contexo_\(service):\(rolePassword)@\(pg)/contexo_bench")!
    }

    /// A fresh, migrated `contexo_bench` database.
    func freshDatabase() async throws {
        try await run("DROP DATABASE IF EXISTS contexo_bench WITH (FORCE); CREATE DATABASE contexo_bench", database: "postgres")
        _ = try await Migrator(
            admin: admin,
            roles: try ["chat", "ingest", "billing"].map { try ServiceRole(schema: $0, name: "contexo_\($0)", password: rolePassword) },
            migrations: try MigrationFile.discover(in: URL(fileURLWithPath: migrationsDirectory)),
            ticketKeys: [TestStack.ticketKey], logger: logger).run()
    }

    func run(_ sql: String, database: String = "contexo_bench") async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try DatabaseURL("postgres://postgres:\(adminPassword)@\(pg)/\(database)")!.connectionConfiguration(),
            id: 1, logger: logger)
        defer { Task { try? await connection.close() } }
        try await SQLScript.run(sql, on: connection, logger: logger)
    }
}

/// Runs `body` with a running PostgresClient.
func withClient<T: Sendable>(_ url: DatabaseURL, connections: Int = 8, logger: Logger,
                             _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
    let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: connections), backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

/// Latency percentiles of a set of durations, in milliseconds.
struct Percentiles {
    var values: [Double]

    init(_ durations: [Duration]) {
        values = durations.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 }.sorted()
    }

    func at(_ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        return values[min(values.count - 1, Int((Double(values.count) * fraction).rounded(.up)) - 1)]
    }

    var summary: String {
        String(format: "p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)", at(0.5), at(0.95), at(0.99),
               values.last ?? .nan, values.count)
    }
}

/// Deterministic synthetic text: a Zipf-like vocabulary, so word frequencies look like prose.
struct TextGenerator {
    private var state: UInt64
    let vocabulary: [String]

    init(seed: UInt64, words: Int = 6000) {
        state = seed | 1
        let syllables = ["ka", "lo", "mi", "ren", "sto", "va", "qui", "der", "pan", "tor", "el", "fi", "gu", "hon", "ju", "mar"]
        var vocabulary: [String] = []
        var generator = SplitMix(seed: 42)
        for _ in 0..<words {
            let count = 1 + Int(generator.next() % 3)
            vocabulary.append((0..<count).map { _ in syllables[Int(generator.next() % UInt64(syllables.count))] }.joined())
        }
        self.vocabulary = vocabulary
    }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    /// A word: frequent words far more often than rare ones (rank ∝ u³).
    mutating func word() -> String {
        let u = Double(next() % 1_000_000) / 1_000_000
        return vocabulary[min(vocabulary.count - 1, Int(u * u * u * Double(vocabulary.count)))]
    }

    mutating func sentence(words: Int = 12) -> String {
        var text = (0..<words).map { _ in word() }.joined(separator: " ")
        text = text.prefix(1).uppercased() + text.dropFirst()
        return text + "."
    }

    mutating func paragraph(sentences: Int = 5) -> String {
        (0..<sentences).map { _ in sentence(words: 8 + Int(next() % 10)) }.joined(separator: " ")
    }

    /// Markdown with a heading every few paragraphs.
    mutating func markdown(bytes: Int) -> String {
        var text = ""
        var section = 0
        while text.utf8.count < bytes {
            section += 1
            text += "## Section \(section) \(word())\n\n"
            for _ in 0..<(3 + Int(next() % 4)) { text += paragraph() + "\n\n" }
        }
        return text
    }
}

/// A small seeded generator for the vocabulary.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
