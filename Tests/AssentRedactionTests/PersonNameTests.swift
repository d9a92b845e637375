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

    @Test(
        "given names of many countries from the lists, before a family name, in the places people write them",
        arguments: [
            ("Bogdan Popescu will review it", "Bogdan Popescu"),
            ("Sigrún Jónsdóttir sent the file", "Sigrún Jónsdóttir"),
            ("Radek Novák approved", "Radek Novák"),
            ("we asked Aurelio Bianchi yesterday", "Aurelio Bianchi"),
            ("Sanne de Vries is on leave", "Sanne de Vries"),
            ("Author: Hiroshi Tanaka <h.tanaka@example.jp>", "Hiroshi Tanaka"),
            ("Signed-off-by: Ngozi Okafor <ngozi@example.org>", "Ngozi Okafor"),
            ("Co-authored-by: Teodora Ilić <t@example.rs>", "Teodora Ilić"),
            (#"{"name": "Agnieszka Kowalska", "plan": "pro"}"#, "Agnieszka Kowalska"),
            (#"{"full_name":"Bjørn Nilsen"}"#, "Bjørn Nilsen"),
            ("author: Rosalind Whitfield\nversion: 2", "Rosalind Whitfield"),
            ("id,name,email\n7,Lucía Fernández,lucia@example.com", "Lucía Fernández"),
            ("// TODO: ask Tomasz Wójcik about the retry", "Tomasz Wójcik"),
            ("talked to Mark Johnson today", "Mark Johnson"),
            ("then Grace Brown called back", "Grace Brown"),
            ("@author Ingeborg Halvorsen", "Ingeborg Halvorsen"),
            // A frequent given name whose dictionary sense is rare needs no listed family name.
            ("Maria Farouk replied", "Maria Farouk"),
            // Form text, and a dotted title looked up whole.
            ("name Jürgen Weber, social 123-45-6789", "Jürgen Weber"), ("scrivere a Sig.ra Aria Ruberto oggi", "Sig.ra Aria Ruberto"),
            // Titles and degrees in several languages, four-word Spanish names, capitalised
            // particles, hyphenated given names, and a given name no list knows before a listed
            // family name.
            ("rozmawiałem z pani Liwia Jarmuż wczoraj", "pani Liwia Jarmuż"),
            ("Sra. Emanuelly Marques ligou", "Sra. Emanuelly Marques"),
            ("Dr. Luiz Felipe Vieira atende", "Dr. Luiz Felipe Vieira"),
            ("Annette Röhrdanz B.Sc. leitet das Team", "Annette Röhrdanz B.Sc."),
            ("Marisela Ainara Castell Asenjo firmó", "Marisela Ainara Castell Asenjo"),
            ("Benjamin Dos Santos a écrit", "Benjamin Dos Santos"),
            ("Marie-Therese Junck hat angerufen", "Marie-Therese Junck"),
            ("Lunna Oliveira mandou", "Lunna Oliveira"),
            ("met Pippa van Dooren gesproken", "Pippa van Dooren"),
        ] as [(String, String)])
    func fromLists(text: String, name: String) {
        #expect(Self.flagged(text) == [name])
    }

    @Test(
        "dictionary words, products and assistants named like people stay clean",
        arguments: [
            "Bill Payment Options", "Grace Period ends", "Max Value reached", "Julia Language docs", "Hi Claude, can you help?",
            "Ruby Gems are installed", "Jasmine Tests pass", "Will Power matters", "Rose Garden Road", "Mark Down the price",
            "Hello Claude Code", "Chase Bank statement", "Amber Alert issued", "Dawn Patrol", "Hunter Green paint",
            "Date:   Tue Mar 3 10:22:01 2026", "Meine Handynummer ist neu", "Hola Mundo", "Kubernetes Cluster Autoscaler",
            // A rare given name of one country is a word of another; languages are family names too.
            "Bei Fragen erreichen Sie uns", "Debian's English word list",
            // Places named after saints.
            "we flew to San Diego and São Paulo", "Santa Monica pier", "Sainte Gilbert",
        ])
    func notPeople(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }
}
