import XCTest
@testable import Corpus

final class WikitextCleanerTests: XCTestCase {
    let cleaner = WikitextCleaner()

    func testNestedMultilineTemplatesAreRemoved() {
        let text = """
        {{Infobox person
        | name = {{nowrap|Ada {{small|Lovelace}}}}
        | born = {{birth date|1815|12|10}}
        }}
        '''Ada Lovelace'''{{efn|Also {{lang|fr|Ada}}.}} was a mathematician.
        """
        XCTAssertEqual(cleaner.clean(text), "Ada Lovelace was a mathematician.")
    }

    /// Brackets pair up as MediaWiki pairs them; doubled ones left over are markup, not prose
    /// (MediaWiki prints them), so they are dropped and the words kept. Cases from the vi and bn samples.
    func testUnbalancedBracketsLeaveNoMarkup() {
        XCTAssertEqual(cleaner.clean("a {{b c"), "a b c")
        XCTAssertEqual(cleaner.clean("a b}} c"), "a b c")
        // An unclosed link at the end of a list item.
        XCTAssertEqual(cleaner.clean("* [[Lễ truyền tin]] – 9 tháng trước [[Lễ Giáng Sinh|Lễ Giáng sinh\n* [[X]]"),
                       "Lễ truyền tin – 9 tháng trước Lễ Giáng sinh\nX")
        XCTAssertEqual(cleaner.clean("như [[axit béo]], [[axit được hấp thu.\nGan [[và]] khác"), "như axit béo, axit được hấp thu.\nGan và khác")
        // Stray closers.
        XCTAssertEqual(cleaner.clean("từ Km0 - Km 18]], dài 18 km"), "từ Km0 - Km 18, dài 18 km")
        XCTAssertEqual(cleaner.clean("gọi là '']]ranh giới hội tụ]]'' và"), "gọi là ranh giới hội tụ và")
        // A link target cannot span lines, so `]]` on the next line closes nothing.
        XCTAssertEqual(cleaner.clean("[[a\nb]] c"), "a\nb c")
        // Single brackets are text, also where two close at once (pasted LaTeX in the vi sample).
        XCTAssertEqual(cleaner.clean("x [1] {y} z]"), "x [1] {y} z]")
        XCTAssertEqual(cleaner.clean("{\\displaystyle 10^{-18}}"), "{\\displaystyle 10^{-18}}")
    }

    /// MediaWiki renders internal links before external ones: a `]]` inside an external link's
    /// label does not close it, and an external link without `]` on its line is no link.
    func testInternalLinkInsideExternalLinkLabel() {
        XCTAssertEqual(cleaner.clean("[http://x.org Sách của [[Đái Duy Ban]] công ty] sau"), "Sách của Đái Duy Ban công ty sau")
        let open = cleaner.clean("[http://x.org Sách của [[Đái Duy Ban]] công ty,\n2003]")
        XCTAssertFalse(open.contains("[["), open)
        XCTAssertFalse(open.contains("]]"), open)
        XCTAssertTrue(open.contains("Đái Duy Ban công ty,"), open)
    }

    func testTablesAndNestedTablesAreRemoved() {
        let text = """
        Before.
        {| class="wikitable"
        |-
        ! A !! B
        |-
        | {{flag|X}} || inner
        {|
        | nested |}
        |}
        After.
        """
        XCTAssertEqual(cleaner.clean(text), "Before.\nAfter.")
    }

    func testReferencesAndCommentsAreRemoved() {
        let text = #"Fact.<ref name="a">{{cite web|url=http://x|title=}} }}</ref> More<ref name=b /> text<!-- hidden -->.<REF>x</REF>"#
        XCTAssertEqual(cleaner.clean(text), "Fact. More text.")
    }

    func testGalleryMathAndReferencesTagsAreRemoved() {
        let text = "A <math>x^2</math> b.\n<gallery>\nFile:A.jpg|cap\n</gallery>\n<references />\nEnd."
        XCTAssertEqual(cleaner.clean(text), "A b.\nEnd.")
    }

    func testLinksKeepTheirVisibleText() {
        XCTAssertEqual(cleaner.clean("[[Paris]] and [[Paris, Texas|its namesake]] and [[bus]]es"),
                       "Paris and its namesake and buses")
        XCTAssertEqual(cleaner.clean("See [[Help:Contents|help]] or [[:Category:Cats]]."), "See help or Category:Cats.")
        XCTAssertEqual(cleaner.clean("The [[Mercury (planet)|]] orbits."), "The Mercury orbits.")
    }

    func testExternalLinks() {
        XCTAssertEqual(cleaner.clean("Visit [https://example.org the site] or [http://x.org]."), "Visit the site or .")
        XCTAssertEqual(cleaner.clean("Raw https://example.org stays."), "Raw https://example.org stays.")
        XCTAssertEqual(cleaner.clean("A [bracket] stays."), "A [bracket] stays.")
    }

    func testFileCategoryAndInterlanguageLinksAreRemoved() {
        let text = "[[File:A.jpg|thumb|A [[caption]] with [[link|links]]]]Text [[Image:B.png]]here.\n[[Category:Things]]\n[[fr:Chose]]\n[[zh-min-nan:Mi̍h]]"
        XCTAssertEqual(cleaner.clean(text), "Text here.")
    }

    func testLocalisedNamespacesFromSiteInfo() {
        let site = SiteInfo(dbname: "viwiki", namespaces: [0: "", 6: "Tập tin", 14: "Thể loại", 4: "Wikipedia"])
        let vi = WikitextCleaner(namespaces: NamespaceNames(siteInfo: site))
        XCTAssertEqual(vi.clean("Hà Nội[[Tập tin:X.jpg|nhỏ|Hồ]] là [[thủ đô]].\n[[Thể loại:Thủ đô]]\n[[thể_loại:Khác]]"),
                       "Hà Nội là thủ đô.")
        // English canonical names work on every wiki.
        XCTAssertEqual(vi.clean("A[[File:Y.jpg]][[Category:Z]]"), "A")
        // Without the siteinfo, the Vietnamese name is just a link prefix (not hidden).
        XCTAssertEqual(cleaner.clean("[[Tập tin:X.jpg|Hồ]]"), "Hồ")
    }

    func testBoldItalicAndApostrophes() {
        XCTAssertEqual(cleaner.clean("'''Bold''' ''it'' '''''both''''' l''''amour'''"), "Bold it both l'amour")
        XCTAssertEqual(cleaner.clean("O'Neil's"), "O'Neil's")
    }

    func testHeadingsListsAndEmptySections() {
        let text = """
        Intro.
        == History ==
        === Early ===
        * First item
        ** Nested ''item''
        # Numbered
        ; Term : definition
        == See also ==
        == References ==
        {{reflist}}
        """
        XCTAssertEqual(cleaner.clean(text), "Intro.\nHistory\nEarly\nFirst item\nNested item\nNumbered\nTerm : definition")
    }

    func testMagicWordsEntitiesAndWhitespace() {
        let text = "__NOTOC__A&nbsp;&nbsp;b &ndash; c&#160;d &#x41;&amp;&lt;x&gt; &unknown; \t  e\n\n\n__KHÔNGMỤCLỤC__f"
        XCTAssertEqual(cleaner.clean(text), "A b – c d A&<x> &unknown; e\nf")
    }

    func testNowikiContentIsLiteral() {
        XCTAssertEqual(cleaner.clean("Use <nowiki>[[not a link]] {{x}} ''q''</nowiki> here."), "Use [[not a link]] {{x}} ''q'' here.")
    }

    func testHTMLFormattingTagsKeepContent() {
        XCTAssertEqual(cleaner.clean("H<sub>2</sub>O is <span style=\"x\">wet</span>.<br/>Next"), "H2O is wet.\nNext")
        XCTAssertEqual(cleaner.clean("a < b and c > d"), "a < b and c > d")
    }

    func testEmptyParenthesesFromRemovedTemplatesAreDropped() {
        XCTAssertEqual(cleaner.clean("Anarchism ({{IPAc-en|ˈ|æ}}; {{audio|x.ogg}}) is."), "Anarchism is.")
    }

    func testRedirectLikeAndEmptyInput() {
        XCTAssertEqual(cleaner.clean(""), "")
        XCTAssertEqual(cleaner.clean("{{only template}}\n[[Category:X]]"), "")
    }

    func testNonLatinTextPassesThrough() {
        let ja = "'''東京都'''（とうきょうと）は、[[日本]]の[[首都]]である<ref>出典</ref>。"
        XCTAssertEqual(cleaner.clean(ja), "東京都（とうきょうと）は、日本の首都である。")
        let bn = "'''বাংলাদেশ''' দক্ষিণ [[এশিয়া|এশিয়ার]] একটি রাষ্ট্র।"
        XCTAssertEqual(cleaner.clean(bn), "বাংলাদেশ দক্ষিণ এশিয়ার একটি রাষ্ট্র।")
    }

    func testHTMLEntityTableIsComplete() {
        // HTML 4 defines 96 Latin-1 names for U+00A0…U+00FF.
        XCTAssertEqual(HTMLEntities.latin1.count, 96)
        XCTAssertEqual(cleaner.clean("&eacute;&yuml;&Omega;&omega;&sigmaf;&hellip;"), "éÿΩως…")
    }
}

extension WikitextCleanerTests {
    func testRemovedMarkupBetweenQuotesDoesNotMergeQuoteRuns() {
        XCTAssertEqual(cleaner.clean("glucose '''''{{chem|C|6}}''''', sucrose '''{{chem|C|12}}''' etc"), "glucose , sucrose etc")
        XCTAssertEqual(cleaner.clean("''word''<nowiki/>'s"), "word's")
    }

    func testCodeIsFormattingNotLiteral() {
        XCTAssertEqual(cleaner.clean("<code>A '''&amp;&amp;''' B</code>"), "A && B")
        XCTAssertEqual(cleaner.clean("<pre>x '''y'''</pre>"), "x '''y'''")
    }
}

extension WikitextCleanerTests {
    func testLinkCaptionsWithStrayOrExternalBrackets() {
        XCTAssertEqual(cleaner.clean("A[[File:X.jpg|thumb|[stray caption]]B"), "AB")
        XCTAssertEqual(cleaner.clean("A[[File:X.jpg|thumb|see [http://x.org site]]]B"), "AB")
        XCTAssertEqual(cleaner.clean("[[Target|label with [http://x.org ext]]] end"), "label with ext end")
    }
}

extension WikitextCleanerTests {
    func testTextWrappingTemplatesKeepTheirText() {
        XCTAssertEqual(cleaner.clean("from the Greek {{lang|grc|ἀναρχία}}, i.e."), "from the Greek ἀναρχία, i.e.")
        XCTAssertEqual(cleaner.clean("{{lang-fr|la {{small|belle}}}} and {{nowrap|5 km}}"), "la belle and 5 km")
        XCTAssertEqual(cleaner.clean("{{lang|fr|italic=no|texte}}"), "texte")
        XCTAssertEqual(cleaner.clean("{{cite web|url=x|title=y}}{{lang}}{{lang|fr}}"), "")
    }
}
