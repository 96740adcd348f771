/// Every named character reference HTML defines (`&eacute;`, `&rarr;`, `&NotEqualTilde;`, …), from
/// ``table``, parsed on first use.
enum HTMLEntities {
    static let named: [String: String] = {
        var named: [String: String] = [:]
        named.reserveCapacity(2200)
        for line in table.split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            named[String(line[..<tab])] = String(line[line.index(after: tab)...])
        }
        return named
    }()
}
