#!/usr/bin/env python3
"""Times the peer's spaCy NER on the tokens of a CoNLL-2003 file.

    ner-spacy-speed.py CONLL_FILE --peer-dir DIR [--runs 3] [--batch-size 16]

The model and pipes are the peer's own (`peer.load_nlp`: en_core_web_sm with only its
NER). spaCy gets the file's tokens, not text: one `Doc(vocab, words=...)` per document,
through `nlp.pipe(..., batch_size=...)`, so its tokenizer does not run, as sitrep's
tagger is timed on the same tokens. One untimed pass warms it up; the timed passes are
whole passes over the file (building the Docs included); the median is reported.

Prints one JSON object: tokens, documents, runs, seconds (median), tokens_per_second,
entities (found in the last pass).
"""

import argparse
import json
import statistics
import sys
import time


def read_conll(path):
    docs, doc, sent = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("-DOCSTART-"):
                if sent:
                    doc.append(sent)
                    sent = []
                if doc:
                    docs.append(doc)
                    doc = []
                continue
            if not line:
                if sent:
                    doc.append(sent)
                    sent = []
                continue
            sent.append(line.split()[0])
    if sent:
        doc.append(sent)
    if doc:
        docs.append(doc)
    return [[w for s in d for w in s] for d in docs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("conll")
    ap.add_argument("--peer-dir", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()

    sys.path.insert(0, args.peer_dir)
    import peer  # noqa: E402  (the peer's loader, so the pipes are exactly its own)
    from spacy.tokens import Doc

    nlp = peer.load_nlp("auto")
    docs = read_conll(args.conll)
    tokens = sum(len(d) for d in docs)

    def one_pass():
        return list(nlp.pipe((Doc(nlp.vocab, words=w) for w in docs), batch_size=args.batch_size))

    one_pass()
    times = []
    out = []
    for _ in range(args.runs):
        t = time.perf_counter()
        out = one_pass()
        times.append(time.perf_counter() - t)
    seconds = statistics.median(times)
    print(json.dumps({
        "tokens": tokens,
        "documents": len(docs),
        "runs": args.runs,
        "seconds": round(seconds, 4),
        "tokens_per_second": round(tokens / seconds, 1),
        "entities": sum(len(d.ents) for d in out),
        "pipes": nlp.pipe_names,
    }))


if __name__ == "__main__":
    main()
