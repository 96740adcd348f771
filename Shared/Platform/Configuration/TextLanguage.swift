/// The language of a text, as far as a few common words and letters tell: what full-text search
/// stems with (a Postgres text search configuration) and what language the fixed answer texts
/// speak. Nil when nothing stands out; the caller then falls back (English for search, whose
/// index also holds every word unstemmed).
public enum TextLanguage: String, Sendable, CaseIterable {
    case english, german, french, spanish, italian, dutch, portuguese

    /// The Postgres text search configuration of the same name.
    public var searchConfiguration: String { rawValue }

    /// ISO 639-1.
    public var code: String {
        switch self {
        case .english: "en"
        case .german: "de"
        case .french: "fr"
        case .spanish: "es"
        case .italian: "it"
        case .dutch: "nl"
        case .portuguese: "pt"
        }
    }

    private static let markerSets = Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.markers) })

    /// The common function words of every language here ("the", "wie", "avec", "para"…): words that
    /// say nothing about which passage answers a question.
    public static let functionWords: Set<String> = allCases.reduce(into: []) { $0.formUnion($1.markers) }

    /// Words frequent in running text of the language and rare in the others'.
    private var markers: Set<String> {
        switch self {
        case .english: ["the", "and", "is", "are", "of", "to", "in", "it", "you", "that", "this", "with", "for", "how", "what",
                        "do", "does", "can", "my", "your", "be", "not", "on", "from", "when", "which", "will", "have", "was"]
        case .german: ["der", "die", "das", "und", "ist", "sind", "nicht", "mit", "ein", "eine", "ich", "sie", "wie", "was",
                       "wird", "werden", "auf", "für", "den", "dem", "des", "zu", "auch", "kann", "wann", "oder", "bei", "nach"]
        case .french: ["le", "la", "les", "et", "est", "des", "une", "un", "du", "que", "qui", "pour", "dans", "pas", "sur",
                       "avec", "je", "vous", "nous", "comment", "quand", "ce", "cette", "sont", "au", "aux", "mon", "votre"]
        case .spanish: ["el", "los", "las", "y", "es", "son", "una", "del", "que", "por", "para", "con", "como", "cómo",
                        "cuándo", "qué", "mi", "su", "se", "lo", "al", "pero", "muy", "puedo", "está", "hay", "tarda"]
        case .italian: ["il", "gli", "e", "è", "sono", "della", "delle", "che", "per", "con", "come", "quando", "non", "una",
                        "uno", "del", "nel", "alla", "questo", "posso", "mio", "suo", "anche"]
        case .dutch: ["de", "het", "een", "en", "is", "zijn", "van", "dat", "niet", "met", "voor", "hoe", "wat", "wanneer",
                      "ik", "je", "mijn", "kan", "ook", "op", "naar", "bij", "worden", "wordt"]
        case .portuguese: ["o", "os", "as", "e", "é", "são", "um", "uma", "do", "da", "dos", "das", "que", "para", "com",
                           "como", "quando", "não", "meu", "seu", "posso", "em", "no", "na"]
        }
    }

    /// Letters only some of these languages write.
    private var letters: Set<Character> {
        switch self {
        case .german: ["ä", "ö", "ü", "ß"]
        case .french: ["é", "è", "ê", "ç", "à", "ù", "œ", "î"]
        case .spanish: ["ñ", "¿", "¡", "á", "í", "ó", "ú"]
        case .portuguese: ["ã", "õ", "ç", "á", "é", "ê"]
        case .italian: ["à", "è", "ì", "ò", "ù"]
        case .english, .dutch: []
        }
    }

    /// The language of `text` (its first 20,000 characters), or nil when none stands out.
    public static func detect(_ text: some StringProtocol) -> TextLanguage? {
        let sample = text.prefix(20_000).lowercased()
        let words = sample.split { !$0.isLetter }
        var scores: [TextLanguage: Double] = [:]
        for language in allCases {
            let markers = markerSets[language]!, letters = language.letters
            var score = Double(words.reduce(0) { $0 + (markers.contains(String($1)) ? 1 : 0) })
            if !letters.isEmpty { score += 0.5 * Double(sample.reduce(0) { $0 + (letters.contains($1) ? 1 : 0) }) }
            scores[language] = score
        }
        let ranked = scores.sorted { ($0.value, $0.key.rawValue) > ($1.value, $1.key.rawValue) }
        guard let best = ranked.first, best.value >= 1 else { return nil }
        let second = ranked.dropFirst().first?.value ?? 0
        return best.value >= second * 1.3 && best.value > second ? best.key : nil
    }
}
