import AssentRedaction
import Testing

/// Secrets people type where nothing names them `password = …` (issue 13, part 5).
@Suite("Typed secrets")
struct TypedSecretTests {
    static func flagged(_ text: String) -> [String] { flaggedTexts(text, [.password, .genericSecret, .urlCredential]) }

    @Test(
        "each form is found, and only the secret is masked",
        arguments: [
            ("the staging login is admin / Tr0ub4dor&3 for now", "Tr0ub4dor&3"),
            // Brackets inside a password are its punctuation, not a call.
            ("DB_PASSWORD=UEXpE&2F5)n6WYra", "UEXpE&2F5)n6WYra"), ("password: &%R*(kWikA4", "&%R*(kWikA4"),
            // A secret's name as an entry's `name`, its value as the entry's `value`.
            ("env:\n  - name: SMTP_PASSWORD\n    value: \"W@9hO3Fs2Y^G3\"\n", "W@9hO3Fs2Y^G3"),
            (#"[{"name": "DB_PASS", "value": "Verano1991."}]"#, "Verano1991."),
            ("Credentials: jdoe / hunter22", "hunter22"),
            ("Login:\nops-team / s3cr3t-Pass!", "s3cr3t-Pass!"),
            ("Benutzer: mueller / Sommer2025!", "Sommer2025!"),
            (#"r = requests.get(url, auth=("svc-reports", "pa55w0rd-x9"))"#, "pa55w0rd-x9"),
            (#"session.auth = ('api', 'kJ8#mq2!zz')"#, "kJ8#mq2!zz"),
            (#"requests.post(url, auth=HTTPBasicAuth("bob", "b0bsecret!"))"#, "b0bsecret!"),
            ("docker login -u deploy -p Dk9$xx71q registry.example.com", "Dk9$xx71q"),
            ("oc login https://api.cluster:6443 -u admin --password Kub3Adm1n", "Kub3Adm1n"),
            ("curl -H 'Authorization: Basic YWRtaW46c3VwZXJzZWNyZXQ=' https://x", "YWRtaW46c3VwZXJzZWNyZXQ="),
            ("SECRET_KEY = 'django-insecure-8f#k2$lq9w^x@3m!zr7e(0v&p5n)t1y*u6'", "django-insecure-8f#k2$lq9w^x@3m!zr7e(0v&p5n)t1y*u6"),
            ("//registry.npmjs.org/:_authToken=npm_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78", "npm_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78"),
            (
                "https://b.s3.amazonaws.com/f.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=3f7a9c2b5e8d1f4a6c0b9e2d7f5a8c3b1e6d4f9a2c7b0e5d8f3a6c1b9e4d7f2a&X-Amz-Date=20250901T000000Z",
                "3f7a9c2b5e8d1f4a6c0b9e2d7f5a8c3b1e6d4f9a2c7b0e5d8f3a6c1b9e4d7f2a"
            ),
        ])
    func found(text: String, secret: String) {
        #expect(Self.flagged(text).contains(secret), "\(Self.flagged(text))")
    }

    @Test(
        "look-alikes stay clean",
        arguments: [
            "input / output and read / write", "the ratio is 3 / 4", "docker run -p 8080:80 nginx", "ssh -p 2222 host",
            "auth=(user, password) is built from variables", #"auth=("user", "${PASSWORD}")"#,
            "Authorization: Basic <base64 of user:password>", "Authorization: Bearer", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
            "login / logout buttons", "X-Amz-Signature=<signature>",
            // A call's first argument and a shell variable's path are not secrets.
            "secret = sign_hs256(demo_user, key)", #"curl -H "Authorization: Bearer $TOKEN" $B/v1/me/receipts"#,
            "token = $B/v1/me/export",
        ])
    func clean(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }
}

@Suite("Secrets in Terraform variables' defaults")
struct TerraformDefaultTests {
    static func flagged(_ text: String) -> [String] { flaggedTexts(text, [.password, .genericSecret]) }

    @Test(
        "the default of a variable whose name names a secret, inside its block",
        arguments: [
            ("variable \"db_password\" {\n  default = \"sunshine47!\"\n}\nprovider \"aws\" {}", "sunshine47!"),
            (
                "variable \"admin_password\" {\n  type      = string\n  sensitive = true\n  default   = \"Printemps2011#\"\n}",
                "Printemps2011#"
            ),
            ("variable \"api_token\" {\n  default = \"q8Zr2LkP0vXa9TfB3nQe\"\n}", "q8Zr2LkP0vXa9TfB3nQe"),
        ] as [(String, String)])
    func found(text: String, secret: String) {
        #expect(Self.flagged(text) == [secret], "\(Self.flagged(text))")
    }

    @Test(
        "no secret: a variable without a default, one whose name names none, a default after the block's end, a reference",
        arguments: [
            "variable \"db_password\" {\n  type = string\n}",
            "variable \"region\" {\n  default = \"us-east-1\"\n}",
            "variable \"db_password\" {\n  type = string\n}\nvariable \"region\" {\n  default = \"eu-west-1b\"\n}",
            "variable \"db_password\" {\n  default = \"${var.master_password}\"\n}",
        ])
    func notFound(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }
}
