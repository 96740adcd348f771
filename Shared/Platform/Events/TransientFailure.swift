import PostgresNIO

/// Tells a dependency outage (the database unreachable, a connection killed, a serialization
/// conflict) from a failure of the event itself. A transient failure says nothing about the event,
/// so it must not count towards the event's deliveries: a Postgres restart must never dead-letter
/// good events.
enum TransientFailure {
    static func isTransient(_ error: any Error) -> Bool {
        if error is TransactionDeadlineExceeded || error is DeadlineExceeded { return true }
        if let transaction = error as? PostgresTransactionError {
            if let begin = transaction.beginError { return isTransient(begin) }
            if let commit = transaction.commitError { return isTransient(commit) }
            if let closure = transaction.closureError { return isTransient(closure) }
            return false
        }
        if let redis = error as? RedisError {
            if case .server = redis { return false }
            return true
        }
        guard let psql = error as? PSQLError else { return error is CancellationError }
        guard psql.code == .server else {
            // Anything but a server's answer is the connection or the pool failing.
            return true
        }
        let state = psql.serverInfo?[.sqlState] ?? ""
        return state.hasPrefix("08")          // connection exception
            || state.hasPrefix("57P")         // admin/crash shutdown, cannot connect now
            || state == "40001"               // serialization failure
            || state == "40P01"               // deadlock detected
            || state == "53300"               // too many connections
            || state == "55P03"               // lock not available
    }
}
