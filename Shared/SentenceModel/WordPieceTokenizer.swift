import Foundation

/// BERT's uncased WordPiece tokenizer, as Hugging Face's `BertTokenizer` (and `tokenizers`'
/// `BertNormalizer` + `BertPreTokenizer` + `WordPiece`) define it, read from the model's
/// `vocab.txt`: control characters dropped, whitespace unified, CJK ideographs split apart, lower
/// case with accents stripped (NFD, marks removed), split at whitespace and punctuation, then each
/// word cut greedily into the longest pieces in the vocabulary (`##` marks a continuation; a word
/// that cannot be cut, or of over 100 characters, is `[UNK]`).
public struct WordPieceTokenizer: Sendable {
    let vocabulary: [String: Int32]
    let unknown: Int32
    public let classify: Int32
    public let separator: Int32
    static let maximumWordCharacters = 100

    public init(vocabulary url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        var vocabulary: [String: Int32] = [:]
        var index: Int32 = 0
        // One token a line, its id the line number; split on "\n" only (a token may be any other character).
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let token = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            if !token.isEmpty, vocabulary[token] == nil { vocabulary[token] = index }
            index += 1
        }
        try self.init(vocabulary: vocabulary)
    }

    init(vocabulary: [String: Int32]) throws {
        guard let unknown = vocabulary["[UNK]"], let classify = vocabulary["[CLS]"], let separator = vocabulary["[SEP]"] else {
            throw ModelLoadingError("the vocabulary lacks [UNK], [CLS] or [SEP]")
        }
        self.vocabulary = vocabulary
        self.unknown = unknown
        self.classify = classify
        self.separator = separator
    }

    /// `[CLS] pieces… [SEP]`, at most `maximumLength` ids in all (longer texts are cut, as the model
    /// was trained to see at most that many).
    public func encode(_ text: String, maximumLength: Int) -> [Int32] {
        [classify] + pieces(of: text, limit: max(0, maximumLength - 2)) + [separator]
    }

    /// The word pieces of `text`, without `[CLS]` and `[SEP]`, at most `limit` of them.
    public func pieces(of text: String, limit: Int = .max) -> [Int32] {
        var ids: [Int32] = []
        for word in words(in: text) {
            for piece in pieces(of: word) {
                guard ids.count < limit else { return ids }
                ids.append(piece)
            }
        }
        return ids
    }

    /// The normalised words and punctuation marks of `text`.
    func words(in text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func finish() {
            if !current.isEmpty { words.append(current) }
            current.removeAll(keepingCapacity: true)
        }
        for scalar in Self.normalized(text).unicodeScalars {
            if Self.isWhitespace(scalar) {
                finish()
            } else if Self.isPunctuation(scalar) || Self.isIdeograph(scalar) {
                finish()
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        finish()
        return words
    }

    /// Cleans, lower-cases and strips accents, as `BertNormalizer(lowercase: true)` does.
    static func normalized(_ text: String) -> String {
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD || isControl(scalar) { continue }
            cleaned.append(isWhitespace(scalar) ? " " : scalar)
        }
        let lowered = String(cleaned).lowercased().decomposedStringWithCanonicalMapping
        var stripped = String.UnicodeScalarView()
        for scalar in lowered.unicodeScalars where scalar.properties.generalCategory != .nonspacingMark {
            stripped.append(scalar)
        }
        return String(stripped)
    }

    private func pieces(of word: [Unicode.Scalar]) -> [Int32] {
        guard word.count <= Self.maximumWordCharacters else { return [unknown] }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                var candidate = start > 0 ? "##" : ""
                candidate.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary[candidate] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else { return [unknown] }
            pieces.append(found)
            start = end
        }
        return pieces
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case " ", "\t", "\n", "\r": true
        default: scalar.properties.generalCategory == .spaceSeparator
        }
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format: return true
        default: return false
        }
    }

    /// ASCII symbols count as punctuation too (`$`, `+`, `^`, `` ` `` are not Unicode punctuation).
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value) || (123...126).contains(value) {
            return true
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK ideograph blocks BERT splits into single characters.
    static func isIdeograph(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            true
        default:
            false
        }
    }
}
