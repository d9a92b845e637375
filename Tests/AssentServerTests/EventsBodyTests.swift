import AssentCore
import Testing

@testable import AssentServer

/// `POST /v1/events` reads the usual body's events as their pairs (no dictionary for each) and
/// any other body as a whole value: both give the same events and the same refusals.
@Suite("The events route's body")
struct EventsBodyTests {
    static let created = #"{"type":"account.created","account":"a1","plan":"free","at":"2025-09-03T10:00:00Z"}"#
    static let deferred = #"{"type":"notice.deferred","account":"a1","at":"2025-09-04T10:00:00Z"}"#

    static func outcome(_ body: String, atMost limit: Int = 3) -> String {
        do {
            return try API.events(ofBody: body, atMost: limit).map { $0.json().canonicalText }.joined(separator: "\n")
        } catch let error as APIError {
            return "\(error.code): \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    @Test(
        "events, in order, and each refusal with its code and message",
        arguments: [
            ("{\"events\":[\(created), \(deferred)]}", "events"),
            (" {\n \"events\" : [ \(created) ] } ", "one event"),
            ("{\"events\":[\(created)],\"extra\":1}", "invalid_argument: unknown field \"extra\""),
            ("{\"extra\":1,\"events\":[1]}", "invalid_argument: unknown field \"extra\""),
            ("{\"events\":[]}", "invalid_argument: events is empty"),
            ("{\"events\":{}}", "invalid_argument: the body must be {\"events\":[…]}"),
            ("{\"evnts\":[]}", "invalid_argument: the body must be {\"events\":[…]}"),
            ("[]", "invalid_argument: the request body must be a JSON object, not an array"),
            ("{\"events\":[\(created),\(created),\(created),\(created)]}", "invalid_argument: a batch holds at most 3 events, not 4"),
            ("{\"events\":[\(created),7]}", "invalid_event: event 2: an event must be a JSON object, not a number"),
            ("{\"events\":[\(created),{\"type\":\"account.created\"}]}", "invalid_event: event 2: missing field \"account\""),
            ("{\"events\":[{\"a\":1,\"a\":2}]}", "invalid_argument: the request body is not JSON: "),
            ("{\"events\":[\(created)]", "invalid_argument: the request body is not JSON: "),
        ])
    func bodies(body: String, expected: String) throws {
        let outcome = Self.outcome(body)
        switch expected {
        case "events":
            #expect(outcome == [Self.created, Self.deferred].map { try! JSONValue.parse($0).canonicalText }.joined(separator: "\n"))
        case "one event":
            #expect(outcome == (try JSONValue.parse(Self.created).canonicalText))
        default:
            #expect(outcome.hasPrefix(expected), "\(outcome)")
        }
    }
}
