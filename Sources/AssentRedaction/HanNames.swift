/// Chinese and Japanese names found by the words written around them, not only after a
/// self-introduction (``Detectors/uncasedNames(scripts:)``): a title or a greeting after the name
/// ("张伟先生", "王女士", "李娜您好", "田中太郎様", "山田さん"), a salutation or a label before it
/// ("尊敬的张伟", "收件人：王芳", "担当：佐藤"), a verb that names whom to reach ("请联系刘洋"), or
/// the name's own contact details after it ("张伟的电话", "王芳，手机"). Chinese text marks no word
/// boundary, so a Chinese name must also start with a family name (``chineseFamilyNames``), which
/// bounds it where the characters run on; a Japanese one is bounded by the kana or punctuation
/// around it and must not be a word for a role ("お客様", "担当者様").
extension Detectors {
    /// The commonest Chinese family names, simplified and traditional (each one character). Some
    /// are also common words, which is why only the words around a name make it one.
    static let chineseFamilyNames: Set<UInt32> = Set(
        ("王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何高林罗羅郑鄭梁谢謝宋唐许許韩韓冯馮邓鄧曹彭曾肖萧蕭田董袁潘于"
            + "蒋蔣蔡余杜叶葉程苏蘇魏吕呂丁任沈姚卢盧姜崔钟鍾谭譚陆陸汪范金石廖贾賈夏韦韋付傅方白邹鄒孟熊秦邱江尹薛闫閆段雷侯"
            + "龙龍史陶黎贺賀顾顧毛郝龚龔邵万萬钱錢严嚴覃武戴莫孔汤湯常温溫康施文牛樊葛邢安齐齊易乔喬伍庞龐颜顏倪庄莊聂聶章"
            + "鲁魯岳翟殷詹申欧歐耿关關兰蘭焦俞左柳甘祝包宁寧尚符舒阮柯纪紀梅童凌毕畢单單季裴霍涂成苗谷盛曲翁冉骆駱蓝藍路游"
            + "辛靳管柴蒙鲍鮑华華喻祁蒲房滕屈饶饒解牟艾尤阳陽穆农農司卓古吉缪繆简簡车車项項连連芦蘆麦麥褚娄婁窦竇戚岑景党宫"
            + "宮费費卜冷晏席卫衛米柏宗瞿桂佟臧闵閔苟邬鄔边邊卞姬师師仇栾欒隋刁沙荣榮巫寇桑郎甄丛叢仲虞敖巩鞏佘池查麻苑迟遲"
            + "邝鄺洪赖賴向强強郁楚冼甄匡鞠荆荊廉谈談屠冀栗时時").unicodeScalars.map(\.value))
    /// Two-character family names.
    static let chineseCompoundFamilyNames: [[UInt8]] = [
        "欧阳", "歐陽", "司马", "司馬", "诸葛", "諸葛", "上官", "东方", "東方", "皇甫", "尉迟", "尉遲", "公孙", "公孫", "令狐", "慕容",
        "司徒", "夏侯", "长孙", "長孫", "宇文", "轩辕", "軒轅",
    ].map { Array($0.utf8) }

    /// Words before a Chinese name: salutations, labels of a form or a letter, verbs naming whom
    /// to reach or who speaks.
    static let chineseNameBefore: [[UInt8]] = [
        "尊敬的", "亲爱的", "親愛的", "收件人：", "收件人:", "寄件人：", "发件人：", "發件人：", "负责人：", "負責人：", "客户：",
        "客戶：", "患者：", "申请人：", "申請人：", "签名：", "簽名：", "署名：", "他叫", "她叫", "叫做", "请联系", "請聯繫", "请联络",
        "請聯絡", "转告", "轉告", "告诉", "告訴",
        // "Send to", "hand to", "post to" ("请把合同发给刘洋"; not "发给我们": 我 is no family name).
        "发给", "發給", "交给", "交給", "寄给", "寄給",
    ].map { Array($0.utf8) }
    /// Common words that start with a family name's character ("项目经理", "请联系管理员",
    /// "高中生"): never the start of a name.
    static let chineseNotNames: [[UInt8]] = [
        "项目", "項目", "高级", "高級", "高中", "管理", "方式", "方面", "方法", "安全", "金融", "常务", "常務", "华人", "華人", "欧洲", "歐洲",
        "石油", "江湖", "龙头", "龍頭", "白天", "黄金", "黃金", "万一", "萬一", "司机", "司機", "车间", "車間", "路上", "程序", "文化", "文件",
        "马上", "馬上", "林业", "林業", "关于", "關於", "宁可", "寧可", "于是", "余额", "餘額", "任何", "任务", "任務", "成都", "史上", "明天",
        "杜绝", "毛病", "孔子", "包括", "包装", "包裝", "符合", "简单", "簡單", "简历", "簡歷", "连续", "連續", "季度", "宫殿", "党员", "黨員",
        "费用", "費用", "师傅", "師傅", "沙发", "沙發", "查询", "查詢", "温度", "溫度", "康复", "康復", "申请", "申請", "客户", "客戶",
    ].map { Array($0.utf8) }
    /// Words after a Chinese name: titles, greetings, the name's own contact details.
    static let chineseNameAfter: [(words: [UInt8], familyNameAlone: Bool)] =
        [
            "先生", "女士", "小姐", "老师", "老師", "经理", "經理", "医生", "醫生", "教授", "总监", "總監", "主任", "同学", "同學", "律师",
            "律師", "博士",
        ].map { (Array($0.utf8), true) }
        + [
            "您好", "你好", "的电话", "的電話", "的手机", "的手機", "的邮箱", "的郵箱", "的电子邮件", "的電子郵件", "的地址", "的号码",
            "的號碼", "，电话", "，電話", "，手机", "，手機", "，邮箱", "，郵箱",
        ].map { (Array($0.utf8), false) }
    /// Characters that, two or three characters into a run after ``chineseNameBefore``, start
    /// what follows the name rather than its given name: particles, common verbs, the first
    /// character of a title.
    static let chineseAfterNameLeads: Set<UInt32> = Set(
        "的是在说說和与與已将將会會要给給把被从從对對先女小老经經医醫教总總主同律博您你处處负負联聯发發打来來去也都就还還请請吗嗎呢吧了"
            .unicodeScalars.map(\.value))

    /// Japanese honorifics and titles after a name.
    static let japaneseNameAfter: [[UInt8]] = ["さん", "様", "さま", "氏", "先生", "部長", "課長", "社長", "くん", "君", "ちゃん"].map {
        Array($0.utf8)
    }
    /// Japanese labels before a name.
    static let japaneseNameBefore: [[UInt8]] = ["担当：", "担当:", "担当者：", "宛先：", "差出人：", "送信者：", "署名："].map { Array($0.utf8) }
    /// Words for roles and people in general that take the same honorifics ("お客様", "担当者様",
    /// "皆さん", "お医者さん"): never names.
    static let japaneseRoleWords: Set<String> = [
        "担当者", "担当", "医者", "店員", "社員", "運転手", "会員", "利用者", "株主", "取引先", "患者", "先輩", "後輩", "生徒", "学生", "客",
        "皆", "奥", "王", "神", "仏", "殿", "皆々", "各位", "関係者", "家族", "親御", "保護者", "お客", "御客", "奥方", "旦那", "先方", "相手",
        "上司", "部下", "社員各位", "住人", "隣人", "友人", "知人", "本人",
    ]

    /// The kinds of the words of ``hanContextAutomaton`` (its own automaton: the bits mean these there).
    enum HanContext {
        static let chineseBefore = KeywordAutomaton.Kinds(rawValue: 1)
        static let chineseTitle = KeywordAutomaton.Kinds(rawValue: 2)
        static let chineseAfter = KeywordAutomaton.Kinds(rawValue: 4)
        static let japaneseBefore = KeywordAutomaton.Kinds(rawValue: 8)
        static let japaneseAfter = KeywordAutomaton.Kinds(rawValue: 16)
    }

    /// Every word of this file's contexts in one automaton: a text is read once, not once a word.
    static let hanContextAutomaton = KeywordAutomaton(
        chineseNameBefore.map { ($0, HanContext.chineseBefore) }
            + chineseNameAfter.map { ($0.words, $0.familyNameAlone ? HanContext.chineseTitle : HanContext.chineseAfter) }
            + japaneseNameBefore.map { ($0, HanContext.japaneseBefore) } + japaneseNameAfter.map { ($0, HanContext.japaneseAfter) })

    /// Chinese and Japanese names found by their context (Han letters in the text).
    mutating func hanNamesInContext() {
        // Japanese honorifics only in Japanese text (kana in it): Chinese writes "先生" and "君" too.
        let japanese = hasKana()
        for hit in Self.hanContextAutomaton.hits(in: text.bytes) {
            // A word may be of several kinds ("先生": a Chinese title, a Japanese honorific).
            let kinds = hit.kinds
            if kinds.contains(HanContext.chineseBefore), let name = chineseName(from: hit.end) { add(hit.end, name, .person) }
            if !kinds.isDisjoint(with: [HanContext.chineseTitle, HanContext.chineseAfter]),
                let start = chineseName(endingAt: hit.start, familyNameAlone: kinds.contains(HanContext.chineseTitle))
            {
                add(start, hit.start, .person)
            }
            if kinds.contains(HanContext.japaneseBefore) {
                let (end, count) = hanRunWithOneSpace(from: hit.end)
                if (2...6).contains(count), !Self.japaneseRoleWords.contains(String(decoding: text.bytes[hit.end..<end], as: UTF8.self)) {
                    add(hit.end, end, .person)
                }
            }
            if japanese, kinds.contains(HanContext.japaneseAfter), let start = japaneseName(endingAt: hit.start) {
                add(start, hit.start, .person)
            }
        }
    }

    /// Whether the text holds hiragana or katakana (U+3040–U+30FF: E3 81 80 to E3 83 BF in UTF-8).
    func hasKana() -> Bool {
        var from = 0
        while let at = find([0xE3], from: from) {
            if (0x81...0x83).contains(text[at + 1]) { return true }
            from = at + 1
        }
        return false
    }

    /// The length in bytes of the family name at `k` (a compound one first), nil when none starts
    /// there or a common word does (``chineseNotNames``).
    func chineseFamilyName(at k: Int) -> Int? {
        for compound in Self.chineseCompoundFamilyNames where text.bytes[k...].starts(with: compound) { return compound.count }
        for word in Self.chineseNotNames where text.bytes[k...].starts(with: word) { return nil }
        guard let (scalar, length) = text.scalar(at: k), Self.chineseFamilyNames.contains(scalar.value) else { return nil }
        return length
    }

    /// The end of a Chinese name starting at `k`: a family name and a given name of one or two
    /// characters. Where the characters run on past the name, it ends before a character that
    /// starts what follows a name (``chineseAfterNameLeads``), else after two given characters.
    func chineseName(from k: Int) -> Int? {
        guard let family = chineseFamilyName(at: k) else { return nil }
        var ends: [Int] = []
        var at = k + family
        while ends.count < 3, let (scalar, length) = text.scalar(at: at), UncasedScript.han.isLetter(scalar) {
            at += length
            ends.append(at)
        }
        switch ends.count {
        case 0: return nil
        case 1, 2: return ends.last
        default:
            // Three or more characters after the family name: the name is not all of them.
            if let (second, _) = text.scalar(at: ends[0]), Self.chineseAfterNameLeads.contains(second.value) { return ends[0] }
            return ends[1]
        }
    }

    /// The start of a Chinese name ending at `end`: the longest of the last three, two (or, with
    /// a compound family name, four) Han characters before it that starts with a family name;
    /// with `familyNameAlone` (a title: "王先生") the family name alone too.
    func chineseName(endingAt end: Int, familyNameAlone: Bool) -> Int? {
        var starts: [Int] = []
        var k = end
        while starts.count < 4, let (scalar, length) = scalarBefore(k), UncasedScript.han.isLetter(scalar) {
            k -= length
            starts.append(k)
        }
        // Characters counted from the name's end: 4 (a compound family name and two), 3, 2, 1.
        if starts.count >= 4, let family = chineseFamilyName(at: starts[3]), family > 3 { return starts[3] }
        for count in [3, 2] where starts.count >= count {
            if chineseFamilyName(at: starts[count - 1]) != nil { return starts[count - 1] }
        }
        // A family name alone before a title ("王先生"), not the end of a word ("中文老师").
        if familyNameAlone, let last = starts.first, starts.count == 1, chineseFamilyName(at: last) != nil { return last }
        return nil
    }

    /// The start of a Japanese name ending at `end` (before an honorific): the Han characters
    /// before it, one space allowed between family and given name, two to six of them, not
    /// after the honorific prefixes お and ご and not a word for a role.
    func japaneseName(endingAt end: Int) -> Int? {
        if let start = japaneseNameWithKana(endingAt: end) { return start }
        var start = end
        var count = 0
        var spaced = false
        while count < 7 {
            if let (scalar, length) = scalarBefore(start), UncasedScript.han.isLetter(scalar) {
                start -= length
                count += 1
                continue
            }
            let space = spaceBefore(start)
            guard !spaced, count > 0, space > 0, let (scalar, _) = scalarBefore(start - space), UncasedScript.han.isLetter(scalar) else {
                break
            }
            start -= space
            spaced = true
        }
        guard (2...6).contains(count) else { return nil }
        if let (scalar, _) = scalarBefore(start), scalar == "お" || scalar == "ご" || scalar == "御" { return nil }
        let word = String(decoding: text.bytes[start..<end], as: UTF8.self)
        if Self.japaneseRoleWords.contains(word) { return nil }
        return start
    }

    /// A family name in Han letters and a given name written in hiragana before an honorific
    /// ending at `end`, perhaps with a name's last Han letter ("三浦くみ子様", "中村さゆり様"): the
    /// family name one to three letters after a line's start, a space or punctuation, the kana two
    /// or three letters, none of them a particle ("東京駅のみな" is no name).
    func japaneseNameWithKana(endingAt end: Int) -> Int? {
        var k = end
        if let (scalar, length) = scalarBefore(k), "子美恵代江枝奈".unicodeScalars.contains(scalar) { k -= length }
        var kana = 0
        while kana < 4, let (scalar, length) = scalarBefore(k), (0x3041...0x3096).contains(scalar.value) {
            if "のはがをにでともへやか".unicodeScalars.contains(scalar) { return nil }
            k -= length
            kana += 1
        }
        guard (2...3).contains(kana) else { return nil }
        var han = 0
        while han < 4, let (scalar, length) = scalarBefore(k), UncasedScript.han.isLetter(scalar) {
            k -= length
            han += 1
        }
        guard (1...3).contains(han) else { return nil }
        if let (scalar, _) = scalarBefore(k), scalar.properties.isAlphabetic || (0x3040...0x30FF).contains(scalar.value) { return nil }
        return k
    }

    /// The length of the space (ASCII or ideographic) ending at `i`, 0 when there is none.
    func spaceBefore(_ i: Int) -> Int {
        if i >= 1, text[i - 1] == 0x20 { return 1 }
        if i >= 3, text[i - 3] == 0xE3, text[i - 2] == 0x80, text[i - 1] == 0x80 { return 3 }
        return 0
    }

    /// The end of a run of Han characters from `k` with at most one space (ASCII or ideographic)
    /// inside it, and the number of characters.
    func hanRunWithOneSpace(from k: Int) -> (end: Int, count: Int) {
        var (end, count) = letterRun(from: k, script: .han, limit: 6)
        guard count > 0 else { return (end, count) }
        let space = text[end] == 0x20 ? 1 : text.bytes[end...].starts(with: [0xE3, 0x80, 0x80]) ? 3 : 0
        if space > 0 {
            let (more, extra) = letterRun(from: end + space, script: .han, limit: 6 - count)
            if extra > 0 {
                end = more
                count += extra
            }
        }
        return (end, count)
    }
}
