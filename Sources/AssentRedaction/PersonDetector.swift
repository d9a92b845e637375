/// Names of people: a first name from a list followed by a capitalised surname, a title
/// (`Dr.`, `Ms`) before capitalised words, or a capitalised name after words that introduce one
/// ("my name is", "Dear", "Hi").
extension Detectors {
    static let firstNames: Set<String> = [
        "aaron", "abigail", "adam", "adrian", "ahmed", "aisha", "alan", "albert", "alex", "alexander", "alexandra", "alice",
        "alicia", "alison", "amanda", "amelia", "amir", "amy", "ana", "andrea", "andrew", "angela", "anna", "anne", "anthony",
        "antonio", "arjun", "arthur", "ashley", "barbara", "ben", "benjamin", "beth", "betty", "bill", "bob", "brandon",
        "brian", "bruce", "camila", "carl", "carla", "carlos", "carmen", "carol", "caroline", "catherine", "charles",
        "charlotte", "chen", "chloe", "chris", "christian", "christina", "christopher", "claire", "clara", "daniel",
        "daniela", "david", "deborah", "dennis", "diana", "diego", "dmitri", "donald", "donna", "dorothy", "douglas",
        "edward", "elena", "elijah", "elizabeth", "ella", "ellen", "emily", "emma", "eric", "ethan", "eva", "fatima",
        "felix", "fernando", "frank", "gabriel", "gary", "george", "grace", "greg", "gregory", "hannah", "harry", "helen",
        "henry", "hiroshi", "hugo", "ian", "isaac", "isabella", "ivan", "jack", "jacob", "james", "jane", "janet", "jason",
        "javier", "jean", "jeffrey", "jennifer", "jessica", "joan", "joe", "john", "jonathan", "jorge", "jose", "joseph",
        "joshua", "juan", "julia", "julie", "justin", "karen", "kate", "katherine", "kathleen", "kenji", "kevin", "kim",
        "kwame", "kyle", "laura", "lauren", "leo", "li", "liam", "linda", "lisa", "lucas", "lucy", "luis", "luke", "maria",
        "mario", "mark", "martha", "martin", "mary", "mateo", "matthew", "mei", "megan", "melissa", "mia", "michael",
        "michelle", "miguel", "mohammed", "muhammad", "nancy", "natalie", "nathan", "nicholas", "nicole", "noah", "nora",
        "olga", "olivia", "omar", "oscar", "pablo", "patricia", "patrick", "paul", "paula", "pedro", "peter", "philip",
        "priya", "rachel", "rahul", "raj", "rebecca", "richard", "robert", "ryan", "samantha", "samuel", "sandra", "sara",
        "sarah", "scott", "sean", "sergei", "sharon", "sofia", "sophia", "sophie", "stephanie", "stephen", "steven", "susan",
        "thomas", "tim", "timothy", "tom", "tyler", "victor", "victoria", "walter", "wei", "william", "xin", "yuki", "yusuf",
        "zoe", "ravi", "ananya", "sven", "lars", "ingrid", "hans", "klaus", "giulia", "marco", "francesca", "lorenzo",
        "chiara", "pierre", "camille", "louis", "manon", "jana", "tomasz", "katarzyna", "agnieszka", "mehmet", "ayse",
        "oluwaseun", "chinedu", "ngozi", "thabo", "sipho", "aroha", "mateus", "joao", "beatriz", "rafael", "valentina",
        // Given names of the countries issue 13 names, with their diacritics (compared lower-cased).
        "jürgen", "jörg", "günter", "björn", "sören", "tobias", "lukas", "jonas", "maximilian", "moritz", "katharina",
        "ursula", "sabine", "monika", "annika", "wolfgang", "dieter", "uwe", "stefan", "andreas", "matthias", "simone",
        "élodie", "héloïse", "léa", "chloé", "zoé", "amélie", "cécile", "françois", "frédéric", "jérôme", "josé", "rené",
        "andré", "noël", "hélène", "thérèse", "nathalie", "isabelle", "julien", "mathieu", "nicolas", "antoine", "guillaume",
        "sébastien", "inès", "margaux", "lucía", "sofía", "ángel", "álvaro", "jesús", "raúl", "rubén", "óscar", "iñigo",
        "josé", "maría", "ramón", "alejandro", "alejandra", "javiera", "consuelo", "pilar", "montserrat", "jordi", "núria",
        "giuseppe", "giovanni", "alessandro", "matteo", "niccolò", "federica", "alessia", "martina", "giorgia", "elisa",
        "daan", "sanne", "bram", "thijs", "femke", "anouk", "joost", "maarten", "willem", "pieter", "sjoerd", "eline",
        "joão", "gonçalo", "inês", "mariana", "thiago", "gustavo", "leonardo", "letícia", "conceição", "antónio", "sebastião",
        "łukasz", "paweł", "małgorzata", "søren", "øystein", "åsa", "mikko", "aino", "zoë",
    ]
    /// Lower-case words between a given name and a family name: "van", "de la", "da", "von".
    static let particles: Set<String> = [
        "de", "van", "von", "da", "di", "del", "della", "der", "den", "dos", "das", "du", "la", "le", "ter", "ten", "zu",
        "bin", "al", "el", "y", "e",
    ]

    static let titles: Set<String> = ["mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mx"]
    /// Words that introduce a person's name, strongly enough to trust a name not in the list.
    static let introducers: [StaticString] = [
        "my name is ", "name is ", "i'm ", "i am ", "dear ", "hi ", "hello ", "name: ", "regards,\n", "regards, ", "contact: ",
        "signed, ", "sincerely,\n", "cheers,\n", "thanks,\n", "patient ", "customer ", "employee ", "author: ", "from: ", "to: ",
        "cc: ", "best,\n", "best, ", "called from ", "call from ",
        // German, French, Spanish, Italian, Dutch, Portuguese: greetings, sign-offs, "my name is".
        "hallo ", "liebe ", "lieber ", "sehr geehrte frau ", "sehr geehrter herr ", "grüße,\n", "grüße\n", "gruß,\n",
        "ich bin ", "ich heiße ", "mein name ist ", "bonjour ", "salut ", "cher ", "chère ", "cordialement,\n", "je suis ",
        "je m'appelle ", "hola ", "querido ", "querida ", "estimado ", "estimada ", "saludos,\n", "me llamo ", "soy ", "ciao ",
        "caro ", "cara ", "gentile ", "saluti,\n", "mi chiamo ", "sono ", "hoi ", "beste ", "groeten,\n", "ik ben ",
        "mijn naam is ", "olá ", "oi ", "prezado ", "prezada ", "atenciosamente,\n", "abraços,\n", "me chamo ", "meu nome é ",
        "nombre: ", "nom : ", "nom: ", "naam: ", "nome: ",
    ]
    /// The introducers by the byte before their last one (the end of their last word, lower
    /// case): a capitalised word is compared only with those that can end just before it.
    static let introducersByPenultimate: [[StaticString]] = {
        var table = Array(repeating: [StaticString](), count: 256)
        for word in introducers {
            let count = word.utf8CodeUnitCount
            table[Int(Bytes.lower(word.utf8Start[count - 2]))].append(word)
        }
        return table
    }()

    /// Capitalised words that begin sentences or headings, never names.
    static let notNames: Set<String> = [
        "the", "this", "that", "here", "there", "sure", "yes", "no", "hi", "hello", "dear",
        "thanks", "please", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december", "i", "we", "you", "it", "my", "our",
        "python", "swift", "java", "github", "google", "amazon", "stripe", "slack", "day",
        "use", "check", "call", "ask", "email", "api", "sql", "json", "http", "https", "ok",
    ]

    /// A capitalised word (letters of any script, apostrophes, hyphens) at `i`: its end, or nil.
    /// `Jürgen`, `Élodie`, `Łukasz`, `O'Brien`, `Smith-Jones`.
    func capitalisedWord(at i: Int) -> Int? {
        if Bytes.isUpper(text[i]) {
            let next = text[i + 1]
            guard Bytes.isLower(next) || next == UInt8(ascii: "'") || next >= 0xC0 else { return nil }
        } else {
            // A letter outside ASCII: decoded, it must be upper case, and the next one lower case.
            guard text[i] >= 0xC3, let (first, length) = text.scalar(at: i), first.properties.isUppercase,
                let (second, _) = text.scalar(at: i + length), second.properties.isLowercase
            else { return nil }
        }
        let end = text.runEnd(from: i) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "-") }
        guard end - i >= 2, text.boundaryAfter(end, Bytes.isAlnum) else { return nil }
        return end
    }

    /// A person's name starting at `i` (an upper-case letter, of any script, after neither a
    /// letter, a digit nor `_`). Returns where the next name may start.
    mutating func person(at i: Int) -> Int {
        guard let firstEnd = capitalisedWord(at: i) else { return i + 1 }
        // Names and titles are short: longer words are neither, and need no string.
        guard firstEnd - i <= 12 else { return firstEnd }
        let ascii = !text.bytes[i..<firstEnd].contains { $0 >= 0x80 }
        let first = ascii ? text.lowercasedString(i..<firstEnd) : text.string(i..<firstEnd).lowercased()
        // Title + name(s).
        if Self.titles.contains(first) {
            var k = firstEnd
            if text[k] == UInt8(ascii: ".") { k += 1 }
            if text[k] == UInt8(ascii: " "), let nameEnd = capitalisedWord(at: k + 1) {
                var end = nameEnd
                if text[end] == UInt8(ascii: " "), let lastEnd = capitalisedWord(at: end + 1) { end = lastEnd }
                add(i, end, .person)
                return end
            }
        }
        let known = Self.firstNames.contains(first)
        let introduced =
            i >= 2
            && Self.introducersByPenultimate[Int(Bytes.lower(text[i - 2]))].contains {
                text.hasPrefix($0, at: i - $0.utf8CodeUnitCount, caseInsensitive: true)
            }
        if (known || introduced), !Self.notNames.contains(first) {
            var end = firstEnd
            // Surname(s): capitalised words after a space (O'Brien, Smith-Jones).
            var surnames = 0
            while surnames < 2, text[end] == UInt8(ascii: " ") {
                // Particles before a family name: "van", "de la", "da", "von".
                var start = end + 1
                var particles = 0
                while particles < 2, Bytes.isLower(text[start]) {
                    let particleEnd = text.runEnd(from: start, Bytes.isLower)
                    guard text[particleEnd] == UInt8(ascii: " "), Self.particles.contains(text.string(start..<particleEnd)) else {
                        break
                    }
                    start = particleEnd + 1
                    particles += 1
                }
                guard let lastEnd = capitalisedWord(at: start), !Self.notNames.contains(text.lowercasedString(start..<lastEnd)),
                    Detectors.streetWordsAfterNames.contains(text.lowercasedString(start..<lastEnd)) == false
                else { break }
                end = lastEnd
                surnames += 1
            }
            if known && (surnames > 0 || introduced) || introduced && surnames > 0 {
                add(i, end, .person)
                return end
            }
        }
        return firstEnd
    }
}
