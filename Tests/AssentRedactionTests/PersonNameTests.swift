import AssentRedaction
import Testing

/// People's names in the languages and places people write them (issue 13, part 3, begun).
@Suite("Person names")
struct PersonNameTests {
    static func flagged(_ text: String) -> [String] { flaggedTexts(text, [.person]) }

    @Test(
        "names with diacritics and particles, after greetings and before sign-offs in several languages",
        arguments: [
            ("Hallo Jürgen, wie geht's?", "Jürgen"),
            ("Liebe Grüße,\nKatharina Müller", "Katharina Müller"),
            ("Bonjour Élodie, merci !", "Élodie"),
            ("Cordialement,\nFrançois Dubois", "François Dubois"),
            ("Hola María, ¿qué tal?", "María"),
            ("me llamo Álvaro Núñez y", "Álvaro Núñez"),
            ("Ciao Niccolò, a domani", "Niccolò"),
            ("Olá João, tudo bem?", "João"),
            ("mijn naam is Daan van der Berg", "Daan van der Berg"),
            ("Maria da Silva signed it", "Maria da Silva"),
            ("Ludwig von Mises wrote", nil),
            ("Dear Łukasz Nowak, thanks", "Łukasz Nowak"),
            ("called from Søren Kierkegaard's office", "Søren Kierkegaard's"),
            // Family names that are also USPS street suffixes stay names.
            ("ask Anna Green about it", "Anna Green"), ("Emma Park wrote", "Emma Park"), ("David Hill said", "David Hill"),
        ] as [(String, String?)])
    func found(text: String, name: String?) {
        let flagged = Self.flagged(text)
        if let name { #expect(flagged.contains(name), "\(flagged)") }
    }

    @Test(
        "greetings to no one, and capitalised words that are not names",
        arguments: [
            "Hallo Welt", "Bonjour à tous", "Hola Mundo", "Olá Mundo", "Ciao Mondo", "Über Nacht", "Ärger im Büro",
            "Straße und Weg", "Élan vital", "Hi there", "Dear Sir or Madam",
        ])
    func clean(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }
}
