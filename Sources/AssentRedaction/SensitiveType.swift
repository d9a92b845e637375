/// The kinds of sensitive data Assent detects (issue 5's names, used as-is in spans and placeholders).
public enum SensitiveType: String, CaseIterable, Hashable, Sendable, Comparable {
    // Personal data
    case person = "PERSON"
    case email = "EMAIL"
    case phone = "PHONE"
    case creditCard = "CREDIT_CARD"
    case usSSN = "US_SSN"
    case iban = "IBAN"
    case ipAddress = "IP_ADDRESS"
    case address = "ADDRESS"
    // Secrets
    case awsAccessKey = "AWS_ACCESS_KEY"
    case awsSecretKey = "AWS_SECRET_KEY"
    case githubToken = "GITHUB_TOKEN"
    case slackToken = "SLACK_TOKEN"
    case stripeKey = "STRIPE_KEY"
    case openAIKey = "OPENAI_KEY"
    case anthropicKey = "ANTHROPIC_KEY"
    case googleAPIKey = "GOOGLE_API_KEY"
    case jwt = "JWT"
    case privateKey = "PRIVATE_KEY"
    case urlCredential = "URL_CREDENTIAL"
    case genericSecret = "GENERIC_SECRET"
    case password = "PASSWORD"

    public static func < (lhs: SensitiveType, rhs: SensitiveType) -> Bool { lhs.rawValue < rhs.rawValue }

    /// When two detections overlap, the more specific one wins.
    var priority: Int {
        switch self {
        case .privateKey: return 100
        case .jwt, .anthropicKey, .openAIKey, .githubToken, .slackToken, .stripeKey, .googleAPIKey, .awsAccessKey: return 90
        case .urlCredential: return 85
        case .awsSecretKey: return 80
        case .creditCard, .iban, .usSSN: return 70
        case .email: return 65
        case .password: return 60
        case .genericSecret: return 55
        case .ipAddress: return 50
        case .phone: return 45
        case .address: return 40
        case .person: return 30
        }
    }
}

/// A detected span: offsets in Unicode scalars, end exclusive.
public struct SensitiveSpan: Hashable, Sendable {
    public var start: Int
    public var end: Int
    public var type: SensitiveType

    public init(start: Int, end: Int, type: SensitiveType) {
        self.start = start
        self.end = end
        self.type = type
    }
}
