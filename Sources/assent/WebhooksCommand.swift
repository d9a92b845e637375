import AssentCore
import AssentStore
import AssentService
import ArgumentParser
import Foundation

struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks", abstract: "Webhooks: signed deliveries of choices, deletions and purges to downstream systems.",
        subcommands: [Add.self, List.self, Deliveries.self, Retry.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a webhook and print its signing secret, once.")

        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: "Where deliveries are posted: an https:// URL to a public address.") var url: String
        @Option(
            name: .long,
            help: ArgumentHelp("What to deliver, comma-separated: choice, terms, deletion, purge, plan (default: all).", valueName: "E"))
        var events: String?
        @Flag(name: .long, help: "Name accounts and conversations in deliveries by their export pseudonyms.") var pseudonymous = false
        @OptionGroup var output: JSONFlag

        func validate() throws {
            if let events { _ = try Webhook.Category.parseList(events) }
        }

        func run() async throws {
            let categories = try Webhook.Category.parseList(events ?? Webhook.Category.allCases.map(\.rawValue).joined(separator: ","))
            let allowLoopback = ProcessInfo.processInfo.environment["ASSENT_WEBHOOKS_ALLOW_LOOPBACK"] == "1"
            let secrets = try DeploymentSecrets.fromEnvironment(ProcessInfo.processInfo.environment)
            let webhook = try await withStore(store) {
                try await $0.addWebhook(
                    url: url, categories: categories, allowLoopback: allowLoopback, pseudonymous: pseudonymous, secrets: secrets)
            }
            if output.json {
                var json = webhook.json
                json["secret"] = .string(webhook.secret)
                Output.json(.object(json))
            } else {
                Output.line(
                    "webhook \(webhook.id) added for \(webhook.storedCategories) → \(webhook.url)"
                        + (webhook.pseudonymous ? " (ids by their export pseudonyms)" : ""))
                Output.line("signing secret (shown once; deliveries carry Assent-Signature: t=…,v1=HMAC-SHA256(secret, \"t.body\")):")
                Output.line(webhook.secret)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every webhook, removed ones included.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let webhooks = try await withStore(store) { try await $0.webhooks() }
            if output.json { return Output.json(.array(webhooks.map { .object($0.json) })) }
            guard !webhooks.isEmpty else { return Output.line("no webhooks") }
            Output.table(
                [["ID", "URL", "EVENTS", "IDS", "CREATED", "STATE"]]
                    + webhooks.map {
                        [
                            $0.id, $0.url, $0.storedCategories, $0.pseudonymous ? "pseudonyms" : "raw", $0.createdAt.rfc3339,
                            $0.removedAt.map { "removed \($0.rfc3339)" } ?? "active",
                        ]
                    })
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deliveries", abstract: "Deliveries, newest first.")

        @OptionGroup var store: StoreOptions
        @Flag(name: .long, help: "Only those given up (retried for a day).") var failed = false
        @Option(name: .long, help: "Only this webhook's.") var webhook: String?
        @Option(name: .long, help: "At most this many (1–1000).") var limit = 100
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let filter = DeliveryFilter(webhook: webhook, failedOnly: failed, limit: limit)
            let deliveries = try await withStore(store) { try await $0.deliveries(filter) }
            if output.json { return Output.json(.array(deliveries.map(\.json))) }
            guard !deliveries.isEmpty else { return Output.line(failed ? "no failed deliveries" : "no deliveries") }
            Output.table(
                [["ID", "WEBHOOK", "SEQ", "ACCOUNT", "STATE", "ATTEMPTS", "LAST"]]
                    + deliveries.map {
                        [
                            String($0.id), $0.webhook, String($0.seq), $0.account, $0.state, String($0.attempts),
                            $0.lastError ?? $0.lastStatus.map { "HTTP \($0)" } ?? "",
                        ]
                    })
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retry", abstract: "Send a delivery again now (a failed one too).")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The delivery's id.") var id: Int64
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let delivery = try await withStore(store) { try await $0.retryDelivery(id: id) }
            if output.json { return Output.json(delivery.json) }
            Output.line("delivery \(delivery.id) is \(delivery.state); it is sent again at \(delivery.nextAttemptAt.rfc3339)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove a webhook: nothing more is sent to it; its pending deliveries are dropped.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The webhook's id.") var id: String

        func run() async throws {
            let webhook = try await withStore(store) { try await $0.removeWebhook(id: id) }
            Output.line("webhook \(webhook.id) removed")
        }
    }
}
