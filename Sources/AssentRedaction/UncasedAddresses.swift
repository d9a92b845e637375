/// Postal addresses in Chinese, Korean and Thai, which write no capitals (Chinese and Thai no spaces between words either), and in Armenian, Bengali and Azerbaijani, written from the place down:
/// found by the road and its number, then read back over the divisions before them.
/// - Chinese: `北京市朝阳区建国路88号`, `上海市浦东新区世纪大道100号3楼` — a road word (`路`, `街`,
///   `道`, `巷`, `弄`, `胡同`) right before the house number and `号`, the characters before the
///   road back to a word that places it ("住在", "位于") or the run's start — five at least, or
///   three with a division among them — and a building, unit, floor or room after.
/// - Korean: `서울특별시 강남구 테헤란로 123` — a road name ending in `로`, `길`, `거리` or a
///   section's `N가` and its number, only after a division (a word ending in `시`, `도`, `구` or
///   `군`: "학교로 5분" is "5 minutes to school"), and a `동`/`호` or the neighbourhood in brackets
///   after.
/// - Thai: `75 หมู่ 3 ถ.ดุริยพันธุ์ อ.เวียงชัย กรุงเทพมหานคร 88360` — the road word (`ถ.`, `ถนน`)
///   with a house number before it (perhaps `83/3`, perhaps with the village's `หมู่ N`) and the
///   five-digit postcode after it on its line, only Thai words between.
extension Detectors {
    static let chineseRoadEnds: Set<UInt32> = Set("路街道巷弄同里".unicodeScalars.map(\.value))
    static let chineseHouseNumber: Set<UInt32> = Set("号號".unicodeScalars.map(\.value))
    /// Characters after which an address starts: "住在", "位于", "寄到", "送至".
    static let chinesePlaceVerbs: Set<UInt32> = Set("在于於到至往址".unicodeScalars.map(\.value))
    /// The country's divisions: province, city, district, county, town.
    static let chineseDivisions: Set<UInt32> = Set("省市区區县縣镇鎮乡鄉".unicodeScalars.map(\.value))
    /// What follows a house number inside a building: "3栋2单元501室", "5楼", "A座".
    static let chineseUnitWords: Set<UInt32> = Set("栋棟幢座单單元层層楼樓室".unicodeScalars.map(\.value))

    /// Chinese addresses (Han letters in the text): each `号` after digits after a road word, and
    /// each building (`座`, `栋`, `幢`) named by letters or digits right after a road word
    /// ("梧州路Y座"); a six-digit postcode after either is the address's too.
    mutating func chineseAddresses() {
        for (at, from) in occurrences(of: ["号", "號"].map { Array($0.utf8) }) {
            // The number: ASCII digits, perhaps "12-14".
            let digitsStart = text.runStart(before: at) { Bytes.isDigit($0) || $0 == 0x2D }
            guard digitsStart < at, at - digitsStart <= 9, Bytes.isDigit(text[digitsStart]),
                let (road, _) = scalarBefore(digitsStart), Self.chineseRoadEnds.contains(road.value),
                let start = chineseRoadStart(before: digitsStart)
            else { continue }
            add(start, chinesePostcode(after: chineseUnits(after: from)), .address)
        }
        for (at, from) in occurrences(of: ["座", "栋", "棟", "幢"].map { Array($0.utf8) }) {
            let nameStart = text.runStart(before: at) { Bytes.isDigit($0) || Bytes.isAlpha($0) }
            guard nameStart < at, at - nameStart <= 4, let (road, _) = scalarBefore(nameStart), Self.chineseRoadEnds.contains(road.value),
                let start = chineseRoadStart(before: nameStart)
            else { continue }
            add(start, chinesePostcode(after: chineseUnits(after: from)), .address)
        }
    }

    /// Where the address whose road word ends at `i` starts: back over the Han characters before
    /// it, or nil when they are too few to be a road's name and the places above it.
    func chineseRoadStart(before i: Int) -> Int? {
        // Back over the Han characters before the road (at most 24), cut after a verb of place.
        var start = i
        var count = 0
        var cut: Int?
        while count < 24, let (scalar, length) = scalarBefore(start), UncasedScript.han.isLetter(scalar) {
            if Self.chinesePlaceVerbs.contains(scalar.value), count >= 3 {
                cut = start
                break
            }
            start -= length
            count += 1
        }
        if let cut {
            count = String(decoding: text.bytes[cut..<i], as: UTF8.self).unicodeScalars.count
            start = cut
        }
        // A road's name and word, five characters or more, or fewer with a division of the
        // country before them ("北京市建国路"): "跑道2号" is "runway 2", "人行道3号" a sidewalk's.
        let divisions = String(decoding: text.bytes[start..<i], as: UTF8.self).unicodeScalars.contains {
            Self.chineseDivisions.contains($0.value)
        }
        guard count >= 5 || count >= 3 && divisions else { return nil }
        return start
    }

    /// The end of a six-digit postcode after `i` (one space between at most), or `i`.
    func chinesePostcode(after i: Int) -> Int {
        let from = text[i] == 0x20 ? i + 1 : i
        let end = text.runEnd(from: from, limit: 7, Bytes.isDigit)
        return end - from == 6 && text.boundaryAfter(end, Bytes.isAlnum) ? end : i
    }

    /// The end of the building, unit, floor and room after a house number ending at `i`.
    func chineseUnits(after i: Int) -> Int {
        var end = i
        while true {
            var k = end
            k = text.runEnd(from: k, limit: 5) { Bytes.isDigit($0) || Bytes.isUpper($0) }
            guard k > end, let (scalar, length) = text.scalar(at: k), Self.chineseUnitWords.contains(scalar.value) else { break }
            end = k + length
            // "单元" is two characters.
            if let (next, nextLength) = text.scalar(at: end), next == "元" { end += nextLength }
        }
        return end
    }

    /// Thai addresses (Thai letters in the text): each road word with a house number before it and
    /// a postcode after it.
    mutating func thaiAddresses() {
        for (at, from) in occurrences(of: ["ถ.", "ถนน"].map { Array($0.utf8) }) {
            guard let start = thaiHouseNumber(before: at), let end = thaiPostcodeEnd(after: from) else { continue }
            add(start, end, .address)
        }
    }

    /// The start of the house number (`75`, `83/3`), perhaps with the village's number after it
    /// (`75 หมู่ 3`), that ends one space before `i`.
    func thaiHouseNumber(before i: Int) -> Int? {
        guard i >= 2, text[i - 1] == 0x20 else { return nil }
        var end = i - 1
        var start = text.runStart(before: end) { Bytes.isDigit($0) || $0 == 0x2F }
        guard start < end, Bytes.isDigit(text[start]) else { return nil }
        // "หมู่ 3": the village's number; the house number before it.
        let village = Array("หมู่ ".utf8)
        if start >= village.count + 2, text.bytes[(start - village.count)..<start].elementsEqual(village),
            text[start - village.count - 1] == 0x20
        {
            end = start - village.count - 1
            let houseStart = text.runStart(before: end) { Bytes.isDigit($0) || $0 == 0x2F }
            guard houseStart < end, Bytes.isDigit(text[houseStart]) else { return nil }
            start = houseStart
        }
        guard text.boundaryBefore(start, { Bytes.isAlnum($0) || $0 >= 0x80 }) else { return nil }
        return start
    }

    /// The end of a five-digit postcode after `i` on its line (at most 160 bytes on), with only
    /// Thai letters, spaces and full stops between: the road's name and the divisions.
    func thaiPostcodeEnd(after i: Int) -> Int? {
        var k = i
        while k < text.count, k - i <= 160 {
            let b = text[k]
            if Bytes.isDigit(b) {
                let end = text.runEnd(from: k, limit: 6, Bytes.isDigit)
                guard end - k == 5, text[k - 1] == 0x20, !Bytes.isAlnum(text[end]) else { return nil }
                return end
            }
            if b == 0x20 || b == 0x2E {
                k += 1
                continue
            }
            guard let (scalar, length) = text.scalar(at: k), UncasedScript.thai.isLetter(scalar) else { return nil }
            k += length
        }
        return nil
    }

    /// Armenian addresses, written from the place down: the city's or village's abbreviation
    /// (`ք.`, `գ.`) and its name, perhaps the province and a four-digit postcode, then the street
    /// and its house number, perhaps the flat after (`ք. Արարատ, 3233, Սերգեյ Փարաջանովի 79, բն. 4`).
    mutating func armenianAddresses() {
        for (at, from) in occurrences(of: ["ք. ", "գ. "].map { Array($0.utf8) }) {
            guard text.boundaryBefore(at, { Bytes.isAlnum($0) || $0 >= 0x80 }), let end = armenianAddressEnd(from: from) else {
                continue
            }
            add(at, end, .address)
        }
    }

    /// The end of an Armenian address whose place's name starts at `k`: up to five parts split by
    /// ", " — words, or a four-digit postcode — the last one words and a house number.
    func armenianAddressEnd(from k: Int) -> Int? {
        var at = k
        for part in 0..<5 {
            let wordsEnd = armenianWords(from: at)
            var end = wordsEnd
            if wordsEnd == at {
                // No words: a postcode, never first.
                let digitsEnd = text.runEnd(from: at, limit: 5, Bytes.isDigit)
                guard part > 0, digitsEnd - at == 4 else { return nil }
                end = digitsEnd
            } else if part > 0, text[end] == 0x20, Bytes.isDigit(text[end + 1]) {
                // The street, capitalised, and its house number ("Կոնդի 4", "Մաշտոցի 12/3"), then
                // perhaps the flat; not a number that words go on after ("բայց 2020 թվականին").
                guard let (first, _) = text.scalar(at: at), (0x0531...0x0556).contains(first.value) else { return nil }
                var numberEnd = text.runEnd(from: end + 1, limit: 6) { Bytes.isDigit($0) || $0 == 0x2F }
                guard !Bytes.isAlnum(text[numberEnd]), !(text[numberEnd] == 0x20 && text[numberEnd + 1] >= 0xC0) else { return nil }
                let flat = Array(", բն. ".utf8)
                if text.bytes[numberEnd...].starts(with: flat) {
                    let flatEnd = text.runEnd(from: numberEnd + flat.count, limit: 5, Bytes.isDigit)
                    if flatEnd > numberEnd + flat.count { numberEnd = flatEnd }
                }
                return numberEnd
            }
            guard text[end] == 0x2C, text[end + 1] == 0x20 else { return nil }
            at = end + 2
        }
        return nil
    }

    /// The end of one to four words of Armenian letters from `k`, single spaces between (`k`
    /// itself when there is none).
    func armenianWords(from k: Int) -> Int {
        var end = k
        var at = k
        for _ in 0..<4 {
            var wordEnd = at
            while let (scalar, length) = text.scalar(at: wordEnd),
                (0x0531...0x0556).contains(scalar.value) || (0x0561...0x0587).contains(scalar.value)
            {
                wordEnd += length
            }
            guard wordEnd > at else { break }
            end = wordEnd
            guard text[wordEnd] == 0x20, let (next, _) = text.scalar(at: wordEnd + 1), (0x0531...0x0587).contains(next.value) else { break }
            at = wordEnd + 1
        }
        return end
    }

    /// Bengali addresses: a house's word and its number after `নং` ("No."), perhaps a flat's
    /// before them, then the area, the town and the district, and a four-digit postcode, in
    /// Bengali or ASCII digits (`ষ্টুডিও ১১, বাসা নং ৮১, পুরাতন হরিরামসেন্টার, কেশববাজার, যশোর, ৫৯৯৯`).
    mutating func bengaliAddresses() {
        for (at, from) in occurrences(of: [Array(" নং ".utf8)]) {
            // The house's word before "নং" and the number after it.
            var start = at
            while let (scalar, length) = scalarBefore(start), Self.isBengaliLetter(scalar) { start -= length }
            let numberEnd = bengaliDigits(from: from)
            guard start < at, numberEnd > from, let end = bengaliPostcodeEnd(after: numberEnd) else { continue }
            // A flat before it: ", " after a word and its number ("ষ্টুডিও ১১, ").
            if start >= 2, text[start - 1] == 0x20, text[start - 2] == 0x2C {
                var k = start - 2
                let digitsStart = bengaliDigitsStart(before: k)
                if digitsStart < k, digitsStart >= 1, text[digitsStart - 1] == 0x20 {
                    k = digitsStart - 1
                    var wordStart = k
                    while let (scalar, length) = scalarBefore(wordStart), Self.isBengaliLetter(scalar) { wordStart -= length }
                    if wordStart < k { start = wordStart }
                }
            }
            add(start, end, .address)
        }
    }

    static func isBengaliLetter(_ scalar: Unicode.Scalar) -> Bool {
        UncasedScript.bengali.isLetter(scalar) || scalar.value == 0x200C || scalar.value == 0x200D
    }

    static func isBengaliOrASCIIDigit(_ scalar: Unicode.Scalar) -> Bool {
        (0x09E6...0x09EF).contains(scalar.value) || (0x30...0x39).contains(scalar.value)
    }

    /// The end of the digits (Bengali or ASCII) from `k`.
    func bengaliDigits(from k: Int) -> Int {
        var end = k
        while let (scalar, length) = text.scalar(at: end), Self.isBengaliOrASCIIDigit(scalar) { end += length }
        return end
    }

    /// The start of the digits (Bengali or ASCII) ending at `k`.
    func bengaliDigitsStart(before k: Int) -> Int {
        var start = k
        while let (scalar, length) = scalarBefore(start), Self.isBengaliOrASCIIDigit(scalar) { start -= length }
        return start
    }

    /// After a house number ending at `i`: up to five parts of Bengali words after ", ", then a
    /// four-digit postcode; its end.
    func bengaliPostcodeEnd(after i: Int) -> Int? {
        var k = i
        for _ in 0..<6 {
            guard text[k] == 0x2C, text[k + 1] == 0x20 else { return nil }
            k += 2
            let digitsEnd = bengaliDigits(from: k)
            if digitsEnd > k {
                let count = String(decoding: text.bytes[k..<digitsEnd], as: UTF8.self).unicodeScalars.count
                return count == 4 ? digitsEnd : nil
            }
            // A part: Bengali words, single spaces between.
            var end = k
            while let (scalar, length) = text.scalar(at: end), Self.isBengaliLetter(scalar) || scalar == " " && end > k {
                end += length
            }
            while end > k, text[end - 1] == 0x20 { end -= 1 }
            guard end > k, end - k <= 120 else { return nil }
            k = end
        }
        return nil
    }

    /// Azerbaijani addresses: the district or city ("Quba rayonu", "Samux ray.", "Şəki şəhəri"),
    /// then parts each ending in its type word — a village, a settlement, a street, an avenue
    /// ("Kolayir kəndi", "Haciuşaği k.", "KAVEROÇKİN küç.", "HACI MURAD pr.") — one at least, then
    /// perhaps the building and the flat ("b. 4, m. 562").
    mutating func azerbaijaniAddresses() {
        for (at, from) in occurrences(of: ["rayonu, ", "ray., ", "şəhəri, "].map { Array($0.utf8) }) {
            // The district's or city's name: one capitalised word, one space before.
            guard at >= 3, text[at - 1] == 0x20 else { continue }
            let start = text.runStart(before: at - 1) { Bytes.isAlpha($0) || $0 >= 0x80 }
            guard start < at - 2, capitalisedWord(at: start) == at - 1, let end = azerbaijaniPartsEnd(from: from) else { continue }
            add(start, end, .address)
        }
    }

    /// The type words that end an Azerbaijani address's parts (after one space).
    static let azerbaijaniPartTypes: [[UInt8]] = [
        "k.", "kəndi", "qəs.", "qəsəbəsi", "küç.", "küçəsi", "pr.", "prospekti", "döngəsi", "dalanı",
    ]
    .map { Array($0.utf8) }

    /// The end of the typed parts from `k` (split by ", ", each at most 60 bytes and ending in one of
    /// ``azerbaijaniPartTypes``) and of the building and flat after them; nil without a typed part.
    func azerbaijaniPartsEnd(from k: Int) -> Int? {
        var at = k
        var end: Int?
        for _ in 0..<3 {
            var partEnd = at
            while partEnd - at < 60, partEnd < text.count, text[partEnd] != 0x0A, !(text[partEnd] == 0x2C && text[partEnd + 1] == 0x20) {
                partEnd += 1
            }
            guard partEnd > at, partEnd - at < 60,
                Self.azerbaijaniPartTypes.contains(where: { type in
                    partEnd - at > type.count + 1 && text[partEnd - type.count - 1] == 0x20
                        && text.bytes[(partEnd - type.count)..<partEnd].elementsEqual(type)
                })
            else { break }
            end = partEnd
            guard text[partEnd] == 0x2C else { break }
            at = partEnd + 2
        }
        guard var last = end else { return nil }
        // ", b. 4, m. 562": the building, then the flat.
        for mark in [", b. ", ", m. "].map({ Array($0.utf8) }) where text.bytes[last...].starts(with: mark) {
            let digitsEnd = text.runEnd(from: last + mark.count, limit: 5, Bytes.isDigit)
            guard digitsEnd > last + mark.count else { break }
            last = digitsEnd
        }
        return last
    }

    /// Korean addresses (Hangul in the text): a road ending in 로 or 길, its number, divisions before.
    mutating func koreanAddresses() {
        for (at, numberStart) in occurrences(of: ["로 ", "길 ", "거리 ", "가 "].map { Array($0.utf8) }) {
            // "가" is the subject particle too ("친구가 5명"): a road's after its section's number
            // ("종로1가", "가락43가"), or after a name ("논현가 372-70") when the number ends there or
            // "입니다", "이에요" or "에" follows it — not a counter ("5명", "25살").
            let particle = text.bytes[at..<numberStart].starts(with: "가".utf8) && (at == 0 || !Bytes.isDigit(text[at - 1]))
            let digitsEnd = text.runEnd(from: numberStart, limit: 5, Bytes.isDigit)
            guard digitsEnd > numberStart, !Bytes.isAlpha(text[digitsEnd]) else { continue }
            var end = digitsEnd
            if text[end] == 0x2D, Bytes.isDigit(text[end + 1]) { end = text.runEnd(from: end + 1, limit: 5, Bytes.isDigit) }
            if particle {
                let after = text.bytes[end...]
                let ends = end >= text.count || [0x20, 0x2C, 0x2E, 0x29, 0x0A].contains(text[end])
                guard ends || ["입니다", "이에요", "에 "].contains(where: { after.starts(with: $0.utf8) }) else { continue }
            }
            // The road's name: the Hangul word ending in the road word.
            var roadStart = numberStart - 1
            while let (scalar, length) = scalarBefore(roadStart),
                UncasedScript.hangul.isLetter(scalar) || Bytes.isDigit(text[roadStart - 1])
            {
                roadStart -= length
            }
            guard numberStart - 1 - roadStart >= 6 else { continue }  // two syllables at least
            // The divisions before it: words ending in 시, 도, 구, 군 (one at least).
            var start = roadStart
            var divisions = 0
            while divisions < 4, start >= 2, text[start - 1] == 0x20, let (last, _) = scalarBefore(start - 1),
                ["시", "도", "구", "군", "읍", "면"].contains(String(last))
            {
                var wordStart = start - 1
                while let (scalar, length) = scalarBefore(wordStart), UncasedScript.hangul.isLetter(scalar) { wordStart -= length }
                guard wordStart < start - 4 else { break }
                start = wordStart
                divisions += 1
            }
            guard divisions > 0 else { continue }
            // "101동 202호" after the number.
            for _ in 0..<2 {
                guard text[end] == 0x20 || text[end] == 0x2C else { break }
                let k = text[end] == 0x2C && text[end + 1] == 0x20 ? end + 2 : end + 1
                let unitEnd = text.runEnd(from: k, limit: 5, Bytes.isDigit)
                guard unitEnd > k, let (unit, length) = text.scalar(at: unitEnd), unit == "동" || unit == "호" || unit == "층" else {
                    break
                }
                end = unitEnd + length
            }
            // The neighbourhood in brackets after it: "테헤란로 123 (역삼동)".
            if text[end] == 0x20, text[end + 1] == UInt8(ascii: "(") {
                let (nameEnd, count) = letterRun(from: end + 2, script: .hangul, limit: 10)
                if count >= 2, text[nameEnd] == UInt8(ascii: ")"), let (last, _) = scalarBefore(nameEnd),
                    ["동", "리", "가", "로", "면", "읍"].contains(String(last))
                {
                    end = nameEnd + 1
                }
            }
            add(start, end, .address)
        }
    }
}
