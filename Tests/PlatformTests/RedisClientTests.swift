import Foundation
import Testing
import TestSupport
@testable import Platform

@Suite(.timeLimit(.minutes(5))) struct RedisClientTests {
    func withClient(_ body: (RedisClient) async throws -> Void) async throws {
        let client = RedisClient(endpoint: try TestStack.current().redis)
        do {
            try await body(client)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    @Test func commandsAreBinarySafeAndTyped() async throws {
        try await withClient { redis in
            let key = "test:\(UUID())"
            let value: [UInt8] = [0x61, 0x00, 0x62, 0xFF, 0x0A]
            #expect(try await redis.send([Array("SET".utf8), Array(key.utf8), value]) == .status("OK"))
            #expect(try await redis.send("GET", key) == .bulk(value))
            #expect(try await redis.send("STRLEN", key) == .integer(5))
            #expect(try await redis.send("GET", key + ":missing") == .null)
            try await redis.send("RPUSH", key + ":list", "a", "b")
            #expect(try await redis.send("LRANGE", key + ":list", "0", "-1") == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
            try await redis.send("DEL", key, key + ":list")
        }
    }

    @Test func serverErrorsAreThrownWithTheServersMessageAndTheConnectionStaysUsable() async throws {
        try await withClient { redis in
            let key = "test:\(UUID())"
            try await redis.send("SET", key, "text")
            let error = await #expect(throws: RedisError.self) { try await redis.send("LPUSH", key, "x") }
            #expect(error?.description.contains("WRONGTYPE") == true)
            try await redis.ping()
            let replies = try await redis.pipeline([
                [Array("INCR".utf8), Array("\(key):n".utf8)],
                [Array("LPUSH".utf8), Array(key.utf8), Array("x".utf8)],
                [Array("INCR".utf8), Array("\(key):n".utf8)],
            ])
            #expect(try replies[0].get() == .integer(1))
            #expect(throws: RedisError.self) { try replies[1].get() }
            #expect(try replies[2].get() == .integer(2))
            try await redis.send("DEL", key, "\(key):n")
        }
    }

    @Test func manyConcurrentCallersShareThePool() async throws {
        try await withClient { redis in
            let key = "test:\(UUID())"
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<200 { group.addTask { try await redis.send("INCR", key) } }
                try await group.waitForAll()
            }
            #expect(try await redis.send("GET", key).integer == 200)
            try await redis.send("DEL", key)
        }
    }

    @Test func anUnreachableServerIsAConnectionErrorNotACrash() async throws {
        let redis = RedisClient(endpoint: RedisEndpoint(host: "127.0.0.1", port: freePort()))
        let error = await #expect(throws: RedisError.self) { try await redis.ping() }
        #expect(error?.isConnectionFailure == true)
        await redis.shutdown()
        await #expect(throws: RedisError.shutDown) { try await redis.ping() }
    }

    @Test func theClientHealsAfterRedisRestarts() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let redis = RedisClient(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port), maximumConnections: 2)
        try await redis.send("SET", "k", "before")
        server.stop()
        let duringOutage = await #expect(throws: RedisError.self) { try await redis.send("GET", "k") }
        #expect(duringOutage?.isConnectionFailure == true)
        try await server.start()
        // The broken pooled connection was dropped: the next call connects afresh.
        #expect(try await redis.send("SET", "k", "after") == .status("OK"))
        #expect(try await redis.send("GET", "k").string == "after")
        await redis.shutdown()
    }

    @Test func aDedicatedConnectionBlocksOffThePoolAndReconnects() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let redis = RedisClient(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port))
        let blocking = redis.makeDedicatedConnection(commandTimeout: .seconds(3))
        async let waited = blocking.send(["BLPOP", "queue", "2"])
        try await Task.sleep(for: .milliseconds(100))
        // The pool still answers while the dedicated connection blocks on the server.
        try await redis.send("RPUSH", "queue", "job-1")
        #expect(try await waited == .array([.bulk(Array("queue".utf8)), .bulk(Array("job-1".utf8))]))
        server.stop()
        await #expect(throws: RedisError.self) { try await blocking.send(["PING"]) }
        try await server.start()
        #expect(try await blocking.send(["PING"]) == .status("PONG"))
        await blocking.close()
        await redis.shutdown()
    }
}
