import AssentRedaction
import Testing

/// Postal addresses of the countries people write from (issue 13, part 2): masked whole.
@Suite("Postal addresses")
struct PostalAddressTests {
    static func flagged(_ text: String) -> [String] { flaggedTexts(text, [.address]) }

    @Test(
        "each country's forms, whole",
        arguments: [
            ("send it to 1600 Pennsylvania Avenue NW, Washington, DC 20500", "1600 Pennsylvania Avenue"),
            ("ship to 742 Evergreen Terrace, Apt 4B, Springfield, IL 62704 please", "742 Evergreen Terrace, Apt 4B, Springfield, IL 62704"),
            ("office at 350 Fifth Ave Ste 3300, New York, NY 10118", "350 Fifth Ave Ste 3300, New York, NY 10118"),
            ("mail: P.O. Box 1234, Anchorage, AK 99501", "P.O. Box 1234, Anchorage, AK 99501"),
            ("write to PSC 1234, Box 5678, APO AE 09204", "PSC 1234, Box 5678, APO AE 09204"),
            ("Unit 2050 Box 4190, APO AP 96278 is his", "Unit 2050 Box 4190, APO AP 96278"),
            ("USNS Comfort, FPO AA 34090", "USNS Comfort, FPO AA 34090"),
            ("we live at 10 Downing Street, London SW1A 2AA now", "10 Downing Street, London SW1A 2AA"),
            ("meine Adresse: Hauptstraße 12, 10115 Berlin", "Hauptstraße 12, 10115 Berlin"),
            ("Lieferung an Lindenweg 3a, 80331 München", "Lindenweg 3a, 80331 München"),
            ("j'habite 12 rue de la Paix, 75002 Paris", "12 rue de la Paix, 75002 Paris"),
            ("au 5 allée des Tilleuls, 69003 Lyon", "5 allée des Tilleuls, 69003 Lyon"),
            ("vivo en Calle Mayor 5, 28013 Madrid", "Calle Mayor 5, 28013 Madrid"),
            ("Avenida de América 10, 28028 Madrid", "Avenida de América 10, 28028 Madrid"),
            ("abito in Via Roma 10, 00184 Roma", "Via Roma 10, 00184 Roma"),
            ("Piazza Navona 45, 00186 Roma", "Piazza Navona 45, 00186 Roma"),
            ("ons adres is Keizersgracht 123, 1015 CJ Amsterdam", "Keizersgracht 123, 1015 CJ Amsterdam"),
            ("moro na Rua das Flores, 123 - Centro, São Paulo - SP, 01001-000", "Rua das Flores, 123 - Centro, São Paulo - SP, 01001-000"),
            // Poland (ul./al./pl., NN-NNN), flats after a slash, units after the number, cities of
            // several words, Dutch endings and postcodes without the space, British flats first.
            ("mieszkam przy ul. Miła 40, 90-457 Żory.", "ul. Miła 40, 90-457 Żory"),
            ("al. Jerozolimskie 44/12, 00-024 Warszawa", "al. Jerozolimskie 44/12, 00-024 Warszawa"),
            ("Lieferung: Mühlenweg 21/3, 49528 Bad Iburg", "Mühlenweg 21/3, 49528 Bad Iburg"),
            ("Strada Nuova, 64 Appartamento 37, 73040 Ferrandina", "Strada Nuova, 64 Appartamento 37, 73040 Ferrandina"),
            ("Glorieta de Bilbao 4 Piso 2, 28004 Madrid", "Glorieta de Bilbao 4 Piso 2, 28004 Madrid"),
            ("woon op Thijshof 22, 6930 HD Westervoort", "Thijshof 22, 6930 HD Westervoort"),
            ("Hannahbaan 89, 7221KL Krimpen aan de Lek", "Hannahbaan 89, 7221KL Krimpen aan de Lek"),
            ("Flat 3, Abbey Road, St Johns Wood, NW8 9AY", "Flat 3, Abbey Road, St Johns Wood, NW8 9AY"),
            ("Rua Augusta, 1500, 01304-001 São Paulo", "Rua Augusta, 1500, 01304-001 São Paulo"),
            ("Residencial Aurora, 86010-190 Londrina", "Residencial Aurora, 86010-190 Londrina"),
            ("écrire au rue de la Paix, 75002 Paris", "rue de la Paix, 75002 Paris"),
        ])
    func found(text: String, address: String) {
        #expect(Self.flagged(text).contains(address), "\(Self.flagged(text))")
    }

    @Test(
        "look-alikes stay clean",
        arguments: [
            "the rue of it all", "via the API", "via HTTP 2", "Via Roma is a street", "we went to the plaza yesterday",
            "route 66 config", "the weg function", "Calle is a word", "Unit tests passed", "unit 5 failed", "the ring buffer 3",
            "use the Platz object", "PO Box", "section 12 rue", "avenida de la paz",
            "et al. 2019 found", "see pl. 4", "Flat 5 rates", "Studio 2022 Pro", "Campo 7 is required",
        ])
    func clean(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }

    @Test(
        "the forms of countries beyond issue 13's eight: Nordic and Finnish street endings, their postcodes, types before and after the name, a house number after No. or Nr.",
        arguments: [
            ("Skicka paketet till Trädgårdsgatan 4, 808 33 Kristianstad, tack.", "Trädgårdsgatan 4, 808 33 Kristianstad"),
            ("Jeg bor på Rørmosevej 232, 2837 Fanø.", "Rørmosevej 232, 2837 Fanø"),
            ("osoite Hankasuontie 518, 98021 Sotkamo.", "Hankasuontie 518, 98021 Sotkamo"),
            ("Adresse: Martinsengrenda 14, 1713 Lien", "Martinsengrenda 14, 1713 Lien"),
            ("Livrare la Aleea Gică Dima Nr. 26, Piatra-Neamt", "Aleea Gică Dima Nr. 26"),
            ("Kirim ke Jl. Kutisari Selatan No. 38, Ambon.", "Jl. Kutisari Selatan No. 38"),
            ("adresim Atatürk Cad. No: 15, Kadıköy İstanbul.", "Atatürk Cad. No: 15"),
            ("bydlím Václavské náměstí 12, 110 00 Praha 1.", "Václavské náměstí 12, 110 00 Praha"),
            ("Adresa: Kozarčev vijenac 1, 14711 Jastrebarsko", "Kozarčev vijenac 1, 14711 Jastrebarsko"),
            // No type word and no ending: found by the postcode and city after the house number.
            ("Wir wohnen Unter den Linden 77, 10117 Berlin seit Mai.", "Unter den Linden 77, 10117 Berlin"),
            ("adresa: Jasná I 28, 166 68 Habry", "Jasná I 28, 166 68 Habry"),
            ("na adresu Kráľovské údolie 135, 950 82 Rumince, k rukám", "Kráľovské údolie 135, 950 82 Rumince"),
            ("στη διεύθυνση Μαγκανάρη 70, 21283 Λιβαδιά.", "Μαγκανάρη 70, 21283 Λιβαδιά"),
            // Greece's "ΤΚ" before the postcode; a doubled comma.
            ("στη διεύθυνση Βασαρά 62, ΤΚ 494 09 Μεσολόγγι.", "Βασαρά 62, ΤΚ 494 09 Μεσολόγγι"),
            ("στη διεύθυνση Εμπορείου 68,, 504 05 Χαλκίδα.", "Εμπορείου 68,, 504 05 Χαλκίδα"),
            ("στη διεύθυνση Χιονάδων 78-48, 27924 Λευκάδα.", "Χιονάδων 78-48, 27924 Λευκάδα"),
            // Indonesia: the city, perhaps the province or its code, and the postcode; "Gang" with "No.".
            ("Kirim paket ke Jl. Erlangga No. 83, Tangerang, Banten 15111 atas nama", "Jl. Erlangga No. 83, Tangerang, Banten 15111"),
            ("Kirim ke Gang Sukabumi No. 5, Balikpapan, SB 42642.", "Gang Sukabumi No. 5, Balikpapan, SB 42642"),
            // Initials and acronyms in an Indonesian street's name, before its "No.".
            ("Kirim paket ke Gg. BKR No. 6, Pangkalpinang, BE 30204 atas nama", "Gg. BKR No. 6, Pangkalpinang, BE 30204"),
            ("Kirim ke Jl. PHH. Mustofa No. 3, Parepare.", "Jl. PHH. Mustofa No. 3"),
            ("Alamat: Gang M.T Haryono No. 55, Bandar Lampung", "Gang M.T Haryono No. 55"),
        ] as [(String, String)])
    func beyondIssue13(text: String, address: String) {
        #expect(Self.flagged(text) == [address])
    }

    @Test(
        "Russian, Ukrainian and Greek type words before the name (house numbers after д. or буд., flats after кв.); Chinese roads and their 号; Korean roads after a division",
        arguments: [
            ("Адрес: ул. Ленина, д. 5, кв. 12, Москва", "ул. Ленина, д. 5, кв. 12"),
            ("Доставка: пер. Зеленый, д. 2, 390426", "пер. Зеленый, д. 2, 390426"),
            ("Адреса: вул. Шевченка, буд. 10, Київ", "вул. Шевченка, буд. 10"),
            ("Приходите на просп. Миру 5 завтра", "просп. Миру 5"),
            // The settlement before the street, a building after the house, the six-digit postcode.
            ("адрес: г. Шамары, пер. Ягодный, д. 331 стр. 58, 236713.", "г. Шамары, пер. Ягодный, д. 331 стр. 58, 236713"),
            ("адрес: д. Яр-Сале, ул. Воронежская, д. 6/8 к. 6/3, 514946.", "д. Яр-Сале, ул. Воронежская, д. 6/8 к. 6/3, 514946"),
            (
                "адрес: к. Агинское (Забайк.), алл. Санаторная, д. 579 к. 862, 340367",
                "к. Агинское (Забайк.), алл. Санаторная, д. 579 к. 862, 340367"
            ),
            ("Διεύθυνση: Οδός Αθηνάς 12, 105 54 Αθήνα", "Οδός Αθηνάς 12, 105 54 Αθήνα"),
            ("我住在北京市朝阳区建国路88号3栋2单元501室，欢迎来玩", "北京市朝阳区建国路88号3栋2单元501室"),
            ("地址：上海市浦东新区世纪大道100号5楼", "上海市浦东新区世纪大道100号5楼"),
            // A building named by a letter right after the road, and a postcode after the address.
            ("收件人：孙飞，地址：上海市静县涪城梧州路Y座 722898。", "上海市静县涪城梧州路Y座 722898"),
            ("我住在北京市朝阳区建国路88号 100020，欢迎来玩", "北京市朝阳区建国路88号 100020"),
            ("주소: 서울특별시 강남구 테헤란로 123, 101동 202호 입니다", "서울특별시 강남구 테헤란로 123, 101동 202호"),
            // Roads ending in 거리 and a section's 가, the neighbourhood in brackets after.
            ("주소는 강원특별자치도 고양시 삼성2거리 948 (성수김최리)입니다.", "강원특별자치도 고양시 삼성2거리 948 (성수김최리)"),
            ("주소는 강원특별자치도 천안시 서북구 가락43가 894입니다.", "강원특별자치도 천안시 서북구 가락43가 894"),
            ("주소는 충청북도 청주시 청원구 선릉7길 220-79 (정수이면)입니다.", "충청북도 청주시 청원구 선릉7길 220-79 (정수이면)"),
            // A road ending in 가 after a name, not a number: its number ends there or a copula follows.
            ("배송지: 서울특별시 강남구 논현가 372-70, 감사합니다", "서울특별시 강남구 논현가 372-70"),
            ("주소는 부산광역시 해운대구 논현가 12입니다.", "부산광역시 해운대구 논현가 12"),
        ] as [(String, String)])
    func uncasedAndCyrillicAddresses(text: String, address: String) {
        #expect(Self.flagged(text) == [address], "\(Self.flagged(text))")
    }

    @Test(
        "streets whose type follows the name: Hungarian, Estonian, Latvian, Lithuanian, Slovenian, Azerbaijani, Armenian, Georgian; a Polish ulica before its name still",
        arguments: [
            ("Címünk: Petőfi Sándor utca 12, Szeged", "Petőfi Sándor utca 12"),
            ("Kontor asub Pärnu mnt 22 teisel korrusel", "Pärnu mnt 22"),
            ("Birojs: Brīvības iela 10, Rīga", "Brīvības iela 10"),
            ("Atvykite į Gedimino gatvė 5 rytoj", "Gedimino gatvė 5"),
            ("Pošljite na Slovenska ulica 5 v Mariboru", "Slovenska ulica 5"),
            ("Ünvan: Nizami küçəsi 23, Bakı", "Nizami küçəsi 23"),
            ("Հասցե՝ Աբովյան փողոց 12, Երևան", "Աբովյան փողոց 12"),
            ("მისამართი: რუსთაველის ქ. 5, თბილისი", "რუსთაველის ქ. 5"),
            ("Adres: ulica Długa 5, Gdańsk", "ulica Długa 5"),
        ] as [(String, String)])
    func typesAfterTheName(text: String, address: String) {
        #expect(Self.flagged(text).contains { $0.hasPrefix(address) }, "\(Self.flagged(text))")
    }

    @Test(
        "no address in a number after a word that only looks like a road's (a Korean particle, a Chinese ordinal, English \"gang\")",
        arguments: [
            "학교로 5분 걸려요. 집으로 3시에 가요.", "我有3号问题，第2号选手", "跑道2号", "人行道3号", "и пр. 5 штук", "서울로 3시에 가요",
            "跑道A座很大", "请到3号楼A座开会", "서울시 강남구 친구가 5명 왔어요", "서울시 강남구 아이가 3살이에요", "The gang Members 12 were arrested.",
            "Gang of Four 12 patterns", "Это тупик 5 лет подряд",
        ])
    func notUncasedAddresses(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }

    @Test(
        "words that end like a street or open like one, without an address after them",
        arguments: [
            "Gate 12 closes at 10.", "Stargate 2 was better", "the Strada model 5 is out", "No. 5 on the list: Cad. 3",
            "Windows 10, 12345 Users were affected.", "In 2023, 10000 People came.", "Version 2, 10000 Requests per second.",
            "lines 12, 40000 Errors",
        ])
    func notStreets(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }
}

/// Session 34's address forms, each language's cases in one argument list: a street found by a
/// four-digit postcode (no year), a house number with a two-byte letter or a flat after a slash;
/// Thai (road word, house number before, postcode after), Armenian (from the place down to the
/// street and number), Bengali (a house's number after নং, a four-digit postcode in either digits),
/// Azerbaijani (district or city, typed parts, building and flat).
@Suite("Postal addresses in each country's own form")
struct CountryFormAddressTests {
    @Test(
        "an address in the country's form, whole",
        arguments: [
            ("Pošljite na Mlinska pot 8, 3739 Turnišče, hvala.", "Mlinska pot 8, 3739 Turnišče"),
            ("Novo naselje 6b, 5481 Ljutomer", "Novo naselje 6b, 5481 Ljutomer"),
            ("Адреса: Ленинградска 5б, 61788 Крива Паланка", "Ленинградска 5б, 61788 Крива Паланка"),
            ("Природна 7а/8, 32344 Гевгелија", "Природна 7а/8, 32344 Гевгелија"),
            ("ที่อยู่จัดส่ง: 75 หมู่ 4 ถ.ดุริยพันธุ์ อ.เวียงชัย กรุงเทพมหานคร 88360", "75 หมู่ 4 ถ.ดุริยพันธุ์ อ.เวียงชัย กรุงเทพมหานคร 88360"),
            ("ส่งที่ 83/3 ถ.ขุนดำ คอนสวรรค์ จ.นครราชสีมา 81150 ครับ", "83/3 ถ.ขุนดำ คอนสวรรค์ จ.นครราชสีมา 81150"),
            ("12 ถนนสุขุมวิท เขตวัฒนา กรุงเทพมหานคร 10110", "12 ถนนสุขุมวิท เขตวัฒนา กรุงเทพมหานคร 10110"),
            ("Առաքման հասցեն՝ ք. Արարատ, 3233, Սերգեյ Փարաջանովի 79, բն. 4։ Ստացող՝", "ք. Արարատ, 3233, Սերգեյ Փարաջանովի 79, բն. 4"),
            ("հասցեն՝ գ. Ցամաքասար, Կոտայքի մարզ, 3631, Ազատության 1։", "գ. Ցամաքասար, Կոտայքի մարզ, 3631, Ազատության 1"),
            ("ք. Գավառ, Վրացյան 5", "ք. Գավառ, Վրացյան 5"),
            (
                "ঠিকানা: ষ্টুডিও ১১, বাসা নং ৮১, পুরাতন হরিরামসেন্টার, কেশববাজার, যশোর, ৫৯৯৯",
                "ষ্টুডিও ১১, বাসা নং ৮১, পুরাতন হরিরামসেন্টার, কেশববাজার, যশোর, ৫৯৯৯"
            ),
            ("বাড়ী নং 12, মিরপুর, ঢাকা, 1216", "বাড়ী নং 12, মিরপুর, ঢাকা, 1216"),
            ("Bağlamanı bu ünvana göndərin: Quba rayonu, KAVEROÇKİN küç., b. 4, m. 562", "Quba rayonu, KAVEROÇKİN küç., b. 4, m. 562"),
            ("göndərin: Samux ray., Kolayir kəndi, S.S. AXUNDOV pr.", "Samux ray., Kolayir kəndi, S.S. AXUNDOV pr."),
        ] as [(String, String)])
    func found(text: String, address: String) {
        #expect(PostalAddressTests.flagged(text) == [address], "\(PostalAddressTests.flagged(text))")
    }

    @Test(
        "no address: a year for a postcode, English words on both sides, a road without its house number or postcode, a place without a street and number after it, a number without a postcode, a district without a typed part",
        arguments: [
            "see Volume 2, 2020 Springer", "read Chapter 3, 1984 Orwell", "Version 3, 4096 Bytes", "Windows 10, 2024 Update",
            "ถนนสุขุมวิท ยาว 12345 เมตร", "บ้านเลขที่ 12 ถนนสุขุมวิท กรุงเทพมหานคร", "รถติด 30 นาที ถนนสุขุมวิท",
            "Ես ապրում եմ ք. Երևան, բայց 2020 թվականին", "ք. Երևան, 12 մարդ", "ք. 0010, Երևան 5", "ք. Երևանում 3 օր",
            "রোল নং ৫, ক্লাস তিন", "অর্ডার নং ১২৩৪৫৬, তারিখ ২০২৪", "বাসা নং ৫, ঢাকা, ১২৩৪৫",
            "Mən Quba rayonu, gözəl yerdir.", "Bakı şəhəri, paytaxt, böyükdür", "Şəki şəhəri, 2020-ci il",
        ])
    func notFound(text: String) {
        #expect(PostalAddressTests.flagged(text).isEmpty, "\(PostalAddressTests.flagged(text))")
    }
}
