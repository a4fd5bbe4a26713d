//! The sense filter: does a candidate trigger name a happening of its frame's kind in the
//! situation sense ("France will pull its troops out of Mali"), or another sense ("pulled
//! out of the tournament", "released a film", "struck a shot")?
//!
//! A linear model (`crate::learn`) over the trigger and its frame, the words around it,
//! the kinds of the names in its sentence (people, places, organizations, countries,
//! armed groups) and a few words that say what the report is about (its title and first
//! sentences). It is trained by `sitrep train-sense` on labelled candidates
//! (`labels/triggers.jsonl`, `docs/LABELLING.md`) and stored in `config/sense.model`.

use std::borrow::Cow;

use crate::config::WordClasses;
use crate::extraction::{EntityKind, Mention};
use crate::learn::key;
use crate::ner::NerModel;
use crate::report::Report;
use crate::text::{with_lower, SentenceTokens, Token, TokenKind};

/// The task name in the model file.
pub const TASK: &str = "sense";
/// Bump when the features change: a model trained on other features is refused.
pub const FEATURE_VERSION: u32 = 6;
/// The labels, in model order.
pub const LABELS: [&str; 2] = ["other", "situation"];

/// What the learned passes know of words beyond the text: word clusters learnt from
/// unlabelled news (the entity tagger's) and the class of each common noun (WordNet's).
#[derive(Debug, Clone)]
pub struct Knowledge {
    pub clusters: std::sync::Arc<NerModel>,
    pub words: std::sync::Arc<WordClasses>,
}

impl Knowledge {
    pub fn of(lex: &crate::config::Lexicons) -> Self {
        Self {
            clusters: lex.ner.clone(),
            words: lex.word_classes.clone(),
        }
    }
}

/// Words of the report that say what it is about: the title's and the first body
/// sentences' words, lower case, four letters or more.
#[derive(Debug, Clone, Default)]
pub struct DocContext {
    words: Vec<String>,
    /// The words' feature keys, hashed once per report rather than once per candidate.
    keys: Vec<u64>,
}

/// How many body sentences, after the title, describe the report's topic.
const TOPIC_SENTENCES: usize = 2;

impl DocContext {
    pub fn new(report: &Report, toks: &SentenceTokens<'_>) -> Self {
        let mut words = Vec::new();
        let mut take = |si: usize| {
            for t in toks.sentence(si) {
                if t.kind == TokenKind::Word && t.text.len() >= 4 {
                    let w = t.text.to_lowercase();
                    if content_word(&w) && !words.contains(&w) {
                        words.push(w);
                    }
                }
            }
        };
        let mut body = 0;
        for si in 0..report.sentences.len() {
            if report.headings.contains(&si) {
                if si == 0 {
                    take(si);
                }
                continue;
            }
            take(si);
            body += 1;
            if body == TOPIC_SENTENCES {
                break;
            }
        }
        let keys = words.iter().map(|w| key("doc", w)).collect();
        Self { words, keys }
    }
}

/// One candidate, as the features see it.
#[derive(Debug)]
pub struct Candidate<'a, 't> {
    /// The frame's name (`withdrawal`, `blockade`).
    pub frame: &'a str,
    /// How the trigger is written (`noun`, `base`, `past`, `ing`, `noun-or-ing`).
    pub form: &'a str,
    /// The trigger's text, any case.
    pub trigger: &'a str,
    /// Its lemma in the lexicon.
    pub lemma: &'a str,
    pub toks: &'a [Token<'t>],
    /// The trigger's first and last token (the verb of a phrasal trigger).
    pub t0: usize,
    pub t1: usize,
    /// The report's mentions and the indices of this sentence's.
    pub mentions: &'a [Mention],
    pub in_sentence: &'a [usize],
    /// The first token of each mention of `in_sentence`, in the same order.
    pub mention_tokens: &'a [(usize, usize)],
    /// The sentence is a title or heading.
    pub heading: bool,
    pub doc: &'a DocContext,
    /// Word clusters and noun classes: "released 12 workers" and "released 40 prisoners"
    /// look alike to the model through them.
    pub know: &'a Knowledge,
}

fn kind_tag(m: &Mention) -> &'static str {
    if m.demonym {
        return "DEM";
    }
    match (m.kind, m.gazetteer.is_some()) {
        (EntityKind::Place, true) => "GPE",
        (EntityKind::Place, false) => "LOC",
        (EntityKind::Person, _) => "PER",
        (EntityKind::Organization, true) => "GORG",
        (EntityKind::Organization, false) => "ORG",
        (EntityKind::Facility, _) => "FAC",
        (EntityKind::Other, _) => "OTH",
    }
}

const DETERMINERS: [&str; 9] = [
    "the", "a", "an", "its", "their", "his", "her", "this", "that",
];

/// Function words, left out of the bags of words: with a few thousand labels a weight on
/// "on" or "the" learns a corpus's habits ("released on Friday" of films), not a sense.
/// In code, not in `config/`: they are part of the feature definition a trained model
/// depends on, so a change goes with a new [`FEATURE_VERSION`] and a retrained model.
const FUNCTION_WORDS: [&str; 64] = [
    "a", "about", "after", "all", "also", "an", "and", "are", "as", "at", "be", "been", "before",
    "but", "by", "can", "could", "did", "do", "for", "from", "had", "has", "have", "he", "her",
    "his", "if", "in", "into", "is", "it", "its", "may", "more", "not", "of", "on", "one", "or",
    "other", "our", "over", "said", "says", "she", "so", "than", "that", "the", "their", "them",
    "there", "they", "this", "to", "up", "was", "we", "were", "when", "which", "who", "will",
];

/// True for the closed-class words that end a noun phrase or carry no content.
pub fn function_word(w: &str) -> bool {
    FUNCTION_WORDS.contains(&w)
}

fn content_word(w: &str) -> bool {
    !FUNCTION_WORDS.contains(&w)
}

/// The feature keys of a candidate.
pub fn keys(c: &Candidate<'_, '_>, out: &mut Vec<u64>) {
    out.clear();
    features(c, &mut Keys(out));
}

/// Where a candidate's features go: their keys (to score or train) or their names (to
/// explain).
pub trait Sink {
    fn feature(&mut self, template: &str, value: &str);

    /// The report's topic words, one feature each.
    fn doc(&mut self, doc: &DocContext) {
        for w in &doc.words {
            self.feature("doc", w);
        }
    }
}

impl<F: FnMut(&str, &str)> Sink for F {
    fn feature(&mut self, template: &str, value: &str) {
        self(template, value);
    }
}

/// The keys of the features, in order.
struct Keys<'a>(&'a mut Vec<u64>);

impl Sink for Keys<'_> {
    fn feature(&mut self, template: &str, value: &str) {
        self.0.push(key(template, value));
    }

    fn doc(&mut self, doc: &DocContext) {
        self.0.extend_from_slice(&doc.keys);
    }
}

/// A sink and a buffer to join a feature's value parts in with `|`: the features are
/// computed for every candidate trigger, and a string allocated for each would cost more
/// than the rest of the work.
struct Emit<'s> {
    sink: &'s mut dyn Sink,
    buf: String,
}

impl Emit<'_> {
    fn one(&mut self, template: &str, value: &str) {
        self.sink.feature(template, value);
    }

    fn two(&mut self, template: &str, a: &str, b: &str) {
        self.buf.clear();
        self.buf.push_str(a);
        self.buf.push('|');
        self.buf.push_str(b);
        self.sink.feature(template, &self.buf);
    }

    fn num(&mut self, template: &str, a: &str, n: u32) {
        use std::fmt::Write as _;
        self.buf.clear();
        self.buf.push_str(a);
        self.buf.push('|');
        // Writing to a String cannot fail.
        let _ = write!(self.buf, "{n}");
        self.sink.feature(template, &self.buf);
    }

    fn three(&mut self, template: &str, a: &str, b: &str, c: &str) {
        self.buf.clear();
        for (i, part) in [a, b, c].into_iter().enumerate() {
            if i > 0 {
                self.buf.push('|');
            }
            self.buf.push_str(part);
        }
        self.sink.feature(template, &self.buf);
    }
}

/// Every feature of a candidate as (template, value), to `sink`.
fn features(c: &Candidate<'_, '_>, sink: &mut dyn Sink) {
    let mut f = Emit {
        sink,
        buf: String::with_capacity(64),
    };
    let fr = c.frame;
    let trig = c.trigger.to_lowercase();
    // No frame-wide prior: each trigger word brings its own, so a frame whose candidates
    // are mostly another sense ("left") does not pull down its clear words ("withdrawal").
    f.two("fr|lemma", fr, c.lemma);
    f.two("fr|trig", fr, &trig);
    f.two("fr|form", fr, c.form);
    if c.heading {
        f.one("heading", fr);
    }
    let word = |i: usize| -> Cow<'_, str> {
        let t = &c.toks[i];
        match t.kind {
            TokenKind::Number => Cow::Borrowed("<num>"),
            _ if t
                .text
                .bytes()
                .all(|b| b.is_ascii() && !b.is_ascii_uppercase()) =>
            {
                Cow::Borrowed(t.text)
            }
            _ => Cow::Owned(t.text.to_lowercase()),
        }
    };
    // Words around the trigger, by position and as bags.
    // Only the nearest words by position: farther ones, as bags, generalize better.
    let w = if c.t0 >= 1 {
        word(c.t0 - 1)
    } else {
        "<s>".into()
    };
    f.one("w-1", &w);
    f.two("fr|w-1", fr, &w);
    let w = if c.t1 + 1 < c.toks.len() {
        word(c.t1 + 1)
    } else {
        "</s>".into()
    };
    f.one("w+1", &w);
    f.two("fr|w+1", fr, &w);
    for i in c.t0.saturating_sub(6)..c.t0 {
        if c.toks[i].kind == TokenKind::Word && content_word(&word(i)) {
            f.one("L", &word(i));
        }
    }
    for i in c.t1 + 1..(c.t1 + 7).min(c.toks.len()) {
        if c.toks[i].kind == TokenKind::Word && content_word(&word(i)) {
            f.one("R", &word(i));
            f.two("fr|R", fr, &word(i));
        }
    }
    // The classes of the words around it.
    let class = |i: usize| c.know.clusters.word_class(c.toks[i].text);
    for d in 1..=3usize {
        if c.t1 + d < c.toks.len() {
            if let Some((coarse, fine)) = class(c.t1 + d) {
                f.num(["c+1", "c+2", "c+3"][d - 1], fr, fine);
                f.num("cR", fr, coarse);
            }
        }
        if c.t0 >= d {
            if let Some((coarse, fine)) = class(c.t0 - d) {
                f.num(["c-1", "c-2", "c-3"][d - 1], fr, fine);
                f.num("cL", fr, coarse);
            }
        }
    }
    // The head of the subject: the word before the trigger past auxiliaries, adverbs and
    // "to" ("Kestrian troops are withdrawing", "France will pull"), as a word and a class.
    let skip = |w: &str| {
        matches!(
            w,
            "is" | "are"
                | "was"
                | "were"
                | "be"
                | "been"
                | "being"
                | "has"
                | "have"
                | "had"
                | "will"
                | "would"
                | "shall"
                | "should"
                | "can"
                | "could"
                | "may"
                | "might"
                | "must"
                | "to"
                | "not"
                | "n't"
                | "also"
                | "now"
                | "then"
                | "still"
                | "already"
                | "began"
                | "begun"
                | "begin"
                | "started"
                | "start"
                | "finished"
                | "completed"
        ) || (w.len() > 4 && w.ends_with("ly"))
    };
    let mut sj = c.t0;
    while sj > 0 && with_lower(c.toks[sj - 1].text, |w| skip(w)) {
        sj -= 1;
    }
    if sj > 0 {
        let i = sj - 1;
        let tag = c
            .in_sentence
            .iter()
            .zip(c.mention_tokens)
            .find(|(_, &(a, b))| a <= i && i <= b)
            .map(|(&mi, _)| kind_tag(&c.mentions[mi]));
        match tag {
            Some(tag) => f.two("fr|subj", fr, tag),
            None => {
                f.two("fr|subj", fr, &word(i));
                if let Some(cls) = c.know.words.of(c.toks[i].text) {
                    f.two("fr|subjc", fr, cls);
                }
            }
        }
        // A capitalized word the tagger and gazetteer do not know, in the subject or just
        // before its head ("Kestrian units", "Vantoria will withdraw"): by its shape and
        // ending, so a name never seen in training is read like the known ones it resembles
        // ("-ian", "-ese" adjectives of nationality).
        let unknown_name = |j: usize| {
            c.toks[j].kind == TokenKind::Word
                && c.toks[j].is_capitalized()
                // First in the sentence, only a word too rare to have a cluster.
                && (j > 0 || class(j).is_none())
                && !c.mention_tokens.iter().any(|&(a, b)| a <= j && j <= b)
        };
        for (j, what) in [(i, "fr|subjcap"), (i.wrapping_sub(1), "fr|subjpre")] {
            if j < c.toks.len() && unknown_name(j) {
                f.two(what, fr, &suffix(c.toks[j].text, 3));
                f.one(what, fr);
            }
        }
    }
    // The nouns around it, as classes.
    for i in c.t0.saturating_sub(5)..(c.t1 + 6).min(c.toks.len()) {
        if (c.t0..=c.t1).contains(&i) || c.toks[i].is_capitalized() {
            continue;
        }
        if let Some(cls) = c.know.words.of(c.toks[i].text) {
            f.two("fr|cls", fr, cls);
        }
    }
    // The object or complement: the first word after the trigger that is not a
    // determiner ("released a film", "pulled out of the race").
    if let Some(i) = (c.t1 + 1..c.toks.len())
        .find(|&i| !with_lower(c.toks[i].text, |w| DETERMINERS.contains(&w)))
    {
        let w = word(i);
        f.one("obj", &w);
        f.two("fr|obj", fr, &w);
        if let Some((_, fine)) = class(i) {
            f.num("fr|objc", fr, fine);
        }
        if matches!(
            w.as_ref(),
            "of" | "from" | "to" | "with" | "on" | "in" | "at" | "against"
        ) {
            if let Some(j) = (i + 1..c.toks.len())
                .find(|&j| !with_lower(c.toks[j].text, |w| DETERMINERS.contains(&w)))
            {
                f.three("fr|prep+", fr, &w, &word(j));
            }
        }
    }
    // The names of the sentence: their kinds, and which is nearest on each side.
    let mut left: Option<(usize, &'static str)> = None;
    let mut right: Option<(usize, &'static str)> = None;
    for (&mi, &(m0, m1)) in c.in_sentence.iter().zip(c.mention_tokens) {
        let tag = kind_tag(&c.mentions[mi]);
        f.one("mk", tag);
        f.two("fr|mk", fr, tag);
        if m1 < c.t0 && left.is_none_or(|(e, _)| m1 > e) {
            left = Some((m1, tag));
        }
        if m0 > c.t1 && right.is_none_or(|(s, _)| m0 < s) {
            right = Some((m0, tag));
        }
    }
    match left {
        Some((e, tag)) => {
            f.two("fr|mk<", fr, tag);
            if c.t0 - e <= 2 {
                f.two("fr|mk<<", fr, tag);
            }
        }
        None => f.two("fr|mk<", fr, "-"),
    }
    match right {
        Some((s, tag)) => {
            f.two("fr|mk>", fr, tag);
            if s > 0 {
                f.three("fr|pre-mk>", fr, &word(s - 1), tag);
            }
        }
        None => f.two("fr|mk>", fr, "-"),
    }
    if c.toks[c.t0].is_capitalized() && c.t0 > 0 {
        f.one("cap-mid", fr);
    }
    // What the report is about.
    f.sink.doc(c.doc);
}

/// The last `n` characters of `word`, lowercased.
fn suffix(word: &str, n: usize) -> String {
    let start = word.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i);
    word[start..].to_lowercase()
}

/// The first and last token of the byte range `start..end` of a sentence (the first token
/// ending after `start`, the token holding `end - 1`).
pub fn token_range(toks: &[Token<'_>], start: usize, end: usize) -> (usize, usize) {
    let last = toks.len().saturating_sub(1);
    let at = |byte: usize| toks.partition_point(|t| t.end <= byte).min(last);
    (at(start), at(end.max(start + 1) - 1))
}

/// The token range of each mention of `in_sentence`.
pub fn mention_tokens(
    toks: &[Token<'_>],
    mentions: &[Mention],
    in_sentence: &[usize],
) -> Vec<(usize, usize)> {
    in_sentence
        .iter()
        .map(|&i| token_range(toks, mentions[i].start, mentions[i].end))
        .collect()
}

/// The feature keys of a candidate known by its sentence tokens and byte span: what the
/// extract stage computes while finding it and what training computes from a claim.
#[allow(clippy::too_many_arguments)]
pub fn span_keys(
    st: &[Token<'_>],
    span: (usize, usize),
    trigger: &str,
    lemma: &str,
    frame: &str,
    form: &str,
    mentions: &[Mention],
    in_sentence: &[usize],
    heading: bool,
    doc: &DocContext,
    know: &Knowledge,
    out: &mut Vec<u64>,
) {
    out.clear();
    span_features(
        st,
        span,
        trigger,
        lemma,
        frame,
        form,
        mentions,
        in_sentence,
        heading,
        doc,
        know,
        &mut Keys(out),
    );
}

#[allow(clippy::too_many_arguments)]
fn span_features(
    st: &[Token<'_>],
    span: (usize, usize),
    trigger: &str,
    lemma: &str,
    frame: &str,
    form: &str,
    mentions: &[Mention],
    in_sentence: &[usize],
    heading: bool,
    doc: &DocContext,
    know: &Knowledge,
    sink: &mut dyn Sink,
) {
    if st.is_empty() {
        return;
    }
    let (t0, t1) = token_range(st, span.0, span.1);
    let mt = mention_tokens(st, mentions, in_sentence);
    // A multi-word trigger is known by its first and last word ("pulled…out" for "pulled
    // out" and "pulled its forces out" alike).
    let mut words = trigger.split_whitespace();
    let first = words.next().unwrap_or("");
    let named = match words.last() {
        Some(last) => format!("{first}…{last}"),
        None => first.to_string(),
    };
    let c = Candidate {
        frame,
        form,
        trigger: &named,
        lemma,
        toks: st,
        t0,
        t1,
        mentions,
        in_sentence,
        mention_tokens: &mt,
        heading,
        doc,
        know,
    };
    features(&c, sink);
}

/// [`span_keys`] of a claim found in `report` (for training).
pub fn claim_keys(
    report: &Report,
    toks: &SentenceTokens<'_>,
    mentions: &[Mention],
    claim: &crate::extraction::ClaimDraft,
    doc: &DocContext,
    know: &Knowledge,
    out: &mut Vec<u64>,
) {
    out.clear();
    claim_features(report, toks, mentions, claim, doc, know, &mut Keys(out));
}

/// The features of a claim with their weights in `model` (situation minus other), the
/// strongest first: what decided the sense, for `sitrep explain`.
pub fn claim_weights(
    report: &Report,
    toks: &SentenceTokens<'_>,
    mentions: &[Mention],
    claim: &crate::extraction::ClaimDraft,
    doc: &DocContext,
    know: &Knowledge,
    model: &crate::learn::LinearModel,
) -> Vec<(String, f32)> {
    let mut out = Vec::new();
    claim_features(
        report,
        toks,
        mentions,
        claim,
        doc,
        know,
        &mut |t: &str, v: &str| {
            out.push((format!("{t}={v}"), model.margin(&[key(t, v)])));
        },
    );
    out.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    out
}

fn claim_features(
    report: &Report,
    toks: &SentenceTokens<'_>,
    mentions: &[Mention],
    claim: &crate::extraction::ClaimDraft,
    doc: &DocContext,
    know: &Knowledge,
    sink: &mut dyn Sink,
) {
    let in_sentence: Vec<usize> = (0..mentions.len())
        .filter(|&i| mentions[i].sentence == claim.sentence && !mentions[i].enclosing)
        .collect();
    span_features(
        toks.sentence(claim.sentence),
        claim.span,
        &claim.trigger,
        &claim.lemma,
        &claim.frame,
        claim.form,
        mentions,
        &in_sentence,
        report.headings.contains(&claim.sentence),
        doc,
        know,
        sink,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::stages::extract::Extractor;
    use crate::stages::normalize::test_report;

    #[test]
    fn features_see_the_object_the_names_and_the_topic() {
        let cfg = Config::embedded().unwrap();
        let r = test_report(
            &cfg,
            "Russian troops withdrew from Varnholt air base on Monday, officials said.\n",
        );
        let ex = Extractor::new(&cfg.lexicons).without_sense().extract(&r);
        let claim = ex.claims.iter().find(|c| c.trigger == "withdrew").unwrap();
        let toks = SentenceTokens::new(r.sentences.iter().map(|s| s.text.as_str()));
        let doc = DocContext::new(&r, &toks);
        let mut k = Vec::new();
        let know = Knowledge::of(&cfg.lexicons);
        claim_keys(&r, &toks, &ex.mentions, claim, &doc, &know, &mut k);
        assert!(k.contains(&key("fr|obj", "withdrawal|from")));
        assert!(k.contains(&key("fr|mk<", "withdrawal|DEM")));
        assert!(k.contains(&key("doc", "russian")));
        assert!(k.contains(&key("fr|trig", "withdrawal|withdrew")));
        assert!(k.contains(&key("fr|lemma", "withdrawal|withdraw")));
    }
}
