import AssentRedaction
import Testing

/// Phone numbers of every country (issue 13, part 1), validated against libphonenumber's plans.
@Suite("Phone numbers")
struct PhoneTests {
    static func flagged(_ text: String) -> [String] { flaggedTexts(text, [.phone]) }

    @Test(
        "international and national forms of many countries",
        arguments: [
            ("ruf mich an: +49 30 12345678", "+49 30 12345678"),
            ("Handy +49 (0)151 2345 6789 bitte", "+49 (0)151 2345 6789"),
            ("Tel. 030 1234 5678", "030 1234 5678"),
            ("Mobil: 0151/23456789", "0151/23456789"),
            ("appelez le 06 12 34 56 78 ce soir", "06 12 34 56 78"),
            ("mon portable 06.12.34.56.78", "06.12.34.56.78"),
            ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
            ("llamó desde el +34 612 34 56 78", "+34 612 34 56 78"),
            // Countries dialled with no trunk prefix, grouped, after a phone word.
            ("móvil 612 345 678 pero", "612 345 678"), ("Mój numer to 514 178 800.", "514 178 800"),
            ("el meu telèfon és 612 44 88 44.", "612 44 88 44"),
            ("ligou do 31 2277-5152 ontem", "31 2277-5152"), ("Tel. (06869) 116889", "(06869) 116889"),
            ("call +44(0)113 496 0654", "+44(0)113 496 0654"), ("- primary: Ann Lee (0113 496 0435)", "0113 496 0435"),
            ("Kontakt: 536 564 288.", "536 564 288"),
            // A bare number under a column headed by a phone word (CSV, Markdown tables).
            ("id,name,email,phone\n7,Ann Lee,ann@example.org,03620449508\n", "03620449508"),
            ("| Name | Phone | City |\n| --- | --- | --- |\n| Ann | 536 564 288 | x |\n", "536 564 288"),
            ("dal +393883659411: il", "+393883659411"),
            ("chiama il +39 06 6982 1234", "+39 06 6982 1234"),
            ("bel me op 06-12345678", "06-12345678"),
            ("+31 20 123 4567", "+31 20 123 4567"),
            ("ligue para (11) 91234-5678", "(11) 91234-5678"),
            ("+55 11 91234-5678", "+55 11 91234-5678"),
            ("call 020 7946 0958 today", "020 7946 0958"),
            ("+44 20 7946 0958", "+44 20 7946 0958"),
            ("dial 0049 89 1234567", "0049 89 1234567"),
            ("WhatsApp 4917612345678", "4917612345678"),
            ("call me at (415) 555-0132", "(415) 555-0132"),
            ("+1 415 555 0132", "+1 415 555 0132"),
            ("+81 3-1234-5678", "+81 3-1234-5678"),
            ("+91 98765 43210", "+91 98765 43210"),
        ] as [(String, String?)])
    func found(text: String, number: String?) {
        #expect(Self.flagged(text) == (number.map { [$0] } ?? []), "\(Self.flagged(text))")
    }

    @Test(
        "numbers that are not phone numbers",
        arguments: [
            "order 4917612345678 shipped", "version 1.2.3.4567", "on 01.02.2025 at 10:30", "invoice 0123 4567", "+12 34",
            "+999 1234 5678 9", "id 12345678901", "2025-09-01", "ISBN 978-3-16-148410-0", "total 0.50 / 1.25", "+49 123",
            // "tel" inside a word is no phone word; a bare order number stays.
            "mailen over bestelling 447543721?", "hotel booking 612345678", "f(0113 496 0435, x)",
            "order,phone_verified\n612345678,yes\n", "phone\n\nid,total\n612345678,3\n",
        ])
    func notPhones(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }

    @Test(
        "after phone words of the languages beyond issue 13's, in their scripts; Chinese, Japanese and Korean words inside their runs",
        arguments: [
            ("我叫王伟，电话 138 0013 8000，谢谢", "138 0013 8000"),
            ("我的手机13800138000", "13800138000"),
            ("Jeg bor her, mit nummer er 20 12 34 56.", "20 12 34 56"),
            ("Nama saya Budi, nomor HP 0812-3456-7890.", "0812-3456-7890"),
            ("Мой телефон 8 912 345-67-89", "8 912 345-67-89"),
            ("Olen Mikko, puhelin 040 123 4567.", "040 123 4567"),
            ("τηλέφωνο 694 123 4567", "694 123 4567"),
            ("Tôi là An, số điện thoại 0912 345 678.", "0912 345 678"),
            ("du når mig på 070-108 10 97 eller", "070-108 10 97"), ("ring 08-123 456 78", "08-123 456 78"),
            // Latvian's "tālrunis" as JSON keys write it, without the macron.
            (#"{"talrunis": "21 398 550"}"#, "21 398 550"),
        ] as [(String, String)])
    func beyondIssue13(text: String, number: String) {
        #expect(Self.flagged(text) == [number])
    }

    @Test(
        "dates stay dates (a four-digit first group not starting with 0, joined by hyphens), order numbers after a word that only means number stay order numbers",
        arguments: [
            "2024-1234-5678 was the ticket", "Tel. 2024-11-05", "تم شحن الطلب رقم 641960859 بتاريخ 2024-05-09",
            "Mention order 763669174, WA 29472",
            // A three-letter phone word at the start of a longer one ("tel" in "tellimus", "order").
            "Teie tellimus 740813848 on teel.", "I was telling 123456789 people", "the smsc 123456789",
        ])
    func datesStay(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }

    @Test(
        "forms the sweep of every numbering plan found missed: words in brackets after the number, a one-digit area code in brackets, the area code apart by a hyphen and the rest by spaces, four and four digits joined by a hyphen",
        arguments: [
            ("call 050-234-0682 (mobile) after five", "050-234-0682"),
            ("Phone: (02) 9123 4567 (office)", "(02) 9123 4567"),
            ("Telefon: (01) 234 78 11", "(01) 234 78 11"),
            ("Phone: 012-345 7847", "012-345 7847"),
            ("Teléfono: 9123-1398", "9123-1398"),
        ] as [(String, String)])
    func formsOfEveryPlan(text: String, number: String) {
        #expect(Self.flagged(text) == [number], "\(Self.flagged(text))")
    }

    @Test(
        "phones in the fifth languages set's countries: a phone word read 32 characters back (not bytes), Belarus's 8 0…, Somalia's one-digit first group",
        arguments: [
            // Burmese and Khmer: the phone word 34 and 67 bytes before the number.
            ("ကျွန်တော့်ဖုန်းနံပါတ် 09 251 7788 ပါ။", "09 251 7788"), ("ខ្ញុំមានលេខទូរស័ព្ទរបស់ខ្ញុំគឺ 012 345 678។", "012 345 678"),
            ("Утасны дугаар: 9911 2233", "9911 2233"), ("Тэлефон: 8 044 712-34-56", "8 044 712-34-56"),
            ("mob. 8 029 491-19-11", "8 029 491-19-11"), ("Telefoonkayga waa 7 1234567.", "7 1234567"),
            ("my selfoon: 082 555 1234", "082 555 1234"),
        ] as [(String, String)])
    func fifthSetPhones(text: String, number: String) {
        #expect(Self.flagged(text) == [number], "\(Self.flagged(text))")
    }

    @Test(
        "no phone in these: a number after \"number\" alone, a code, a date",
        arguments: [
            "លេខកូដ 012 345 678", "ကုဒ်နံပါတ် 09 251 7788", "Захиалгын дугаар 9911 2233", "Order 7 1234567 shipped",
            "8 029 1234 5678 9012",
        ])
    func fifthSetNotPhones(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }

    @Test(
        "Lithuania's trunk prefix and area or operator code in brackets: (8-610) 76620, (0-610) 76620, (8-5) 212 3456",
        arguments: [
            ("Skambinkite (0-610) 76620 vakare.", "(0-610) 76620"), ("Tel. (8-610) 76620", "(8-610) 76620"),
            ("Mano numeris (8-5) 212 3456.", "(8-5) 212 3456"), ("(8-37) 123-456, Kaunas", "(8-37) 123-456"),
        ] as [(String, String)])
    func lithuanianTrunkInBrackets(text: String, number: String) {
        #expect(Self.flagged(text) == [number], "\(Self.flagged(text))")
    }

    @Test(
        "no Lithuanian phone in these: a range in brackets, too few or too many digits, another plan's digits",
        arguments: ["scores (8-10) 12345 today", "pages (0-61) 7662", "(8-610) 766201234 units", "(0-999) 99999 ids"])
    func notLithuanianTrunkInBrackets(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }

    @Test("a three-letter phone word on its own still says a phone", arguments: ["tel 5123 4567", "Tel: 5123 4567", "sms 512345678"])
    func shortPhoneWords(text: String) {
        #expect(!Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }
}

@Suite("Phone numbers of seven digits")
struct SevenDigitPhoneTests {
    @Test(
        "seven digits just after a phone word or under a phone column: Iceland's numbers, Estonia's fixed lines",
        arguments: [
            ("Sími: 581 2345", "581 2345"), ("Síminn minn er 862 1234.", "862 1234"), ("tel. 612 3456", "612 3456"),
            ("Phone: 5812345", "5812345"), ("Phone: 581-2345 (home)", "581-2345"), ("name,phone\nJón,581 2345", "581 2345"),
        ] as [(String, String)])
    func found(text: String, number: String) {
        #expect(PhoneTests.flagged(text) == [number], "\(PhoneTests.flagged(text))")
    }

    @Test(
        "seven digits without a phone word just before, of no plan, in brackets, dots or groups of one, the tail of a longer number, or fewer: not phones",
        arguments: [
            "Order 5812345 shipped", "Sími: 581 2345".replacingOccurrences(of: "Sími", with: "Pöntun"),
            "Phone: see the desk, ticket 5812345", "Sími: 000 0000", "Phone: (58) 12345", "Phone: 581.2345",
            "Phone: 5 8 1 2 3 4 5", "tel: 581234", "the tellimus 612 3456", "name,order\nJón,581 2345",
            // Seven digits right after other digits are not read on their own.
            "Phone 1) 581 2345", "Phone: 12/05 581 2345",
        ])
    func notFound(text: String) {
        #expect(PhoneTests.flagged(text).isEmpty, "\(PhoneTests.flagged(text))")
    }
}
