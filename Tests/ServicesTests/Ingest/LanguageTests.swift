import Chat
import Foundation
import HummingbirdTesting
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// Issue 17, languages: documents are indexed in their own language and questions searched in
/// theirs, so German, French and Spanish widgets work end to end, and the widget apologises in the
/// visitor's language.
@Suite(.timeLimit(.minutes(5))) struct LanguageTests {
    @Test func theLanguageOfAQuestionOrADocumentIsRecognised() {
        let cases: [(String, TextLanguage?)] = [
            ("How long does shipping to Norway take?", .english),
            ("Wie lange dauert der Versand nach Norwegen?", .german),
            ("Combien de temps prend la livraison vers la Norvège ?", .french),
            ("¿Cuánto tarda el envío a Noruega?", .spanish),
            ("Quanto tempo ci vuole per la spedizione in Norvegia? È possibile?", .italian),
            ("Hoe lang duurt de verzending naar Noorwegen?", .dutch),
            ("TLS", nil),
        ]
        for (text, language) in cases { #expect(TextLanguage.detect(text) == language, "\(text)") }
    }

    @Test func documentsAndQuestionsInGermanFrenchAndSpanishFindEachOther() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), widget = UUID()
            let documents = [
                ("Versand", "Die Rücksendungen werden innerhalb von vierzehn Tagen erstattet. Der Versand nach Norwegen dauert sechs Werktage."),
                ("Livraison", "Les remboursements sont effectués sous quatorze jours. La livraison vers la Norvège prend six jours ouvrables."),
                ("Envíos", "Los reembolsos se realizan en catorce días. El envío a Noruega tarda seis días hábiles."),
            ]
            try await IngestHarness.app(database).test(.router) { client in
                for (title, text) in documents {
                    #expect(try await IngestHarness.paste(client, owner: owner, widget: widget, title: title, text: text).status == .accepted)
                }
                try await IngestHarness.settle(database)
                // Each question shares no exact word form with its document's answer, only stems.
                let questions = [("Wann wird eine Rücksendung erstattet?", "Versand"),
                                 ("Quand suis-je remboursé ?", "Livraison"),
                                 ("¿Cuándo se realiza el reembolso?", "Envíos")]
                for (question, title) in questions {
                    let found = try await IngestHarness.search(client, owner: owner, widget: widget, query: question)
                    #expect(found.first?.documentTitle == title && found.first?.textRank == 1, "\(question): \(found.map(\.documentTitle))")
                }
            }
            let configurations = try await database.withConnection(database.adminURL) { connection in
                try await connection.query("SELECT DISTINCT language::text FROM ingest.chunks WHERE owner_id = \(owner) ORDER BY 1",
                                           logger: Logger(label: "test")).collect().map { try $0.decode(String.self) }
            }
            #expect(configurations == ["french", "german", "spanish"])
        }
    }

    @Test func theWidgetApologisesInTheVisitorsLanguage() {
        #expect(AnswerService.noAnswerText(for: "¿Cuánto tarda el envío a Noruega?").hasPrefix("Lo siento"))
        #expect(AnswerService.noAnswerText(for: "Wie lange dauert der Versand?").hasPrefix("Leider"))
        #expect(AnswerService.noAnswerText(for: "Where is my order?") == AnswerService.noAnswerText)
    }
}
