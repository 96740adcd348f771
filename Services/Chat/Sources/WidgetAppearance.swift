import Foundation
import Hummingbird
import Platform

/// How a widget looks and speaks to visitors. Every field has a default, so a widget that never set
/// one (stored `{}`) still has a complete appearance; public, served with the widget's configuration.
public struct WidgetAppearance: Codable, Equatable, Sendable {
    /// Light, dark, or following the visitor's system setting.
    public enum Theme: String, Codable, Sendable, CaseIterable { case light, dark, auto }
    /// The side of the page the launcher sits on.
    public enum Position: String, Codable, Sendable, CaseIterable { case right, left }

    /// `#rrggbb`: the launcher, the header and the visitor's messages.
    public var accentColor = "#1d4ed8"
    public var theme = Theme.light
    public var position = Position.right
    /// The header's title; empty: the widget's name.
    public var title = ""
    /// Up to three letters or digits in a circle beside the title; empty: none.
    public var avatarInitials = ""
    /// Up to four questions offered before the visitor's first message.
    public var suggestedQuestions: [String] = []
    /// The language of the widget's fixed texts: `auto` (the visitor's browser) or a code.
    public var language = "auto"
    /// Whether visitors are offered to talk to a person (they leave an email address); off by default.
    public var handoff = false

    public static let languages = ["auto", "en", "de", "fr", "es", "it", "nl", "pt"]

    enum CodingKeys: String, CodingKey {
        case theme, position, title, language, handoff
        case accentColor = "accent_color"
        case avatarInitials = "avatar_initials"
        case suggestedQuestions = "suggested_questions"
    }

    public init() {}

    /// Missing keys take their defaults (a stored `{}`, or an object from before a field existed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = WidgetAppearance()
        accentColor = try container.decodeIfPresent(String.self, forKey: .accentColor) ?? defaults.accentColor
        theme = try container.decodeIfPresent(Theme.self, forKey: .theme) ?? defaults.theme
        position = try container.decodeIfPresent(Position.self, forKey: .position) ?? defaults.position
        title = try container.decodeIfPresent(String.self, forKey: .title) ?? defaults.title
        avatarInitials = try container.decodeIfPresent(String.self, forKey: .avatarInitials) ?? defaults.avatarInitials
        suggestedQuestions = try container.decodeIfPresent([String].self, forKey: .suggestedQuestions) ?? defaults.suggestedQuestions
        language = try container.decodeIfPresent(String.self, forKey: .language) ?? defaults.language
        handoff = try container.decodeIfPresent(Bool.self, forKey: .handoff) ?? defaults.handoff
    }

    /// The stored form, read leniently: a value that no longer validates falls back to the default.
    static func stored(_ json: String?) -> WidgetAppearance {
        guard let json, let value = try? JSONDecoder().decode(WidgetAppearance.self, from: Data(json.utf8)) else { return .init() }
        return value
    }

    var json: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data("{}".utf8), as: UTF8.self) }
}

/// A change to some of a widget's appearance (`PATCH /v1/widgets/{id}` with `appearance`): the
/// fields given replace the stored ones, each validated; the others stay.
struct AppearanceChange: Decodable, Equatable, Sendable {
    var accentColor: String?
    var theme: String?
    var position: String?
    var title: String?
    var avatarInitials: String?
    var suggestedQuestions: [String]?
    var language: String?
    var handoff: Bool?

    enum CodingKeys: String, CodingKey {
        case theme, position, title, language, handoff
        case accentColor = "accent_color"
        case avatarInitials = "avatar_initials"
        case suggestedQuestions = "suggested_questions"
    }

    /// `current` with this change applied, or a 422 naming the first field that is not valid.
    func applied(to current: WidgetAppearance) throws -> WidgetAppearance {
        var result = current
        func refuse(_ field: String, _ message: String) -> any Error {
            Problem.unprocessable("appearance.\(field) \(message)", fields: ["appearance.\(field)"])
        }
        if let accentColor {
            let hex = accentColor.dropFirst()
            guard accentColor.hasPrefix("#"), hex.count == 6, hex.allSatisfy(\.isHexDigit) else {
                throw refuse("accent_color", "must be a colour written #rrggbb.")
            }
            result.accentColor = accentColor.lowercased()
        }
        if let theme {
            guard let value = WidgetAppearance.Theme(rawValue: theme) else { throw refuse("theme", "must be light, dark or auto.") }
            result.theme = value
        }
        if let position {
            guard let value = WidgetAppearance.Position(rawValue: position) else { throw refuse("position", "must be right or left.") }
            result.position = value
        }
        if let title {
            let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.storedLength <= 60, !trimmed.contains(where: \.isNewline) else {
                throw refuse("title", "must be one line of at most 60 characters.")
            }
            result.title = trimmed
        }
        if let avatarInitials {
            let trimmed = avatarInitials.trimmingCharacters(in: .whitespaces)
            guard trimmed.count <= 3, trimmed.allSatisfy({ $0.isLetter || $0.isNumber }) else {
                throw refuse("avatar_initials", "must be at most 3 letters or digits.")
            }
            result.avatarInitials = trimmed
        }
        if let suggestedQuestions {
            let trimmed = suggestedQuestions.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard trimmed.count <= 4, trimmed.allSatisfy({ (1...120).contains($0.storedLength) && !$0.contains(where: \.isNewline) }) else {
                throw refuse("suggested_questions", "must be at most 4 questions of 1 to 120 characters on one line.")
            }
            result.suggestedQuestions = trimmed
        }
        if let language {
            guard WidgetAppearance.languages.contains(language) else {
                throw refuse("language", "must be one of \(WidgetAppearance.languages.joined(separator: ", ")).")
            }
            result.language = language
        }
        if let handoff { result.handoff = handoff }
        return result
    }
}
