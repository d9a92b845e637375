#if canImport(Glibc)
    import Glibc
#endif

/// Names in scripts without capital letters — Chinese, Japanese, Korean, Arabic and Persian,
/// Hebrew, Hindi, Nepali and Marathi, Bengali, Gujarati, Odia, Tamil, Sinhala, Thai, Lao, Khmer,
/// Burmese, Georgian:
/// nothing in the script marks a name,
/// so one is taken only where the words around it say so ("我叫…", "私の名前は…", "…と申します",
/// "제 이름은 …", "اسمي …", "اسم من …", "שמי …", "मेरा नाम …", "आमार नाम …", "என் பெயர் …",
/// "ผมชื่อ…", "მე მქვია …"), never guessed from the script alone. Run only over texts holding one of these scripts, and only for the scripts they hold.
extension Detectors {
    enum UncasedScript {
        /// Chinese characters (and the iteration mark 々 of 佐々木), as Chinese and Japanese write names.
        case han
        case hangul
        case arabic
        case hebrew
        case devanagari
        case bengali
        case tamil
        case gujarati
        case odia
        case sinhala
        /// Thai: words run together, but a given name and a family name are written apart.
        case thai
        /// Georgian (Mkhedruli).
        case georgian
        case telugu
        case kannada
        case malayalam
        /// Punjabi's Gurmukhi.
        case gurmukhi
        /// Amharic's (and Tigrinya's) Ge'ez syllables.
        case ethiopic
        /// Lao, Khmer and Burmese run their words together, as Thai does; Khmer writes a family
        /// name and a given name apart, Lao a given name and a family name; a Burmese name (no
        /// family name) is one word, often with a title written onto it ("ဦးအောင်ကျော်").
        case lao
        case khmer
        case myanmar

        /// Its bit in ``Detectors/uncasedScriptOfLead``. The scripts of India and Sri Lanka and
        /// Thai and Lao share one: their letters all start with the lead byte E0, which cannot tell
        /// them apart; Georgian, Ethiopic, Khmer and Burmese another (E1).
        var bit: UInt8 {
            switch self {
            case .han: 1
            case .hangul: 2
            case .arabic: 4
            case .hebrew: 8
            case .devanagari, .bengali, .tamil, .gujarati, .odia, .sinhala, .thai, .telugu, .kannada, .malayalam, .gurmukhi, .lao: 16
            case .georgian, .ethiopic, .khmer, .myanmar: 32
            }
        }

        func isLetter(_ scalar: Unicode.Scalar) -> Bool {
            let v = scalar.value
            switch self {
            case .han: return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || v == 0x3005
            case .hangul: return (0xAC00...0xD7A3).contains(v)
            // With Kurdish's ە (U+06D5), not Urdu's full stop (U+06D4).
            case .arabic: return (0x0620...0x065F).contains(v) || (0x066E...0x06D3).contains(v) || v == 0x06D5
            case .hebrew: return (0x05D0...0x05EA).contains(v)
            case .devanagari: return (0x0900...0x0963).contains(v) || (0x0966...0x097F).contains(v)
            // Letters and vowel signs, not digits or the danda (।, U+0964, Devanagari's).
            case .bengali: return (0x0981...0x09E3).contains(v) || v == 0x09F0 || v == 0x09F1
            case .tamil: return (0x0B82...0x0BD7).contains(v)
            // Letters and signs, not digits; the zero-width joiners Sinhala writes inside its
            // conjuncts ("ප්‍ර") are part of the word.
            case .gujarati: return (0x0A81...0x0AE3).contains(v)
            case .odia: return (0x0B01...0x0B63).contains(v) || v == 0x0B71
            case .sinhala: return (0x0D81...0x0DF3).contains(v) || v == 0x200C || v == 0x200D
            // Consonants, vowels and tone marks; not the baht sign, ฯ or ๆ, nor digits.
            case .thai:
                return (0x0E01...0x0E2E).contains(v) || (0x0E30...0x0E3A).contains(v) || (0x0E40...0x0E45).contains(v)
                    || (0x0E47...0x0E4E).contains(v)
            case .georgian: return (0x10D0...0x10FA).contains(v)
            // Letters and signs, not digits.
            case .telugu: return (0x0C00...0x0C63).contains(v)
            case .kannada: return (0x0C80...0x0CE3).contains(v) || v == 0x0CF1 || v == 0x0CF2
            // With the chillu letters written at a word's end ("അനിൽ").
            case .malayalam: return (0x0D00...0x0D63).contains(v) || (0x0D7A...0x0D7F).contains(v)
            // With the tippi and addak ("ਸਿੰਘ", "ਗਿੱਲ"); the danda it writes (।) is Devanagari's.
            case .gurmukhi: return (0x0A01...0x0A5E).contains(v) || (0x0A70...0x0A75).contains(v)
            // Syllables and their marks, not the word space, comma and full stop (፡ ፣ ።) nor numerals.
            case .ethiopic: return (0x1200...0x135A).contains(v) || (0x135D...0x135F).contains(v) || (0x1380...0x138F).contains(v)
            // Letters, vowels and tone marks, not digits (U+0ED0–U+0ED9).
            case .lao: return (0x0E81...0x0ECE).contains(v) || (0x0EDC...0x0EDF).contains(v)
            // Letters and signs, not its full stop (។, U+17D4) and the other marks after it, nor digits.
            case .khmer: return (0x1780...0x17D3).contains(v) || v == 0x17DC || v == 0x17DD
            // Letters and signs, not digits (U+1040–U+1049, U+1090–U+1099) nor its comma and full stop (၊ ။).
            case .myanmar: return (0x1000...0x103F).contains(v) || (0x1050...0x108F).contains(v) || (0x109A...0x109F).contains(v)
            }
        }

        /// How many words (runs of letters between spaces) a name takes at most, and how many
        /// letters a name written without spaces (Han, Hangul) has.
        var maxWords: Int {
            switch self {
            case .devanagari, .bengali, .gujarati, .odia, .telugu, .kannada, .malayalam, .gurmukhi, .ethiopic: 3
            default: 2
            }
        }
        var letters: ClosedRange<Int> { self == .han ? 2...4 : 2...5 }
    }

    /// Words after which a name follows, by script. A Japanese "私は" also needs "です" or "と申します"
    /// after the name (``uncasedName(after:script:needsCopula:)``): "私は学生です" names no one; a Thai
    /// "เรียน" ("dear"), a Lao "ຮຽນ" and a Khmer "ជូនចំពោះ" ("to") need a title after them.
    static let uncasedIntroducers: [(words: [UInt8], script: UncasedScript, needsCopula: Bool)] = introducerList.map {
        (Array($0.0.utf8), $0.1, $0.2)
    }
    /// Every introducer of ``uncasedIntroducers``, found in one pass (``uncasedNames(scripts:)``).
    static let uncasedIntroducerAutomaton = KeywordAutomaton(uncasedIntroducers.map { ($0.words, KeywordAutomaton.Kinds(rawValue: 1)) })
    /// The script and copula of each introducer, by its bytes.
    static let uncasedIntroducerOf: [[UInt8]: (script: UncasedScript, needsCopula: Bool)] = Dictionary(
        uncasedIntroducers.map { ($0.words, (script: $0.script, needsCopula: $0.needsCopula)) }, uniquingKeysWith: { first, _ in first })

    static let introducerList: [(String, UncasedScript, Bool)] = [
        ("我叫", .han, false), ("名叫", .han, false), ("我的名字是", .han, false), ("我的名字叫", .han, false),
        ("姓名：", .han, false), ("姓名:", .han, false), ("联系人：", .han, false), ("聯繫人：", .han, false),
        ("私の名前は", .han, false), ("僕の名前は", .han, false), ("氏名：", .han, false), ("氏名:", .han, false),
        ("私は", .han, true), ("わたしは", .han, true),
        ("이름은", .hangul, false), ("이름:", .hangul, false), ("성함:", .hangul, false), ("저는 ", .hangul, true), ("안녕하세요, ", .hangul, true),
        ("안녕하세요. ", .hangul, true),
        ("اسمي ", .arabic, false), ("إسمي ", .arabic, false), ("الاسم: ", .arabic, false),
        ("שמי ", .hebrew, false), ("קוראים לי ", .hebrew, false), ("השם שלי ", .hebrew, false), ("שם: ", .hebrew, false),
        ("मेरा नाम ", .devanagari, false), ("नाम: ", .devanagari, false),
        // Persian (in Arabic letters), Nepali (in Devanagari), Bengali, Tamil, Thai, Georgian:
        // "my name is", the form's "name:", the letter's "dear", the title before a name.
        ("اسم من ", .arabic, false), ("نام من ", .arabic, false), ("نام: ", .arabic, false), ("نام و نام خانوادگی: ", .arabic, false),
        ("آقای ", .arabic, false), ("جناب ", .arabic, false), ("سرکار خانم ", .arabic, false),
        // Persian sign-offs: "with thanks", "with gratitude", "with respect" (a team that signs
        // is no name: ``uncasedStops``).
        ("با تشکر، ", .arabic, false), ("با تشکر،\n", .arabic, false), ("با سپاس، ", .arabic, false), ("با سپاس،\n", .arabic, false),
        ("با احترام، ", .arabic, false), ("با احترام،\n", .arabic, false),
        ("मेरो नाम ", .devanagari, false), ("श्री ", .devanagari, false), ("श्रीमती ", .devanagari, false),
        ("माझे नाव ", .devanagari, false), ("माझं नाव ", .devanagari, false), ("नाव: ", .devanagari, false),
        ("प्रिय ", .devanagari, false),
        ("મારું નામ ", .gujarati, false), ("મારુ નામ ", .gujarati, false), ("નામ: ", .gujarati, false), ("પ્રિય ", .gujarati, false),
        ("ମୋ ନାମ ", .odia, false), ("ମୋର ନାମ ", .odia, false), ("ନାମ: ", .odia, false), ("ପ୍ରିୟ ", .odia, false),
        ("මගේ නම ", .sinhala, false), ("මාගේ නම ", .sinhala, false), ("නම: ", .sinhala, false), ("හිතවත් ", .sinhala, false),
        ("ආදරණීය ", .sinhala, false),
        ("আমার নাম ", .bengali, false), ("নাম: ", .bengali, false), ("প্রিয় ", .bengali, false), ("জনাব ", .bengali, false),
        ("என் பெயர் ", .tamil, false), ("எனது பெயர் ", .tamil, false), ("பெயர்: ", .tamil, false), ("அன்புள்ள ", .tamil, false),
        ("திரு. ", .tamil, false), ("திருமதி ", .tamil, false),
        ("ผมชื่อ", .thai, false), ("ฉันชื่อ", .thai, false), ("ดิฉันชื่อ", .thai, false), ("หนูชื่อ", .thai, false),
        ("ชื่อของฉันคือ", .thai, false), ("ชื่อ-นามสกุล:", .thai, false), ("ชื่อ-นามสกุล ", .thai, false), ("ชื่อ:", .thai, false),
        // "Dear" only before a title ("เรียน คุณ…"): "เรียน ผู้จัดการ" is "Dear manager".
        ("เรียน", .thai, true),
        // An address's "recipient" and "sender", before a title too ("ผู้รับ คุณสมชาย ใจดี").
        ("ผู้รับ", .thai, true), ("ผู้ส่ง", .thai, true),
        ("ผู้ติดต่อ:", .thai, false),
        ("მქვია ", .georgian, false), ("ჩემი სახელია ", .georgian, false),
        ("ჩემი სახელი და გვარია ", .georgian, false), ("სახელი: ", .georgian, false), ("სახელი და გვარი: ", .georgian, false),
        ("ძვირფასო ", .georgian, false), ("ბატონო ", .georgian, false), ("ქალბატონო ", .georgian, false), ("ბატონი ", .georgian, false),
        ("ქალბატონი ", .georgian, false),
        // Urdu (in Arabic letters), Telugu, Kannada, Malayalam, Punjabi, Amharic: "my name is",
        // the form's "name:", the letter's "dear", the title before a name. Not Punjabi's "ਸ੍ਰੀ"
        // alone: its greeting "ਸਤ ਸ੍ਰੀ ਅਕਾਲ" holds it.
        ("میرا نام ", .arabic, false), ("محترم ", .arabic, false), ("محترمہ ", .arabic, false),
        ("నా పేరు ", .telugu, false), ("పేరు: ", .telugu, false), ("ప్రియమైన ", .telugu, false), ("ప్రియ ", .telugu, false),
        ("శ్రీమతి ", .telugu, false), ("శ్రీ ", .telugu, false),
        ("ನನ್ನ ಹೆಸರು ", .kannada, false), ("ಹೆಸರು: ", .kannada, false), ("ಆತ್ಮೀಯ ", .kannada, false), ("ಪ್ರಿಯ ", .kannada, false),
        ("ಶ್ರೀಮತಿ ", .kannada, false), ("ಶ್ರೀ ", .kannada, false),
        ("എന്റെ പേര് ", .malayalam, false), ("പേര്: ", .malayalam, false), ("പ്രിയ ", .malayalam, false),
        ("പ്രിയപ്പെട്ട ", .malayalam, false), ("ശ്രീമതി ", .malayalam, false), ("ശ്രീ ", .malayalam, false),
        ("ਮੇਰਾ ਨਾਮ ", .gurmukhi, false), ("ਮੇਰਾ ਨਾਂ ", .gurmukhi, false), ("ਨਾਮ: ", .gurmukhi, false), ("ਪਿਆਰੇ ", .gurmukhi, false),
        ("ਪਿਆਰੀ ", .gurmukhi, false), ("ਸ੍ਰੀਮਤੀ ", .gurmukhi, false), ("ਸ਼੍ਰੀਮਤੀ ", .gurmukhi, false),
        ("ስሜ ", .ethiopic, false), ("ስም: ", .ethiopic, false), ("ስም፡ ", .ethiopic, false), ("ውድ ", .ethiopic, false),
        ("አቶ ", .ethiopic, false), ("ወይዘሮ ", .ethiopic, false), ("ወይዘሪት ", .ethiopic, false),
        // Pashto and Sorani Kurdish (in Arabic letters), Lao, Khmer, Burmese: "my name is", the
        // form's "name:", the letter's "dear", the title before a name. Khmer's and Burmese's
        // titles count only at a word's start (``titlesAtWordStart``): "ពិភពលោក" is "world".
        ("زما نوم ", .arabic, false), ("نوم: ", .arabic, false), ("ښاغلی ", .arabic, false), ("ښاغلې ", .arabic, false),
        ("میرمن ", .arabic, false), ("ګرانه ", .arabic, false), ("ګرانې ", .arabic, false),
        ("ناوی من ", .arabic, false), ("ناوم ", .arabic, false), ("ناو: ", .arabic, false), ("بەڕێز ", .arabic, false),
        ("کاک ", .arabic, false), ("خاتوو ", .arabic, false),
        ("ຂ້ອຍຊື່", .lao, false), ("ຂ້ານ້ອຍຊື່", .lao, false), ("ຊື່ຂອງຂ້ອຍແມ່ນ", .lao, false), ("ຊື່:", .lao, false),
        ("ຊື່ ແລະ ນາມສະກຸນ:", .lao, false), ("ຮຽນ", .lao, true),
        ("ខ្ញុំឈ្មោះ", .khmer, false), ("ឈ្មោះរបស់ខ្ញុំគឺ", .khmer, false), ("ឈ្មោះ:", .khmer, false), ("ឈ្មោះ ", .khmer, false),
        ("ជូនចំពោះ", .khmer, true), ("លោក ", .khmer, false), ("លោកស្រី ", .khmer, false), ("កញ្ញា ", .khmer, false),
        ("ကျွန်တော့်နာမည်", .myanmar, false), ("ကျွန်တော်၏အမည်", .myanmar, false), ("ကျွန်မနာမည်", .myanmar, false),
        ("ကျွန်မ၏အမည်", .myanmar, false), ("နာမည်:", .myanmar, false), ("အမည်:", .myanmar, false),
        ("လေးစားအပ်ပါသော", .myanmar, false), ("ချစ်သော", .myanmar, false),
    ]
    /// Titles of ``introducerList`` that open a name only at the start of a word: Khmer's "លោក"
    /// ends "ពិភពលោក" ("world"). Burmese's titles are no introducers at all, only read after one
    /// ("လေးစားအပ်ပါသော ဦး…"): words start with them ("ဦးစွာ" is "first", "ဒေါ်လာ" "dollar").
    static let titlesAtWordStart: Set<[UInt8]> = Set(["លោក ", "លោកស្រី ", "កញ្ញា "].map { Array($0.utf8) })

    /// Japanese self-introductions that follow the name: "山田太郎と申します".
    static let japaneseIntroductionsAfter = ["と申します", "といいます", "と言います"].map { Array($0.utf8) }
    /// What follows a name in a Japanese self-introduction.
    static let japaneseCopulas = ["です", "と申します", "といいます", "と言います"]
    /// Korean endings written onto a name ("김민준입니다", "민준 씨"): not part of it.
    static let koreanEndings = ["입니다", "이에요", "예요", "이고", "이며", "이라고", "라고", "님", "씨"]
    /// Words after a name that are never part of it ("is", "am", "and", polite particles), by script.
    static let devanagariStops: Set<String> = ["है", "हूँ", "हूं", "और", "हैं", "हो", "हुँ", "र", "आहे", "आणि", "आहेत"]
    static let uncasedStops: [UncasedScript: Set<String>] = [
        .devanagari: devanagariStops,
        .arabic: [
            "است", "هستم", "هست", "می‌باشد", "بود", "من", "هو", "هي", "أنا", "ہے", "ہوں", "ہیں", "اور", "کا", "کی", "دی", "ده", "یم", "او",
            "زما",
            // The teams, departments and companies that sign letters (Persian, then Arabic).
            "تیم", "پشتیبانی", "واحد", "گروه", "شرکت", "بخش", "فريق", "خدمة", "قسم", "شركة",
        ],
        .bengali: ["এবং", "আমি", "আর", "হয়", "হলো"],
        .tamil: ["மற்றும்", "நான்"],
        .gujarati: ["છે", "અને", "છું"],
        .odia: ["ଏବଂ", "ଅଟେ"],
        .sinhala: ["සහ", "වේ"],
        .thai: ["ครับ", "ค่ะ", "คะ", "นะครับ", "นะคะ", "และ", "เบอร์", "เบอร์โทร", "โทร", "อีเมล", "ที่อยู่", "จาก"],
        .georgian: ["და", "ვარ", "ჩემი", "ტელეფონი", "ტელეფონია"],
        .telugu: ["మరియు", "నేను", "గారు"],
        .kannada: ["ಮತ್ತು", "ನಾನು", "ಅವರು"],
        .malayalam: ["ആണ്", "ഞാൻ", "എന്നാണ്"],
        .gurmukhi: ["ਹੈ", "ਹਾਂ", "ਅਤੇ", "ਹਨ"],
        .ethiopic: ["ነው", "ነኝ", "እና", "ናት"],
        .lao: ["ເບີໂທ", "ເບີ", "ໂທ", "ແລະ", "ອີເມວ", "ຈາກ", "ເດີ", "ຄັບ", "ເຈົ້າ", "ທີ່ຢູ່"],
        .khmer: ["គឺ", "និង", "ជា", "ហើយ", "បាទ", "ចាស"],
        .myanmar: ["ဖြစ်ပါတယ်", "ဖြစ်ပါသည်", "ဖြစ်သည်", "ပါ", "ပါတယ်", "ခင်ဗျာ", "ခင်ဗျား", "ရှင်", "နှင့်", "နဲ့"],
    ]
    /// Titles written before a name, often onto it ("คุณสมชาย"): not part of it. Thai, Lao, Khmer;
    /// longer ones first ("นางสาว" before "นาง").
    static let uncasedTitles: [UncasedScript: [[UInt8]]] = [
        .thai: ["นางสาว", "คุณ", "นาย", "นาง", "ด.ช.", "ด.ญ."].map { Array($0.utf8) },
        .lao: ["ທ່ານນາງ", "ທ່ານ", "ທ້າວ", "ນາງສາວ", "ນາງ", "ສະຫາຍ"].map { Array($0.utf8) },
        .khmer: ["លោកស្រី", "លោក", "កញ្ញា", "អ្នកនាង", "អ្នក"].map { Array($0.utf8) },
        // Not "မ" ("Ma"), which starts names too ("မြင့်").
        .myanmar: ["ဦး", "ဒေါ်", "ကို", "မောင်"].map { Array($0.utf8) },
    ]

    /// The scripts (``UncasedScript/bit``) a UTF-8 lead byte may open a letter of (or of a
    /// neighbour of theirs): the scan notes those it sees, and ``uncasedNames(scripts:)`` looks
    /// only for their introducers.
    static let uncasedScriptOfLead: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for c in 0xD6...0xD7 { table[c] = UncasedScript.hebrew.bit }
        for c in 0xD8...0xDB { table[c] = UncasedScript.arabic.bit }
        table[0xE0] = UncasedScript.devanagari.bit
        // U+1000–U+1FFF: Georgian among Myanmar, Ethiopic and the Latin and Greek extended letters.
        table[0xE1] = UncasedScript.georgian.bit
        for c in 0xE3...0xE9 { table[c] = UncasedScript.han.bit }
        for c in 0xEA...0xED { table[c] = UncasedScript.hangul.bit }
        return table
    }()

    /// Every name after an introducer of the scripts seen, and every name before a Japanese
    /// self-introduction.
    mutating func uncasedNames(scripts: UInt8) {
        // Every introducer in one pass of one automaton: a text of the scripts of India holds
        // the byte each of their dozens of introducers starts with at every letter.
        for hit in Self.uncasedIntroducerAutomaton.hits(in: text.bytes) {
            guard let introducer = Self.uncasedIntroducerOf[Array(text.bytes[hit.start..<hit.end])],
                scripts & introducer.script.bit != 0,
                introducer.script != .khmer || !Self.titlesAtWordStart.contains(Array(text.bytes[hit.start..<hit.end]))
                    || scalarBefore(hit.start).map({ !introducer.script.isLetter($0.0) }) ?? true,
                let name = uncasedName(after: hit.end, script: introducer.script, needsCopula: introducer.needsCopula)
            else { continue }
            add(name.lowerBound, name.upperBound, .person)
        }
        if scripts & UncasedScript.han.bit != 0 { hanNamesInContext() }
        if scripts & UncasedScript.georgian.bit != 0 { georgianNamesByFamilyEnding() }
        if scripts & UncasedScript.han.bit != 0 {
            for (at, _) in occurrences(of: Self.japaneseIntroductionsAfter) {
                var start = at
                var count = 0
                while count < 6, let (scalar, length) = scalarBefore(start), UncasedScript.han.isLetter(scalar) {
                    start -= length
                    count += 1
                }
                if (2...5).contains(count) { add(start, at, .person) }
            }
        }
    }

    /// Georgian family names end in -შვილი ("child of") or -ძე ("son of"), and nothing else does
    /// at the end of a longer word: such a word is a family name wherever it stands, with the
    /// Georgian word before it (one space between) as its given name.
    mutating func georgianNamesByFamilyEnding() {
        for (ending, lettersBefore) in Self.georgianFamilyEndings {
            for (at, end) in occurrences(of: [ending]) {
                if let (next, _) = text.scalar(at: end), UncasedScript.georgian.isLetter(next) { continue }
                var start = at
                var count = 0
                while let (scalar, length) = scalarBefore(start), UncasedScript.georgian.isLetter(scalar) {
                    start -= length
                    count += 1
                }
                guard count >= lettersBefore else { continue }
                if start >= 2, text[start - 1] == 0x20 {
                    var given = start - 1
                    var letters = 0
                    while let (scalar, length) = scalarBefore(given), UncasedScript.georgian.isLetter(scalar) {
                        given -= length
                        letters += 1
                    }
                    let word = String(decoding: text.bytes[given..<(start - 1)], as: UTF8.self)
                    if (2...12).contains(letters), !(Self.uncasedStops[.georgian]?.contains(word) ?? false) { start = given }
                }
                add(start, end, .person)
            }
        }
    }
    static let georgianFamilyEndings: [([UInt8], Int)] = [(Array("შვილი".utf8), 2), (Array("ძე".utf8), 3)]

    /// The name of `script` right after an introducer ending at `after` (one space skipped), or
    /// nil when none is there.
    func uncasedName(after: Int, script: UncasedScript, needsCopula: Bool) -> Range<Int>? {
        let k = text[after] == 0x20 ? after + 1 : after
        switch script {
        case .han:
            let (end, count) = letterRun(from: k, script: .han, limit: 6)
            let copula = Self.japaneseCopulas.contains { text.bytes[end...].starts(with: $0.utf8) }
            // Chinese given and family names together are two to four characters; a Japanese one
            // followed by its copula up to five.
            // After "私は" three to five ("私は学生です" is "I am a student").
            let fits =
                needsCopula
                ? copula && (3...5).contains(count) : copula ? (2...5).contains(count) : UncasedScript.han.letters.contains(count)
            return fits ? k..<end : nil
        case .hangul:
            var (end, _) = letterRun(from: k, script: .hangul, limit: 8)
            var ended = false
            for ending in Self.koreanEndings where text.bytes[k..<end].reversed().starts(with: ending.utf8.reversed()) {
                end -= ending.utf8.count
                ended = true
                break
            }
            // A space then "씨" or "님" also ends a name: "민준 씨".
            if !ended, text[end] == 0x20 { ended = ["씨", "님"].contains { text.bytes[(end + 1)...].starts(with: $0.utf8) } }
            let count = String(decoding: text.bytes[k..<end], as: UTF8.self).unicodeScalars.count
            guard UncasedScript.hangul.letters.contains(count), !needsCopula || ended else { return nil }
            return k..<end
        case .thai, .lao, .khmer, .myanmar:
            // "เรียน คุณสมชาย ใจดี": one space, then a title, then the name (a space after the title too).
            var start = k
            if let title = Self.uncasedTitles[script]?.first(where: { text.bytes[start...].starts(with: $0) }) {
                start += title.count
                if text[start] == 0x20 { start += 1 }
            } else if needsCopula {
                return nil
            }
            return uncasedWords(from: start, script: script).map { start..<$0 }
        default:
            return uncasedWords(from: k, script: script).map { k..<$0 }
        }
    }

    /// One to `maxWords` words of `script` from `k`, single spaces between: the first always, a
    /// later one unless it is a stop word or starts with the conjunction "and" (و, ו) written onto it.
    func uncasedWords(from k: Int, script: UncasedScript) -> Int? {
        var end = k
        var words = 0
        var at = k
        let joiners = Self.nameJoiners[script]
        // After a word that joins the next one to the name: that word is taken whatever the count.
        var joined = false
        while true {
            var (wordEnd, count) = letterRun(from: at, script: script, limit: 24)
            // Initials written with dots are one word: Nepal's family name "के.सी" (K.C.), "ए.के." before
            // a family name. A dot that ends them is theirs when the name goes on after a space.
            if script == .devanagari, count >= 1 {
                var dotted = false
                while text[wordEnd] == UInt8(ascii: "."), case let (end, letters) = letterRun(from: wordEnd + 1, script: script, limit: 4),
                    (1...3).contains(letters)
                {
                    wordEnd = end
                    count += letters
                    dotted = true
                }
                if dotted, text[wordEnd] == UInt8(ascii: "."), text[wordEnd + 1] == 0x20,
                    letterRun(from: wordEnd + 2, script: script, limit: 2).count >= 1
                {
                    wordEnd += 1
                }
            }
            guard count >= 2 else { break }
            let word = String(decoding: text.bytes[at..<wordEnd], as: UTF8.self)
            // "son of", "family of", "servant of" and their like join the next word to the name,
            // "of the faith", "-son" the previous one: the name's words are counted without them.
            if let joiners, joiners.next.contains(word) || words > 0 && joiners.previous.contains(word) {
                end = wordEnd
                joined = joiners.next.contains(word)
                guard text[wordEnd] == 0x20 else { break }
                at = wordEnd + 1
                continue
            }
            guard words < script.maxWords || joined else { break }
            joined = false
            let stop = Self.uncasedStops[script]?.contains(word) ?? false
            if words > 0 {
                if stop { break }
                // Not the conjunction "و" written onto a word, unless the word ends the clause or
                // a stop word follows it: Pashto's "Wardak" ("ښاغلی فرشته وردګ،", "زما نوم ګل وردګ
                // دی") starts with the letter too.
                if script == .arabic, word.hasPrefix("و"), !endsClause(wordEnd), !stopWordFollows(wordEnd, script: script) { break }
                if script == .hebrew, word.hasPrefix("ו") { break }
            } else if stop {
                return nil
            }
            end = wordEnd
            words += 1
            guard text[wordEnd] == 0x20 else { break }
            at = wordEnd + 1
        }
        return words > 0 ? end : nil
    }

    /// Words of names in Arabic letters (Arabic, Persian) and Hebrew that join the word after them
    /// ("آل", "بن", "أبو", "عبد", "בן", "אבו") or before them ("الدين", "زاده") to one name part:
    /// "آيات آل العسكري", "عبد الخالق حجار", "سراج الدّين آل سعود", "دانيال رضا زاده", "תמר אבו מוך".
    static let nameJoiners: [UncasedScript: (next: Set<String>, previous: Set<String>)] = [
        .arabic: (
            ["آل", "بن", "بنت", "ابن", "إبن", "أبو", "ابو", "أبا", "أبي", "عبد", "أم", "ذو"],
            ["الدين", "الدّين", "الله", "زاده", "زادہ"]
        ),
        .hebrew: (["בן", "בת", "בר", "אבו", "אבן"], []),
    ]

    /// Whether one space and then a stop word of `script` (``uncasedStops``) follow `k`.
    func stopWordFollows(_ k: Int, script: UncasedScript) -> Bool {
        guard text[k] == 0x20 else { return false }
        let (end, count) = letterRun(from: k + 1, script: script, limit: 24)
        return count > 0 && Self.uncasedStops[script]?.contains(String(decoding: text.bytes[(k + 1)..<end], as: UTF8.self)) == true
    }

    /// Whether a comma (Arabic's or Latin's), a full stop, a line's end or the text's end is at `k`.
    func endsClause(_ k: Int) -> Bool {
        k >= text.count || text[k] == 0x0A || text[k] == 0x0D || text[k] == UInt8(ascii: ",") || text[k] == UInt8(ascii: ".")
            || text.bytes[k...].starts(with: "،".utf8) || text.bytes[k...].starts(with: "۔".utf8)
    }

    /// The end of the run of `script`'s letters from `k` (at most `limit` of them), and their number.
    /// A zero-width joiner or non-joiner (U+200D, U+200C, three bytes each) between two letters
    /// is part of the word: Nepali and Hindi write conjuncts with them ("अमात्‍य", "श्रेष्‍ठ"),
    /// Persian a word's parts ("می‌خواهم"), Sinhala its ligatures; so is an apostrophe
    /// ("डी’कोस्टा", D'Costa), as in "O'Brien".
    func letterRun(from k: Int, script: UncasedScript, limit: Int) -> (end: Int, count: Int) {
        var end = k
        var count = 0
        while count < limit, let (scalar, length) = text.scalar(at: end) {
            if script.isLetter(scalar) {
                end += length
                count += 1
            } else if count > 0, scalar == "\u{200D}" || scalar == "\u{200C}" || scalar == "\u{2019}" || scalar == "'",
                let (next, _) = text.scalar(at: end + length), script.isLetter(next)
            {
                end += length
            } else {
                break
            }
        }
        return (end, count)
    }

    /// The scalar ending just before `i`, and its length.
    func scalarBefore(_ i: Int) -> (Unicode.Scalar, Int)? {
        var k = i - 1
        while k > 0, i - k < 4, text[k] & 0xC0 == 0x80 { k -= 1 }
        guard k >= 0, let (scalar, length) = text.scalar(at: k), k + length == i else { return nil }
        return (scalar, length)
    }

    /// Each place one of `patterns` occurs, pattern by pattern, each in the text's order: where it
    /// starts and the index just after it (where the search for its next one goes on).
    func occurrences(of patterns: [[UInt8]]) -> [(at: Int, after: Int)] {
        var found: [(at: Int, after: Int)] = []
        for pattern in patterns {
            var from = 0
            while let at = find(pattern, from: from) {
                from = at + pattern.count
                found.append((at, from))
            }
        }
        return found
    }

    /// Where `pattern` next occurs at or after `from`, compared byte for byte (`memchr` finds each
    /// place its anchor byte is, then the whole is compared). The anchor is the first byte, or for
    /// a pattern starting with a three-byte letter its third: every letter of Thai, Bengali, Tamil
    /// or Devanagari starts with E0, which would stop `memchr` at every letter.
    func find(_ pattern: [UInt8], from: Int) -> Int? {
        guard from < text.count, !pattern.isEmpty else { return nil }
        let offset = pattern.count >= 3 && pattern[0] >= 0xE0 ? 2 : 0
        let anchor = pattern[offset]
        return pattern.withUnsafeBufferPointer { p -> Int? in
            text.bytes.withUnsafeBufferPointer { all -> Int? in
                guard let base = all.baseAddress, let needle = p.baseAddress else { return nil }
                var k = from
                let last = all.count - p.count
                while k <= last {
                    guard let hit = memchr(base + k + offset, Int32(anchor), last - k + 1) else { return nil }
                    k = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base - offset
                    if memcmp(base + k, needle, p.count) == 0 { return k }
                    k += 1
                }
                return nil
            }
        }
    }
}
