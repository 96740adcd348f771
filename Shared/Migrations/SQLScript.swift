import Logging
import PostgresNIO

/// Splits a SQL script into statements, because postgres-nio speaks only the extended query
/// protocol, which takes one statement at a time. Semicolons inside quotes (`'…'`, `"…"`),
/// dollar-quoted bodies (`$$…$$`, `$tag$…$tag$`) and comments (`--`, nested `/* */`) do not split.
public enum SQLScript {
    public static func statements(in script: String) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0

        func flush() {
            let statement = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isEmpty && !isOnlyComments(statement) { statements.append(statement) }
            current = String.UnicodeScalarView()
        }
        func copy(until end: Int) {
            let stop = min(end, characters.count)
            while index < stop { current.append(characters[index]); index += 1 }
        }

        while index < characters.count {
            let character = characters[index]
            let next: Unicode.Scalar? = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "'", "\"":
                // A quoted literal or identifier; a doubled quote is an escaped quote.
                var end = index + 1
                while end < characters.count {
                    if characters[end] == character {
                        if end + 1 < characters.count && characters[end + 1] == character { end += 2; continue }
                        break
                    }
                    end += 1
                }
                copy(until: end + 1)
            case "-" where next == "-":
                var end = index
                while end < characters.count && characters[end] != "\n" { end += 1 }
                copy(until: end)
            case "/" where next == "*":
                var depth = 0
                var end = index
                repeat {
                    if end + 1 < characters.count && characters[end] == "/" && characters[end + 1] == "*" {
                        depth += 1; end += 2
                    } else if end + 1 < characters.count && characters[end] == "*" && characters[end + 1] == "/" {
                        depth -= 1; end += 2
                    } else {
                        end += 1
                    }
                } while depth > 0 && end < characters.count
                copy(until: end)
            case "$":
                if let tag = dollarTag(characters, at: index) {
                    let bodyStart = index + tag.count
                    var end = bodyStart
                    while end < characters.count && !matches(characters, tag, at: end) { end += 1 }
                    copy(until: end + tag.count)
                } else {
                    copy(until: index + 1)
                }
            case ";":
                index += 1
                flush()
            default:
                copy(until: index + 1)
            }
        }
        flush()
        return statements
    }

    /// Runs every statement of `script` in order on `connection`.
    public static func run(_ script: String, on connection: PostgresConnection, logger: Logger) async throws {
        for statement in statements(in: script) {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }

    /// `$tag$` at `index` (tag: letters, digits, underscore, not starting with a digit), or nil.
    private static func dollarTag(_ characters: [Unicode.Scalar], at index: Int) -> [Unicode.Scalar]? {
        var end = index + 1
        while end < characters.count, characters[end] != "$" {
            let scalar = characters[end]
            let isLetter = scalar.properties.isAlphabetic || scalar == "_"
            let isDigit = ("0"..."9").contains(scalar)
            if !(isLetter || (isDigit && end > index + 1)) { return nil }
            end += 1
        }
        guard end < characters.count else { return nil }
        return Array(characters[index...end])
    }

    private static func matches(_ characters: [Unicode.Scalar], _ tag: [Unicode.Scalar], at index: Int) -> Bool {
        guard index + tag.count <= characters.count else { return false }
        for offset in 0..<tag.count where characters[index + offset] != tag[offset] { return false }
        return true
    }

    private static func isOnlyComments(_ statement: String) -> Bool {
        statement.split(separator: "\n").allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") || $0.trimmingCharacters(in: .whitespaces).isEmpty }
    }
}

import Foundation
