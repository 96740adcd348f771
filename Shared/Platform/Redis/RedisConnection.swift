import CHiredis
import Foundation

/// One blocking hiredis connection. Not thread-safe: its owner must make sure only one thread uses
/// it at a time, and must never call it on Swift's cooperative pool (every call blocks).
///
/// After a transport failure the hiredis context is unusable; ``isBroken`` turns true and the owner
/// replaces the connection.
final class RedisConnection: @unchecked Sendable {
    private var context: UnsafeMutablePointer<redisContext>?
    let endpoint: RedisEndpoint
    private(set) var isBroken = false

    /// Connects, applies the read/write timeout (hiredis 0.14 does not keep it across reconnects,
    /// so we never reconnect in place), authenticates and selects the database.
    init(endpoint: RedisEndpoint, connectTimeout: Duration, commandTimeout: Duration?) throws(RedisError) {
        self.endpoint = endpoint
        let context = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), connectTimeout.timeval)
        guard let context else { throw .connection("out of memory creating a context") }
        if context.pointee.err != 0 {
            let message = Self.errorString(context)
            redisFree(context)
            throw .connection("\(endpoint.host):\(endpoint.port): \(message)")
        }
        self.context = context
        if let commandTimeout, redisSetTimeout(context, commandTimeout.timeval) != REDIS_OK {
            close()
            throw .connection("could not set the socket timeout")
        }
        if let password = endpoint.password {
            _ = try command(endpoint.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
        }
        if endpoint.database != 0 {
            _ = try command(["SELECT", String(endpoint.database)])
        }
    }

    deinit { close() }

    func close() {
        if let context { redisFree(context) }
        context = nil
        isBroken = true
    }

    func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends one command (binary-safe, through `redisCommandArgv`) and waits for its reply.
    func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        guard let context, !isBroken else { throw .connection("connection is closed") }
        let raw = Self.withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        }
        guard let raw else {
            let message = Self.errorString(context)
            close()
            throw .connection(message)
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return try Self.copy(reply)
    }

    /// Writes several commands and then reads their replies in order (pipelining).
    /// A server error in one reply is returned as `.failure` without disturbing the others.
    func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [Result<RedisReply, RedisError>] {
        guard let context, !isBroken else { throw .connection("connection is closed") }
        for arguments in commands {
            let status = Self.withArgv(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            if status != REDIS_OK {
                let message = Self.errorString(context)
                close()
                throw .connection(message)
            }
        }
        var results: [Result<RedisReply, RedisError>] = []
        results.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(context, &raw) != REDIS_OK || raw == nil {
                let message = Self.errorString(context)
                close()
                throw .connection(message)
            }
            defer { freeReplyObject(raw) }
            do {
                results.append(.success(try Self.copy(raw!.assumingMemoryBound(to: redisReply.self))))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }

    private static func withArgv<R>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        // Copy every argument into one contiguous buffer so the pointers stay valid for the call.
        let total = arguments.reduce(0) { $0 + $1.count } + arguments.count
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: max(total, 1)) { storage in
            var pointers: [UnsafePointer<CChar>?] = []
            var lengths: [Int] = []
            pointers.reserveCapacity(arguments.count)
            lengths.reserveCapacity(arguments.count)
            var offset = 0
            for argument in arguments {
                let start = storage.baseAddress! + offset
                argument.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { chars in
                        if let base = chars.baseAddress { start.update(from: base, count: chars.count) }
                    }
                }
                start[argument.count] = 0
                pointers.append(UnsafePointer(start))
                lengths.append(argument.count)
                offset += argument.count + 1
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    body(Int32(arguments.count), argv.baseAddress!, lengthBuffer.baseAddress!)
                }
            }
        }
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) throws(RedisError) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(value.integer)
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ERROR:
            throw .server(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                guard let element = value.element[index] else { elements.append(.null); continue }
                // A nested error (e.g. inside EXEC) is kept as a status so the array stays whole.
                if element.pointee.type == REDIS_REPLY_ERROR {
                    elements.append(.status("ERR " + String(decoding: bytes(element.pointee.str, element.pointee.len), as: UTF8.self)))
                } else {
                    elements.append(try copy(element))
                }
            }
            return .array(elements)
        default:
            throw .protocolViolation("unknown reply type \(value.type)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        var errstr = context.pointee.errstr
        let text = withUnsafePointer(to: &errstr) {
            $0.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) }
        }
        return text.isEmpty ? "error \(context.pointee.err)" : text
    }
}

extension Duration {
    var timeval: timeval {
        let (seconds, attoseconds) = components
        return Foundation.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
