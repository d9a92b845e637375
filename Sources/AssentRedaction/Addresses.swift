/// Postal addresses beyond the US house-number-first form (issue 13, part 2): street-type words
/// before the name (`rue`, `calle`, `via`, `rua`, …), street names ending in a street word
/// (`Hauptstraße`, `Keizersgracht`), house numbers before or after, then a postal code of the
/// country's shape and the city; PO boxes and US military addresses. The whole address is masked.
extension Detectors {
    /// Words that open a street's name (French, Spanish, Italian, Portuguese, Catalan, English).
    static let streetTypeWords: [StaticString] = [
        "rue", "avenue", "boulevard", "allée", "allee", "chemin", "impasse", "quai", "place", "cours", "route",
        "calle", "avenida", "paseo", "plaza", "camino", "carrer", "carretera", "ronda", "travesía",
        "via", "viale", "piazza", "corso", "largo", "vicolo", "piazzale", "strada",
        "rua", "travessa", "praça", "praca", "alameda", "estrada", "rodovia",
        // More of each country's street types (Italy's toponomastica, Spain's and Brazil's
        // tipos de vía / logradouro, France's voies, Poland's ulica / aleja / plac / osiedle).
        "rotonda", "incrocio", "canale", "borgo", "contrada", "lungomare", "piazzetta", "salita", "stretto", "galleria",
        "traversa", "vico", "rampa", "urbanización", "urbanizacion", "glorieta", "pasaje", "callejón", "rambla", "cuesta",
        "vía", "acceso", "cañada", "plazuela", "bajada", "senda", "carrera", "chácara", "esplanada", "fazenda", "campo",
        "vale", "residencial", "núcleo", "jardim", "estação", "favela", "quadra", "conjunto", "setor", "vila", "parque",
        "ladeira", "viela", "loteamento", "sítio", "condomínio", "morro", "passarela", "aeroporto", "lagoa", "trecho",
        "distrito", "recanto", "colônia", "square", "passage", "sentier", "voie", "faubourg", "promenade", "résidence",
        "hameau", "ulica", "aleja", "plac", "osiedle", "ul.", "al.", "pl.", "os.", "c.", "vial", "pasadizo", "viaduto", "pátio",
        "área", "vereda", "praia",
        // Romania's, Indonesia's and Croatia's "trg" before the name; Turkey's, Czechia's and
        // Croatia's others after it (``typesAfterName``: "Atatürk Cad. No: 15", "Václavské náměstí 12").
        "strada", "str.", "aleea", "bulevardul", "bd.", "calea", "șoseaua", "piața", "intrarea", "splaiul", "jl.", "jalan", "gg.", "gang",
        "trg",
        // Russia's and Ukraine's before the name, lower case as written ("ул. Ленина, д. 5"), and
        // Greece's, capitalised as written too (only ASCII is compared case-insensitively).
        "ул.", "улица", "пер.", "переулок", "пр.", "пр-т", "проспект", "пл.", "площадь", "ш.", "шоссе", "б-р", "бульвар", "наб.",
        "вул.", "вулиця", "пров.", "провулок", "просп.", "бульв.", "майдан", "алл.", "аллея", "туп.", "тупик", "проезд", "пр-д",
        "мкр.", "Οδός", "οδός", "Λεωφόρος", "λεωφόρος",
        "Λεωφ.", "Πλατεία", "πλατεία",
    ]
    /// Street types written after the street's name, and the same packed as ``packedTypeWords``
    /// are (compared without building a `String` for each type word met). Type words as much as
    /// ``streetTypeWords``: the keyword automaton and ``packedTypeWords`` hold both lists.
    /// Turkey's, Czechia's and Croatia's; Hungary's, Slovenia's, the Baltic states', Azerbaijan's,
    /// Armenia's and Georgia's ("Petőfi Sándor utca 12", "Slovenska cesta 5", "Brīvības iela 10",
    /// "Nizami küçəsi 23", "Աբովյան փ. 12", "რუსთაველის გამზ. 5").
    static let typesAfterNameKeys = PackedWord.set(typesAfterName)
    static let typesAfterName: Set<String> = [
        "cad.", "caddesi", "sok.", "sokak", "sokağı", "bulvarı", "mah.", "mahallesi", "náměstí", "nábřeží", "cesta", "vijenac",
        "utca", "út", "útja", "tér", "körút", "köz", "fasor", "tänav", "mnt", "iela", "gatvė", "prospektas", "küçəsi", "küç.",
        "prospekti", "փ.", "փողոց", "պող.", "պողոտա", "ქ.", "ქუჩა", "გამზ.", "გამზირი", "ulica",
    ]
    /// After-name types that open a name too, in another country ("ulica Długa 5", Polish; "Slovenska
    /// ulica 5", Slovenian): read before the name when nothing before them is one.
    static let typesEitherSideKeys = PackedWord.set(["ulica"])
    /// Indonesia's street types, whose names may hold initials and acronyms before "No.".
    static let indonesianTypeKeys = PackedWord.set(["jl.", "jalan", "gg.", "gang"])
    /// The type words packed as lower-cased bytes (at most 16), by their first byte: a word is
    /// compared with the few that start like it, as two integers, with no String and no hashing.
    static let packedTypeWords: [[PackedWord]] = {
        var table = Array(repeating: [PackedWord](), count: 256)
        for word in streetTypeWords { table[Int(Bytes.lower(word.utf8Start[0]))].append(PackedWord(word)) }
        for word in typesAfterName { table[Int(Bytes.lower(word.utf8.first!))].append(PackedWord(word)) }
        return table
    }()

    /// Endings of street names written as one word (German, Dutch) and the separate German words.
    static let streetEndings: [StaticString] = [
        "straße", "strasse", "str.", "weg", "platz", "allee", "gasse", "ring", "damm", "ufer", "chaussee", "steig",
        "straat", "gracht", "plein", "laan", "kade", "singel", "dijk", "markt", "hof", "pad", "dreef", "steeg", "baan", "wal",
        "erf", "plantsoen", "burgwal", "hoven", "veld", "straatweg", "boulevard",
        // Swedish, Norwegian, Danish, Finnish.
        "gatan", "vägen", "gata", "gränd", "torget", "stigen", "veien", "vegen", "vei", "vej", "gade", "stræde", "grenda",
        "katu", "tie", "kuja", "polku", "väylä", "kaari", "ranta",
    ]
    /// ``streetEndings`` by their last byte (lower case): a word is compared only with those that
    /// end as it does.
    static let streetEndingsByLast = byByte(streetEndings) { Bytes.lower($0.utf8Start[$0.utf8CodeUnitCount - 1]) }

    /// Addresses that start with a word at `i` (a letter after neither a letter nor a digit):
    /// a street-type word, a street name ending in a street word, a PO box, a military address.
    /// Returns where the next such word may start. Only called on texts holding a digit: every
    /// form holds a number (a house number, a postcode, a box).
    mutating func addressByWords(at i: Int) -> Int {
        addressByWords(at: i, wordEnd: text.runEnd(from: i) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == 0x2D })
    }

    /// `addressByWords(at:)` when the caller knows where the word (letters, `-`, bytes outside
    /// ASCII) ends.
    mutating func addressByWords(at i: Int, wordEnd: Int) -> Int {
        let first = text[i]
        let flat = first == UInt8(ascii: "F") || first == UInt8(ascii: "S") || first == UInt8(ascii: "A") || first == UInt8(ascii: "U")
        // The keyword automaton says where a type word or a box's or military address's opener starts.
        let keywords = keywordsStarting(at: i)
        let typeWord = keywords.contains(.streetType)
        let boxOrUnit = keywords.contains(.addressOpener)
        // A street name ending in a street word is capitalised and followed by a number or "str.".
        let after = text[wordEnd]
        let streetEnding = (Bytes.isUpper(first) || first >= 0xC0) && (after == 0x20 && Bytes.isDigit(text[wordEnd + 1]) || after == 0x2E)
        guard typeWord || streetEnding || boxOrUnit || flat && after == 0x20 else { return max(i + 1, wordEnd) }
        if let (start, end) = (typeWord ? typeWordFirst(at: i, wordEnd: wordEnd) : nil)
            ?? (streetEnding ? streetEndingFirst(at: i, wordEnd: wordEnd) : nil)
            ?? (boxOrUnit ? poBox(at: i).map({ (i, $0) }) ?? military(at: i).map({ (i, $0) }) : nil)
            ?? (flat ? flatFirst(at: i, wordEnd: wordEnd).map({ (i, $0) }) : nil)
        {
            // Indonesia's "Gang" is an English word too ("the gang Members 12"): a street only with
            // its house number's word ("Gang Erlangga No. 83").
            if wordEnd - i == 4, text.hasPrefix("gang", at: i, caseInsensitive: true),
                text.find(" No. ", in: i..<end) == nil
            {
                return max(i + 1, wordEnd)
            }
            add(settlementBefore(start) ?? start, end, .address)
            return max(end + 1, wordEnd)
        }
        return max(i + 1, wordEnd)
    }

    /// Russian's and Ukraine's settlement words, written before the street as the address reads
    /// from the place down: "г. Шамары, пер. Ягодный, д. 331" (town, village, settlement, …).
    static let settlementWords: [StaticString] = ["г. ", "д. ", "п. ", "с. ", "пос. ", "пгт ", "ст. ", "х. ", "к. ", "м. ", "смт "]

    /// Where the settlement before a street starting at `i` starts (", " between them): one of
    /// ``settlementWords`` and one or two capitalised Cyrillic words, perhaps a region in brackets
    /// after them ("к. Агинское (Забайк.)"); nil when there is none.
    func settlementBefore(_ i: Int) -> Int? {
        guard i >= 8, text[i - 1] == 0x20, text[i - 2] == 0x2C, text[i] >= 0xD0 else { return nil }
        var end = i - 2
        // A region in brackets after the name.
        if text[end - 1] == UInt8(ascii: ")"), let open = text.bytes[max(0, end - 40)..<(end - 1)].lastIndex(of: UInt8(ascii: "(")),
            open >= 2, text[open - 1] == 0x20
        {
            end = open - 1
        }
        var start = end
        for _ in 0..<2 {
            let wordStart = text.runStart(before: start) { $0 >= 0x80 || $0 == 0x2D }
            guard wordStart < start, wordStart >= 2, text[wordStart] == 0xD0, (0x90...0xAF).contains(text[wordStart + 1]) else { break }
            start = wordStart
            guard text[start - 1] == 0x20 else { break }
            if let word = Self.settlementWords.first(where: { text.hasPrefix($0, at: start - $0.utf8CodeUnitCount) }) {
                let wordAt = start - word.utf8CodeUnitCount
                guard wordAt == 0 || text[wordAt - 1] == 0x20 || text[wordAt - 1] == 0x0A else { return nil }
                return wordAt
            }
            start -= 1
        }
        return nil
    }

    /// What opens a PO box or a US military address (`poBox`, `military`).
    static let addressOpeners: [StaticString] = [
        "P.O. Box ", "PO Box ", "P. O. Box ", "Postfach ", "Apartado ", "Caixa Postal ", "PSC ", "Unit ", "USNS ", "USS ", "CMR ",
    ]

    /// `12 rue de la Paix`, `rue de la Paix 12`: a type word (with a number before it, or a number
    /// after the name), then the name's words.
    private func typeWordFirst(at i: Int, wordEnd typeEnd: Int) -> (Int, Int)? {
        let candidates = Self.packedTypeWords[Int(Bytes.lower(text[i]))]
        // "ul. Miła 40", "al. Jerozolimskie 44", "просп. Миру 5": an abbreviated type word keeps its full stop.
        let wordEnd =
            text[typeEnd] == 0x2E && text[typeEnd + 1] == 0x20 && (typeEnd - i <= 3 || text[i] >= 0x80 && typeEnd - i <= 15)
            ? typeEnd + 1 : typeEnd
        guard !candidates.isEmpty, wordEnd - i <= 16, text[wordEnd] == 0x20, candidates.contains(PackedWord(text.bytes, i, wordEnd)) else {
            return nil
        }
        let packed = PackedWord(text.bytes, i, wordEnd)
        if Self.typesAfterNameKeys.contains(packed) {
            if let found = typeAfterName(at: i, wordEnd: wordEnd) { return found }
            if !Self.typesEitherSideKeys.contains(packed) { return nil }
        }
        // The name: up to six words, particles (de, la, del, di, das, …) lower case, names capitalised.
        var k = wordEnd
        var nameWords = 0
        var lastNameEnd = wordEnd
        var read = false
        // Indonesia's streets hold initials and acronyms ("Jl. PHH. Mustofa", "Gg. BKR", "Gang M.T
        // Haryono"): any words starting with a capital or a digit, when the house number's "No."
        // follows them.
        if Self.indonesianTypeKeys.contains(packed) {
            var end = wordEnd
            var words = 0
            while words < 6, text[end] == 0x20, !text.hasPrefix(" No. ", at: end, caseInsensitive: true) {
                let start = end + 1
                guard Bytes.isUpper(text[start]) || Bytes.isDigit(text[start]) || text[start] >= 0xC0 else { break }
                end = text.runEnd(from: start) { Bytes.isAlnum($0) || $0 >= 0x80 || $0 == 0x2E || $0 == 0x27 || $0 == 0x2D }
                words += 1
            }
            if words > 0, text.hasPrefix(" No. ", at: end, caseInsensitive: true) {
                k = end
                lastNameEnd = end
                read = true
            }
        }
        while !read, nameWords < 6, text[k] == 0x20 {
            let start = k + 1
            let end = text.runEnd(from: start) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == 0x27 || $0 == 0x2D }
            guard end > start else { break }
            // "No. 38", "Nr. 26": the house number's word ends the name.
            if end - start == 2, text[end] == 0x2E || text[end] == 0x3A, ["no", "nr"].contains(text.lowercasedString(start..<end)) {
                break
            }
            // A capitalised word; an acronym ("via HTTP 2") is not a street's name.
            let capitalised =
                (Bytes.isUpper(text[start]) || text[start] >= 0xC0) && (end - start == 1 || !Bytes.isUpper(text[start + 1]))
            let particle = end - start <= 4 && Bytes.isLower(text[start])
            guard capitalised || particle else { break }
            k = end
            if capitalised { lastNameEnd = end }
            nameWords += 1
        }
        guard lastNameEnd > wordEnd else { return nil }
        let numberBefore = houseNumber(before: i)
        var end = lastNameEnd
        // A number after the name: "Via Roma 10", "Calle Mayor, 5", "Rua das Flores, 123".
        if numberBefore == nil {
            guard let after = houseNumber(after: end) else {
                // No house number, but a postcode and a city: "Residencial de Andrade, 87577-019 Barros".
                guard let city = postcodeAndCity(after: end) else { return nil }
                return (i, city)
            }
            if postcodeAndCity(after: after) == nil, after - end >= 6, text[after] == 0x20, let city = city(at: after + 1) {
                // The number was the postcode: "rue Masse, 31336 Fleury".
                return (i, city)
            }
            end = after
        }
        return (numberBefore ?? i, postcodeAndCity(after: end) ?? end)
    }

    /// `Atatürk Cad. No: 15`, `Václavské náměstí 12`: one to three capitalised words, the type
    /// word at `i`, then the house number.
    private func typeAfterName(at i: Int, wordEnd: Int) -> (Int, Int)? {
        var start = i
        for _ in 0..<3 {
            guard start >= 2, text[start - 1] == 0x20 else { break }
            let wordStart = text.runStart(before: start - 1) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == 0x27 || $0 == 0x2D }
            guard wordStart < start - 1,
                Bytes.isUpper(text[wordStart]) || text[wordStart] >= 0xC0 && startsStreetName(wordStart, start - 1),
                !Bytes.isUpper(text[wordStart + 1])
            else { break }
            start = wordStart
        }
        guard start < i, let end = houseNumber(after: wordEnd) else { return nil }
        return (start, postcodeAndCity(after: end) ?? end)
    }

    /// Whether the word `start..<end`, starting outside ASCII, can be part of a street's name
    /// before its type: capitalised (Cyrillic, Greek, Armenian, "Érable"), or Georgian (no capitals),
    /// and ending in a letter ("Հասցե՝", "Адрес:" are labels; "į", "és" are not capitalised).
    private func startsStreetName(_ start: Int, _ end: Int) -> Bool {
        guard let (first, _) = text.scalar(at: start), let (last, _) = scalarBefore(end), last.properties.isAlphabetic else {
            return false
        }
        return first.properties.isUppercase || (0x10D0...0x10FA).contains(first.value)
    }

    /// `Hauptstraße 12`, `Keizersgracht 123`: a street name ending in a street word, a number after.
    private func streetEndingFirst(at i: Int, wordEnd: Int) -> (Int, Int)? {
        // Cheap first: capitalised, and a number (or "str.") right after.
        guard Bytes.isUpper(text[i]) || text[i] >= 0xC0, wordEnd - i >= 4,
            text[wordEnd] == 0x20 && Bytes.isDigit(text[wordEnd + 1]) || text[wordEnd] == 0x2E
        else { return nil }
        var nameEnd = wordEnd
        if text[nameEnd] == 0x2E { nameEnd += 1 }  // "Hauptstr."
        let matched = Self.streetEndingsByLast[Int(Bytes.lower(text[nameEnd - 1]))].contains { ending in
            let count = ending.utf8CodeUnitCount
            return nameEnd - i > count && text.hasPrefix(ending, at: nameEnd - count, caseInsensitive: true)
        }
        // "Unter den Linden 77" has no ending word: not found here (nor in most writing about it).
        guard matched, let end = houseNumber(after: nameEnd) else { return nil }
        return (i, postcodeAndCity(after: end) ?? end)
    }

    /// British flats first: `Flat 6, Amanda Hill, Lake Francesmouth, S0H 8BX`, `Studio 2, Butler
    /// Green`: the flat, then a street whose last word is a street word, then the town and postcode.
    private func flatFirst(at i: Int, wordEnd: Int) -> Int? {
        guard text[wordEnd] == 0x20, Bytes.isDigit(text[wordEnd + 1]),
            ["flat", "studio", "apartment", "unit"].contains(text.lowercasedString(i..<wordEnd))
        else { return nil }
        var k = text.runEnd(from: wordEnd + 1, limit: 5, Bytes.isDigit)
        if Bytes.isAlpha(text[k]), !Bytes.isAlpha(text[k + 1]) { k += 1 }  // 72z
        guard text[k] == 0x2C, text[k + 1] == 0x20 else { return nil }
        // The street: capitalised words, the last a street word.
        var m = k + 2
        var streetEnd: Int?
        for _ in 0..<4 {
            guard Bytes.isUpper(text[m]) else { break }
            let end = text.runEnd(from: m) { Bytes.isAlpha($0) || $0 == 0x27 }
            if Self.streetSuffixes.contains(text.lowercasedString(m..<end)), m > k + 2 { streetEnd = end }
            guard text[end] == 0x20 else { break }
            m = end + 1
        }
        guard let streetEnd else { return nil }
        return postcodeAndCity(after: streetEnd) ?? streetEnd
    }

    /// `P.O. Box 123`, `PO Box 4190`, `Postfach 10 20 30`, `Apartado 123`.
    private func poBox(at i: Int) -> Int? {
        for opener in Self.addressOpeners.prefix(6)
        where text.hasPrefix(opener, at: i, caseInsensitive: true) {
            let start = i + opener.utf8CodeUnitCount
            let end = text.runEnd(from: start) { Bytes.isDigit($0) || $0 == 0x20 }
            var trimmed = end
            while trimmed > start, text[trimmed - 1] == 0x20 { trimmed -= 1 }
            guard trimmed > start else { return nil }
            return postcodeAndCity(after: trimmed) ?? usCityStateZip(after: trimmed) ?? trimmed
        }
        return nil
    }

    /// US military mail: `PSC 1234, Box 5678, APO AE 09204`, `Unit 2050 Box 4190, APO AP 96278`,
    /// `USNS Comfort, FPO AA 34090`, `USS Nimitz (CVN 68), FPO AP 96620`.
    private func military(at i: Int) -> Int? {
        guard
            text.hasPrefix("PSC ", at: i) || text.hasPrefix("Unit ", at: i) || text.hasPrefix("USNS ", at: i)
                || text.hasPrefix("USS ", at: i) || text.hasPrefix("CMR ", at: i)
        else { return nil }
        let line = text.runEnd(from: i, limit: 96) { $0 != 0x0A }
        var k = i
        while k + 7 <= line {
            for post: StaticString in ["APO ", "FPO ", "DPO "] where text.hasPrefix(post, at: k) {
                let region = k + 4
                guard text[region] == UInt8(ascii: "A"), Bytes.isOne(of: "AEP", text[region + 1]), text[region + 2] == 0x20 else {
                    return nil
                }
                let zipEnd = text.runEnd(from: region + 3, limit: 5, Bytes.isDigit)
                return zipEnd - region - 3 == 5 ? zipEnd : nil
            }
            k += 1
        }
        return nil
    }

    /// A house number at `i` after spaces or ", ": `12`, `12a`, `12-14`, `42/71` (a flat after the
    /// slash), then a flat or floor (`Apt. 4`, `Piso 7`, `Appartamento 37`, `m. 5`); its end.
    private func houseNumber(after i: Int) -> Int? {
        var k = i
        if text[k] == 0x2C { k += 1 }
        // "No. 5", "No: 15", "Nr. 26": the number's word (Indonesia, Turkey, Romania).
        var worded = false
        for word: StaticString in [" No. ", " No: ", " No:", " No ", " Nr. ", " Nr ", " д. ", " дом ", " буд. ", " будинок "]
        where text.hasPrefix(word, at: k, caseInsensitive: true) {
            let digit = k + word.utf8CodeUnitCount
            if Bytes.isDigit(text[digit]) {
                k = digit - 1
                worded = true
            }
            break
        }
        guard text[k] == 0x20 || worded, Bytes.isDigit(text[k + 1]) else { return nil }
        var end = text.runEnd(from: k + 1, limit: 5, Bytes.isDigit)
        if Bytes.isAlpha(text[end]), !Bytes.isAlpha(text[end + 1]) { end += 1 }  // 12a
        if text[end] == 0x2D || text[end] == 0x2F, Bytes.isDigit(text[end + 1]) {
            end = text.runEnd(from: end + 1, limit: 5, Bytes.isDigit)
        }
        guard !Bytes.isAlnum(text[end]) else { return nil }
        return unit(after: end) ?? end
    }

    /// Words that name a flat, floor or door after a house number, in the countries issue 13 names.
    static let unitWords: [StaticString] = [
        "apt. ", "apt ", "apto. ", "apto ", "apartment ", "appartamento ", "apartamento ", "piano ", "piso ", "puerta ", "planta ",
        "escalera ", "interno ", "int. ", "scala ", "étage ", "bâtiment ", "bât. ", "andar ", "bloco ", "sala ", "casa ",
        "wohnung ", "whg. ", "etage ", "m. ", "lok. ", "suite ", "ste ", "unit ", "flat ", "кв. ", "корп. ", "стр. ", "оф. ", "к. ",
    ]

    /// A unit after a house number (`, Piso 7`, ` Apt. 02`); its end.
    private func unit(after i: Int) -> Int? {
        var k = i
        if text[k] == 0x2C { k += 1 }
        guard text[k] == 0x20 else { return nil }
        k += 1
        guard let word = Self.unitWords.first(where: { text.hasPrefix($0, at: k, caseInsensitive: true) }) else { return nil }
        let number = k + word.utf8CodeUnitCount
        var end = text.runEnd(from: number, limit: 6) { Bytes.isAlnum($0) }
        // "к. 6/3": a second number after a slash.
        if end > number, text[end] == 0x2F, Bytes.isDigit(text[end + 1]) { end = text.runEnd(from: end + 1, limit: 5, Bytes.isDigit) }
        guard end > number, Bytes.isDigit(text[number]), !Bytes.isAlnum(text[end]) else { return nil }
        return end
    }

    /// A city's name at `i`: up to four capitalised words, hyphenated or with particles between
    /// them (`Sainte Gilbert`, `Starogard Gdański`, `Cavalcanti de Goiás`, `Laag-Soeren`); its end.
    private func city(at i: Int) -> Int? {
        guard Bytes.isUpper(text[i]) || text[i] >= 0xC0 else { return nil }
        var end = text.runEnd(from: i) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == 0x2D || $0 == 0x27 }
        var words = 1
        while words < 4, text[end] == 0x20 {
            var k = end + 1
            // Particles: "de", "da", "do", "sur", "am", "aan de".
            for _ in 0..<2 {
                let particleEnd = text.runEnd(from: k, limit: 4, Bytes.isLower)
                if particleEnd > k, particleEnd - k <= 3, text[particleEnd] == 0x20 { k = particleEnd + 1 }
            }
            guard Bytes.isUpper(text[k]) || text[k] >= 0xC0, !(Bytes.isUpper(text[k + 1]) && Bytes.isDigit(text[k + 2])) else { break }
            // A UK postcode after the city is not part of its name.
            if ukPostcode(at: k) != nil { break }
            end = text.runEnd(from: k) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == 0x2D || $0 == 0x27 }
            words += 1
        }
        return end
    }

    /// A house number just before `i` ("12 rue …", "12, rue …").
    private func houseNumber(before i: Int) -> Int? {
        var k = i - 1
        guard k > 0, text[k] == 0x20 else { return nil }
        if text[k - 1] == 0x2C { k -= 1 }
        let start = text.runStart(before: k, Bytes.isDigit)
        guard start < k, k - start <= 5, text.boundaryBefore(start, Bytes.isAlnum) else { return nil }
        return start
    }

    /// `, 75002 Paris`, `, 10115 Berlin`, `, 1015 CJ Amsterdam`, `, London SW1A 2AA`,
    /// ` - Centro, São Paulo - SP, 01001-000`, `, Tangerang, Banten 15111`: the postcode of one of
    /// the countries and the city.
    private func postcodeAndCity(after i: Int) -> Int? {
        var k = i
        // Brazil: " - Bairro, Cidade - UF, 01001-000" (the district and city before the CEP).
        let line = text.runEnd(from: i, limit: 80) { $0 != 0x0A }
        var cep = k
        while cep + 9 <= line {
            if Bytes.isDigit(text[cep]), text.runEnd(from: cep, limit: 5, Bytes.isDigit) - cep == 5, text[cep + 5] == 0x2D,
                text.runEnd(from: cep + 6, limit: 3, Bytes.isDigit) - cep - 6 == 3, !Bytes.isDigit(text[cep + 9]),
                text.boundaryBefore(cep, Bytes.isDigit)
            {
                // "73203-674 Cavalcante": the city after the CEP.
                if text[cep + 9] == 0x20, let cityEnd = city(at: cep + 10) { return cityEnd }
                return cep + 9
            }
            cep += 1
        }
        if text[k] == 0x20, text[k + 1] == 0x2C { k += 1 }  // "Piso 5 , 10407 Burgos"
        guard text[k] == 0x2C || text[k] == 0x20 else { return nil }
        if text[k] == 0x2C { k += 1 }
        guard text[k] == 0x20 else { return nil }
        k += 1
        // Five digits (DE, FR, ES, IT), four digits and two letters (NL, with or without the
        // space), two digits, a hyphen and three (PL), eight digits (a CEP without its hyphen);
        // then the city.
        let digitsEnd = text.runEnd(from: k, limit: 8, Bytes.isDigit)
        var codeEnd: Int?
        if digitsEnd - k == 5 || digitsEnd - k == 8, !Bytes.isAlnum(text[digitsEnd]) {
            codeEnd = digitsEnd
        } else if digitsEnd - k == 6, !Bytes.isAlnum(text[digitsEnd]), text[k - 2] == 0x2C {
            // Six digits after a comma (Russia, Ukraine's old ones, Kazakhstan, Belarus).
            codeEnd = digitsEnd
        } else if digitsEnd - k == 4, text[digitsEnd] == 0x20, Bytes.isUpper(text[digitsEnd + 1]), Bytes.isUpper(text[digitsEnd + 2]),
            !Bytes.isAlpha(text[digitsEnd + 3])
        {
            codeEnd = digitsEnd + 3
        } else if digitsEnd - k == 4, Bytes.isUpper(text[digitsEnd]), Bytes.isUpper(text[digitsEnd + 1]),
            !Bytes.isAlnum(text[digitsEnd + 2])
        {
            codeEnd = digitsEnd + 2
        } else if digitsEnd - k == 4, text[digitsEnd] == 0x20, Bytes.isUpper(text[digitsEnd + 1]) || text[digitsEnd + 1] >= 0xC0,
            !Bytes.isUpper(text[digitsEnd + 2])
        {
            // Four digits and the city (Denmark, Norway, Austria, Switzerland, Belgium, Hungary).
            codeEnd = digitsEnd
        } else if digitsEnd - k == 3, text[digitsEnd] == 0x20,
            text.runEnd(from: digitsEnd + 1, limit: 3, Bytes.isDigit) - digitsEnd - 1 == 2,
            text[digitsEnd + 3] == 0x20
        {
            // Three digits, a space and two (Sweden, Czechia, Slovakia, Greece).
            codeEnd = digitsEnd + 3
        } else if digitsEnd - k == 2, text[digitsEnd] == 0x2D,
            text.runEnd(from: digitsEnd + 1, limit: 4, Bytes.isDigit) - digitsEnd - 1 == 3,
            !Bytes.isAlnum(text[digitsEnd + 4])
        {
            codeEnd = digitsEnd + 4
        }
        if let codeEnd {
            guard text[codeEnd] == 0x20, let cityEnd = city(at: codeEnd + 1) else { return codeEnd }
            return cityEnd
        }
        // UK: "London SW1A 2AA", "Lake Leah, M10 1XQ" (a city, then the postcode).
        if let cityEnd = city(at: k), text[cityEnd] == 0x20 || text[cityEnd] == 0x2C,
            let postcode = ukPostcode(at: cityEnd + (text[cityEnd] == 0x2C ? 2 : 1))
        {
            return postcode
        }
        // Indonesia: ", Kota 12345", ", Kota, Provinsi 12345", ", Kota, JB 12345" (the city, perhaps
        // the province or its code, then five digits).
        if var end = city(at: k) {
            if text[end] == 0x2C, text[end + 1] == 0x20, let regionEnd = city(at: end + 2) { end = regionEnd }
            if text[end] == 0x20, Bytes.isDigit(text[end + 1]) {
                let codeEnd = text.runEnd(from: end + 1, limit: 6, Bytes.isDigit)
                if codeEnd - end - 1 == 5, !Bytes.isAlnum(text[codeEnd]) { return codeEnd }
            }
        }
        return nil
    }

    /// A street with neither a type word nor a street ending, found by the postcode and city after
    /// it: `Unter den Linden 77, 10117 Berlin`, `Jasná I 28, 166 68 Habry`, `Μαγκανάρη 70, 21283
    /// Λιβαδιά`, `Βασαρά 62, ΤΚ 494 09 Μεσολόγγι`. `i` is the postcode's first digit, after ", ": five digits or `NNN NN`, then a
    /// capitalised city (or four digits that are no year: 19xx, 20xx); before the comma a house number of one to three digits (and a letter),
    /// and before it one to four words, the first capitalised, lower-case ones only last
    /// ("Kráľovské údolie 135") or particles inside ("Unter den Linden 77"). A street and a city that are both English words ("Windows 10,
    /// 12345 Users") are none.
    mutating func postcodeFirst(at i: Int) {
        guard i >= 6, text[i - 1] == 0x20 else { return }
        // The comma before the postcode, or before Greece's "ΤΚ" ("postcode") written before it
        // ("Βασαρά 62, ΤΚ 494 09 Μεσολόγγι"); a doubled comma, as some forms leave, is one.
        var comma = i - 2
        if text[comma] != 0x2C, comma >= 7, text.bytes[(comma - 3)...comma].elementsEqual("ΤΚ".utf8), text[comma - 4] == 0x20 {
            comma -= 5
        }
        guard text[comma] == 0x2C else { return }
        if text[comma - 1] == 0x2C { comma -= 1 }
        let digitsEnd = text.runEnd(from: i, limit: 6, Bytes.isDigit)
        let codeEnd: Int
        if digitsEnd - i == 5 {
            codeEnd = digitsEnd
        } else if digitsEnd - i == 4, !(text[i] == UInt8(ascii: "1") && text[i + 1] == UInt8(ascii: "9")),
            !(text[i] == UInt8(ascii: "2") && text[i + 1] == UInt8(ascii: "0"))
        {
            // Four digits (Slovenia, Austria, Switzerland, Denmark, Hungary, …), not a year.
            codeEnd = digitsEnd
        } else if digitsEnd - i == 3, text[digitsEnd] == 0x20,
            text.runEnd(from: digitsEnd + 1, limit: 3, Bytes.isDigit) - digitsEnd - 1 == 2
        {
            codeEnd = digitsEnd + 3
        } else {
            return
        }
        guard text[codeEnd] == 0x20, let cityEnd = city(at: codeEnd + 1) else { return }
        // The house number before the comma: "77", "12a", "5б" (a letter of two bytes), perhaps
        // with the flat after a slash ("7а/8").
        var numberEnd = comma
        let flatStart = text.runStart(before: numberEnd, Bytes.isDigit)
        if flatStart < numberEnd, numberEnd - flatStart <= 3, flatStart >= 3, text[flatStart - 1] == 0x2F {
            numberEnd = flatStart - 1
        }
        if Bytes.isAlpha(text[numberEnd - 1]), Bytes.isDigit(text[numberEnd - 2]) {
            numberEnd -= 1
        } else if text[numberEnd - 1] & 0xC0 == 0x80, text[numberEnd - 2] >= 0xC0, Bytes.isDigit(text[numberEnd - 3]) {
            numberEnd -= 2
        }
        var numberStart = text.runStart(before: numberEnd, Bytes.isDigit)
        guard numberStart < numberEnd, numberEnd - numberStart <= 3 else { return }
        // A range of numbers: "Χιονάδων 78-48".
        if numberStart >= 3, text[numberStart - 1] == 0x2D, Bytes.isDigit(text[numberStart - 2]) {
            let rangeStart = text.runStart(before: numberStart - 1, Bytes.isDigit)
            if numberStart - 1 - rangeStart <= 3 { numberStart = rangeStart }
        }
        guard numberStart >= 2, text[numberStart - 1] == 0x20 else { return }
        // The street's words, right to left.
        var start: Int?
        var firstIsWord = false
        var end = numberStart - 1
        for index in 0..<4 {
            let wordStart = text.runStart(before: end) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == 0x27 || $0 == 0x2D || $0 == 0x2E }
            guard wordStart < end else { break }
            let capitalised = capitalisedWord(at: wordStart) != nil || end - wordStart == 1 && Bytes.isUpper(text[wordStart])
            if capitalised {
                start = wordStart
                firstIsWord = nameFlags(wordStart, end).contains(.dictionary)
            } else {
                // A lower-case word: last ("údolie") or a particle between ("den", "de la").
                guard index == 0 || end - wordStart <= 5 && Self.particleKeys.contains(PackedWord(text.bytes, wordStart, end)) else {
                    break
                }
            }
            guard wordStart >= 2, text[wordStart - 1] == 0x20 else { break }
            end = wordStart - 1
        }
        guard let start else { return }
        let cityWordEnd = text.runEnd(from: codeEnd + 1) { Bytes.isAlpha($0) || $0 >= 0x80 }
        if firstIsWord, nameFlags(codeEnd + 1, cityWordEnd).contains(.dictionary) { return }
        add(start, cityEnd, .address)
    }

    /// A UK postcode at `i` (`SW1A 2AA`, `M1 1AE`, `EC1A 1BB`); its end.
    func ukPostcode(at i: Int) -> Int? {
        let outward = text.runEnd(from: i, limit: 4) { Bytes.isUpper($0) || Bytes.isDigit($0) }
        let length = outward - i
        guard (2...4).contains(length), Bytes.isUpper(text[i]), Bytes.isDigit(text[i + 1]) || Bytes.isDigit(text[i + 2]),
            text[outward] == 0x20, Bytes.isDigit(text[outward + 1]), Bytes.isUpper(text[outward + 2]), Bytes.isUpper(text[outward + 3]),
            !Bytes.isAlnum(text[outward + 4])
        else { return nil }
        return outward + 4
    }

    /// `, Springfield, IL 62704` after a US street or box.
    private func usCityStateZip(after i: Int) -> Int? {
        guard text[i] == 0x2C, text[i + 1] == 0x20, Bytes.isUpper(text[i + 2]) else { return nil }
        let line = text.runEnd(from: i, limit: 48) { $0 != 0x0A }
        var k = i + 2
        while k + 8 <= line {
            if Bytes.isUpper(text[k]), Bytes.isUpper(text[k + 1]), text[k + 2] == 0x20, text[k - 1] == 0x20,
                text.runEnd(from: k + 3, limit: 5, Bytes.isDigit) - k - 3 == 5
            {
                return k + 8
            }
            k += 1
        }
        return nil
    }
}

/// Up to 16 bytes of a word, lower-cased (ASCII), as two integers: a set lookup with no String.
struct PackedWord: Hashable, Sendable {
    var low: UInt64 = 0
    var high: UInt64 = 0

    init(_ word: StaticString) {
        let p = word.utf8Start
        for k in 0..<min(word.utf8CodeUnitCount, 16) { put(Bytes.lower(p[k]), at: k) }
    }

    /// `bytes[start..<end]` (its first 16 bytes) lower-cased. The array is borrowed: an
    /// initialiser's arguments are otherwise passed owned, a retain and release on every call.
    @inline(__always)
    init(_ bytes: borrowing [UInt8], _ start: Int, _ end: Int) {
        let length = min(end - start, 16)
        guard length > 0 else { return }
        if start >= 0, start + 16 <= bytes.count {
            // Sixteen bytes loaded at once, lower-cased eight at a time, cut to the length.
            bytes.withUnsafeBytes { raw in
                low = Self.lowered(raw.loadUnaligned(fromByteOffset: start, as: UInt64.self))
                high = Self.lowered(raw.loadUnaligned(fromByteOffset: start + 8, as: UInt64.self))
            }
            if length < 8 {
                low &= (1 << UInt64(8 * length)) - 1
                high = 0
            } else if length < 16 {
                high &= (1 << UInt64(8 * (length - 8))) - 1
            }
            return
        }
        for k in 0..<length { put(Bytes.lower(bytes[start + k]), at: k) }
    }

    /// The eight bytes of `x` (little-endian) with A–Z turned to a–z, every other byte kept.
    @inline(__always)
    static func lowered(_ x: UInt64) -> UInt64 {
        x | WordBytes.upper(x) >> 2
    }

    /// The first 16 bytes, lower-cased.
    init(bytes: some Collection<UInt8>) {
        var k = 0
        for byte in bytes.prefix(16) {
            put(Bytes.lower(byte), at: k)
            k += 1
        }
    }

    /// The first 16 bytes as they are (not lower-cased).
    init(exactly bytes: ArraySlice<UInt8>) {
        var k = 0
        for byte in bytes.prefix(16) {
            put(byte, at: k)
            k += 1
        }
    }

    init(_ word: String) {
        for (k, byte) in word.utf8.prefix(16).enumerated() { put(Bytes.lower(byte), at: k) }
    }

    init() {}

    /// The words (of at most 16 bytes: longer ones could not be told apart) as a set.
    static func set(_ words: some Sequence<String>) -> PackedWordTable<Bool> {
        PackedWordTable(words: words)
    }

    private mutating func put(_ byte: UInt8, at k: Int) {
        if k < 8 { low |= UInt64(byte) << UInt64(8 * k) } else { high |= UInt64(byte) << UInt64(8 * (k - 8)) }
    }
}
