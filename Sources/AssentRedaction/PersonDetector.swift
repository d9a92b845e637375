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
    /// Lower-case words between a given name and a family name: "van", "de la", "da", "von", Malay
    /// "bin"/"binti" before the father's name, Filipino "dela Cruz", Welsh "ap"/"ab"/"ferch" ("son
    /// of", "daughter of": "Rhys ap Gwilym").
    static let particles: Set<String> = [
        "de", "van", "von", "da", "di", "del", "della", "der", "den", "dos", "das", "du", "la", "le", "ter", "ten", "zu",
        "bin", "binti", "bint", "al", "el", "y", "e", "dela", "delos", "ap", "ab", "ferch",
    ]

    static let titles: Set<String> = [
        "mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mx", "herr", "frau", "dra", "sr", "sra", "srta", "sig",
        "sig.ra", "dott", "dott.ssa", "avv", "ing", "mme", "mlle", "pan", "pani", "dhr", "mevr", "don", "doña", "dña", "univ.prof",
        // Indonesian and Malay ("Pak Joko", "Ibu Sri Wahyuni"), Turkish ("Bayan Elif Şahin").
        "bapak", "pak", "ibu", "sdr", "sdri", "bayan", "encik", "puan", "cik",
        // Somali ("Mudane Cabdi Nuur", "Marwo Hodan Cali").
        "mudane", "marwo", "marwada",
    ]
    /// Degrees and suffixes written after a name: "Annette Röhrdanz B.Sc.", "Carl Jones Jr.".
    static let nameSuffixes: [StaticString] = [
        " B.Sc.", " M.Sc.", " B.A.", " M.A.", " Ph.D.", " PhD", " MBA", " Jr.", " Sr.", " MD", " Dipl.-Ing.", " B.Eng.", " M.Eng.",
    ]
    /// Capitalised particles inside a family name: "Benjamin Dos Santos", "Stéphane Le Mace".
    static let capitalisedParticles: Set<String> = [
        "de", "da", "do", "dos", "das", "del", "della", "di", "du", "la", "le", "van", "von", "der", "den", "ter", "ten",
    ]
    /// Particles that, after any capitalised word, say a family name follows ("Pippa van
    /// Dooren", "Ludwig von Mises"): the Dutch and German ones (the Romance ones open places too),
    /// the Malay and Arabic "son of" and "daughter of" ("Azman bin Osman"), the Welsh ones
    /// ("Llewelyn ap Gwilym") and the Filipino "dela" ("Rodel dela Cruz").
    /// (Their first letters are checked before the lookup, in `person(at:prefixed:)`.)
    static let strongParticles: Set<String> = ["van", "von", "ter", "ten", "zu", "bin", "binti", "bint", "ap", "ferch", "dela"]
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
        // Sign-offs on the same line, e-mail signatures, git trailers and doc comments.
        "thanks, ", "danke, ", "merci, ", "gracias, ", "grazie, ", "obrigado, ", "obrigada, ", "bedankt, ", "--\n", "-- \n",
        "signed-off-by: ", "co-authored-by: ", "reviewed-by: ", "reported-by: ", "@author ", "written by ", "maintainer: ",
        "owner: ", "assignee: ", "reviewer: ", "vorname: ", "nachname: ", "prénom : ", "prénom: ",
        // The languages beyond issue 13's, written in Latin letters: Czech and Slovak, Polish,
        // Swedish, Danish and Norwegian, Finnish, Turkish, Indonesian and Malay, Vietnamese,
        // Romanian, Hungarian, Croatian, Serbian and Bosnian.
        "jmenuji se ", "jmenujem sa ", "jsem ", "volám se ", "volám sa ", "dobrý den, ", "vážený pane ", "vážená paní ",
        "s pozdravem,\n", "s pozdravom,\n", "jméno: ", "nazywam się ", "mam na imię ", "dzień dobry, ", "szanowny panie ",
        "szanowna pani ", "pozdrawiam,\n", "imię: ", "jag heter ", "hej ", "hälsningar,\n", "namn: ", "jeg hedder ",
        "jeg heter ", "mit navn er ", "mitt navn er ", "hei ", "hilsen,\n", "navn: ", "nimeni on ", "terveisin,\n",
        "nimi: ", "benim adım ", "adım ", "merhaba ", "sayın ", "saygılarımla,\n", "nama saya ", "nama saya adalah ", "halo ",
        "hormat saya,\n", "nama: ", "atas nama ", "tôi là ", "tên tôi là ", "chào ", "tên: ", "họ và tên: ", "mă numesc ",
        "numele meu este ", "bună ziua, ", "stimate ", "stimată ", "cu stimă,\n", "nume: ", "kedves ", "üdvözlettel,\n",
        "a nevem ", "név: ", "zovem se ", "ja sam ", "poštovani ", "poštovana ", "lijep pozdrav,\n", "srdačan pozdrav,\n",
        "ime: ",
        // Cyrillic and Greek: both cases of a word's first letter (only ASCII is compared
        // case-insensitively). Russian, Ukrainian, Bulgarian, Serbian; Greek.
        "зовут ", "Зовут ", "я ", "Я ", "привет, ", "Привет, ", "здравствуйте, ", "Здравствуйте, ", "уважаемый ", "Уважаемый ",
        "уважаемая ", "Уважаемая ", "с уважением,\n", "С уважением,\n", "имя: ", "Имя: ", "фио: ", "ФИО: ", "звати ", "Звати ",
        "привіт, ", "Привіт, ", "шановний ", "Шановний ", "шановна ", "Шановна ", "з повагою,\n", "З повагою,\n", "казвам се ",
        "Казвам се ", "зовем се ", "Зовем се ", "λένε ", "Λένε ", "λέγομαι ", "Λέγομαι ", "ονομάζομαι ", "Ονομάζομαι ", "είμαι ",
        "Είμαι ", "αγαπητέ ", "Αγαπητέ ", "αγαπητή ", "Αγαπητή ", "γεια σου ", "Γεια σου ", "εκτίμηση,\n", "όνομα: ", "Όνομα: ",
        // Lithuanian, Latvian, Estonian, Slovenian, Azerbaijani, Hungarian, Icelandic, Filipino
        // ("my name is", "dear", sign-offs, the form's "name:"; Hungarian's "addressee:" and
        // "sender:" too); Bulgarian and Macedonian; Armenian.
        "mano vardas ", "vardas: ", "gerb. ", "gerbiamas ", "gerbiama ", "pagarbiai,\n", "mani sauc ", "vārds: ", "cien. ",
        "cienījamais ", "cienījamā ", "ar cieņu,\n", "minu nimi on ", "lugupeetud ", "lugupidamisega,\n", "mina olen ",
        "ime mi je ", "spoštovani ", "spoštovana ", "lep pozdrav,\n", "mənim adım ", "hörmətli ", "hörmətlə,\n", "tisztelt ", "címzett: ",
        "feladó: ",
        "ég heiti ", "Ég heiti ", "kæri ", "kæra ", "kveðja,\n", "nafn: ", "ako si ", "ang pangalan ko ay ", "mahal na ",
        "уважаеми ", "Уважаеми ", "уважаема ", "Уважаема ", "аз съм ", "Аз съм ", "поздрави,\n", "Поздрави,\n", "име: ", "Име: ",
        "јас сум ", "Јас сум ", "се викам ", "почитуван ", "Почитуван ", "почитувана ", "Почитувана ",
        "անունը ", "Անունը ", "հարգելի ", "Հարգելի ", "անուն՝ ", "Անուն՝ ", "անունս ", "Անունս ",
        // Swahili, Yoruba, Hausa, Igbo, Zulu, Uzbek, Twi.
        "jina langu ni ", "mpendwa ", "ndugu ", "orúkọ mi ni ", "oruko mi ni ", "orukọ mi ni ", "ọ̀wọ́n ", "Ọ̀wọ́n ", "sunana ",
        "sunan ", "zuwa ga ", "aha m bụ ", "aha m bu ", "ezigbo ", "othandekayo ", "mnumzana ", "nkosikazi ", "mening ismim ",
        "ismim ", "hurmatli ", "me din de ", "me din ne ", "me nua ",
        // Serbian in Cyrillic letters, Kazakh, Albanian, Catalan, Malay ("Encik", "Puan" are titles).
        "поштовани ", "Поштовани ", "поштована ", "Поштована ", "срдачан поздрав,\n", "Срдачан поздрав,\n", "менің атым ",
        "Менің атым ", "құрметті ", "Құрметті ", "unë quhem ", "quhem ", "emri im është ", "i nderuar ", "e nderuar ",
        "me respekt,\n", "emri: ", "em dic ", "el meu nom és ", "benvolgut ", "benvolguda ", "salutacions cordials,\n",
        // Afrikaans, Welsh, Basque, Somali; Belarusian, Mongolian, Kyrgyz (both cases).
        "my naam is ", "geagte ", "vriendelike groete,\n", "groete,\n", "fy enw i yw ", "fy enw yw ", "annwyl ",
        "yn gywir,\n", "cofion,\n", "enw: ", "nire izena ", "izena: ", "adeitasunez,\n", "magacaygu waa ", "magacayga waa ",
        "magacaygu ", "magaca: ", "mahadsanid,\n", "завуць ", "Завуць ", "паважаны ", "Паважаны ", "паважаная ", "Паважаная ",
        "з павагай,\n", "З павагай,\n", "імя: ", "Імя: ", "намайг ", "Намайг ", "миний нэр ", "Миний нэр ", "эрхэм хүндэт ",
        "Эрхэм хүндэт ", "хүндэтгэсэн,\n", "Хүндэтгэсэн,\n", "нэр: ", "Нэр: ", "менин атым ", "Менин атым ", "урматтуу ",
        "Урматтуу ", "ысымы: ", "Ысымы: ",
        // A parcel's or a letter's addressee: Czech and Slovak, Slovenian, Armenian (both cases).
        "k rukám ", "prejemnik ", "prejemnica ", "prejemnik: ", "ստացող՝ ", "Ստացող՝ ",
    ]
    /// The introducers by the two bytes before their last one (the end of their last word):
    /// a capitalised word is compared only with those that can end just before it.
    static let introducerIndex = BytePairIndex(introducers) { word in
        let count = word.utf8CodeUnitCount
        return (word.utf8Start[count - 2], count < 3 ? nil : word.utf8Start[count - 3])
    }

    /// Capitalised words that begin sentences or headings, never names.
    static let notNames: Set<String> = [
        "the", "this", "that", "here", "there", "sure", "yes", "no", "hi", "hello", "dear",
        "thanks", "please", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december", "i", "we", "you", "it", "my", "our",
        "python", "swift", "java", "github", "google", "amazon", "stripe", "slack", "day",
        "use", "check", "call", "ask", "email", "api", "sql", "json", "http", "https", "ok",
        // "I'm" is an introducer: never the first word of a name ("I'm Omar Farouk" is Omar Farouk).
        "i'm", "i’m",
        // Days and months abbreviated (git's "Date: Tue Mar 3"), and words that begin sentences
        // in the other languages: determiners and possessives ("Meine Handynummer").
        "mon", "tue", "wed", "thu", "fri", "sat", "sun", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec", "mein", "meine", "meinen", "ihre", "unser", "unsere", "die", "der", "das", "ein", "eine", "le", "la",
        "les", "mon", "ma", "mes", "notre", "votre", "el", "los", "las", "mi", "mis", "il", "lo", "gli", "mio", "mia", "het",
        "een", "mijn", "onze", "os", "um", "uma", "meu", "minha", "mój", "moja", "nasz", "nasza",
        // Greetings and the world they greet, in the languages of the introducers ("Hola Mundo").
        "hola", "hallo", "bonjour", "salut", "ciao", "olá", "ola", "hoi", "hey", "buongiorno", "buenos", "buenas", "guten",
        "mundo", "welt", "monde", "mondo", "wereld", "world", "todos", "tutti", "allemaal", "zusammen",
        // Afrikaans, Welsh, Basque, Somali: "Dear", "Hello" ("Geagte" is a rare given name too).
        "geagte", "annwyl", "helo", "kaixo", "salaan",
        // Prepositions and the like that start sentences in the other languages ("Bei Fragen").
        "bei", "mit", "für", "und", "oder", "auf", "aus", "nach", "vor", "über", "unter", "seit", "ohne", "zum", "zur", "im",
        "am", "als", "wie", "wenn", "sehr", "auch", "noch", "nur", "schon", "hier", "heute", "bitte", "pour", "avec", "sans",
        "chez", "dans", "sur", "sous", "para", "con", "sin", "por", "desde", "hasta", "senza", "com", "sem", "voor", "met",
        "zonder", "bij", "dla", "przy", "bez",
        // Malay and Indonesian: "To", "For", "From", "With", "Together with", "Greetings", "Thank
        // (you)", "Please", "According to", "Yesterday", "Contact", "Meet" ("Kepada Ahmad Faizal").
        "kepada", "untuk", "dari", "dengan", "bersama", "selamat", "terima", "tolong", "menurut", "semalam", "kemarin",
        "hubungi", "jumpa", "temui",
        // The first words of places named after saints ("San Diego", "São Paulo", "Santa Monica").
        "san", "são", "santa", "santo", "sankt", "saint", "sainte", "st", "ste", "sta",
        // Languages and nationalities (family names too, but "Debian's English" is no person).
        "english", "french", "german", "spanish", "italian", "dutch", "portuguese", "polish", "irish", "welsh", "scottish",
        "british", "american", "european", "chinese", "japanese", "korean", "russian", "swedish", "danish", "norwegian",
        "finnish", "greek", "turkish", "arabic", "hindi", "latin",
        // Teams that sign letters ("Saygılarımla,\nMüşteri Hizmetleri", "Regards,\nCustomer Support").
        "customer", "support", "team", "müşteri", "kundtjänst", "kundservice", "kundeservice", "asiakaspalvelu", "zákaznická",
        "zákaznický", "echipa", "служба", "команда", "отдел", "εξυπηρέτηση", "ομάδα", "gwasanaeth", "tîm", "kliëntediens",
        "bezeroarentzako", "үйлчилгээний",
        // Assistants and products named like people: "Hi Claude", "Alexa Skills".
        "claude", "siri", "alexa", "cortana", "gemini", "jarvis", "copilot", "bard", "ollama", "llama", "mistral",
    ]

    /// A capitalised word (letters of any script, apostrophes, hyphens) at `i`: its end, or nil.
    /// `Jürgen`, `Élodie`, `Łukasz`, `O'Brien`, `Smith-Jones`.
    func capitalisedWord(at i: Int) -> Int? {
        if Bytes.isUpper(text[i]) {
            let next = text[i + 1]
            guard Bytes.isLower(next) || next == UInt8(ascii: "'") || next >= 0xC0 else { return nil }
        } else {
            // A letter outside ASCII: decoded, it must be upper case, and the next one lower case —
            // or an apostrophe then a lower-case one, as Ukrainian writes "Вʼячеслав", "М’якота".
            guard text[i] >= 0xC3, let (first, length) = text.scalar(at: i), first.properties.isUppercase,
                let (second, secondLength) = text.scalar(at: i + length),
                second.properties.isLowercase
                    || (second == "\u{02BC}" || second == "\u{2019}")
                        && text.scalar(at: i + length + secondLength).map({ $0.0.properties.isLowercase }) == true
            else { return nil }
        }
        var end = text.runEnd(from: i) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "-") }
        guard end - i >= 2, text.boundaryAfter(end, Bytes.isAlnum) else { return nil }
        // Punctuation outside ASCII written onto the word is not part of it: Armenian's full stop
        // and comma ("Սարգսյան։"), guillemets, dashes, ellipses.
        while text[end - 1] >= 0x80, Self.mayEndInPunctuation(lead: text.bytes[text.runStart(before: end) { $0 & 0xC0 == 0x80 } - 1]),
            let (scalar, length) = scalarBefore(end), !scalar.properties.isAlphabetic
        {
            end -= length
        }
        return end - i >= 2 ? end : nil
    }

    /// Whether a scalar with this UTF-8 lead byte may be punctuation: Latin-1's (« »), Armenian's
    /// (՝ ։), the general punctuation block's (— …), CJK's and the full-width forms. Letters of
    /// Latin, Greek and Cyrillic words never are, and are not decoded.
    @inline(__always) static func mayEndInPunctuation(lead: UInt8) -> Bool {
        lead == 0xC2 || lead == 0xD5 || lead == 0xD6 || lead == 0xE2 || lead == 0xE3 || lead == 0xEF
    }

    /// What the name lists say of a word: a given name, a family name, an English dictionary word.
    struct NameFlags: OptionSet {
        let rawValue: UInt8
        static let given = NameFlags(rawValue: 1)
        static let family = NameFlags(rawValue: 2)
        static let dictionary = NameFlags(rawValue: 4)
        /// A given name rare in every country that lists it ("Bei"): if short, only before a family name.
        static let rareGiven = NameFlags(rawValue: 8)
        /// A title (`titles`), a word that is never a name (`notNames`), a street word that ends
        /// an address (`streetWordsAfterNames`): in the same table, so one lookup says all.
        static let title = NameFlags(rawValue: 16)
        static let notName = NameFlags(rawValue: 32)
        static let streetWord = NameFlags(rawValue: 64)
        /// What the name lists say, without the three above.
        static let nameKinds: NameFlags = [.given, .family, .dictionary, .rareGiven]
    }

    /// The generated lists (`NameLists`, from census and registry lists), the hand-written given
    /// names, titles, words that are never names and street words, as one table keyed by the
    /// packed lower-cased word.
    static let nameTable: PackedWordTable<NameFlags> = {
        let lists: [(String, NameFlags)] = [
            (NameLists.givenNames, .given), (NameLists.rareGivenNames, .rareGiven), (NameLists.familyNames, .family),
            (NameLists.dictionaryWords, .dictionary),
        ]
        let small: [(Set<String>, NameFlags)] = [
            (firstNames, .given), (Set(givenNamesBeyondLatin), .given), (titles, .title), (notNames, .notName),
            (streetWordsAfterNames, .streetWord),
        ]
        let expected = lists.reduce(small.reduce(0) { $0 + $1.0.count }) { total, list in
            total + list.0.utf8.reduce(1) { $1 == 0x20 || $1 == 0x0A ? $0 + 1 : $0 }
        }
        let table = PackedWordTable<NameFlags>(expecting: expected)
        // Each list's words read in place from its bytes: no array of them while the table is built.
        for (words, flag) in lists {
            var list = words
            list.withUTF8 { bytes in
                var start = 0
                for end in 0...bytes.count where end == bytes.count || bytes[end] == 0x20 || bytes[end] == 0x0A {
                    if end > start, end - start <= 16 { table.insert(PackedWord(bytes: bytes[start..<end]), flag) { $0.union($1) } }
                    start = end + 1
                }
            }
        }
        for (words, flag) in small {
            for word in words where word.utf8.count <= 16 { table.insert(PackedWord(word), flag) { $0.union($1) } }
        }
        return table
    }()

    /// The table's flags for the word `start..<end` (compared lower-cased; a word starting with
    /// a letter outside ASCII is lower-cased as Unicode). Callers ask for the name kinds they need.
    func nameFlags(_ start: Int, _ end: Int) -> NameFlags {
        lowercasedKey(start, end).flatMap { Self.nameTable[$0] } ?? []
    }

    /// The word `start..<end` packed lower-cased (as Unicode when it starts outside ASCII:
    /// "Élodie"), or nil when longer than 16 bytes.
    func lowercasedKey(_ start: Int, _ end: Int) -> PackedWord? {
        guard end - start <= 16 else { return nil }
        if text[start] < 0x80 { return PackedWord(text.bytes, start, end) }
        let lower = text.string(start..<end).lowercased()
        return lower.utf8.count <= 16 ? PackedWord(lower) : nil
    }

    /// Names of fields that hold a person's name in JSON, YAML, CSV headers and forms.
    static let nameFields: Set<String> = [
        "name", "fullname", "full_name", "firstname", "first_name", "givenname", "given_name", "lastname", "last_name",
        "surname", "familyname", "family_name", "displayname", "display_name", "author", "contact", "contact_name",
        "customer", "customer_name", "owner", "assignee", "reviewer", "patient", "patient_name", "employee", "nombre",
        "apellido", "apellidos", "nom", "prenom", "prénom", "vorname", "nachname", "nome", "cognome", "naam", "achternaam",
        "voornaam", "sobrenome", "imię", "nazwisko", "jméno", "příjmení", "namn", "navn", "nimi", "soyad", "nama", "nume",
        "prezime", "ad_soyad", "adsoyad", "isim", "nama_lengkap", "имя", "фамилия", "прізвище", "όνομα", "επώνυμο", "jina", "oruko",
        "orúkọ", "suna", "aha", "igama", "ism",
        "ismi", "familiya", "vardas", "pavardė", "vārds", "uzvārds", "név", "nafn", "emri", "mbiemri", "име", "презиме", "аты",
        // The same without their diacritics, as keys and headers are often written; Turkish's
        // "adı" (not "ad": a column of ads, "Summer Sale", would read as names).
        "vards", "uzvards", "pavarde", "imie", "jmeno", "prijmeni", "nev", "adı",
    ]

    /// Whether the word at `i` is the value of a field that holds a name: `"name": "…"`,
    /// `full_name: …`, `author = '…'`, `<name>…`.
    func isNameFieldValue(_ i: Int) -> Bool {
        var k = i
        if text[k - 1] == 0x22 || text[k - 1] == 0x27 || text[k - 1] == UInt8(ascii: ">") { k -= 1 }
        let tag = text[k] == UInt8(ascii: ">")
        if !tag {
            while text[k - 1] == 0x20 { k -= 1 }
            guard text[k - 1] == UInt8(ascii: ":") || text[k - 1] == UInt8(ascii: "=") else { return false }
            k -= 1
            while text[k - 1] == 0x20 { k -= 1 }
            if text[k - 1] == 0x22 || text[k - 1] == 0x27 { k -= 1 }
        }
        let keyStart = text.runStart(before: k) { Bytes.isAlpha($0) || $0 == 0x5F || $0 >= 0x80 }
        guard k - keyStart >= 3, k - keyStart <= 14 else { return false }
        return Self.nameFields.contains(text.string(keyStart..<k).lowercased())
    }

    /// A person's name starting at `i` (an upper-case letter, of any script, after neither a
    /// letter, a digit nor `_`). Returns where the next name may start.
    ///
    /// A given name from the lists followed by a family name; a name after a title, after words
    /// that introduce one ("Dear", "my name is", "Author:", sign-offs) or as the value of a name
    /// field. A word the English dictionary holds ("Mark", "Grace", "Bill") is a given name only
    /// before a family name from the lists (and one that is a word too — "Brown" — only in the
    /// middle of a sentence); a word after a given name is a family name when the lists say so
    /// or when it is no English word ("Julia Roberts", "Jürgen Weber", not "Julia Language").
    /// - Parameter prefixed: the name follows a Zulu noun-class prefix written onto it
    ///   (``Detectors/bantuPrefixedName(at:runEnd:)``), which introduces it as words would.
    mutating func person(at i: Int, prefixed: Bool = false) -> Int {
        guard let firstEnd = capitalisedWord(at: i) else { return i + 1 }
        // Names and titles are short: longer words are neither — but for given names of two-byte
        // letters over the table's 16 bytes ("Александр", "Екатерина"), looked up apart.
        let firstKey = lowercasedKey(i, firstEnd)
        let firstFlags: NameFlags
        if let firstKey {
            firstFlags = Self.nameTable[firstKey] ?? []
        } else if text[i] >= 0x80, firstEnd - i <= 40 {
            // Unknown to the lists otherwise: a name only where words introduce it.
            firstFlags = isLongGivenName(i, firstEnd) ? .given : []
        } else {
            return firstEnd
        }
        // Title + name(s).
        if firstFlags.contains(.title) {
            var k = firstEnd
            if text[k] == UInt8(ascii: ".") { k += 1 }
            if text[k] == UInt8(ascii: " "), let nameEnd = capitalisedWord(at: k + 1) {
                var end = nameEnd
                for _ in 0..<2 {
                    guard text[end] == UInt8(ascii: " ") else { break }
                    // Particles before a family name: "Encik Razak bin Hamid", "Dr. Pippa van Dooren";
                    // not the one-letter ones, which are "and" too ("Dott. Dina Ciani e Sig. …").
                    var start = end + 1
                    var particles = 0
                    while particles < 2, Bytes.isLower(text[start]) {
                        let particleEnd = text.runEnd(from: start, Bytes.isAlpha)
                        guard text[particleEnd] == UInt8(ascii: " "), (2...5).contains(particleEnd - start),
                            Self.particleKeys.contains(PackedWord(text.bytes, start, particleEnd))
                        else { break }
                        start = particleEnd + 1
                        particles += 1
                    }
                    guard let lastEnd = capitalisedWord(at: start) else { break }
                    end = lastEnd
                }
                add(extendedStart(i), extendedEnd(end), .person)
                return end
            }
        }
        if firstFlags.contains(.notName) {
            // A month's abbreviation that is a given name too ("Jan"): a name only when words
            // introduce it and a capitalised word follows ("jmenuji se Jan Novák", not "Tue Jan 3").
            guard let firstKey, Self.monthsNamedLikePeople.contains(firstKey), text[firstEnd] == 0x20,
                capitalisedWord(at: firstEnd + 1) != nil,
                introducedByWord(i)
            else { return firstEnd }
        }
        var flags = firstFlags.intersection(.nameKinds)
        // A hyphenated given name: "Marie-Therese", "Simone-Anouk", by its first part.
        if !flags.contains(.given), let hyphen = text.bytes[i..<firstEnd].firstIndex(of: 0x2D), hyphen - i >= 2 {
            flags = nameFlags(i, hyphen).intersection(.given)
        }
        // A short rare given name ("Bei", "Mit") is as often a word of another language: read like
        // an English word, only a family name after it counts. Longer rare ones are names.
        if flags.contains(.rareGiven), firstEnd - i >= 4 { flags.insert(.given) }
        let known = flags.contains(.given) || flags.contains(.rareGiven)
        let introducedByWord = prefixed || introducedByWord(i)
        let particleFollows: Bool = {
            // The strong particles' first letters (``strongParticles``) before the lookup.
            let first = text[firstEnd + 1]
            guard text[firstEnd] == 0x20,
                first == UInt8(ascii: "v") || first == UInt8(ascii: "t") || first == UInt8(ascii: "z") || first == UInt8(ascii: "b")
                    || first == UInt8(ascii: "a") || first == UInt8(ascii: "f") || first == UInt8(ascii: "d")
            else { return false }
            let particleEnd = text.runEnd(from: firstEnd + 1, Bytes.isLower)
            return text[particleEnd] == 0x20 && particleEnd - firstEnd <= 6
                && Self.strongParticleKeys.contains(PackedWord(text.bytes, firstEnd + 1, particleEnd))
        }()
        // A word no list knows, not an English word, before a family name the lists know ("Aylla
        // Costa", "Lunna Oliveira"): a given name they miss.
        let unknownBeforeFamily: Bool = {
            // Not a word that introduces the name after it ("Lugupeetud Julia Pent": "Dear"); one
            // that only ends like an introducer stays a given name ("Галя Възвъзов": "я", "I").
            guard !known, flags.isEmpty, firstEnd - i >= 3, text[firstEnd] == 0x20, let lastEnd = capitalisedWord(at: firstEnd + 1),
                !introducerEnds(at: firstEnd + 1, startingBy: i)
            else { return false }
            let surname = surnameFlags(firstEnd + 1, lastEnd)
            // A title is no family name even where one is spelled like it ("Hubungi Pak Joko": Pak).
            return surname.contains(.family) && !surname.contains(.dictionary) && !surname.contains(.title)
        }()
        // A name in a column headed "name", looked for last, as it reads the lines above; only for
        // a first word with a word after it ("Barbara Day", "Wikus du Plessis": a single word is
        // no name there) that is a given name or no English word ("What is", "Can you" at a
        // line's start are not read).
        let introduced =
            introducedByWord || titleStart(before: i) != nil || text[i] >= 0xD0 && genitivePatronymic(i, firstEnd)
            || text[firstEnd] == 0x20 && (Bytes.isAlpha(text[firstEnd + 1]) || text[firstEnd + 1] >= 0x80)
                && (known || !flags.contains(.dictionary)) && nameColumn(i)
        guard known || introduced || unknownBeforeFamily || particleFollows && !flags.contains(.dictionary) else { return firstEnd }
        let wordGiven = flags.contains(.dictionary) || !flags.contains(.given)
        let midSentence = text[i - 1] == 0x20 && (Bytes.isLower(text[i - 2]) || text[i - 2] == UInt8(ascii: ","))
        var end = firstEnd
        // Surname(s): capitalised words after a space (O'Brien, Smith-Jones).
        var surnames = 0
        // Whether the first surname is a given name too ("Semalam Ahmad Faizal": the word no list
        // knows opens the sentence, and the name goes on after "Ahmad").
        var firstSurnameGiven = false
        while surnames < 3, text[end] == UInt8(ascii: " ") {
            // Particles before a family name: "van", "de la", "da", "von", "Dos", "Le".
            var start = end + 1
            var particles = 0
            while particles < 2, Bytes.isLower(text[start]) || Bytes.isUpper(text[start]) && Bytes.isLower(text[start + 1]) {
                let particleEnd = text.runEnd(from: start, Bytes.isAlpha)
                guard text[particleEnd] == UInt8(ascii: " "), particleEnd - start <= 5,
                    Bytes.isLower(text[start])
                        ? Self.particleKeys.contains(PackedWord(text.bytes, start, particleEnd))
                        : Self.capitalisedParticles.contains(text.lowercasedString(start..<particleEnd))
                            && capitalisedWord(at: particleEnd + 1) != nil
                else { break }
                start = particleEnd + 1
                particles += 1
            }
            guard let lastEnd = capitalisedWord(at: start) else { break }
            let surname = surnameFlags(start, lastEnd)
            // Never a name, or a street word (compared as ASCII: a word starting with an upper-case
            // letter outside ASCII is neither list's).
            guard text[start] >= 0x80 || surname.isDisjoint(with: [.notName, .streetWord]) else { break }
            let isWord = surname.contains(.dictionary)
            let accepted: Bool
            if introduced || particles > 0 {
                accepted = true
            } else if wordGiven {
                // After a family name, a given name too ("Tegnap Varga Tímea": family name first).
                accepted =
                    surname.contains(.family) && (!isWord || midSentence) || surnames > 0 && surname.contains(.given) && !isWord
                    || unknownBeforeFamily && surnames == 1 && firstSurnameGiven && !isWord
            } else {
                accepted = surname.contains(.family) || !isWord
            }
            guard accepted else { break }
            if surnames == 0 { firstSurnameGiven = surname.contains(.given) }
            end = lastEnd
            surnames += 1
            // "Асан уулу", "Əli oğlu": the father's name and the word for "son of" or "daughter of" end it.
            if let patronymicEnd = patronymicWordEnd(after: lastEnd) {
                end = patronymicEnd
                break
            }
        }
        if known && (surnames > 0 || introduced) || (introduced || particleFollows || unknownBeforeFamily) && surnames > 0 {
            add(extendedStart(i), extendedEnd(end), .person)
            return end
        }
        // A given name alone after its family name, as Hungarian writes them ("Tegnap Kovács Péter
        // küldött", "Nagy Anna"; not "Tóth Edit": "edit" is an English word).
        if known, !wordGiven, let familyStart = familyNameBefore(i) {
            add(familyStart, extendedEnd(end), .person)
            return end
        }
        return firstEnd
    }

    /// Where the family name written just before the given name at `i` starts (one space
    /// between), when the word there is one: capitalised, no English word, title, street word,
    /// given name or word never a name, and a family name the lists know ("Nagy", "Varga") or one
    /// with a letter outside ASCII ("Kovács", "Szűcs") — "Tegnap Péter", "Thanks Anna" are none.
    func familyNameBefore(_ i: Int) -> Int? {
        guard i >= 3, text[i - 1] == 0x20 else { return nil }
        let start = text.runStart(before: i - 1) { Bytes.isAlpha($0) || $0 >= 0x80 }
        guard start < i - 2, Bytes.isUpper(text[start]) || text[start] >= 0xC3, capitalisedWord(at: start) == i - 1,
            text.boundaryBefore(start, { Bytes.isAlnum($0) || $0 >= 0x80 || $0 == 0x2E || $0 == 0x2D })
        else { return nil }
        let flags = surnameFlags(start, i - 1)
        guard flags.isDisjoint(with: [.dictionary, .notName, .title, .streetWord, .given, .rareGiven]) else { return nil }
        return flags.contains(.family) || text.bytes[start..<(i - 1)].contains(where: { $0 >= 0x80 }) ? start : nil
    }

    /// The lists' flags for a word read as a family name: `.family` also when it ends the way only
    /// family names do in its language (``familyEndings``), though no list holds it.
    func surnameFlags(_ start: Int, _ end: Int) -> NameFlags {
        var flags = nameFlags(start, end)
        if !flags.contains(.family), hasFamilyEnding(start, end) || patronymicWordEnd(after: end) != nil { flags.insert(.family) }
        return flags
    }

    /// Words written after a father's name that make it a patronymic: Kyrgyz "уулу" and "кызы"
    /// ("Бакыт уулу"), Azerbaijani "oğlu" and "qızı", Kazakh "ұлы" and "қызы" written apart.
    static let patronymicWordsAfter: [[UInt8]] = [" уулу", " кызы", " oğlu", " qızı", " ұлы", " қызы"].map { Array($0.utf8) }

    /// Where such a word after the word ending at `end` ends, or nil when none follows.
    func patronymicWordEnd(after end: Int) -> Int? {
        // Their first bytes: Cyrillic's lead bytes, "o", "q".
        let first = text[end + 1]
        guard text[end] == 0x20, first == 0xD0 || first == 0xD1 || first == 0xD2 || first == 0x6F || first == 0x71 else { return nil }
        for word in Self.patronymicWordsAfter where text.bytes[end...].starts(with: word) {
            let after = end + word.count
            if !(Bytes.isAlpha(text[after]) || text[after] >= 0x80) { return after }
        }
        return nil
    }

    /// Whether the capitalised Cyrillic word `start..<end` is a Mongolian patronymic — the father's
    /// name in the genitive, written before the given name ("Батын Болд", "Доржийн Сарнай") — with a
    /// capitalised word after it. Russian writes no word ending in "-ийн", and capitalised words
    /// in "-ын" are family names there too ("Синицын").
    /// (The caller asks only at a word starting with a byte from 0xD0 up, Cyrillic's, to save the
    /// call at every capitalised word: inlining it instead cost more — measured.)
    func genitivePatronymic(_ start: Int, _ end: Int) -> Bool {
        guard end - start >= 8, text[start] == 0xD0 || text[start] == 0xD2 || text[start] == 0xD3, text[end] == 0x20,
            capitalisedWord(at: end + 1) != nil, text[end + 1] >= 0x80
        else { return false }
        let word = text.bytes[start..<end]
        return Self.mongolianGenitiveEndings.contains { word.reversed().starts(with: $0.reversed()) }
    }
    static let mongolianGenitiveEndings: [[UInt8]] = ["ын", "ийн"].map { Array($0.utf8) }

    /// Endings only family names have, with the fewest bytes a name with each has: Icelandic and
    /// Swedish patronymics (Jónsson, Guðmundsdóttir; not "Lesson"), Armenian (-յան), Lithuanian
    /// (-ienė, -aitė, -ytė, -auskas, -evičius), the Slavic ones in Cyrillic (-ов, -ова, -ев, -ски,
    /// -ска, -ский, -енко, -ович), Serbian and Croatian (-ић, -ić), Kazakh patronymics (-ұлы,
    /// -қызы), Azerbaijani (-yev, -zadə, -bəyli) and Georgian in Latin letters (-shvili, -dze).
    static let familyEndings: [(ending: [UInt8], minBytes: Int)] = [
        ("sson", 6), ("dóttir", 8), ("յան", 10), ("յանց", 12), ("ienė", 7), ("aitė", 7), ("ytė", 6), ("iūtė", 8), ("auskas", 8),
        ("auskienė", 10), ("evičius", 9), ("avičius", 9), ("ов", 8), ("ова", 10), ("ев", 8), ("ева", 10), ("ёв", 8), ("ёва", 10), ("ић", 8),
        ("ić", 5),
        ("ұлы", 10), ("қызы", 12),
        ("ски", 10), ("ска", 10), ("ский", 12), ("ская", 12), ("цкий", 12), ("цкая", 12), ("енко", 12), ("ович", 12),
        ("евич", 12), ("yev", 6), ("yeva", 7), ("zadə", 7), ("bəyli", 8), ("shvili", 8), ("dze", 6), ("ova", 7), ("ov", 6),
        // Belarusian (with its і and э): -скі, -цкі, -эвіч, -евіч, -овіч, -ёнак; and -чук, -юк, as in
        // Ukrainian.
        ("скі", 10), ("цкі", 10), ("эвіч", 12), ("евіч", 12), ("овіч", 12), ("ёнак", 12), ("чук", 10), ("юк", 10),
    ].map { (Array($0.0.utf8), $0.1) }

    /// Whether the word `start..<end` ends like a family name (``familyEndings``): "Lesson",
    /// "Confession" and the like (-esson) are English words, and "Supernova", "Villanova" (-nova)
    /// no Slavic or Uzbek family name in Latin letters.
    func hasFamilyEnding(_ start: Int, _ end: Int) -> Bool {
        let length = end - start
        for (ending, minBytes) in Self.familyEndings
        where length >= minBytes && text.bytes[start..<end].reversed().starts(with: ending.reversed()) {
            if ending.first == UInt8(ascii: "s"), ending.count == 4, text[end - 5] == UInt8(ascii: "e") { return false }
            if ending.first == UInt8(ascii: "o"), ending.count == 3, text[end - 4] == UInt8(ascii: "n") { return false }
            return true
        }
        return false
    }

    /// Whether words that introduce a name ("my name is", "Dear", sign-offs) or a field that holds
    /// one end just before `i`.
    func introducedByWord(_ i: Int) -> Bool {
        introducerEnds(at: i) || isNameFieldValue(i)
    }

    /// Whether an introducer (``introducers``) ends at `i`, the name's start; with `start`, only
    /// one that starts at or before it (a whole word there, not the end of one: "Галя" ends like "я").
    func introducerEnds(at i: Int, startingBy start: Int = .max) -> Bool {
        guard i >= 2 else { return false }
        // The two bytes before the last one first (``introducerIndex``), then whole introducers.
        guard Self.introducerIndex.has(text[i - 2], text[i - 3]) else { return false }
        return Self.introducerIndex.words(text[i - 2], text[i - 3]).contains { word in
            i - word.utf8CodeUnitCount <= start && text.hasPrefix(word, at: i - word.utf8CodeUnitCount, caseInsensitive: true)
        }
    }

    /// Whether the word at `i` opens a cell (cells split by `,`, `;`, tab or `|`) in a column whose
    /// header, up to 20 lines above without a blank line between, is a field that holds a name
    /// (``nameFields``): "naam,selfoon" above "Wikus Botha,071 145 4579", "| emri | telefoni |" above
    /// "| Arben Hoxha | …", as ``phoneColumn(_:)`` reads a phone's. The columns are found once a line.
    mutating func nameColumn(_ i: Int) -> Bool {
        // Only a word opening its cell: at a line's start or after a separator (then a quote or a
        // space) — checked before the line is read, as most capitalised words open none.
        var cellStart = i
        if i > 0, text[i - 1] == 0x22 || text[i - 1] == 0x20 { cellStart -= 1 }
        let before = text[cellStart - 1]
        guard cellStart == 0 || before == 0x0A || Self.isCellSeparator(before) else { return false }
        if !(nameColumnsOfLine.start...nameColumnsOfLine.end).contains(cellStart) {
            let lineStart = text.runStart(before: cellStart) { $0 != 0x0A }
            let lineEnd = text.runEnd(from: cellStart) { $0 != 0x0A }
            // The first line has no line above to head its columns: its cells are not read.
            let separator = lineStart == 0 ? nil : Self.cellSeparators.first { text.bytes[lineStart..<lineEnd].contains($0) }
            let columns = separator.map { sep in
                namedColumns(above: lineStart, separator: sep, cells: text.bytes[lineStart..<lineEnd].reduce(0) { $1 == sep ? $0 + 1 : $0 })
            }
            nameColumnsOfLine = (lineStart, lineEnd, separator ?? 0, columns ?? 0)
        }
        let (lineStart, _, separator, columns) = nameColumnsOfLine
        guard columns != 0, cellStart == lineStart || text[cellStart - 1] == separator else { return false }
        let column = text.bytes[lineStart..<cellStart].reduce(0) { $1 == separator ? $0 + 1 : $0 }
        return column < 64 && columns & (1 << UInt64(column)) != 0
    }

    /// The columns (bit n: cell n, of the first 64) a field that holds a name heads in one of the
    /// 20 lines above the line starting at `lineStart` that hold as many separators as it does
    /// (`cells`): a table's rows and header do; the first line that does not ends the table, so
    /// prose with commas is read one line up, not twenty.
    func namedColumns(above lineStart: Int, separator: UInt8, cells: Int) -> UInt64 {
        var columns: UInt64 = 0
        _ = linesAbove(lineStart) { start, end in
            guard text.bytes[start..<end].reduce(0, { $1 == separator ? $0 + 1 : $0 }) == cells else { return true }
            self.cells(start, end, separator: separator) { cell, cellStart, cellEnd in
                var from = cellStart
                var to = cellEnd
                while from < to, text[from] == 0x20 || text[from] == 0x22 { from += 1 }
                while to > from, text[to - 1] == 0x20 || text[to - 1] == 0x22 || text[to - 1] == 0x0D { to -= 1 }
                if cell < 64, (2...16).contains(to - from), Bytes.isAlpha(text[from]) || text[from] >= 0x80,
                    let key = lowercasedKey(from, to), Self.nameFieldKeys.contains(key)
                {
                    columns |= 1 << UInt64(cell)
                }
                return false
            }
            return false
        }
        return columns
    }

    /// Where a name found at `i` starts once a title or a second given name before it is
    /// counted: "pani Janina Wawszczyk", "Srta. Maria Porto", "Davi Lucas Caldeira".
    func extendedStart(_ i: Int) -> Int {
        if let title = titleStart(before: i) { return title }
        guard i >= 2, text[i - 1] == 0x20 else { return i }
        let wordStart = text.runStart(before: i - 1) { Bytes.isAlpha($0) || $0 >= 0x80 }
        guard wordStart < i - 1, Bytes.isUpper(text[wordStart]), text.boundaryBefore(wordStart, { $0 == 0x2E }) else { return i }
        let flags = nameFlags(wordStart, i - 1)
        return flags.contains(.given) && !flags.contains(.dictionary) ? wordStart : i
    }

    /// Where a title, in any case, stands just before `i` (then a space): "pani ", "Sra. ",
    /// "Univ.Prof. " (a dotted title is looked up whole, then by its last part).
    func titleStart(before i: Int) -> Int? {
        guard i >= 3, text[i - 1] == 0x20 else { return nil }
        var wordEnd = i - 1
        if text[wordEnd - 1] == 0x2E { wordEnd -= 1 }
        let wordStart = text.runStart(before: wordEnd) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == 0x2E }
        guard wordStart < wordEnd, text.boundaryBefore(wordStart, { Bytes.isAlnum($0) || $0 >= 0x80 }) else { return nil }
        if wordEnd - wordStart <= 16, Self.titleKeys.contains(PackedWord(text.bytes, wordStart, wordEnd)) { return wordStart }
        let lastPart = text.runStart(before: wordEnd) { $0 != 0x2E }
        if lastPart > wordStart, wordEnd - lastPart <= 16, Self.titleKeys.contains(PackedWord(text.bytes, lastPart, wordEnd)) {
            return wordStart
        }
        return nil
    }

    /// Where a name ending at `end` ends once a degree or suffix after it is counted.
    func extendedEnd(_ end: Int) -> Int {
        for suffix in Self.nameSuffixes where text.hasPrefix(suffix, at: end) {
            let after = end + suffix.utf8CodeUnitCount
            if !Bytes.isAlnum(text[after]) { return after }
        }
        return end
    }

    /// Months (and their abbreviations) that are given names too, among the words never names.
    static let monthsNamedLikePeople = PackedWord.set(["jan", "mar", "may", "june", "april", "august"])
    static let titleKeys = PackedWord.set(titles)
    static let nameFieldKeys = PackedWord.set(nameFields)
    static let particleKeys = PackedWord.set(particles)
    static let strongParticleKeys = PackedWord.set(strongParticles)
}
