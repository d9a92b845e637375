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
    ]

    static let titles: Set<String> = ["mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mx"]
    /// Words that introduce a person's name, strongly enough to trust a name not in the list.
    static let introducers: [StaticString] = [
        "my name is ", "name is ", "i'm ", "i am ", "dear ", "hi ", "hello ", "name: ", "regards,\n", "regards, ", "contact: ",
        "signed, ", "sincerely,\n", "cheers,\n", "thanks,\n", "patient ", "customer ", "employee ", "author: ", "from: ", "to: ",
        "cc: ",
    ]
    /// Capitalised words that begin sentences or headings, never names.
    static let notNames: Set<String> = [
        "the", "this", "that", "here", "there", "sure", "yes", "no", "hi", "hello", "dear",
        "thanks", "please", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december", "i", "we", "you", "it", "my", "our",
        "python", "swift", "java", "github", "google", "amazon", "stripe", "slack", "day",
        "use", "check", "call", "ask", "email", "api", "sql", "json", "http", "https", "ok",
    ]

    /// A capitalised word (letters, apostrophes, hyphens) at `i`: its end, or nil.
    func capitalisedWord(at i: Int) -> Int? {
        guard Bytes.isUpper(text[i]), Bytes.isLower(text[i + 1]) || text[i + 1] == UInt8(ascii: "'") else { return nil }
        let end = text.runEnd(from: i) { Bytes.isAlpha($0) || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "-") }
        guard end - i >= 2, text.boundaryAfter(end, Bytes.isAlnum) else { return nil }
        return end
    }

    mutating func people() {
        var i = 0
        let n = text.count
        while i < n {
            guard Bytes.isUpper(text[i]), text.boundaryBefore(i, { Bytes.isAlnum($0) || $0 == UInt8(ascii: "_") }) else {
                i += 1
                continue
            }
            guard let firstEnd = capitalisedWord(at: i) else {
                i += 1
                continue
            }
            // Names and titles are short: longer words are neither, and need no string.
            guard firstEnd - i <= 12 else {
                i = firstEnd
                continue
            }
            let first = text.lowercasedString(i..<firstEnd)
            // Title + name(s).
            if Self.titles.contains(first) {
                var k = firstEnd
                if text[k] == UInt8(ascii: ".") { k += 1 }
                if text[k] == UInt8(ascii: " "), let nameEnd = capitalisedWord(at: k + 1) {
                    var end = nameEnd
                    if text[end] == UInt8(ascii: " "), let lastEnd = capitalisedWord(at: end + 1) { end = lastEnd }
                    add(i, end, .person)
                    i = end
                    continue
                }
            }
            let known = Self.firstNames.contains(first)
            let introduced = Self.introducers.contains { text.hasPrefix($0, at: i - $0.utf8CodeUnitCount, caseInsensitive: true) }
            if (known || introduced), !Self.notNames.contains(first) {
                var end = firstEnd
                // Surname(s): capitalised words after a space (O'Brien, Smith-Jones).
                var surnames = 0
                while surnames < 2, text[end] == UInt8(ascii: " "), let lastEnd = capitalisedWord(at: end + 1),
                    !Self.notNames.contains(text.lowercasedString((end + 1)..<lastEnd)),
                    Detectors.streetSuffixes.contains(text.lowercasedString((end + 1)..<lastEnd)) == false
                {
                    end = lastEnd
                    surnames += 1
                }
                if known && (surnames > 0 || introduced) || introduced && surnames > 0 {
                    add(i, end, .person)
                    i = end
                    continue
                }
            }
            i = firstEnd
        }
    }
}
