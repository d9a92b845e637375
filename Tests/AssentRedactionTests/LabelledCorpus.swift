import AssentDemo
import AssentRedaction

/// A labelled sample: text and the exact spans a redactor must find (Unicode-scalar offsets).
struct Sample {
    var text = ""
    var spans: [SensitiveSpan] = []
    var isHardNegative = false

    mutating func plain(_ s: String) { text += s }

    mutating func secret(_ type: SensitiveType, _ value: String) {
        let start = text.unicodeScalars.count
        text += value
        spans.append(SensitiveSpan(start: start, end: text.unicodeScalars.count, type: type))
    }
}

/// Generates chat and coding-session text with planted sensitive values, and hard negatives
/// that must not be flagged. Phrasings differ from the demo generator's on purpose.
struct LabelledCorpus {
    var r: DemoRandom

    init(seed: UInt64) { r = DemoRandom(seed: seed) }

    typealias S = SensitiveData

    mutating func positive() -> Sample {
        var s = Sample()
        switch r.int(0...29) {
        case 0:
            s.plain("Could you forward this to ")
            s.secret(.email, S.email(&r))
            s.plain(" before Friday? 🙏")
        case 1:
            s.plain("Reach me on ")
            s.secret(.phone, S.phone(&r))
            s.plain(" after 6pm.")
        case 2:
            s.plain("Payment failed for card ")
            s.secret(.creditCard, S.card(&r))
            s.plain(", any idea why?")
        case 3:
            s.plain("My SSN is ")
            s.secret(.usSSN, S.ssn(&r))
            s.plain(" — is that needed for the W-4?")
        case 4:
            s.plain("Wire it to ")
            s.secret(.iban, S.iban(&r))
            s.plain(" please.")
        case 5:
            s.plain("Failed logins from ")
            s.secret(.ipAddress, S.ipAddress(&r))
            s.plain(" all night.")
        case 6:
            s.plain("Ship it to ")
            s.secret(.address, S.address(&r))
            s.plain(".")
        case 7:
            s.plain("Hi, my name is ")
            s.secret(.person, S.name(&r))
            s.plain(" and I need help with my resume.")
        case 8:
            s.plain("aws_access_key_id = ")
            s.secret(.awsAccessKey, S.awsAccessKey(&r))
            s.plain("\naws_secret_access_key = ")
            s.secret(.awsSecretKey, S.awsSecretKey(&r))
            s.plain("\n")
        case 9:
            s.plain("git remote set-url origin https://")
            s.secret(.githubToken, S.githubToken(&r))
            s.plain("@github.com/org/repo.git")
        case 10:
            s.plain("SLACK_BOT_TOKEN=")
            s.secret(.slackToken, S.slackToken(&r))
            s.plain("\n")
        case 11:
            s.plain("const stripe = require('stripe')('")
            s.secret(.stripeKey, S.stripeKey(&r))
            s.plain("');")
        case 12:
            s.plain("client = OpenAI(api_key=\"")
            s.secret(.openAIKey, S.openAIKey(&r))
            s.plain("\")")
        case 13:
            s.plain("export ANTHROPIC_API_KEY=")
            s.secret(.anthropicKey, S.anthropicKey(&r))
            s.plain("\nclaude --help")
        case 14:
            s.plain("fetch(`https://maps.googleapis.com/maps/api/geocode/json?address=x&key=")
            s.secret(.googleAPIKey, S.googleAPIKey(&r))
            s.plain("`)")
        case 15:
            s.plain("Authorization: Bearer ")
            s.secret(.jwt, S.jwt(&r))
            s.plain("\n")
        case 16:
            s.plain("id_rsa contents:\n")
            s.secret(.privateKey, S.privateKey(&r))
            s.plain("\nwhy does ssh reject it?")
        case 17:
            let user = r.pick(["admin", "app", "root", "svc_etl"])
            s.plain("engine = create_engine('postgresql://")
            s.secret(.urlCredential, "\(user):\(S.password(&r))")
            s.plain("@db.prod.internal:5432/sales')")
        case 18:
            s.plain("REDIS_URL=redis://")
            s.secret(.urlCredential, "default:\(S.password(&r))")
            s.plain("@cache:6379/0")
        case 19:
            s.plain("DB_PASSWORD=")
            s.secret(.password, S.password(&r))
            s.plain("\nDB_HOST=localhost\n")
        case 20:
            s.plain("my password is ")
            s.secret(.password, S.password(&r))
            s.plain(" and it still says invalid")
        case 21:
            s.plain("config = {\"host\": \"smtp.mail.com\", \"password\": \"")
            s.secret(.password, S.password(&r))
            s.plain("\"}")
        case 22:
            s.plain("$ mysql -u root -p")
            s.secret(.password, S.password(&r).replacingOccurrences(of: " ", with: ""))
            s.plain(" shop < dump.sql")
        case 23:
            s.plain("JWT_SECRET = \"")
            s.secret(.genericSecret, r.string(32, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
            s.plain("\"")
        case 24:
            s.plain("api_token: ")
            s.secret(.genericSecret, r.string(28, from: "abcdef0123456789ABCDEFXYZ_-"))
            s.plain("\n")
        case 25:
            s.plain("Server=sql01;Database=crm;User Id=sa;Password=")
            s.secret(.urlCredential, S.password(&r))
            s.plain(";")
        case 26:
            s.plain("Dear ")
            s.secret(.person, S.name(&r))
            s.plain(",\nthank you for your letter.")
        case 27:
            s.plain("Call ")
            s.secret(.person, S.name(&r))
            s.plain(" at ")
            s.secret(.phone, S.phone(&r))
            s.plain(" or write to ")
            s.secret(.email, S.email(&r))
        case 28:
            s.plain("Card: ")
            s.secret(.creditCard, S.card(&r))
            s.plain(" exp 09/27, billing ")
            s.secret(.address, S.address(&r))
        default:
            s.plain("sshpass -p '")
            s.secret(.password, S.password(&r))
            s.plain("' ssh deploy@10.0.0.5")
            s.spans.append(SensitiveSpan(start: s.text.unicodeScalars.count - 8, end: s.text.unicodeScalars.count, type: .ipAddress))
        }
        return s
    }

    mutating func hardNegative() -> Sample {
        var s = Sample()
        s.isHardNegative = true
        let hex = "0123456789abcdef"
        let b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        switch r.int(0...17) {
        case 0:
            s.plain(
                "request id \(r.string(8, from: hex))-\(r.string(4, from: hex))-4\(r.string(3, from: hex))-a\(r.string(3, from: hex))-\(r.string(12, from: hex)) failed"
            )
        case 1: s.plain("git checkout \(r.string(40, from: hex)) && git log -1")
        case 2: s.plain("sha256: \(r.string(64, from: hex))  release.tar.gz")
        case 3: s.plain("\"integrity\": \"sha512-\(r.string(86, from: b64))==\"")
        case 4: s.plain("<img src=\"data:image/png;base64,iVBORw0KGgo\(r.string(120, from: b64))=\">")
        case 5:
            s.plain(
                "Upgraded from \(r.int(1...9)).\(r.int(0...20)).\(r.int(0...30)) to \(r.int(1...9)).\(r.int(0...20)).\(r.int(0...30)); see CHANGELOG"
            )
        case 6: s.plain("color: #\(r.string(6, from: hex)); background: #\(r.string(3, from: hex));")
        case 7:
            var card = SensitiveData.card(&r).filter(\.isNumber)
            let last = Int(String(card.removeLast()))!
            s.plain("order number \(card)\((last + 1) % 10) shipped")
        case 8:
            s.plain(
                "created_at: 2025-\(String(r.int(1...12)).leftPad)-\(String(r.int(1...28)).leftPad)T\(String(r.int(0...23)).leftPad):\(String(r.int(0...59)).leftPad):00Z, epoch 17\(r.string(8, from: "0123456789"))"
            )
        case 9: s.plain("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        case 10: s.plain("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\(r.string(43, from: b64)) deploy@build")
        case 11: s.plain("password_min_length = \(r.int(8...16))\ntoken_count = \(r.int(100...4000))")
        case 12: s.plain("secret_santa = \"\(r.pick(["Bob", "Ann", "Raj"]))\"\npassword_hint = \"your pet's name\"")
        case 13: s.plain("Set PASSWORD=${DB_PASSWORD} in the env file; api_key = os.environ[\"API_KEY\"]")
        case 14: s.plain("The meeting is on Monday at 10:30 in room 4B, bring the Q3 numbers.")
        case 15: s.plain("pip install requests==2.31.0 numpy>=1.26 && python -m pytest -k test_login")
        case 16: s.plain("Build \(r.int(1000...9999)) passed in \(r.int(10...300))s on runner-\(r.string(6, from: hex))")
        default: s.plain("const token = await getToken(); const password = form.password.value;")
        }
        return s
    }
}

extension String {
    var leftPad: String { count < 2 ? "0" + self : self }
}
