#!/usr/bin/env python3
"""Generate sitrep's trigger and cue lexicons from lexical resources.

Reads `config/lexicon-sources.toml` (which senses, classes and blocks to take for each
development frame and each status-cue class, what to add, what was rejected on review) and
the resources it names, and writes:

  config/triggers.toml   every trigger of every frame: verbs with their inflections,
                         phrasal and light verbs (verb forms + the words after them),
                         nouns with their plurals; each entry lists its sources
  config/cue-words.toml  status-cue verbs by class (begin, continue, stop, complete,
                         cancel, deny, plan, request, report), inflected, with sources
  config/irregular-forms.tsv  every one-word inflected form WordNet lists for a verb or
                         noun (went, shot, mice) with its lemma, for lemmatizing heads
  config/word-classes.tsv  every one-word WordNet noun (singular and plural) with the
                         class of its first sense (its lexicographer file: person, group,
                         artifact, communication, act, ...), or `military` when one of its
                         first two senses falls under the roots `[classes]` names

Usage:
  scripts/gen-lexicon.py [--lexicon DIR] [--sources FILE] [--out-dir DIR] [--check]

DIR defaults to ../shared/data/lexicon beside the checkout. --check regenerates in memory
and exits 1 when the committed files differ (nothing is written).

Resources (each folder has its SOURCE.md and license):
  propbank-frames/frames/*.xml          roleset aliases (v, n, l = light verb)
  verbnet/verbnet3.4/*.xml              class members
  open-english-wordnet/src/yaml/        synset members, irregular forms, event nouns
  petrarch2-cameo/dictionaries/CAMEO.2.0.txt   verb blocks with phrasal and irregular forms
"""

import argparse
import glob
import os
import re
import sys
import tomllib
import xml.etree.ElementTree as ET

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Particles and prepositions that make a verb phrasal ("pull out", "hand over", "call off").
PARTICLES = {"out", "over", "back", "off", "up", "down", "in", "on", "away", "into", "for",
             "with", "free", "effect", "talks", "troops", "police", "the", "plug", "hold",
             "ice"}
# Words that, after a verb, make a phrasal verb rather than an idiom ("meet up with").
PREPOSITIONS = {"to", "of", "at", "from", "about", "against", "through", "across", "by",
                "under", "around", "along", "upon", "onto", "out"}


# ---------------------------------------------------------------- resources

class WordNet:
    """Open English WordNet: lemma -> pos -> {forms, senses}; synset id -> members; noun
    synset id -> (lexicographer file, hypernyms)."""

    def __init__(self, root):
        self.entries = {}
        self.members = {}
        self.nouns = {}
        yroot = os.path.join(root, "open-english-wordnet", "src", "yaml")
        cache = os.path.join(os.environ.get("TMPDIR", "/tmp"), "sitrep-oewn-cache.pickle")
        data = None
        try:
            import pickle
            if os.path.exists(cache) and os.path.getmtime(cache) > os.path.getmtime(yroot):
                with open(cache, "rb") as f:
                    data = pickle.load(f)
        except Exception:
            data = None
        if data is None:
            data = {"entries": {}, "nouns": {}}
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            for path in sorted(glob.glob(os.path.join(yroot, "entries-*.yaml"))):
                with open(path, encoding="utf-8") as f:
                    data["entries"].update(yaml.load(f, Loader=loader))
            for path in sorted(glob.glob(os.path.join(yroot, "noun.*.yaml"))):
                lexfile = os.path.basename(path)[len("noun."):-len(".yaml")]
                with open(path, encoding="utf-8") as f:
                    for sid, syn in yaml.load(f, Loader=loader).items():
                        data["nouns"][sid] = (lexfile, list(syn.get("hypernym") or [])
                                              + list(syn.get("instance_hypernym") or []))
            try:
                import pickle
                with open(cache, "wb") as f:
                    pickle.dump(data, f)
            except OSError:
                pass
        self.entries = data["entries"]
        self.nouns = data["nouns"]
        for lemma, by_pos in self.entries.items():
            for pos, e in (by_pos or {}).items():
                for s in e.get("sense", []) or []:
                    self.members.setdefault(s["synset"], []).append((lemma, pos))

    def forms(self, lemma, pos):
        e = (self.entries.get(lemma) or {}).get(pos) or {}
        return list(e.get("form") or [])

    def senses(self, lemma, pos):
        e = (self.entries.get(lemma) or {}).get(pos) or {}
        return list(e.get("sense") or [])

    def synset(self, spec):
        """`lemma.pos.N` -> (synset id, members)."""
        lemma, pos, n = spec.rsplit(".", 2)
        senses = self.senses(lemma.replace("_", " "), pos)
        if not senses:
            senses = self.senses(lemma, pos)
        sid = senses[int(n) - 1]["synset"]
        return sid, self.members.get(sid, [])

    def idioms(self, lemma, triggers):
        """Fixed phrases WordNet lists as verbs that begin with `lemma` and go on with at
        least two words that are not all particles ("pull out all the stops", "strike a
        chord"): the trigger's words in another meaning. Trigger lemmas are not idioms."""
        if not hasattr(self, "_by_first"):
            self._by_first = {}
            for name, by_pos in self.entries.items():
                if " " in name and "v" in (by_pos or {}):
                    self._by_first.setdefault(name.split()[0], []).append(name)
        words = lemma.split()
        out = []
        for name in self._by_first.get(words[0], []):
            rest = name.split()[len(words):]
            if (name.split()[:len(words)] == words and len(rest) >= 2
                    and not all(w in PARTICLES or w in PREPOSITIONS for w in rest)
                    and name not in triggers):
                out.append(name)
        return sorted(out)

    def event_nouns(self, verb):
        """Nouns WordNet derives from the verb's senses that name an act or event."""
        out = set()
        for s in self.senses(verb, "v"):
            for key in (s.get("derivation") or []) + (s.get("event") or []):
                m = re.match(r"(.+)%1:(\d\d):", key)
                if m and m.group(2) in ("04", "11"):  # noun.act, noun.event
                    out.add(m.group(1).replace("_", " "))
        return sorted(out)


def word_classes(wn, spec):
    """word -> class: `military` under the configured roots, else the lexicographer file
    of the word's first noun sense."""
    roots = set()
    for lemma in spec.get("military", []):
        for s in wn.senses(lemma, "n"):
            roots.add(s["synset"])
    under = {}

    def military(sid, depth=0):
        if sid in under:
            return under[sid]
        under[sid] = False  # cycles
        hit = sid in roots or (depth < 30 and any(
            military(h, depth + 1) for h in wn.nouns.get(sid, ("", []))[1]))
        under[sid] = hit
        return hit

    out = {}
    for lemma, by_pos in wn.entries.items():
        if not re.fullmatch(r"[a-z][a-z-]*[a-z]", lemma or ""):
            continue
        senses = ((by_pos or {}).get("n") or {}).get("sense") or []
        if not senses:
            continue
        first = senses[0]["synset"]
        cls = wn.nouns.get(first, ("", []))[0]
        if any(military(s["synset"]) for s in senses[:2]) or lemma in spec.get("military_words", []):
            cls = "military"
        if not cls or cls in spec.get("skip", []):
            continue
        for form in {lemma, plural(lemma)} | set((by_pos.get("n") or {}).get("form") or []):
            out.setdefault(form, cls)
    for w in spec.get("military_words", []):
        out[w] = "military"
    return out


def propbank_aliases(root, roleset):
    """(pos, lemma) aliases of a PropBank roleset; pos v, n or l (light verb)."""
    lemma = roleset.rsplit(".", 1)[0]
    path = os.path.join(root, "propbank-frames", "frames", lemma.split("_")[0] + ".xml")
    tree = ET.parse(path)
    for rs in tree.iter("roleset"):
        if rs.get("id") == roleset:
            return [(a.get("pos"), a.text.strip()) for a in rs.iter("alias")]
    raise SystemExit(f"PropBank roleset {roleset} not found in {path}")


def verbnet_members(root, cls):
    path = os.path.join(root, "verbnet", "verbnet3.4", cls + ".xml")
    tree = ET.parse(path)
    return sorted({m.get("name") for m in tree.iter("MEMBER")})


def cameo_blocks(root):
    """CAMEO verb blocks: name -> [(lemma, [irregular forms])]."""
    path = os.path.join(root, "petrarch2-cameo", "dictionaries", "CAMEO.2.0.txt")
    blocks, current = {}, None
    with open(path, encoding="latin-1") as f:
        for line in f:
            m = re.match(r"^---\s+(\S+)\s+\[", line)
            if m:
                current = blocks.setdefault(m.group(1), [])
                continue
            if current is None or not line.strip() or line.startswith(("-", "#", "&")):
                if line.startswith("-"):
                    current = None
                continue
            text = line.split("#")[0].split(";")[0]
            forms = re.findall(r"\{([^}]*)\}", text)
            head = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", text).strip()
            if not head:
                continue
            lemma = head.lstrip("+").replace("_", " ").lower()
            irregular = [w.lstrip("+").replace("_", " ").lower() for w in
                         (forms[0].split() if forms else [])]
            current.append((lemma, irregular))
    return blocks


# ---------------------------------------------------------------- morphology

VOWELS = set("aeiou")


def third_person(v):
    if re.search(r"(s|x|z|ch|sh)$", v):
        return v + "es"
    if re.search(r"[^aeiou]y$", v):
        return v[:-1] + "ies"
    return v + "s"


def doubles(v):
    """Consonant doubling before -ed/-ing for one-syllable CVC verbs (stop, plan, ship)."""
    return (len(v) >= 3 and v[-1] not in VOWELS | set("wxy") and v[-2] in VOWELS
            and v[-3] not in VOWELS and sum(c in VOWELS for c in v) == 1)


def past(v):
    if v.endswith("e"):
        return v + "d"
    if re.search(r"[^aeiou]y$", v):
        return v[:-1] + "ied"
    if doubles(v):
        return v + v[-1] + "ed"
    return v + "ed"


def ing(v):
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("e") and not v.endswith(("ee", "ye", "oe")):
        return v[:-1] + "ing"
    if doubles(v):
        return v + v[-1] + "ing"
    return v + "ing"


def plural(n):
    last = n.split()[-1]
    if last.endswith(("s", "ss")) and not last.endswith("ss"):
        return n  # "talks", "negotiations" already plural
    if re.search(r"(s|x|z|ch|sh)$", last):
        return n + "es"
    if re.search(r"[^aeiou]y$", last):
        return n[:-1] + "ies"
    return n + "s"


def verb_forms(wn, verb, irregular=()):
    """Base forms (with -s), past forms (past and participle) and -ing forms of a verb.

    The rules give the regular forms; the forms WordNet and CAMEO list for the verb (the
    irregular and doubled ones: withdrew, withdrawn, stopped) replace the rule's of the same
    kind, so no "withdrawed" is ever made."""
    listed = set(wn.forms(verb, "v")) | {f.split()[0] for f in irregular}
    listed_ing = {f for f in listed if f.endswith("ing")}
    listed_s = {f for f in listed if f.endswith("s") and not f.endswith("ss") and f not in listed_ing}
    listed_past = listed - listed_ing - listed_s
    base = {verb, third_person(verb)} | listed_s
    pasts = listed_past or {past(verb)}
    ings = listed_ing or {ing(verb)}
    return sorted(base), sorted(pasts), sorted(ings)


# ---------------------------------------------------------------- collection

class Entries:
    """lemma/pos -> sources, in the order first seen."""

    def __init__(self):
        self.items = {}

    def add(self, lemma, pos, source):
        lemma = lemma.replace("_", " ").strip().lower()
        if not lemma:
            return
        key = (lemma, pos)
        self.items.setdefault(key, [])
        if source not in self.items[key]:
            self.items[key].append(source)


def excluded(spec, lemma, pos):
    for w in spec.get("exclude", []):
        if "/" in w:
            wl, wp = w.split("/", 1)
            if wl == lemma and wp == pos:
                return True
        elif w == lemma:
            return True
    return False


def collect(spec, wn, root, blocks):
    e = Entries()
    for rs in spec.get("propbank", []):
        for pos, lemma in propbank_aliases(root, rs):
            if pos == "v":
                e.add(lemma, "verb", f"propbank:{rs}")
            elif pos == "n" and not lemma.split("_")[0].endswith("ing"):
                # Gerund nouns ("pulling_out") are the verb's own -ing form.
                e.add(lemma, "noun", f"propbank:{rs}")
            elif pos == "l":
                e.add(lemma, "verb", f"propbank:{rs}")  # light verb: make_withdrawal
    for cls in spec.get("verbnet", []):
        for lemma in verbnet_members(root, cls):
            e.add(lemma, "verb", f"verbnet:{cls}")
    irregular = {}
    for name in spec.get("cameo", []):
        if name not in blocks:
            raise SystemExit(f"CAMEO block {name} not found")
        for lemma, forms in blocks[name]:
            e.add(lemma, "verb", f"cameo:{name}")
            irregular.setdefault(lemma, []).extend(forms)
    for syn in spec.get("wordnet", []):
        sid, members = wn.synset(syn)
        for lemma, pos in members:
            e.add(lemma, {"n": "noun", "v": "verb"}.get(pos, pos), f"wordnet:{sid}")
    if spec.get("derive"):
        for (lemma, pos), _ in list(e.items.items()):
            if pos == "verb" and " " not in lemma and not excluded(spec, lemma, pos):
                for noun in wn.event_nouns(lemma):
                    e.add(noun, "noun", f"wordnet-derived:{lemma}")
    for x in spec.get("extra", []):
        e.add(x["lemma"], x["pos"], "hand: " + x["why"])
    out = []
    for (lemma, pos), sources in e.items.items():
        if pos not in ("verb", "noun") or excluded(spec, lemma, pos):
            continue
        out.append((lemma, pos, sources, irregular.get(lemma, [])))
    out.sort(key=lambda x: (x[1], x[0]))
    return out


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_list(xs):
    return "[" + ", ".join(toml_str(x) for x in xs) + "]"


def render_entry(wn, lemma, pos, sources, irregular, header, triggers=()):
    lines = [header]
    lines.append(f"lemma = {toml_str(lemma)}")
    if pos == "verb":
        words = lemma.split()
        # Verb + particle or object noun: the verb's forms, then the rest, which may stand
        # a few words away ("pull its forces out", "took effect").
        verb = words[0]
        base, pasts, ings = verb_forms(wn, verb, irregular)
        lines.append('pos = "verb"')
        lines.append(f"base = {toml_list(base)}")
        lines.append(f"past = {toml_list(pasts)}")
        lines.append(f"ing = {toml_list(ings)}")
        if len(words) > 1:
            lines.append(f"particle = {toml_str(' '.join(words[1:]))}")
        idioms = wn.idioms(lemma, triggers) if triggers else []
        if idioms:
            lines.append(f"idioms = {toml_list(idioms)}")
    else:
        lines.append('pos = "noun"')
        forms = [lemma] if lemma.endswith("s") and not lemma.endswith("ss") else [lemma, plural(lemma)]
        lines.append(f"forms = {toml_list(forms)}")
    lines.append(f"sources = {toml_list(sources)}")
    return "\n".join(lines)


HEADER = """# {what}
# GENERATED by scripts/gen-lexicon.py from config/lexicon-sources.toml and the lexical
# resources it names (PropBank frames, VerbNet, Open English WordNet, PETRARCH2's CAMEO verb
# dictionary; licenses in each resource's SOURCE.md). Edit the sources and regenerate; do
# not edit this file by hand.
#
# Each entry: `lemma`, `pos` (verb or noun); a verb's `base` (with -s), `past` (past and
# participle) and `ing` forms, and for a phrasal or light verb the `particle` that follows
# ("out", "over", "effect"), possibly after a few words ("pull its forces out"), and the
# `idioms` WordNet lists that begin with the verb ("pull out all the stops": no trigger
# there); a noun's `forms` (singular, plural); `sources`: where it came from (`propbank:ROLESET`,
# `verbnet:CLASS`, `cameo:BLOCK`, `wordnet:SYNSET`, `wordnet-derived:VERB`, `hand: why`).
"""


def generate(args):
    with open(args.sources, "rb") as f:
        spec = tomllib.load(f)
    wn = WordNet(args.lexicon)
    blocks = cameo_blocks(args.lexicon)
    trig = [HEADER.format(what="Trigger words of the development frames (frames.toml).")]
    collected = {frame: collect(fs, wn, args.lexicon, blocks)
                 for frame, fs in spec["frame"].items()}
    triggers = {lemma for entries in collected.values() for lemma, *_ in entries}
    for frame, fs in spec["frame"].items():
        kind = fs.get("kind", frame)
        for lemma, pos, sources, irregular in collected[frame]:
            head = f'\n[[trigger]]\nframe = {toml_str(frame)}\nkind = {toml_str(kind)}'
            trig.append(render_entry(wn, lemma, pos, sources, irregular, head, triggers))
    cues = [HEADER.format(what="Status-cue verbs by class (cues.toml says what each class does).")]
    for cls, cs in spec["cues"].items():
        for lemma, pos, sources, irregular in collect(cs, wn, args.lexicon, blocks):
            if pos != "verb":
                continue
            head = f"\n[[cue]]\nclass = {toml_str(cls)}"
            cues.append(render_entry(wn, lemma, pos, sources, irregular, head))
    classes = word_classes(wn, spec.get("classes", {}))
    tsv = ["# word<TAB>class. GENERATED by scripts/gen-lexicon.py from Open English WordNet "
           "(CC BY 4.0) and config/lexicon-sources.toml [classes]; do not edit."]
    tsv += [f"{w}\t{c}" for w, c in sorted(classes.items())]
    forms = ["# form<TAB>lemma. GENERATED by scripts/gen-lexicon.py from Open English WordNet "
             "(CC BY 4.0): the inflected forms it lists for verbs and nouns; do not edit."]
    forms += [f"{f}\t{l}" for f, l in sorted(irregular_forms(wn).items())]
    return {"triggers.toml": "\n".join(trig) + "\n", "cue-words.toml": "\n".join(cues) + "\n",
            "word-classes.tsv": "\n".join(tsv) + "\n",
            "irregular-forms.tsv": "\n".join(forms) + "\n"}


def irregular_forms(wn):
    """Form -> lemma for every one-word form WordNet lists on a verb or noun entry. When a
    form belongs to two lemmas (`found`: find, found), the verb's wins, then the shorter."""
    out = {}
    for lemma, by_pos in sorted(wn.entries.items()):
        if " " in lemma or "_" in lemma or not lemma.isalpha():
            continue
        for pos in ("v", "n"):
            for form in wn.forms(lemma, pos):
                if " " in form or form == lemma or not form.isalpha():
                    continue
                old = out.get(form)
                key = (0 if pos == "v" else 1, len(lemma), lemma)
                if old is None or key < old[0]:
                    out[form] = (key, lemma)
    return {f: l for f, (_, l) in out.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lexicon", default=os.path.join(REPO, "..", "shared", "data", "lexicon"))
    ap.add_argument("--sources", default=os.path.join(REPO, "config", "lexicon-sources.toml"))
    ap.add_argument("--out-dir", default=os.path.join(REPO, "config"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    files = generate(args)
    differ = False
    for name, text in files.items():
        path = os.path.join(args.out_dir, name)
        if args.check:
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
            if old != text:
                print(f"{path}: differs from what the sources generate", file=sys.stderr)
                differ = True
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            n = text.count("\n[[") if name.endswith(".toml") else text.count("\n")
            print(f"wrote {path} ({n} entries)")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
