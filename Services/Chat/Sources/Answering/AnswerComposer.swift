import Foundation
import Platform

/// How the local answerer builds an answer from the passages search found, without a model: it
/// cuts them into units a reader would quote (sentences that know URLs, paths, version numbers,
/// abbreviations and code; list items and table rows; whole code blocks), picks the units that
/// answer the question (its rarer words count more), never quotes the same text twice, and puts
/// each `[n]` right after what passage n supports.
enum AnswerComposer {
    /// One quotable piece of a passage.
    struct Unit: Equatable {
        enum Kind: Equatable { case prose, line, code }
        var kind: Kind
        var text: String
    }

    static func compose(question: String, passages: [String], limit: Int = 3) -> String? {
        let asked = Set(words(question))
        var candidates: [(source: Int, position: Int, unit: Unit, words: Set<String>)] = []
        for (source, passage) in passages.enumerated() {
            for (position, unit) in units(passage).enumerated() {
                candidates.append((source, position, unit, matched(asked, in: Set(words(unit.text)))))
            }
        }
        guard !asked.isEmpty, !candidates.isEmpty else { return nil }
        // A word found in few units says more about which one answers than one found in all.
        var frequency: [String: Int] = [:]
        for candidate in candidates { for word in candidate.words where asked.contains(word) { frequency[word, default: 0] += 1 } }
        let count = Double(candidates.count)
        func score(_ index: Int) -> Double {
            let candidate = candidates[index]
            let matched = candidate.words
            guard !matched.isEmpty else { return 0 }
            let weight = matched.reduce(0.0) { $0 + log(1 + count / Double(frequency[$1] ?? 1)) }
            return weight - Double(candidate.source) * 0.05 - (candidate.unit.kind == .code ? 0.5 : 0)
        }
        let ranked = candidates.indices.map { ($0, score($0)) }.filter { $0.1 > 0 }.sorted { ($0.1, -$0.0) > ($1.1, -$1.0) }
        guard let best = ranked.first?.1 else { return nil }
        var chosen: [Int] = []
        var seen: [String] = []
        var quoted = 0  // a code block an introduction brings along is not counted
        for (index, value) in ranked where quoted < limit && value >= best * 0.35 {
            let normalized = normalize(candidates[index].unit.text)
            guard !seen.contains(where: { $0.contains(normalized) || normalized.contains($0) }) else { continue }
            seen.append(normalized)
            chosen.append(index)
            quoted += 1
            // An introduction ending with a colon brings the code block or list item it introduces.
            let next = index + 1
            if candidates[index].unit.text.hasSuffix(":"), next < candidates.count,
               candidates[next].source == candidates[index].source, candidates[next].unit.kind != .prose,
               !chosen.contains(next) {
                seen.append(normalize(candidates[next].unit.text))
                chosen.append(next)
            }
        }
        chosen.sort { (candidates[$0].source, candidates[$0].position) < (candidates[$1].source, candidates[$1].position) }
        // Consecutive units of one passage share one marker, placed after the last of them.
        var answer = ""
        for (offset, index) in chosen.enumerated() {
            let unit = candidates[index].unit
            if offset > 0 {
                let previous = candidates[chosen[offset - 1]].unit
                answer += unit.kind == .prose && previous.kind == .prose ? " " : "\n"
            }
            answer += unit.text
            let last = offset == chosen.count - 1
            if last || candidates[chosen[offset + 1]].source != candidates[index].source {
                answer += (unit.kind == .code ? "\n" : " ") + "[\(candidates[index].source + 1)]"
            }
        }
        return answer
    }

    /// The units of a passage, in order.
    static func units(_ text: String) -> [Unit] {
        var units: [Unit] = []
        var prose: [String] = []
        func flushProse() {
            let joined = prose.joined(separator: " ").trimmingCharacters(in: .whitespaces)
            units += sentences(joined).map { Unit(kind: .prose, text: $0) }
            prose.removeAll()
        }
        // A list item runs on over the lines that follow it, up to a blank line or the next item.
        var item: String?
        func flushItem() {
            if let text = item { units.append(Unit(kind: .line, text: text)) }
            item = nil
        }
        var code: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var block = code {
                block.append(line)
                if trimmed.hasPrefix("```") {
                    units.append(Unit(kind: .code, text: block.joined(separator: "\n")))
                    code = nil
                } else {
                    code = block
                }
                continue
            }
            if trimmed.hasPrefix("```") {
                flushProse()
                flushItem()
                code = [line]
            } else if trimmed.isEmpty {
                flushProse()
                flushItem()
            } else if isListItem(trimmed) {
                flushProse()
                flushItem()
                item = trimmed
            } else if trimmed.contains(" | ") {
                flushProse()
                flushItem()
                units.append(Unit(kind: .line, text: trimmed))
            } else if let current = item {
                item = current + " " + trimmed
            } else {
                prose.append(trimmed)
            }
        }
        // A chunk can end inside a code block: what there is of it is still code.
        if let block = code { units.append(Unit(kind: .code, text: block.joined(separator: "\n") + "\n```")) }
        flushProse()
        flushItem()
        return units.filter { !$0.text.isEmpty }
    }

    /// Sentences of one paragraph. A `.`, `!` or `?` ends one only when whitespace and a capital,
    /// a digit or an opening mark follow (so `nodejs.org`, `./runtest`, `1.2.3` and `e.g. this`
    /// stay whole), never inside a code span, and never after a known abbreviation or an initial.
    static func sentences(_ text: String) -> [String] {
        let characters = Array(text)
        var sentences: [String] = []
        var start = 0
        var inCode = false
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "`" { inCode.toggle() }
            if !inCode, ".!?".contains(character), endsSentence(characters, at: index) {
                var end = index + 1
                while end < characters.count, "\"')]”’".contains(characters[end]) { end += 1 }
                let sentence = String(characters[start..<end]).trimmingCharacters(in: .whitespaces)
                if !sentence.isEmpty { sentences.append(sentence) }
                start = end
                index = end
                continue
            }
            index += 1
        }
        let rest = String(characters[start...]).trimmingCharacters(in: .whitespaces)
        if !rest.isEmpty { sentences.append(rest) }
        return sentences
    }

    private static func endsSentence(_ characters: [Character], at index: Int) -> Bool {
        var next = index + 1
        while next < characters.count, "\"')]”’".contains(characters[next]) { next += 1 }
        guard next < characters.count else { return true }
        guard characters[next].isWhitespace else { return false }
        while next < characters.count, characters[next].isWhitespace { next += 1 }
        guard next < characters.count else { return true }
        let following = characters[next]
        guard following.isUppercase || following.isNumber || "\"'(`[“‘*".contains(following) else { return false }
        guard characters[index] == "." else { return true }
        // The word the period ends.
        var wordStart = index
        while wordStart > 0, !characters[wordStart - 1].isWhitespace { wordStart -= 1 }
        let word = String(characters[wordStart..<index]).lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "(\"'"))
        if abbreviations.contains(word) { return false }
        if word.count == 1, word.first?.isLetter == true { return false }  // an initial: "J. Smith"
        return true
    }

    private static let abbreviations: Set<String> = [
        "e.g", "i.e", "etc", "vs", "cf", "mr", "mrs", "ms", "dr", "prof", "st", "no", "nr", "fig", "approx", "incl",
        "resp", "z.b", "d.h", "bzw", "usw", "ca", "p", "pp", "vol", "ed", "jr", "sr", "inc", "ltd", "co",
    ]

    private static func isListItem(_ line: String) -> Bool {
        if line.hasPrefix("- ") || line.hasPrefix("* ") || line.hasPrefix("+ ") { return true }
        let digits = line.prefix { $0.isNumber }
        return !digits.isEmpty && digits.count <= 3 && line.dropFirst(digits.count).hasPrefix(". ")
    }

    private static func normalize(_ text: String) -> String {
        text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// The question's words that `words` holds: the same word, or one that begins the other when
    /// both have five letters or more (`config` and `configuration`, `Platzhalter` and
    /// `Platzhaltern`), which catches inflections and compounds in any language without a stemmer.
    static func matched(_ asked: Set<String>, in words: Set<String>) -> Set<String> {
        var found = asked.intersection(words)
        for question in asked where !found.contains(question) && question.count >= 5 {
            if words.contains(where: { $0.count >= 5 && ($0.hasPrefix(question) || question.hasPrefix($0)) }) { found.insert(question) }
        }
        return found
    }

    /// The words that carry meaning: lowercased, without short and stop words, plural `s` dropped.
    /// Underscores and dots inside identifiers keep `SYSTEMD_SECCOMP` one word.
    static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "_" }.map(String.init)
            .filter { $0.count > 2 && !stopWords.contains($0) && !TextLanguage.functionWords.contains($0) }
            .map { $0.count > 4 && $0.hasSuffix("s") && !$0.hasSuffix("ss") ? String($0.dropLast()) : $0 }
    }

    private static let stopWords: Set<String> = [
        "the", "and", "are", "for", "how", "what", "when", "where", "which", "who", "why", "you", "your", "can", "does",
        "with", "this", "that", "from", "have", "has", "our", "will", "there", "their", "they", "about", "into",
        "not", "but", "all", "any", "was", "were", "been", "being", "its", "than", "then", "them", "these", "those",
        "should", "would", "could", "did", "need", "want", "use", "using", "get", "some", "also", "just", "only",
    ]
}
