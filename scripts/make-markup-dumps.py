#!/usr/bin/env python3
"""Writes small MediaWiki export dumps that stress link/template handling on other wikis.

Usage: make-markup-dumps.py OUTDIR [ARTICLES]

One dump per wiki below (German, Russian, French, Turkish namespace names, plus the
English aliases every wiki also accepts), each with ARTICLES (default 200) articles built
deterministically (seed 1) from the cases listed in CASES: localised File/Category/
interlanguage links, nested templates, tables, unbalanced `[[`/`]]` and `{{`/`}}` (unclosed at
the end of a line or page, stray closers, a link target broken by a line break), external
links whose label holds an internal link, and `<nowiki>`. Used by docs/corpus.md to compare
the share of articles with markup residue (scripts/corpus-residue.py) with WikiExtractor.
"""
import os, random, sys
from xml.sax.saxutils import escape

WIKIS = {
    "de": {"file": "Datei", "category": "Kategorie", "template": "Vorlage", "words":
           "Die Stadt liegt am Fluss und hat eine lange Geschichte mit vielen Kirchen Brücken und Märkten".split()},
    "ru": {"file": "Файл", "category": "Категория", "template": "Шаблон", "words":
           "Город расположен на реке и имеет долгую историю с многими церквями мостами и рынками".split()},
    "fr": {"file": "Fichier", "category": "Catégorie", "template": "Modèle", "words":
           "La ville se trouve sur le fleuve et possède une longue histoire avec des églises des ponts et des marchés".split()},
    "tr": {"file": "Dosya", "category": "Kategori", "template": "Şablon", "words":
           "Şehir nehrin kıyısında yer alır ve kiliseleri köprüleri ve pazarlarıyla uzun bir tarihe sahiptir".split()},
}

def sentence(rng, w, n=12):
    return " ".join(rng.choice(w["words"]) for _ in range(n))

def link(rng, w):
    a = rng.choice(w["words"])
    return f"[[{a}]]" if rng.random() < 0.5 else f"[[{a} ({rng.choice(w['words'])})|{a}]]"

# Each case returns one paragraph of wikitext.
CASES = [
    lambda r, w: f"{sentence(r, w)} {link(r, w)} {sentence(r, w, 6)}.",
    lambda r, w: f"[[{w['file']}:Bild {r.randint(1, 99)}.jpg|mini|{sentence(r, w, 4)} {link(r, w)}]]{sentence(r, w)}.",
    lambda r, w: f"[[File:Pic{r.randint(1, 99)}.png|thumb|upright=1.2|{sentence(r, w, 3)} [[{w['category']}:X]]]] {sentence(r, w)}.",
    lambda r, w: f"{sentence(r, w)}{{{{Infobox|name={sentence(r, w, 2)}|map={{{{Karte|{r.random():.3f}|{{{{coord|1|2}}}}}}}}}}}} {sentence(r, w, 5)}.",
    lambda r, w: f"{sentence(r, w)} {{{{lang|en|{sentence(r, w, 2)}}}}} {sentence(r, w, 4)}.",
    lambda r, w: "{| class=\"wikitable\"\n|-\n| " + sentence(r, w, 3) + " || {{flag|X}}\n|}\n" + sentence(r, w) + ".",
    # Unbalanced: unclosed link at the end of a list item / line.
    lambda r, w: f"* {link(r, w)} – {sentence(r, w, 5)} [[{r.choice(w['words'])}|{sentence(r, w, 2)}\n* {link(r, w)}",
    lambda r, w: f"{sentence(r, w, 6)}, [[{sentence(r, w, 3)}.\n{sentence(r, w)} {link(r, w)}.",
    # Stray closers.
    lambda r, w: f"{sentence(r, w, 6)} Km 18]], {sentence(r, w, 5)}.",
    lambda r, w: f"{sentence(r, w, 6)} '']]{r.choice(w['words'])} {r.choice(w['words'])}]]'' {sentence(r, w, 4)}.",
    lambda r, w: f"{sentence(r, w, 6)}}}}} {sentence(r, w, 4)}.",
    # Unclosed template at the end of a line (MediaWiki shows it literally).
    lambda r, w: f"{sentence(r, w, 6)} {{{{{r.choice(w['words'])}|{sentence(r, w, 2)}\n{sentence(r, w)}.",
    # Link target broken by a line break.
    lambda r, w: f"{sentence(r, w, 4)} [[{r.choice(w['words'])}\n{r.choice(w['words'])}]] {sentence(r, w, 4)}.",
    # External link whose label holds an internal link, closed and unclosed.
    lambda r, w: f"* [http://example.org/{r.randint(1, 999)} {sentence(r, w, 3)} {link(r, w)} {sentence(r, w, 2)}] {sentence(r, w, 3)}",
    lambda r, w: f"* [http://example.org/{r.randint(1, 999)} {sentence(r, w, 3)} {link(r, w)} {sentence(r, w, 2)},\n{sentence(r, w, 3)}]",
    # Interlanguage and category links in the localised and English names.
    lambda r, w: f"{sentence(r, w)}.\n[[{w['category']}:{r.choice(w['words'])}]]\n[[Category:{r.choice(w['words'])}]]\n[[en:{r.choice(w['words'])}]]",
    # nowiki keeps markup literal on purpose (MediaWiki shows it; both tools should).
    lambda r, w: f"{sentence(r, w, 5)} <nowiki>[x]</nowiki> {sentence(r, w, 3)}.",
    # Nested template inside a link label, and a link inside a template argument.
    lambda r, w: f"{sentence(r, w, 4)} [[{r.choice(w['words'])}|{r.choice(w['words'])} {{{{small|{r.choice(w['words'])}}}}}]] {sentence(r, w, 3)}.",
    lambda r, w: f"{sentence(r, w, 4)} {{{{nowrap|{link(r, w)} {r.choice(w['words'])}}}}} {sentence(r, w, 3)}.",
]

def dump(lang, w, n, rng):
    ns = [(-2, "Media"), (-1, "Special"), (0, ""), (6, w["file"]), (10, w["template"]), (14, w["category"])]
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="%s">' % lang,
           "  <siteinfo>", f"    <sitename>Wikipedia</sitename>", f"    <dbname>{lang}wiki</dbname>",
           "    <base>https://%s.wikipedia.org/wiki/Main</base>" % lang, "    <case>first-letter</case>", "    <namespaces>"]
    for k, name in ns:
        out.append(f'      <namespace key="{k}" case="first-letter">{escape(name)}</namespace>' if name
                   else f'      <namespace key="{k}" case="first-letter" />')
    out += ["    </namespaces>", "  </siteinfo>"]
    for i in range(n):
        paras = [CASES[rng.randrange(len(CASES))](rng, w) for _ in range(rng.randint(3, 8))]
        # Every article starts with a plain paragraph so that none is empty after cleaning.
        text = sentence(rng, w, 20) + ".\n\n" + "\n\n".join(paras)
        # A few pages end inside an unclosed link or template.
        if i % 17 == 0:
            text += "\n\n" + sentence(rng, w, 5) + " [[" + rng.choice(w["words"])
        if i % 19 == 0:
            text += "\n\n" + sentence(rng, w, 5) + " {{" + rng.choice(w["words"]) + "|"
        out += ["  <page>", f"    <title>{lang} {i}</title>", "    <ns>0</ns>", f"    <id>{i + 1}</id>",
                "    <revision>", f"      <id>{i + 1000}</id>", "      <model>wikitext</model>", "      <format>text/x-wiki</format>",
                f'      <text bytes="{len(text.encode())}" xml:space="preserve">{escape(text)}</text>', "    </revision>", "  </page>"]
    out.append("</mediawiki>")
    return "\n".join(out) + "\n"

def main():
    outdir = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    os.makedirs(outdir, exist_ok=True)
    for lang, w in WIKIS.items():
        rng = random.Random(f"1-{lang}")
        with open(os.path.join(outdir, f"{lang}wiki-markup.xml"), "w", encoding="utf-8") as f:
            f.write(dump(lang, w, n, rng))

main()
