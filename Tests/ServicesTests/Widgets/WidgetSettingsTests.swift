import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Platform
import Testing
import TestSupport

/// A widget's settings through `PATCH /v1/widgets/{id}`: values outside their bounds are a 422
/// naming the field and change nothing; valid ones are stored and read back, and fields left out
/// keep their values.
@Suite(.timeLimit(.minutes(5))) struct WidgetSettingsTests {
    @Test func settingsOutsideTheirBoundsAreA422AndChangeNothing() async throws {
        try await withTestDatabase { database in
            let owner = UUID()
            let widget = try await ChatHarness.createWidget(database, owner: owner, ingestPort: 9)
            try await ChatHarness.chat(database, ingestPort: 9).test(.router) { client in
                var headers = try await gatewayHeaders(for: .chat, customer: owner)
                headers[.contentType] = "application/json"
                let uri = "/v1/widgets/\(widget)"
                func read() async throws -> [String: Any] {
                    try await client.execute(uri: uri, method: .get, headers: headers) { response in
                        #expect(response.status == .ok)
                        return (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:]
                    }
                }
                let before = try await read()

                for (body, field) in [(#"{"retention_days": 0}"#, "retention_days"), (#"{"retention_days": 3651}"#, "retention_days"),
                                      (#"{"greeting": "\#(String(repeating: "g", count: 501))"}"#, "greeting"),
                                      (#"{"system_prompt": "\#(String(repeating: "p", count: 4001))"}"#, "system_prompt"),
                                      (#"{"include_history": "yes"}"#, "include_history")] {
                    try await client.execute(uri: uri, method: .patch, headers: headers, body: ByteBuffer(string: body)) { response in
                        #expect(response.status == .unprocessableContent, "\(body.prefix(40)): \(String(buffer: response.body))")
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect(String(buffer: response.body).contains(field))
                    }
                }
                let unchanged = try await read()
                for key in ["retention_days", "greeting", "system_prompt", "include_history"] {
                    #expect(String(describing: unchanged[key]) == String(describing: before[key]), "\(key) changed on a refused PATCH")
                }

                // The bounds themselves are accepted; fields left out keep their values.
                let body = #"{"retention_days": 3650, "greeting": "\#(String(repeating: "g", count: 500))", "include_history": true}"#
                try await client.execute(uri: uri, method: .patch, headers: headers, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                }
                let after = try await read()
                #expect(after["retention_days"] as? Int == 3650)
                #expect((after["greeting"] as? String)?.count == 500)
                #expect(after["include_history"] as? Bool == true)
                #expect(after["system_prompt"] as? String == before["system_prompt"] as? String)
                try await client.execute(uri: uri, method: .patch, headers: headers,
                                         body: ByteBuffer(string: #"{"retention_days": 1}"#)) { response in
                    #expect(response.status == .ok)
                }
                #expect(try await read()["retention_days"] as? Int == 1)
            }
        }
    }
}
