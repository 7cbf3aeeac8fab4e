import Foundation

// Sizes and SHA-256 hashes below were computed once from the reference copies of these files
// that the project keeps beside the repository for development (described in its data
// SOURCES.md); the URLs are the canonical public locations listed there. The vi/ja/bn
// Wikipedia samples are published as `.xz` (ssvb/xztextfilter test files) and kept here as
// the same XML recompressed with `zstd -19`: their content hashes are of the decompressed XML.

extension DataCatalog {
    /// The data sets the tool fetches by name.
    public static let standard = DataCatalog(dataSets: [
        DataSet(
            name: "xquad",
            summary: "XQuAD: 1190 SQuAD v1.1 questions in 12 languages (google-deepmind/xquad, CC BY-SA 4.0)",
            directory: "xquad",
            files: [
                DataFile(name: "xquad.ar.json", size: 1582988,
                         sha256: "abdabd7afed5c635d99cca0f3f0d0c9d9ed0bc77451e963c2e4e0638c29e486d",
                         source: xquadURL("ar")),
                DataFile(name: "xquad.de.json", size: 669810,
                         sha256: "990b5d746746ed65ed4702ea5f35f99ffa4e2f1c390c07d003642acd937916f9",
                         source: xquadURL("de")),
                DataFile(name: "xquad.el.json", size: 1918889,
                         sha256: "821cf0f88e73fa258fd2f548b19b6ec39f7025059e16f6f9fc8cd797c9c3663e",
                         source: xquadURL("el")),
                DataFile(name: "xquad.en.json", size: 609383,
                         sha256: "e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29",
                         source: xquadURL("en")),
                DataFile(name: "xquad.es.json", size: 684322,
                         sha256: "dcbae93ec3a9f4b9e78fd834a171d6f96c1a875e10e15b7530b7e4ef4971e37e",
                         source: xquadURL("es")),
                DataFile(name: "xquad.hi.json", size: 1680538,
                         sha256: "df2cce3532b37e9beb8979704b5c9a4bf874358f105395a298b89427b43b9d24",
                         source: xquadURL("hi")),
                DataFile(name: "xquad.ro.json", size: 661158,
                         sha256: "94f8d54e93ad2b7dd2e76dd921a666b5b8eff2d4379df9f179c42b445f09643f",
                         source: xquadURL("ro")),
                DataFile(name: "xquad.ru.json", size: 1896368,
                         sha256: "208d5b1aa154c52b1b5c5eda16281e455e8fd198cdb9af3f469f0d6037d973bf",
                         source: xquadURL("ru")),
                DataFile(name: "xquad.th.json", size: 1809143,
                         sha256: "5cdda11d0e1e075f7872abf4e6ae830388ce7f617964d542308e9ae4257e0f43",
                         source: xquadURL("th")),
                DataFile(name: "xquad.tr.json", size: 729506,
                         sha256: "92179a564774b7696100d144c1e10870d0a966b6fccbdd254a65b9d2ab1971cc",
                         source: xquadURL("tr")),
                DataFile(name: "xquad.vi.json", size: 911401,
                         sha256: "f619a1eb11fb42d3ab0834259e488a65f585447ef6154437bfb7199d85161a04",
                         source: xquadURL("vi")),
                DataFile(name: "xquad.zh.json", size: 808652,
                         sha256: "691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835",
                         source: xquadURL("zh")),
            ],
            resolvesToDirectory: true
        ),
        DataSet(
            name: "mgsm",
            summary: "MGSM: 250 grade-school math problems in 11 languages (google-research/url-nlp, CC BY 4.0)",
            directory: "mgsm",
            files: [
                DataFile(name: "mgsm_bn.tsv", size: 156684,
                         sha256: "6b00bc7cc635547e866989284afa924d789b5affa2eb8de623c385dd943ad977",
                         source: mgsmURL("bn")),
                DataFile(name: "mgsm_de.tsv", size: 69640,
                         sha256: "4dfea30fede44b813e2e496f5f0534049e83c7cc8aed6e00600b30ec62053626",
                         source: mgsmURL("de")),
                DataFile(name: "mgsm_en.tsv", size: 61299,
                         sha256: "50021d0f28cc957edcb44e7806425b1c7fbd648ddcb9e0a8ec689d10e57d40fa",
                         source: mgsmURL("en")),
                DataFile(name: "mgsm_es.tsv", size: 66896,
                         sha256: "5bd27ebdf00140cec845c5298dc17715f5cd57d8edda6df1976db40bf3f0750a",
                         source: mgsmURL("es")),
                DataFile(name: "mgsm_fr.tsv", size: 69141,
                         sha256: "36207c1c03fd7cd3ea491441eb755408199f94e4a647851df531bbaedc99d606",
                         source: mgsmURL("fr")),
                DataFile(name: "mgsm_ja.tsv", size: 81043,
                         sha256: "59a2b50debe77981fd784cb3b2bef1505e3abf2a37116dc9d7a366ab029b4637",
                         source: mgsmURL("ja")),
                DataFile(name: "mgsm_ru.tsv", size: 110953,
                         sha256: "6bd30fd2e80c5bac23f566fb4ae0e6a55a19578401fbf9a01fb21beb3645fef8",
                         source: mgsmURL("ru")),
                DataFile(name: "mgsm_sw.tsv", size: 67456,
                         sha256: "2bac828d77229e65d7c7197b1ad4a2cb5b1fe99b163f2cbdd66501de6a2115c4",
                         source: mgsmURL("sw")),
                DataFile(name: "mgsm_te.tsv", size: 176547,
                         sha256: "dd6b1452c244bb2e4ba254c01ea84137f80c1cefc57d69c23b0ed88b9c0f36b7",
                         source: mgsmURL("te")),
                DataFile(name: "mgsm_th.tsv", size: 151921,
                         sha256: "f3932dc5ad8e9d0ea82b017adc1e1461dd647af861e7166d6741986602a0cfd6",
                         source: mgsmURL("th")),
                DataFile(name: "mgsm_zh.tsv", size: 57838,
                         sha256: "b2fa63151022370a0de1f4211c8c284eae74b0f5a3b003b1d5982c0d4a73f661",
                         source: mgsmURL("zh")),
            ],
            resolvesToDirectory: true
        ),
        DataSet(
            name: "wiki-en",
            summary: "English Wikipedia pages-articles XML dump, shortened: 206 pages (gensim test data, CC BY-SA)",
            directory: "wiki",
            files: [
                DataFile(name: "enwiki-sample.xml.bz2", size: 1695871,
                         sha256: "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d",
                         source: url("https://raw.githubusercontent.com/piskvorky/gensim/develop/gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")),
            ],
            resolvesToDirectory: false
        ),
        DataSet(
            name: "wiki-vi",
            summary: "Vietnamese Wikipedia dump 2023-05-01, first 100,000 lines: 970 pages (ssvb/xztextfilter, CC BY-SA)",
            directory: "wiki",
            files: [
                DataFile(name: "viwiki-20230501-sample.xml.zst", size: 3327299,
                         sha256: "b77e5b26362cf3417bfc8811404e4bd887f4ac4aa116596383ef3ceda9947300",
                         source: xzSampleURL("vi", commit: "1cab21b37fa96f99a83ab46284bbff2b0dfbb883"),
                         transcoding: .xzToZstd(
                             contentSize: 15278627,
                             contentSHA256: "d9a8d3f9857ca62215d979dc6e634813c519e876fa90403899b3e3ac3f4565f3",
                             level: 19)),
            ],
            resolvesToDirectory: false
        ),
        DataSet(
            name: "wiki-ja",
            summary: "Japanese Wikipedia dump 2023-05-01, first 100,000 lines: 238 pages (ssvb/xztextfilter, CC BY-SA)",
            directory: "wiki",
            files: [
                DataFile(name: "jawiki-20230501-sample.xml.zst", size: 2488726,
                         sha256: "5f3d04bba9829715ce9af1f1d121da15161c8395bbfbd8d429c0e7ba8bad69a9",
                         source: xzSampleURL("ja", commit: "242abcf4a2b740fe772e6ff391f8918b3b9d34bd"),
                         transcoding: .xzToZstd(
                             contentSize: 10234598,
                             contentSHA256: "52bd8078e53d6651002bc6bfb444849e4d7b602dbef93f47fbcadc673cb147dc",
                             level: 19)),
            ],
            resolvesToDirectory: false
        ),
        DataSet(
            name: "wiki-bn",
            summary: "Bengali Wikipedia dump 2023-05-01, first 100,000 lines: 722 pages (ssvb/xztextfilter, CC BY-SA)",
            directory: "wiki",
            files: [
                DataFile(name: "bnwiki-20230501-sample.xml.zst", size: 2901628,
                         sha256: "05e54035e092e3a6307bece85613fe8ae894b1a3d139f85dd23ce709d253d0a2",
                         source: xzSampleURL("bn", commit: "242abcf4a2b740fe772e6ff391f8918b3b9d34bd"),
                         transcoding: .xzToZstd(
                             contentSize: 19460370,
                             contentSHA256: "40d3f9c7e3374e3f46b1be9a0581a4c8540d806174baeffb29ef40850c2ec92c",
                             level: 19)),
            ],
            resolvesToDirectory: false
        ),
        DataSet(
            name: "plnd-en",
            summary: "English corpus for neuron detection: 10,000 OSCAR documents, one per line (DAMO-NLP-SG/multilingual_analysis)",
            directory: "plnd-corpus",
            files: [
                DataFile(name: "english.txt", size: 3264132,
                         sha256: "b739a2214feff9569a06465ac3a3bd273ceeb4036a69d028323ee29b0ed02346",
                         source: url("https://raw.githubusercontent.com/DAMO-NLP-SG/multilingual_analysis/main/neuron_detection/corpus_all/english.txt")),
            ],
            resolvesToDirectory: false
        ),
    ])
}

// The URLs are literals known to be valid, so the fallback is unreachable; it avoids a force-unwrap.
private func url(_ string: String) -> URL {
    URL(string: string) ?? URL(fileURLWithPath: "/")
}

private func xquadURL(_ lang: String) -> URL {
    url("https://raw.githubusercontent.com/google-deepmind/xquad/master/xquad.\(lang).json")
}

private func mgsmURL(_ lang: String) -> URL {
    url("https://raw.githubusercontent.com/google-research/url-nlp/main/mgsm/mgsm_\(lang).tsv")
}

private func xzSampleURL(_ lang: String, commit: String) -> URL {
    url("https://raw.githubusercontent.com/ssvb/xztextfilter/\(commit)/testfiles/\(lang)wiki-truncated-100k.xml.xz")
}
