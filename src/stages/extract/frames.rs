//! Developments: frame triggers, their roles and the status each mention implies.
//!
//! A trigger ("withdrew", "evacuation", "talks") opens a claim. Its status comes from the
//! nearest status cue inside the trigger's clause, else from the trigger's form (a simple
//! past is completed, an "-ing" form underway); negation maps the status (`cues.toml`),
//! hedges and time shifts keep the claim as evidence without a status effect. Roles are
//! filled from the entity mentions of the same clause.

use std::collections::HashMap;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::sense::{self, DocContext};
use super::words::word_bounded;
use crate::config::{CueConfig, FrameConfig};
use crate::extraction::{ClaimDraft, EntityKind, Mention, Modality, Status};
use crate::learn::LinearModel;
use crate::report::Report;
use crate::text::{with_lower, LowerMap, SentenceTokens, Token, TokenKind};

/// The form of a trigger, which gives a status when no cue does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Noun,
    Base,
    Past,
    Progressive,
    /// Both a noun and an "-ing" form ("meeting", "shelling").
    NounOrProgressive,
}

impl Form {
    fn as_str(self) -> &'static str {
        match self {
            Form::Noun => "noun",
            Form::Base => "base",
            Form::Past => "past",
            Form::Progressive => "ing",
            Form::NounOrProgressive => "noun-or-ing",
        }
    }
}

/// The words "one's" stands for in an idiom.
const POSSESSIVES: [&str; 7] = ["my", "your", "his", "her", "its", "our", "their"];

/// What a trigger pattern is: a trigger on its own, and/or the verb of phrasal triggers
/// whose particle must follow within a few words.
#[derive(Debug, Clone, Default)]
struct TriggerId {
    standalone: Option<(usize, Form)>,
    phrasal: Vec<PhrasalHead>,
}

/// A verb that heads a phrasal trigger: (frame, form of the verb, the particle's words,
/// the lemma).
type PhrasalHead = (usize, Form, Vec<String>, String);

/// A trigger found in a sentence: its frame and form, the token range of its head (the
/// verb of a phrasal trigger) and the byte range of its text (through the particle).
#[derive(Debug, Clone, Copy)]
struct Found<'l> {
    fi: usize,
    form: Form,
    lemma: &'l str,
    t0: usize,
    t1: usize,
    start: usize,
    end: usize,
}

/// Where a sentence is, for the sense filter.
#[derive(Debug)]
struct SentenceContext<'a> {
    si: usize,
    heading: bool,
    doc: &'a DocContext,
    /// The year the report was published in: a clause set in an earlier year tells of
    /// another occasion.
    year: i32,
}

/// How many modifiers may stand between a topic preposition and the noun it governs
/// ("negotiations on a critical minerals deal").
const NEGOTIATED_GAP: usize = 3;

/// How many words after a trigger its topic preposition may come ("talks will center on").
const TOPIC_GAP: usize = 3;

/// How far before a trigger a facility of its clause may stand to be its place, in tokens.
const FACILITY_BEFORE: usize = 6;

/// WordNet classes of what a verb may act on to be done to forces, whoever its subject is
/// ("the president withdrew the troops").
const FORCE_CLASSES: [&str; 2] = ["military", "group"];

/// How many words may stand between a verb and its particle ("pull its forces out").
const PARTICLE_GAP: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CueKind {
    Status(Status),
    Resumption,
    Negator,
    Hedge,
    Background,
    DenialBlocker,
    /// "denied that ...": the clause that follows is denied.
    DenialClause,
    /// A status phrase of some frames' lifecycles only (`[frame.statuses]`): no cue for the
    /// others.
    FrameOnly,
}

/// Compiled frames and cues.
#[derive(Debug)]
pub struct FrameMatcher {
    frames: Vec<FrameConfig>,
    triggers: AhoCorasick,
    trigger_ids: Vec<TriggerId>,
    cues: AhoCorasick,
    cue_kinds: Vec<CueKind>,
    /// Per frame, the statuses its own lifecycle gives phrases (`[frame.statuses]`), lower
    /// case: "agreed" is a truce still ahead but an agreement reached.
    frame_statuses: Vec<HashMap<String, Status>>,
    window: usize,
    subject_window: usize,
    /// Gazetteer index → a news outlet or platform (see `with_media`).
    media: Vec<bool>,
    clause_punct: Vec<String>,
    aside_words: usize,
    fronted: LowerMap<()>,
    negation_map: HashMap<Status, Status>,
    clause_words: ClauseWords,
    future_words: Vec<String>,
    ahead_words: Vec<String>,
    same_time_words: Vec<String>,
    past_auxiliaries: Vec<String>,
    past_words: Vec<String>,
    in_force: Vec<String>,
    /// Verbs of a durative state's end, lower-cased ("expire").
    ending: Vec<String>,
    grammar: Grammar,
    /// The learned sense filter.
    sense: Option<(Arc<LinearModel>, sense::Knowledge)>,
    /// Nouns' WordNet classes, for `object_classes`.
    word_classes: Option<Arc<crate::config::WordClasses>>,
    /// Each frame's location prepositions, as words.
    location_preps: Vec<Vec<Vec<String>>>,
}

/// When two cues are equally near, the earlier status here wins.
const PRECEDENCE: [Status; 6] = [
    Status::Completed,
    Status::Cancelled,
    Status::Halted,
    Status::Denied,
    Status::Underway,
    Status::Planned,
];

/// Closed-class words the rules look for (`cues.toml` `[grammar]`), lower-cased.
#[derive(Debug)]
struct Grammar {
    /// May stand between a verb and its object noun ("halts the evacuation").
    determiners: LowerMap<()>,
    /// Make an "-ing" form progressive ("is meeting"); never a noun modifier.
    be_forms: LowerMap<()>,
    /// A name before them is a subject, not a modifier of the noun after them ("the Crimson
    /// Hand group will release").
    auxiliaries: LowerMap<()>,
    /// The name right before one is the source of the sentence ("minister X said").
    speech_verbs: LowerMap<()>,
    /// Modal auxiliaries: a status verb after one is not yet a fact ("would end").
    modals: LowerMap<()>,
    /// Irregular pasts and perfect auxiliaries (regular ones end in -ed).
    past_forms: LowerMap<()>,
    /// Relative pronouns ("who", "which").
    relatives: LowerMap<()>,
    /// Prepositions of topic ("talks on ...").
    topics: LowerMap<()>,
    /// Nouns of talks ("negotiations"), whose topic is still ahead.
    negotiations: LowerMap<()>,
    /// Phrases opening an attribution, as lower-case words ("according to").
    attributions: Vec<Vec<String>>,
    /// Words before a noun that say its happening is absent ("without").
    absence: LowerMap<()>,
    /// Prepositions that make "end of ..." a time ("by").
    deadlines: LowerMap<()>,
    /// "first", "initial": before a noun, the first of several.
    firsts: LowerMap<()>,
    /// Nouns after "first" that are no first of several ("time").
    firsts_except: LowerMap<()>,
    /// Hyphenated prefixes that make a trigger part of another word ("pre-deployment").
    prefixes: LowerMap<()>,
    /// Phrases of partial progress ("so far"), of a share before a number ("out of") and
    /// of a percentage after one, as lower-case word lists.
    partial: Vec<Vec<String>>,
    share_of: Vec<Vec<String>>,
    percent: Vec<Vec<String>>,
    /// May stand between "be" and a participle ("was formally handed over").
    adverbs: LowerMap<()>,
}

impl Grammar {
    fn new(g: &crate::config::GrammarConfig) -> Self {
        let set = |v: &[String]| v.iter().map(|w| w.to_lowercase()).collect();
        let phrases = |v: &[String]| -> Vec<Vec<String>> {
            v.iter()
                .map(|p| p.split_whitespace().map(str::to_lowercase).collect())
                .collect()
        };
        Self {
            determiners: set(&g.determiners),
            be_forms: set(&g.be_forms),
            auxiliaries: set(&g.auxiliaries),
            speech_verbs: set(&g.speech_verbs),
            past_forms: set(&g.past_forms),
            relatives: set(&g.relatives),
            topics: set(&g.topics),
            negotiations: set(&g.negotiations),
            absence: set(&g.absence),
            deadlines: set(&g.deadlines),
            firsts: set(&g.firsts),
            firsts_except: set(&g.firsts_except),
            prefixes: set(&g.prefixes),
            partial: phrases(&g.partial),
            share_of: phrases(&g.share_of),
            percent: phrases(&g.percent),
            adverbs: set(&g.adverbs),
            attributions: phrases(&g.attributions),
            modals: g
                .auxiliaries
                .iter()
                .filter(|w| !matches!(w.as_str(), "has" | "have" | "had" | "did" | "does" | "do"))
                .map(|w| (w.to_lowercase(), ()))
                .collect(),
        }
    }

    /// Where a sentence says something is done in part (see `partial` in `cues.toml`).
    fn partial_progress<'t>(
        &self,
        toks: &[Token<'_>],
        text: &'t str,
    ) -> Vec<(usize, usize, &'t str)> {
        let at = |i: usize, words: &[String]| {
            words.len() <= toks.len().saturating_sub(i)
                && words
                    .iter()
                    .zip(&toks[i..])
                    .all(|(w, t)| t.text.eq_ignore_ascii_case(w))
        };
        let below_whole = |t: &Token<'_>| {
            t.kind == TokenKind::Number
                && t.text
                    .replace(',', "")
                    .parse::<f64>()
                    .is_ok_and(|v| v < 100.0)
        };
        let mut hits = Vec::new();
        let mut hit = |s: usize, e: usize| {
            hits.push((s, e, &text[toks[s].start..toks[e].end]));
        };
        for i in 0..toks.len() {
            if let Some(p) = self.partial.iter().find(|p| at(i, p)) {
                hit(i, i + p.len() - 1);
            }
            if let Some(p) = self.share_of.iter().find(|p| at(i, p)) {
                // An approximation ("about", "some") may stand before the number.
                let first = i + p.len();
                let number = (first..(first + 3).min(toks.len()))
                    .take_while(|&k| {
                        toks[k].kind == TokenKind::Number
                            || (toks[k].kind == TokenKind::Word && !toks[k].is_capitalized())
                    })
                    .find(|&k| toks[k].kind == TokenKind::Number);
                if let Some(n) = number {
                    hit(i, n);
                }
            }
            if below_whole(&toks[i]) {
                if toks.get(i + 1).is_some_and(|t| t.text == "%") {
                    hit(i, i + 1);
                } else if let Some(p) = self.percent.iter().find(|p| at(i + 1, p)) {
                    hit(i, i + p.len());
                }
            }
        }
        hits
    }
}

impl FrameMatcher {
    pub fn new(frames: &[FrameConfig], cues: &CueConfig) -> Self {
        let mut forms: HashMap<String, (usize, Form)> = HashMap::new();
        for (fi, f) in frames.iter().enumerate() {
            let lists = [
                (&f.noun, Form::Noun),
                (&f.base, Form::Base),
                (&f.past, Form::Past),
                (&f.progressive, Form::Progressive),
            ];
            for (list, form) in lists {
                for w in list {
                    let w = w.to_lowercase();
                    match forms.get_mut(&w) {
                        Some((_, existing))
                            if *existing == Form::Noun && form == Form::Progressive =>
                        {
                            *existing = Form::NounOrProgressive;
                        }
                        Some((_, existing))
                            if *existing == Form::Progressive && form == Form::Noun =>
                        {
                            *existing = Form::NounOrProgressive;
                        }
                        Some(_) => {}
                        None => {
                            forms.insert(w, (fi, form));
                        }
                    }
                }
            }
        }
        // Verbs whose particle may stand apart ("pull its forces out"): the verb alone is a
        // pattern too, kept only where the particle follows.
        let mut heads: HashMap<String, Vec<PhrasalHead>> = HashMap::new();
        for (fi, f) in frames.iter().enumerate() {
            for ph in &f.phrasal {
                let particle: Vec<String> = ph
                    .particle
                    .split_whitespace()
                    .map(str::to_lowercase)
                    .collect();
                let lists = [
                    (&ph.base, Form::Base),
                    (&ph.past, Form::Past),
                    (&ph.ing, Form::Progressive),
                ];
                for (list, form) in lists {
                    for v in list {
                        let entry = heads.entry(v.to_lowercase()).or_default();
                        if !entry.iter().any(|(i, _, p, _)| *i == fi && *p == particle) {
                            entry.push((fi, form, particle.clone(), ph.lemma.clone()));
                        }
                    }
                }
            }
        }
        let mut ids: HashMap<String, TriggerId> = HashMap::new();
        for (w, (fi, form)) in forms {
            ids.entry(w).or_default().standalone = Some((fi, form));
        }
        for (w, list) in heads {
            ids.entry(w).or_default().phrasal = list;
        }
        let mut trig_patterns: Vec<(String, TriggerId)> = ids.into_iter().collect();
        trig_patterns.sort_by(|a, b| a.0.cmp(&b.0));
        let triggers = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(trig_patterns.iter().map(|p| &p.0))
            .expect("trigger patterns are plain strings");

        let mut cue_patterns: Vec<(String, CueKind)> = Vec::new();
        for (status, words) in &cues.status {
            if let Some(s) = Status::parse(status) {
                cue_patterns.extend(words.iter().map(|w| (w.to_lowercase(), CueKind::Status(s))));
            }
        }
        cue_patterns.extend(
            cues.resumption
                .iter()
                .map(|w| (w.to_lowercase(), CueKind::Resumption)),
        );
        cue_patterns.extend(
            cues.negation
                .words
                .iter()
                .map(|w| (w.to_lowercase(), CueKind::Negator)),
        );
        cue_patterns.extend(
            cues.hedges
                .words
                .iter()
                .map(|w| (w.to_lowercase(), CueKind::Hedge)),
        );
        cue_patterns.extend(
            cues.background
                .words
                .iter()
                .map(|w| (w.to_lowercase(), CueKind::Background)),
        );
        cue_patterns.extend(
            cues.denial
                .blockers
                .iter()
                .map(|w| (w.to_lowercase(), CueKind::DenialBlocker)),
        );
        cue_patterns.extend(
            cues.denial
                .clause
                .iter()
                .map(|w| (w.to_lowercase(), CueKind::DenialClause)),
        );
        let frame_statuses: Vec<HashMap<String, Status>> = frames
            .iter()
            .map(|f| {
                f.statuses
                    .iter()
                    .filter_map(|(st, words)| Some((Status::parse(st)?, words)))
                    .flat_map(|(st, words)| words.iter().map(move |w| (w.to_lowercase(), st)))
                    .collect()
            })
            .collect();
        cue_patterns.extend(
            frame_statuses
                .iter()
                .flat_map(|m| m.keys())
                .map(|w| (w.clone(), CueKind::FrameOnly)),
        );
        // One pattern per string: the first kind listed wins.
        let mut seen = HashMap::new();
        let mut patterns = Vec::new();
        let mut kinds = Vec::new();
        for (p, k) in cue_patterns {
            if seen.insert(p.clone(), ()).is_none() {
                patterns.push(p);
                kinds.push(k);
            }
        }
        let cue_ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("cue patterns are plain strings");
        let negation_map = cues
            .negation
            .map
            .iter()
            .filter_map(|(k, v)| Some((Status::parse(k)?, Status::parse(v)?)))
            .collect();
        Self {
            frames: frames.to_vec(),
            triggers,
            trigger_ids: trig_patterns.into_iter().map(|p| p.1).collect(),
            cues: cue_ac,
            cue_kinds: kinds,
            frame_statuses,
            window: cues.window,
            subject_window: cues.subject_window,
            media: Vec::new(),
            clause_punct: cues.clauses.punctuation.clone(),
            aside_words: cues.clauses.aside_words,
            fronted: cues
                .clauses
                .fronted
                .iter()
                .map(|w| (w.to_lowercase(), ()))
                .collect(),
            negation_map,
            clause_words: clause_words(cues),
            future_words: cues
                .clauses
                .future
                .iter()
                .map(|w| w.to_lowercase())
                .collect(),
            ahead_words: cues
                .clauses
                .ahead
                .iter()
                .map(|w| w.to_lowercase())
                .collect(),
            same_time_words: cues
                .clauses
                .same_time
                .iter()
                .map(|w| w.to_lowercase())
                .collect(),
            past_auxiliaries: cues
                .clauses
                .past_auxiliaries
                .iter()
                .map(|w| w.to_lowercase())
                .collect(),
            in_force: cues.in_force.iter().map(|w| w.to_lowercase()).collect(),
            ending: cues.ending.iter().map(|w| w.to_lowercase()).collect(),
            grammar: Grammar::new(&cues.grammar),
            location_preps: frames
                .iter()
                .map(|f| {
                    f.location_preps
                        .iter()
                        .map(|p| p.split_whitespace().map(str::to_string).collect())
                        .collect()
                })
                .collect(),
            past_words: cues.clauses.past.iter().map(|w| w.to_lowercase()).collect(),
            sense: None,
            word_classes: None,
        }
    }

    /// Keeps only the candidate triggers `model` takes for the situation sense (an empty
    /// model, or `None`, keeps every one).
    /// Marks the gazetteer entries (by index) that are news outlets and platforms: never a
    /// development's role.
    pub fn with_media(mut self, gazetteer: &[crate::config::GazetteerEntry]) -> Self {
        self.media = gazetteer.iter().map(|e| e.media).collect();
        self
    }

    /// True when the frame rules out who does it and the common noun right before the verb
    /// (auxiliaries and adverbs aside) is of such a class: "the ambassador and six colleagues
    /// left Niamey" is no withdrawal of forces. Not when the verb acts on forces ("the
    /// president withdrew the troops").
    fn subject_is_other(
        &self,
        fi: usize,
        toks: &[Token<'_>],
        t0: usize,
        acted_on: Option<usize>,
    ) -> bool {
        let excluded = &self.frames[fi].subject_excludes;
        let (false, Some(words)) = (excluded.is_empty(), &self.word_classes) else {
            return false;
        };
        let mut p = t0;
        while p > 0 {
            let t = &toks[p - 1];
            let skip = self.grammar.auxiliaries.contains_lower(t.text)
                || self.grammar.be_forms.contains_lower(t.text)
                || self.grammar.modals.contains_lower(t.text)
                || (t.text.len() > 4 && t.text.ends_with("ly"));
            if !skip {
                break;
            }
            p -= 1;
        }
        let Some(subject) = p.checked_sub(1).map(|k| &toks[k]) else {
            return false;
        };
        if subject.kind != TokenKind::Word || subject.is_capitalized() {
            return false;
        }
        let class_of = |w: &str| with_lower(w, |w| words.of(w).map(str::to_string));
        let forces_acted_on = acted_on
            .and_then(|i| Self::phrase_head(words, toks, i))
            .and_then(|h| class_of(&h))
            .is_some_and(|c| FORCE_CLASSES.contains(&c.as_str()));
        !forces_acted_on && class_of(subject.text).is_some_and(|c| excluded.contains(&c))
    }

    /// Gives the matcher the nouns' WordNet classes, which `object_classes` reads.
    pub fn with_word_classes(mut self, words: Arc<crate::config::WordClasses>) -> Self {
        self.word_classes = Some(words);
        self
    }

    /// The head of the noun phrase starting at token `i`, lower case: the last of its words
    /// (numbers skipped) before a function word, punctuation, or a lower-case word that is
    /// no noun after one that is ("the hostages returned home": "hostages").
    fn phrase_head(
        words: &crate::config::WordClasses,
        toks: &[Token<'_>],
        i: usize,
    ) -> Option<String> {
        let mut head: Option<String> = None;
        for t in toks.get(i..).unwrap_or_default() {
            if t.kind == TokenKind::Number {
                continue;
            }
            let w = t.text.to_lowercase();
            if t.kind != TokenKind::Word || sense::function_word(&w) {
                break;
            }
            let noun = words.of(&w).is_some();
            if !noun
                && !t.is_capitalized()
                && head.as_deref().is_some_and(|h| words.of(h).is_some())
            {
                break;
            }
            head = Some(w);
        }
        head
    }

    /// True when the frame restricts what it acts on and the noun phrase at `i` has a head
    /// of another WordNet class ("released a strategy").
    fn acts_on_other(&self, fi: usize, toks: &[Token<'_>], i: usize) -> bool {
        let allowed = &self.frames[fi].object_classes;
        let (false, Some(words)) = (allowed.is_empty(), &self.word_classes) else {
            return false;
        };
        // "was released Friday": a time is when, not what.
        Self::phrase_head(words, toks, i)
            .and_then(|h| words.of(&h).map(str::to_string))
            .is_some_and(|class| class != "time" && !allowed.contains(&class))
    }

    pub fn with_sense(mut self, model: Option<(Arc<LinearModel>, sense::Knowledge)>) -> Self {
        self.sense = model.filter(|(m, _)| !m.is_empty());
        self
    }

    /// Claims of every sentence of a report.
    pub fn claims(&self, report: &Report, mentions: &[Mention]) -> Vec<ClaimDraft> {
        let toks = SentenceTokens::new(report.sentences.iter().map(|s| s.text.as_str()));
        self.claims_tokens(report, &toks, mentions)
    }

    /// [`Self::claims`] over the tokens of the report's sentences.
    pub fn claims_tokens(
        &self,
        report: &Report,
        toks: &SentenceTokens<'_>,
        mentions: &[Mention],
    ) -> Vec<ClaimDraft> {
        let mut out = Vec::new();
        // The mentions of each sentence, in mention order: sentence `si` has
        // `by_sentence[starts[si]..starts[si + 1]]`.
        let n = report.sentences.len();
        let mut starts = vec![0usize; n + 1];
        // A mention around another (a country's forces around the country) plays no role:
        // the one inside it does.
        let plays = |m: &Mention| m.sentence < n && !m.enclosing;
        for m in mentions.iter().filter(|m| plays(m)) {
            starts[m.sentence + 1] += 1;
        }
        for si in 0..n {
            starts[si + 1] += starts[si];
        }
        let mut by_sentence = vec![0usize; starts[n]];
        let mut next = starts.clone();
        for (i, m) in mentions.iter().enumerate().filter(|(_, m)| plays(m)) {
            by_sentence[next[m.sentence]] = i;
            next[m.sentence] += 1;
        }
        // Headings last: a headline sums up the body, so its claims join the body's
        // developments rather than open their own.
        let order = (0..n)
            .filter(|i| !report.headings.contains(i))
            .chain(report.headings.iter().copied());
        let doc = self
            .sense
            .as_ref()
            .map(|_| DocContext::new(report, toks))
            .unwrap_or_default();
        for si in order {
            let s = &report.sentences[si];
            let in_sentence = &by_sentence[starts[si]..starts[si + 1]];
            let sentence_toks = toks.sentence(si);
            let ctx = SentenceContext {
                si,
                heading: report.headings.contains(&si),
                doc: &doc,
                year: report.published_at.year(),
            };
            self.sentence_claims(
                &ctx,
                &s.text,
                sentence_toks,
                mentions,
                in_sentence,
                &mut out,
            );
        }
        out
    }

    fn sentence_claims(
        &self,
        ctx: &SentenceContext<'_>,
        text: &str,
        toks: &[Token<'_>],
        mentions: &[Mention],
        in_sentence: &[usize],
        out: &mut Vec<ClaimDraft>,
    ) {
        let lower = text.to_lowercase();
        if lower.len() != text.len() {
            // Lower-casing changed byte lengths (rare scripts): offsets would not line up.
            return;
        }
        if toks.is_empty() {
            return;
        }
        // The first token that ends after `byte` (token ends increase), else the last.
        let tok_at = |byte: usize| toks.partition_point(|t| t.end <= byte).min(toks.len() - 1);
        let boundaries = self.clause_boundaries(toks);
        let fronted_end = self.fronted_end(toks);
        // A trigger's clause; one inside a fronted adverbial ends at its comma.
        let clause_at = |t0: usize| {
            let mut clause = clause_of(&boundaries, t0, toks.len());
            if let Some(f) = fronted_end.filter(|&f| t0 < f && f < clause.1) {
                clause.1 = f;
            }
            clause
        };
        let mut triggers: Vec<Found<'_>> = Vec::new();
        // Particle tokens already taken by a phrasal trigger ("held ... talks"): a trigger
        // there is part of that one.
        let mut taken: Vec<usize> = Vec::new();
        for m in self.triggers.find_iter(&lower) {
            if !word_bounded(&lower, m.start(), m.end()) {
                continue;
            }
            let (t0, t1) = (tok_at(m.start()), tok_at(m.end() - 1));
            // "pre-deployment training": part of a word about something else.
            let prefixed = lower[..m.start()].strip_suffix('-').is_some_and(|head| {
                let word = head
                    .rsplit(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap_or_default();
                self.grammar.prefixes.contains_lower(word)
            });
            if prefixed {
                continue;
            }
            let id = &self.trigger_ids[m.pattern().as_usize()];
            let phrasal = id.phrasal.iter().find_map(|(fi, form, particle, lemma)| {
                self.particle_after(toks, &boundaries, t1, particle)
                    .map(|(p0, p1)| (*fi, *form, p0, p1, lemma.as_str()))
            });
            if let Some((fi, form, p0, p1, lemma)) = phrasal {
                taken.extend(p0..=p1);
                triggers.push(Found {
                    fi,
                    form,
                    lemma,
                    t0,
                    t1,
                    start: m.start(),
                    end: toks[p1].end,
                });
            } else if let Some((fi, form)) = id.standalone {
                let frame = &self.frames[fi];
                let lemma = frame
                    .lemmas
                    .get(&lower[m.start()..m.end()])
                    .map_or(&lower[m.start()..m.end()], String::as_str);
                triggers.push(Found {
                    fi,
                    form,
                    lemma,
                    t0,
                    t1,
                    start: m.start(),
                    end: m.end(),
                });
            }
        }
        triggers.retain(|f| !taken.contains(&f.t0) && !self.idiom_follows(toks, &tok_at, f));
        // The sense filter: a trigger in another sense ("pulled out of the race") is no
        // claim, and takes no cue from the triggers that are.
        let mut margins = Vec::with_capacity(triggers.len());
        if let Some((model, know)) = &self.sense {
            let mut keys = Vec::new();
            triggers.retain(|f| {
                let frame = &self.frames[f.fi];
                sense::span_keys(
                    toks,
                    (f.start, f.end),
                    &text[f.start..f.end],
                    f.lemma,
                    frame.name.as_deref().unwrap_or(&frame.kind),
                    f.form.as_str(),
                    mentions,
                    in_sentence,
                    ctx.heading,
                    ctx.doc,
                    know,
                    &mut keys,
                );
                let margin = model.margin(&keys);
                let keep = margin > model.threshold;
                if keep {
                    margins.push(margin);
                }
                keep
            });
        }
        // Claims hang on triggers: most sentences have none, and need nothing more.
        if triggers.is_empty() {
            return;
        }
        // Cue hits as token ranges.
        let mut cue_hits: Vec<(usize, usize, CueKind, &str)> = Vec::new();
        for m in self.cues.find_iter(&lower) {
            // A capital mid-sentence is a name, not a cue ("on May 14", "Will Hart").
            let capital = m.start() > 0 && text[m.start()..].starts_with(char::is_uppercase);
            if word_bounded(&lower, m.start(), m.end()) && !capital {
                let k = self.cue_kinds[m.pattern().as_usize()];
                cue_hits.push((
                    tok_at(m.start()),
                    tok_at(m.end() - 1),
                    k,
                    &text[m.start()..m.end()],
                ));
            }
        }
        cue_hits.extend(earlier_years(toks, ctx.year));
        let partial = self.grammar.partial_progress(toks, text);
        // "the first (200) hostages", "a first road convoy", "the first place troops left":
        // the first of several, so under way. Not the trigger's own noun ("its first
        // commercial flight" is that flight), nor a first time.
        for (i, t) in toks.iter().enumerate() {
            if !self.grammar.firsts.contains_lower(t.text) {
                continue;
            }
            let mut n = i + 1;
            if toks.get(n).is_some_and(|t| t.kind == TokenKind::Number) {
                n += 1;
            }
            let noun = |k: usize| {
                toks.get(k).is_some_and(|t| {
                    t.kind == TokenKind::Word && !t.is_capitalized() && t.text.len() > 2
                })
            };
            if !noun(n) || self.grammar.firsts_except.contains_lower(toks[n].text) {
                continue;
            }
            // A compound ("road convoy") ends the phrase one word on.
            let last = if noun(n + 1)
                && !triggers.iter().any(|f| f.t0 == n + 1)
                && !self.grammar.be_forms.contains_lower(toks[n + 1].text)
                && !self.grammar.auxiliaries.contains_lower(toks[n + 1].text)
                && !is_article(toks[n + 1].text)
                && !with_lower(toks[n + 1].text, |w| ATTRIBUTIVE_AFTER.contains(&w))
            {
                n + 1
            } else {
                n
            };
            if triggers.iter().any(|f| f.t0 <= last && f.t1 >= i) {
                continue;
            }
            cue_hits.push((
                i,
                last,
                CueKind::Status(Status::Underway),
                &text[t.start..toks[last].end],
            ));
        }
        // "out by the end of 2023": a time, not the end of anything said here.
        cue_hits.retain(|&(s, e, k, _)| {
            let mut p = s;
            while p > 0 && is_article(toks[p - 1].text) {
                p -= 1;
            }
            !(matches!(k, CueKind::Status(_))
                && p > 0
                && self.grammar.deadlines.contains_lower(toks[p - 1].text)
                && toks
                    .get(e + 1)
                    .is_some_and(|t| t.text.eq_ignore_ascii_case("of")))
        });
        // Distances count a multi-word name as one word, so "the withdrawal of troops from
        // Varnholt air base was completed" keeps its cue within the window.
        let mut units = Vec::with_capacity(toks.len());
        let mut unit = 0usize;
        for (ti, t) in toks.iter().enumerate() {
            let inside = ti > 0
                && in_sentence.iter().any(|&i| {
                    let m = &mentions[i];
                    m.start < t.start && t.end <= m.end && toks[ti - 1].start >= m.start
                });
            if !inside {
                unit += 1;
            }
            units.push(unit);
        }
        // "a signed agreement would ...": a participle between an article and a noun
        // trigger describes the noun; it states nothing about when, so it is neither a cue
        // nor a claim of its own.
        let adjectival = |s: usize, e: usize| {
            s > 0
                && is_article(toks[s - 1].text)
                && triggers.iter().any(|o| {
                    o.form == Form::Noun
                        && o.t0 > e
                        && o.t0 - e <= 3
                        && toks[e + 1..o.t0]
                            .iter()
                            .all(|t| t.kind == TokenKind::Word && !t.is_capitalized())
                })
        };
        cue_hits.retain(|&(s, e, k, _)| {
            !matches!(k, CueKind::Status(_) | CueKind::FrameOnly) || !adjectival(s, e)
        });
        // "the besieged plant", "in besieged Mariupol": a participle describing a noun says
        // what state the noun is in; the clause's status words are about its own verb.
        let describing: Vec<bool> = triggers
            .iter()
            .map(|f| {
                let before =
                    f.t0.checked_sub(1)
                        .filter(|&p| toks[p].text.len() > 4 && toks[p].text.ends_with("ly"))
                        .unwrap_or(f.t0);
                f.form == Form::Past
                    && before > 0
                    && (is_article(toks[before - 1].text)
                        || with_lower(toks[before - 1].text, |w| ATTRIBUTIVE_AFTER.contains(&w)))
                    && toks
                        .get(f.t1 + 1)
                        .is_some_and(|t| t.kind == TokenKind::Word)
            })
            .collect();
        // A status cue belongs to the nearest trigger of its clause (the one before it on a
        // tie): in "the evacuation resumes under a pause in shelling", "resumes" is said of
        // the evacuation, not of the pause.
        // A status verb right before a trigger, determiners aside, takes it as its object:
        // in "shelling halts the evacuation" the evacuation is what halts.
        let gap = |cs: usize, ce: usize, t0: usize, t1: usize| {
            if ce < t0
                && toks[ce + 1..t0]
                    .iter()
                    .all(|t| self.grammar.determiners.contains(t.text))
            {
                (0, 0)
            } else if ce < t0 {
                (units[t0] - units[ce], 1)
            } else {
                (units[cs].saturating_sub(units[t1]), 0)
            }
        };
        for (
            ti,
            &Found {
                fi,
                form,
                lemma,
                t0,
                t1,
                start,
                end,
            },
        ) in triggers.iter().enumerate()
        {
            if form == Form::Past && adjectival(t0, t1) {
                continue;
            }
            // "ended without a deal": no deal.
            let mut p = t0;
            while p > 0 && is_article(toks[p - 1].text) {
                p -= 1;
            }
            if matches!(form, Form::Noun | Form::NounOrProgressive)
                && p > 0
                && self.grammar.absence.contains_lower(toks[p - 1].text)
            {
                continue;
            }
            // "a sign of plans": a verb the lexicon has no noun for, used as a noun, names
            // something else than the happening ("sign" the verb, "a sign" the omen).
            if form == Form::Base && t0 == t1 && t0 > 0 && is_article(toks[t0 - 1].text) {
                continue;
            }
            let frame = &self.frames[fi];
            // "a statement released by the Kremlin", "released a video": the thing acted on
            // says it is another happening than the frame's.
            let word_is_other = |t: Option<&Token<'_>>| {
                t.is_some_and(|t| {
                    frame
                        .other_objects
                        .iter()
                        .any(|w| t.text.eq_ignore_ascii_case(w))
                })
            };
            let object = toks[t1 + 1..]
                .iter()
                .find(|t| !self.grammar.determiners.contains_lower(t.text));
            if form != Form::Noun
                && (word_is_other(t0.checked_sub(1).and_then(|p| toks.get(p)))
                    || word_is_other(object))
            {
                continue;
            }
            // What it acts on: the object after the verb, or for a participle describing a
            // noun, that noun.
            let attributive = describing[ti];
            let acted_on = toks[t1 + 1..]
                .iter()
                .position(|t| !self.grammar.determiners.contains_lower(t.text))
                .map(|k| t1 + 1 + k);
            let passive =
                t0 > 0 && self.grammar.be_forms.contains_lower(toks[t0 - 1].text) && !attributive;
            if (attributive
                || (!passive && matches!(form, Form::Base | Form::Past | Form::Progressive)))
                && acted_on.is_some_and(|i| self.acts_on_other(fi, toks, i))
            {
                continue;
            }
            if !passive
                && matches!(form, Form::Base | Form::Past | Form::Progressive)
                && self.subject_is_other(fi, toks, t0, acted_on)
            {
                continue;
            }
            let clause = clause_at(t0);
            // The frame's own lifecycle first: "agreed" makes a truce planned.
            let statuses = &self.frame_statuses[fi];
            let owned: Vec<(usize, usize, CueKind, &str)> = cue_hits
                .iter()
                .copied()
                .filter_map(|(cs, ce, k, txt)| {
                    match with_lower(txt, |w| statuses.get(w).copied()) {
                        Some(st) => Some((cs, ce, CueKind::Status(st), txt)),
                        None if k == CueKind::FrameOnly => None,
                        None => Some((cs, ce, k, txt)),
                    }
                })
                .filter(|&(cs, ce, k, _)| {
                    if !matches!(k, CueKind::Status(_) | CueKind::Resumption) {
                        return true;
                    }
                    let mine = gap(cs, ce, t0, t1);
                    !attributive
                        && !triggers.iter().zip(&describing).any(
                            |(&Found { t0: o0, t1: o1, .. }, &describes)| {
                                !describes
                                    && (o0, o1) != (t0, t1)
                                    && clause_at(o0) == clause
                                    && !(cs >= o0 && ce <= o1)
                                    && gap(cs, ce, o0, o1) < mine
                            },
                        )
                })
                .collect();
            let status = self.status(toks, &units, &owned, clause, t0, t1, form);
            let Some((mut status, mut cue, modality, resumption)) = status else {
                continue;
            };
            // "in besieged Mariupol": a lasting state is in force; "the freed hostages": a
            // single act is done.
            if attributive && frame.durative {
                status = Some(Status::Underway);
                cue = Some("form:attributive".to_string());
            }
            // "under a 48-hour pause in shelling": a durative state in force.
            if frame.durative && status.is_none() && form == Form::Noun {
                if let Some(word) = self.in_force_before(toks, t0) {
                    status = Some(Status::Underway);
                    cue = Some(word);
                }
            }
            // "a truce set to expire next month": its end is ahead, so it is in force.
            if frame.durative && status == Some(Status::Planned) {
                if let Some(end) = self.end_ahead(toks, clause, t1) {
                    status = Some(Status::Underway);
                    cue = Some(end);
                }
            }
            // "10,500 had left, out of about 13,800": done in part, so under way. (Only what
            // is said done: "60% of prisoners reoffend after release" says nothing of one.)
            if status == Some(Status::Completed) {
                if let Some(&(_, _, words)) = partial
                    .iter()
                    .find(|&&(ps, pe, _)| ps >= clause.0 && pe < clause.1)
                {
                    status = Some(Status::Underway);
                    cue = Some(words.to_lowercase());
                }
            }
            // "after signing the accord": done, unless the sentence looks ahead first.
            let after_word = t0.checked_sub(1).and_then(|p| toks.get(p)).filter(|t| {
                self.past_words
                    .iter()
                    .any(|w| t.text.eq_ignore_ascii_case(w))
            });
            if let (Some(word), Some("form:progressive")) = (after_word, cue.as_deref()) {
                let ahead = cue_hits
                    .iter()
                    .any(|&(_, e, k, _)| k == CueKind::Status(Status::Planned) && e + 1 < t0);
                status = Some(if ahead {
                    Status::Planned
                } else {
                    Status::Completed
                });
                cue = Some(word.text.to_lowercase());
            }
            let clause_mentions: Vec<usize> = in_sentence
                .iter()
                .copied()
                .filter(|&i| {
                    let mt = tok_at(mentions[i].start);
                    mentions[i].end == 0 && clause.0 == 0 || (mt >= clause.0 && mt < clause.1)
                })
                .collect();
            let roles = self.roles(
                fi,
                toks,
                mentions,
                &clause_mentions,
                in_sentence,
                t0,
                t1,
                matches!(form, Form::Noun | Form::NounOrProgressive),
                &tok_at,
            );
            out.push(ClaimDraft {
                kind: frame.kind.clone(),
                frame: frame.name.clone().unwrap_or_else(|| frame.kind.clone()),
                sentence: ctx.si,
                trigger: text[start..end].to_string(),
                span: (start, end),
                form: form.as_str(),
                lemma: lemma.to_string(),
                sense: margins.get(ti).copied(),
                status,
                cue,
                modality,
                resumption,
                actor: roles.actor,
                location: roles.location,
                location_strong: roles.location_strong,
                place_unknown: roles.place_unknown,
                topic_place: roles.topic_place,
                target: roles.target,
                participants: roles.participants,
                identity: frame.identity.clone(),
            });
        }
    }

    /// True when the "-ing" form at `t0` opens a clause after a comma or dash (one adverb
    /// in -ly may stand between) and the sentence before it is told in the past, with no
    /// modal or present "be": "Moscow reinforced the base, deploying radar" tells of a
    /// deployment done, not underway.
    fn hangs_on_past_clause(&self, toks: &[Token<'_>], t0: usize) -> bool {
        let mut p = t0;
        if p > 0 && toks[p - 1].text.len() > 4 && toks[p - 1].text.ends_with("ly") {
            p -= 1;
        }
        if p == 0 || !matches!(toks[p - 1].text, "," | "—" | "–" | "-" | "--") {
            return false;
        }
        let before = &toks[..p - 1];
        let present_or_ahead = |t: &Token<'_>| {
            self.grammar.modals.contains_lower(t.text)
                || (self.grammar.be_forms.contains_lower(t.text)
                    && !self.grammar.past_forms.contains_lower(t.text))
        };
        let past = |t: &Token<'_>| {
            self.grammar.past_forms.contains_lower(t.text)
                || (t.kind == TokenKind::Word
                    && !t.is_capitalized()
                    && t.text.len() >= 5
                    && t.text.ends_with("ed"))
        };
        !before.iter().any(present_or_ahead) && before.iter().any(past)
    }

    /// True when the words after trigger `f` complete one of its lemma's idioms ("pulling
    /// out all the stops"): the trigger's words in another meaning. "one's" in an idiom
    /// stands for any possessive.
    fn idiom_follows(
        &self,
        toks: &[Token<'_>],
        tok_at: &dyn Fn(usize) -> usize,
        f: &Found<'_>,
    ) -> bool {
        let Some(idioms) = self.frames[f.fi].idioms.get(f.lemma) else {
            return false;
        };
        let next = tok_at(f.end.saturating_sub(1)) + 1;
        let after = toks.get(next..).unwrap_or_default();
        idioms.iter().any(|rest| {
            rest.len() <= after.len()
                && rest.iter().zip(after).all(|(w, t)| {
                    t.text.eq_ignore_ascii_case(w)
                        || (w == "one's"
                            && POSSESSIVES.iter().any(|p| t.text.eq_ignore_ascii_case(p)))
                })
        })
    }

    /// True when the "-ing" trigger at `t0..=t1` is the subject of a judgement: right
    /// after "that" or opening its clause, with "be" or a modal as the next verb ("sending
    /// a force would be extreme"). Another verb next ("moving out had filled 400
    /// containers") tells it happened, so the form keeps its reading.
    fn gerund_subject(
        &self,
        toks: &[Token<'_>],
        clause: (usize, usize),
        t0: usize,
        t1: usize,
    ) -> bool {
        let after_that = t0 > 0 && toks[t0 - 1].text.eq_ignore_ascii_case("that");
        let opens = (clause.0..t0).all(|k| toks[k].kind == TokenKind::Punct);
        if !after_that && !opens {
            return false;
        }
        // The sentence's next verb after the phrase: "that" clauses run past commas.
        let end = if after_that {
            toks.len()
        } else {
            clause.1.min(toks.len())
        };
        toks.get(t1 + 1..end)
            .unwrap_or_default()
            .iter()
            .find(|t| {
                self.grammar.be_forms.contains_lower(t.text)
                    || self.grammar.modals.contains_lower(t.text)
                    || self.grammar.past_forms.contains_lower(t.text)
            })
            .is_some_and(|t| {
                self.grammar.be_forms.contains_lower(t.text)
                    || self.grammar.modals.contains_lower(t.text)
            })
    }

    /// The token range of `particle` after the verb ending at `t1`: right after it, or after
    /// at most [`PARTICLE_GAP`] words or numbers of its object in the same clause ("pull
    /// its forces out", "send 300 more troops"); never across punctuation or a clause
    /// boundary.
    fn particle_after(
        &self,
        toks: &[Token<'_>],
        boundaries: &[usize],
        t1: usize,
        particle: &[String],
    ) -> Option<(usize, usize)> {
        let n = particle.len();
        let clause_end = clause_of(boundaries, t1, toks.len()).1;
        let last = (t1 + 1 + PARTICLE_GAP).min(clause_end.saturating_sub(n));
        for p in t1 + 1..=last {
            if p + n > clause_end {
                break;
            }
            if toks[p..p + n]
                .iter()
                .zip(particle)
                .all(|(t, w)| t.text.eq_ignore_ascii_case(w))
            {
                return Some((p, p + n - 1));
            }
            // A count belongs to the object ("sent 300 more troops").
            if !matches!(toks[p].kind, TokenKind::Word | TokenKind::Number) {
                return None;
            }
        }
        None
    }

    /// An `ending` verb after "to" or a modal in the clause, past the trigger ending at
    /// `t1`: "set to expire", "will end". Returns the two words.
    fn end_ahead(&self, toks: &[Token<'_>], clause: (usize, usize), t1: usize) -> Option<String> {
        (t1 + 2..clause.1.min(toks.len())).find_map(|k| {
            let before = toks[k - 1].text;
            let governed =
                before.eq_ignore_ascii_case("to") || self.grammar.modals.contains_lower(before);
            (governed
                && self
                    .ending
                    .iter()
                    .any(|w| toks[k].text.eq_ignore_ascii_case(w)))
            .then(|| format!("{} {}", before, toks[k].text).to_lowercase())
        })
    }

    /// An `in_force` word at most six tokens before the noun at `t0` (a hyphen counts), with only
    /// determiners, numbers, hyphenated parts and modifiers between ("under a 48-hour",
    /// "amid the naval"). An `of` or `for` between makes the noun the complement of another
    /// ("despite calls for a ceasefire", "under cover of a truce"): no status.
    fn in_force_before(&self, toks: &[Token<'_>], t0: usize) -> Option<String> {
        const REACH: usize = 6;
        for t in toks[t0.saturating_sub(REACH)..t0].iter().rev() {
            let lower = t.text.to_lowercase();
            if self.in_force.contains(&lower) {
                return Some(lower);
            }
            if matches!(lower.as_str(), "of" | "for")
                || (t.kind == TokenKind::Punct && t.text != "-")
            {
                return None;
            }
        }
        None
    }

    /// Where a fronted adverbial ends (see `fronted`): the token after its comma. Only a
    /// trigger inside it stops there ("Under the agreement, he called off the advance");
    /// the main clause keeps it, for its time ("During a visit in 2029, X met Y").
    fn fronted_end(&self, toks: &[Token<'_>]) -> Option<usize> {
        if !toks
            .first()
            .is_some_and(|t| self.fronted.contains_lower(t.text))
        {
            return None;
        }
        toks.iter().position(|t| t.text == ",").map(|i| i + 1)
    }

    /// Token indices where clauses start (always includes 0).
    fn clause_boundaries(&self, toks: &[Token<'_>]) -> Vec<usize> {
        let mut b = vec![0];
        // The closing bracket of an aside (see `aside_words`).
        let mut aside_end = None;
        for (i, t) in toks.iter().enumerate() {
            if aside_end == Some(i) {
                continue;
            }
            if t.text == "(" {
                let close = toks[i + 1..]
                    .iter()
                    .take(self.aside_words + 1)
                    .position(|t| t.kind != TokenKind::Word && t.kind != TokenKind::Number);
                if let Some(k) = close.filter(|&k| k > 0 && toks[i + 1 + k].text == ")") {
                    aside_end = Some(i + 1 + k);
                    continue;
                }
            }
            if t.kind == TokenKind::Punct && self.clause_punct.iter().any(|p| p == t.text) {
                b.push(i + 1);
                continue;
            }
            if t.kind != TokenKind::Word {
                continue;
            }
            if let Some(&always) = self.clause_words.get_lower(t.text) {
                let after_comma = i > 0 && matches!(toks[i - 1].text, "," | "-");
                if always || after_comma {
                    b.push(i);
                }
            }
        }
        b.dedup();
        b
    }

    /// Whether the noun at `t0` is the topic of talks: a noun of talks, a topic preposition,
    /// then at most `NEGOTIATED_GAP` modifiers ("negotiations on a critical minerals deal").
    /// A verb between ("talks on extending the truce") makes the topic that verb's act.
    fn under_negotiation(&self, toks: &[Token<'_>], t0: usize) -> bool {
        let from = t0.saturating_sub(NEGOTIATED_GAP + 1);
        (from..t0).rev().any(|p| {
            p > 0
                && self.grammar.topics.contains_lower(toks[p].text)
                && self.grammar.negotiations.contains_lower(toks[p - 1].text)
                && toks[p + 1..t0].iter().all(|t| {
                    t.kind == TokenKind::Word
                        && !t.text.to_lowercase().ends_with("ing")
                        && !self.grammar.topics.contains_lower(t.text)
                })
        })
    }

    // The sentence's views (tokens, name units, cue hits) travel together; bundling them
    // into a struct would only rename the arguments.
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    fn status(
        &self,
        toks: &[Token<'_>],
        units: &[usize],
        cues: &[(usize, usize, CueKind, &str)],
        clause: (usize, usize),
        t0: usize,
        t1: usize,
        form: Form,
    ) -> Option<(Option<Status>, Option<String>, Modality, bool)> {
        let in_clause = |s: usize, e: usize| s >= clause.0 && e < clause.1;
        let dist = |s: usize, e: usize| {
            if e < t0 {
                units[t0] - units[e]
            } else {
                units[s].saturating_sub(units[t1])
            }
        };
        // "denied responsibility", "denied reports that ...": a blocker within a few words
        // after the denial makes it a denial of something else. Further on ("denied that
        // troops were sent, calling the reports an invention") it does not.
        let blocked_denial = |ds: usize, de: usize| {
            cues.iter().any(|&(s, e, k, _)| {
                k == CueKind::DenialBlocker && in_clause(s, e) && s > de.max(ds) && s - de <= 3
            })
        };
        // A noun opening its clause is its subject: its verb may come after long modifiers,
        // as long as no other verb comes first.
        let subject = matches!(form, Form::Noun | Form::NounOrProgressive)
            && t0 >= clause.0
            && t0 - clause.0 <= 2;
        let verb_between = |s: usize| {
            toks[t1 + 1..s].iter().any(|t| {
                self.grammar.be_forms.contains_lower(t.text)
                    || self.grammar.auxiliaries.contains_lower(t.text)
            })
        };
        let mut best: Option<(usize, usize, Status, bool, &str, usize)> = None; // (dist, prec, status, resumption, text, start)
        for &(s, e, k, txt) in cues {
            if !in_clause(s, e) || (s >= t0 && e <= t1) {
                continue;
            }
            let d = dist(s, e);
            let far_verb = s > t1 && subject && d <= self.subject_window && !verb_between(s);
            if d > self.window && !far_verb {
                continue;
            }
            let (status, resumption) = match k {
                CueKind::Status(st) => (st, false),
                CueKind::Resumption => (Status::Underway, true),
                _ => continue,
            };
            // "X denied shelling the square": X denies doing it, not that it happened.
            let denies_doing =
                e + 1 == t0 && matches!(form, Form::Progressive | Form::NounOrProgressive);
            if status == Status::Denied && (blocked_denial(s, e) || denies_doing) {
                continue;
            }
            let prec = if resumption {
                0
            } else {
                1 + PRECEDENCE.iter().position(|p| *p == status).unwrap_or(9)
            };
            let cand = (d, prec, status, resumption, txt, s);
            if best.is_none_or(|b| (cand.0, cand.1) < (b.0, b.1)) {
                best = Some(cand);
            }
        }
        // Aux "be" right before an -ing form makes it progressive ("is meeting").
        let be_before = t0 > 0 && self.grammar.be_forms.contains_lower(toks[t0 - 1].text);
        let to_before = t0 > 0 && toks[t0 - 1].text.eq_ignore_ascii_case("to");
        // "the pact is to be signed", "a force to be deployed": a participle after "to be"
        // is still ahead.
        let to_be_before = t0 > 1
            && toks[t0 - 1].text.eq_ignore_ascii_case("be")
            && toks[t0 - 2].text.eq_ignore_ascii_case("to");
        let (mut status, mut cue, resumption, anchor) = match best {
            Some((_, _, st, res, txt, s)) => (Some(st), Some(txt.to_lowercase()), res, s),
            None => match form {
                Form::Past if to_be_before => {
                    (Some(Status::Planned), Some("to be".to_string()), false, t0)
                }
                Form::Past => (
                    Some(Status::Completed),
                    Some("form:past".to_string()),
                    false,
                    t0,
                ),
                Form::Progressive if self.hangs_on_past_clause(toks, t0) => (
                    Some(Status::Completed),
                    Some("form:past-clause".to_string()),
                    false,
                    t0,
                ),
                // "Leaving Lisk is the first closure", "warned that sending a force
                // would be extreme": an "-ing" form opening its clause, with the clause's
                // own verb after it, names the happening; it does not tell it under way.
                Form::Progressive if self.gerund_subject(toks, clause, t0, t1) => {
                    (None, None, false, t0)
                }
                Form::Progressive => (
                    Some(Status::Underway),
                    Some("form:progressive".to_string()),
                    false,
                    t0,
                ),
                Form::NounOrProgressive if be_before => (
                    Some(Status::Underway),
                    Some("form:progressive".to_string()),
                    false,
                    t0,
                ),
                Form::Base if to_before => {
                    (Some(Status::Planned), Some("to".to_string()), false, t0)
                }
                _ => (None, None, false, t0),
            },
        };
        // "would allow it to end the blockade", "is to begin": a status verb after "to" or a
        // modal is not yet what happens. A forward status is planned; a reversal that is
        // only spoken of ("threatened to suspend") moves nothing.
        let mut infinitive_reversal = false;
        if let Some((_, _, st, false, txt, s)) = best {
            let governed = s > 0
                && (toks[s - 1].text.eq_ignore_ascii_case("to")
                    || self.grammar.modals.contains_lower(toks[s - 1].text));
            if governed && !txt.contains(' ') {
                if st.stage().is_some() {
                    status = Some(Status::Planned);
                    cue = Some(format!("{} {}", toks[s - 1].text, txt).to_lowercase());
                } else {
                    infinitive_reversal = true;
                }
            }
        }
        // "while negotiations on a minerals deal continue": what talks are about is still
        // ahead; the clause's cues tell how the talks go.
        if form == Form::Noun && self.under_negotiation(toks, t0) {
            status = Some(Status::Planned);
            cue = Some("under negotiation".to_string());
            infinitive_reversal = false;
        }
        // "denied that troops had been deployed": with no status cue of its own, the
        // happening is denied; "denied that the withdrawal was complete" negates the cue.
        let denied_clause = cues.iter().any(|&(s, e, k, _)| {
            k == CueKind::DenialClause && in_clause(s, e) && e < t0 && dist(s, e) <= self.window
        });
        if denied_clause && best.is_none() && status.is_some() {
            status = Some(Status::Denied);
            cue = Some("denied that".to_string());
        }
        // Negation: a negator within three tokens before the cue (or the trigger).
        let negated = (denied_clause && best.is_some_and(|b| b.5 > t0))
            || cues.iter().any(|&(s, e, k, _)| {
                k == CueKind::Negator && in_clause(s, e) && e < anchor && anchor - e <= 3
            })
            // A verb's own negation right after a modal cue: "will not withdraw", "the truce
            // would not hold" (not "ended without a deal": that negates the deal).
            || (best.is_some()
                && cues.iter().any(|&(s, e, k, _)| {
                    let verbal = |t: &Token<'_>| {
                        let w = t.text.to_lowercase();
                        w == "not" || w == "never" || w.ends_with("n't")
                    };
                    k == CueKind::Negator
                        && in_clause(s, e)
                        && s > anchor
                        && s - anchor <= 2
                        && toks.get(s).is_some_and(verbal)
                }))
            || (best.is_none()
                && cues.iter().any(|&(s, e, k, _)| {
                    k == CueKind::Negator && in_clause(s, e) && e < t0 && t0 - e <= 3
                }));
        let hedged = infinitive_reversal
            || cues.iter().any(|&(s, e, k, _)| {
                k == CueKind::Hedge && in_clause(s, e) && dist(s, e) <= self.window
            });
        let same_time = toks.get(clause.0).is_some_and(|t| {
            self.same_time_words
                .iter()
                .any(|w| t.text.eq_ignore_ascii_case(w))
        });
        let background = cues.iter().any(|&(s, e, k, _)| {
            k == CueKind::Background && (in_clause(s, e) || (same_time && e < clause.0))
        });
        // A clause opened by "before"/"until" tells of something still ahead.
        let future = toks.get(clause.0).is_some_and(|t| {
            self.future_words
                .iter()
                .any(|w| t.text.eq_ignore_ascii_case(w))
        });
        // "... before the camp was handed over", "before troops withdrew": a past verb puts
        // the clause in the past after all.
        let told_as_past = || {
            let is_past_aux = |t: &Token<'_>| {
                self.past_auxiliaries
                    .iter()
                    .any(|w| t.text.eq_ignore_ascii_case(w))
            };
            let present_before = t0 > 0
                && self.grammar.be_forms.contains_lower(toks[t0 - 1].text)
                && !is_past_aux(&toks[t0 - 1]);
            toks[clause.0..t0.max(clause.0)].iter().any(is_past_aux)
                || (form == Form::Past && !present_before)
        };
        if future
            && status.is_some_and(|s| matches!(s, Status::Underway | Status::Completed))
            && !told_as_past()
        {
            status = Some(Status::Planned);
        }
        // "The extension takes effect when the current truce ends": a cue in the present
        // after "when" tells what will happen then, not what has.
        let ahead = toks.get(clause.0).is_some_and(|t| {
            self.ahead_words
                .iter()
                .any(|w| t.text.eq_ignore_ascii_case(w))
        });
        let present_cue = || {
            cue.as_deref().is_some_and(|c| {
                let first = c.split(' ').next().unwrap_or(c);
                !c.starts_with("form:")
                    && !first.ends_with("ed")
                    && !self.grammar.past_forms.contains_lower(first)
            })
        };
        if ahead
            && present_cue()
            && status.is_some_and(|s| matches!(s, Status::Underway | Status::Completed))
            && !told_as_past()
        {
            status = None;
        }
        // "neither the truce nor the releases will start before Friday", "won't begin until
        // Monday": put off, not called off, so still ahead.
        // Through the word that opens the next clause: "until" and "before" open one.
        let after = toks
            .get(anchor.max(t1) + 1..(clause.1 + 1).min(toks.len()))
            .unwrap_or_default();
        let put_off = negated
            && match status {
                Some(Status::Planned | Status::Underway) => true,
                None => after
                    .iter()
                    .any(|t| self.grammar.modals.contains_lower(t.text)),
                _ => false,
            }
            && after.iter().any(|t| {
                self.future_words
                    .iter()
                    .any(|w| t.text.eq_ignore_ascii_case(w))
            });
        let modality = if put_off {
            status = Some(Status::Planned);
            cue = Some("not before".to_string());
            Modality::Asserted
        } else if negated {
            status = status.and_then(|s| self.negation_map.get(&s).copied());
            if status.is_none() {
                cue = None;
            }
            Modality::Negated
        } else if background {
            Modality::Background
        } else if hedged {
            Modality::Hedged
        } else {
            Modality::Asserted
        };
        Some((status, cue, modality, resumption && !negated))
    }

    #[allow(clippy::too_many_arguments)]
    fn roles(
        &self,
        fi: usize,
        toks: &[Token<'_>],
        mentions: &[Mention],
        clause: &[usize],
        sentence: &[usize],
        t0: usize,
        t1: usize,
        noun_trigger: bool,
        tok_at: &dyn Fn(usize) -> usize,
    ) -> Roles {
        let frame = &self.frames[fi];
        let location_preps = &self.location_preps[fi];
        let mut roles = Roles::default();
        // Names in a relative clause about another noun, or in an attribution, are none of
        // the trigger's roles; nor are the outlets that carry the news.
        let elsewhere = self.relative_clauses(toks, t0, t1);
        let own = |ids: &[usize]| -> Vec<usize> {
            ids.iter()
                .copied()
                .filter(|&i| {
                    let mt = tok_at(mentions[i].start);
                    !elsewhere.iter().any(|&(a, b)| a <= mt && mt < b)
                        && !mentions[i]
                            .gazetteer
                            .is_some_and(|g| self.media.get(g).copied().unwrap_or(false))
                })
                .collect()
        };
        let (clause, sentence) = (&own(clause)[..], &own(sentence)[..]);
        let locatable = |m: &Mention| {
            !m.demonym
                && matches!(
                    m.kind,
                    EntityKind::Facility | EntityKind::Place | EntityKind::Other
                )
        };
        // Location: a mention right after one of the frame's prepositions (after the
        // trigger first), else a facility in the clause, else a place after the trigger.
        let after_prep = |i: &usize| {
            let m = &mentions[*i];
            let mt = tok_at(m.start);
            let mut p = mt;
            while p > 0 && is_article(toks[p - 1].text) {
                p -= 1;
            }
            // "of its forces and equipment from X": allow the prep a little before.
            p > 0
                && location_preps.iter().any(|words| {
                    p >= words.len()
                        && words
                            .iter()
                            .zip(&toks[p - words.len()..p])
                            .all(|(w, t)| t.text.eq_ignore_ascii_case(w))
                })
        };
        // Possessives and compounds modify ("Russia's military posture", "U.S.-mediated
        // talks"): never a location or target.
        let possessive = |i: &usize| {
            let end = tok_at(mentions[*i].end.saturating_sub(1).max(mentions[*i].start));
            let next = toks.get(end + 1).map(|t| t.text);
            let after = toks.get(end + 2).map(|t| t.text);
            matches!(next, Some("'s" | "'" | "-")) || (next == Some(".") && after == Some("-"))
        };
        // "released by the Kremlin": the mention after "by" is the agent.
        let agent = |i: &usize| {
            let mt = tok_at(mentions[*i].start);
            let mut p = mt;
            while p > 0 && is_article(toks[p - 1].text) {
                p -= 1;
            }
            p > 0 && toks[p - 1].text.eq_ignore_ascii_case("by")
        };
        let distance = |i: &usize| {
            let mt = tok_at(mentions[*i].start);
            if mt > t1 {
                mt - t1
            } else {
                t0.saturating_sub(mt) + 1
            }
        };
        // "talks on the future of the bases at X": X is where the topic is. A preposition
        // of the frame's own is no topic ("the attack on X"). `reach` limits how far after
        // the trigger the topic may open.
        let topic_within = |i: &usize, reach: usize| {
            let mt = tok_at(mentions[*i].start);
            (t1 + 1..mt.min((t1 + 1).saturating_add(reach))).any(|k| {
                let w = toks[k].text;
                self.grammar.topics.contains_lower(w)
                    && !location_preps
                        .iter()
                        .any(|p| p.len() == 1 && p[0].eq_ignore_ascii_case(w))
                    && toks.get(k + 1).is_some_and(|n| !is_time_word(n.text))
            })
        };
        let in_topic = |i: &usize| topic_within(i, usize::MAX);
        // "denied by the Ministry of Defence in Velgrad": the seat of the agent named right
        // before it, not where the happening was. (Not of any organization: "the UN mission
        // in Mali withdrew" leaves Mali.)
        let seat = |i: &usize| {
            let mt = tok_at(mentions[*i].start);
            mt >= 2
                && toks[mt - 1].text.eq_ignore_ascii_case("in")
                && sentence.iter().any(|&j| {
                    let o = &mentions[j];
                    o.kind == EntityKind::Organization
                        && o.end > 0
                        && tok_at(o.end - 1) + 2 == mt
                        && agent(&j)
                })
        };
        let candidates: Vec<usize> = clause
            .iter()
            .copied()
            .filter(|i| locatable(&mentions[*i]) && !possessive(i) && !in_topic(i) && !seat(i))
            .collect();
        // The trigger's own topic, opening right after it ("talks on the bases at X", "talks
        // will center on ..."), names a place the claim is about.
        roles.topic_place = clause
            .iter()
            .copied()
            .find(|i| locatable(&mentions[*i]) && !possessive(i) && topic_within(i, TOPIC_GAP));
        // A name right before a noun trigger is its place: "the Lisk evacuation", "in
        // Harven the withdrawal". One or two lower-case modifiers may stand between ("the
        // Kell River water-sharing accord"). Not a name that a verb of speech addresses:
        // in "sources told the Velgrad Courier that the evacuation" it is who was told.
        let addressed = |m: &Mention| {
            let mut p = tok_at(m.start);
            while p > 0 && is_article(toks[p - 1].text) {
                p -= 1;
            }
            p > 0 && self.grammar.speech_verbs.contains_lower(toks[p - 1].text)
        };
        let adjunct = candidates.iter().copied().find(|i| {
            let m = &mentions[*i];
            if m.end == 0 || m.kind == EntityKind::Person || addressed(m) {
                return false;
            }
            let after = tok_at(m.end - 1) + 1;
            noun_trigger
                && after <= t0
                && t0 - after <= 2
                && toks[after..t0].iter().all(|t| {
                    t.kind == TokenKind::Word
                        && !t.is_capitalized()
                        && !self.grammar.be_forms.contains(t.text)
                        && !self.grammar.auxiliaries.contains(t.text)
                })
        });
        // "handing the Menaka base over to ...": the object of a verb that acts on a place.
        let object = || {
            let mut p = t1 + 1;
            while toks.get(p).is_some_and(|t| is_article(t.text)) {
                p += 1;
            }
            candidates
                .iter()
                .copied()
                .find(|i| tok_at(mentions[*i].start) == p)
        };
        // "the base at X, which has been handed over", "the camp was handed over": told in
        // the passive, what is acted on comes before the verb; the nearest place before it
        // in the sentence, for a bare "the camp" names none.
        let passive = || {
            let be = |k: usize| self.grammar.be_forms.contains_lower(toks[k].text);
            (t0 >= 1 && be(t0 - 1))
                || (t0 >= 2
                    && be(t0 - 2)
                    && toks[t0 - 1].kind == TokenKind::Word
                    && !toks[t0 - 1].is_capitalized()
                    && self.grammar.adverbs.contains_lower(toks[t0 - 1].text))
        };
        let subject = || {
            sentence
                .iter()
                .copied()
                .filter(|i| {
                    let m = &mentions[*i];
                    locatable(m) && m.end > 0 && tok_at(m.start) < t0 && !possessive(i)
                })
                .max_by_key(|i| tok_at(mentions[*i].start))
        };
        let object = (frame.object_location && !noun_trigger)
            .then(|| if passive() { subject() } else { object() })
            .flatten();
        let mut loc = object.or(adjunct).or_else(|| {
            candidates
                .iter()
                .copied()
                .filter(after_prep)
                .min_by_key(|i| (tok_at(mentions[*i].start) < t0, distance(i)))
        });
        let mut strong = loc.is_some();
        if loc.is_none() {
            // A facility far before the trigger is where something else is ("the monitors
            // at the airport leave a region defined by a ceasefire").
            loc = candidates
                .iter()
                .copied()
                .filter(|i| mentions[*i].kind == EntityKind::Facility)
                .filter(|i| tok_at(mentions[*i].start) > t1 || distance(i) <= FACILITY_BEFORE)
                .min_by_key(distance);
            strong = loc.is_some();
        }
        // "handed over to Niger": where "to" is none of the frame's prepositions, the place
        // after it receives, it is not where the happening is.
        let to_is_prep = location_preps
            .iter()
            .any(|w| w.len() == 1 && w[0].eq_ignore_ascii_case("to"));
        let received = |i: &usize| {
            let mut p = tok_at(mentions[*i].start);
            while p > 0 && is_article(toks[p - 1].text) {
                p -= 1;
            }
            !to_is_prep && p > 0 && toks[p - 1].text.eq_ignore_ascii_case("to")
        };
        if loc.is_none() {
            loc = candidates
                .iter()
                .copied()
                .filter(|i| {
                    mentions[*i].kind == EntityKind::Place
                        && tok_at(mentions[*i].start) > t1
                        && !received(i)
                })
                .min_by_key(distance);
        }
        roles.location_strong = strong;
        roles.location = loc;
        if !strong {
            // "pull out of the grain deal": the frame's preposition right after the trigger
            // (or completing its particle: "out" + "of") with no known place after it.
            let after = &toks[(t1 + 1).min(toks.len())..];
            let starts = |words: &[String]| {
                words.len() <= after.len()
                    && words
                        .iter()
                        .zip(after)
                        .all(|(w, t)| t.text.eq_ignore_ascii_case(w))
            };
            roles.place_unknown = location_preps.iter().any(|words| {
                starts(words)
                    || (words.len() > 1
                        && words[0].eq_ignore_ascii_case(toks[t1].text)
                        && starts(&words[1..]))
            });
        }
        // Actor: the nearest organization, place or person before the trigger; a demonym
        // right before it ("Russian withdrawal") is the actor too.
        roles.actor = clause.iter().copied().rfind(|i| {
            Some(*i) != loc
                && mentions[*i].end > 0
                && tok_at(mentions[*i].start) < t0
                && mentions[*i].kind != EntityKind::Facility
        });
        // "handed them to the Red Cross": the recipient, not what is handed over.
        let recipient = |i: &usize| {
            let mut p = tok_at(mentions[*i].start);
            while p > 0 && is_article(toks[p - 1].text) {
                p -= 1;
            }
            p > 0 && toks[p - 1].text.eq_ignore_ascii_case("to")
        };
        // "..., minister Ana Ruiz said": the source of the sentence, not a role.
        let speaker = |i: &usize| {
            let end = tok_at(mentions[*i].end.saturating_sub(1).max(mentions[*i].start));
            toks.get(end + 1)
                .is_some_and(|t| self.grammar.speech_verbs.contains_lower(t.text))
        };
        // Target: the first person or organization after the trigger.
        roles.target = clause.iter().copied().find(|i| {
            tok_at(mentions[*i].start) > t1
                && Some(*i) != loc
                && !possessive(i)
                && !agent(i)
                && !recipient(i)
                && !speaker(i)
                && matches!(
                    mentions[*i].kind,
                    EntityKind::Person | EntityKind::Organization
                )
        });
        if roles.actor.is_none() {
            roles.actor = clause
                .iter()
                .copied()
                .find(|i| tok_at(mentions[*i].start) > t1 && agent(i));
        }
        // Participants: people of the clause, else of the sentence (meetings, agreements).
        if frame.identity.iter().any(|r| r == "participants") {
            let people = |ids: &[usize]| -> Vec<usize> {
                let mut v: Vec<usize> = ids
                    .iter()
                    .copied()
                    .filter(|i| mentions[*i].kind == EntityKind::Person && !mentions[*i].demonym)
                    .collect();
                v.dedup_by_key(|i| mentions[*i].key.clone());
                v
            };
            let mut p = people(clause);
            if p.len() < 2 {
                // Beyond the clause, the sources of the sentence ("X told reporters ..., while
                // Y said ... an accord") are not parties to an agreement or a truce; they are
                // to a meeting more often than not ("X said after meeting Y").
                p = people(sentence);
                if frame.kind != "meeting" {
                    p.retain(|i| !speaker(i));
                }
            }
            if p.len() < 2 && frame.kind != "meeting" {
                // Agreements and truces are between organizations or states as often.
                p = clause
                    .iter()
                    .copied()
                    .filter(|i| {
                        matches!(
                            mentions[*i].kind,
                            EntityKind::Organization | EntityKind::Person
                        ) || mentions[*i].demonym
                    })
                    .collect();
            }
            roles.participants = p;
        }
        roles
    }
}

#[derive(Debug, Default)]
struct Roles {
    actor: Option<usize>,
    location: Option<usize>,
    location_strong: bool,
    place_unknown: bool,
    topic_place: Option<usize>,
    target: Option<usize>,
    participants: Vec<usize>,
}

/// Words that start a clause: word → starts one even without a comma.
type ClauseWords = LowerMap<bool>;

/// Builds the clause-word table from the cue configuration.
fn clause_words(cues: &CueConfig) -> ClauseWords {
    cues.clauses
        .after_comma
        .iter()
        .map(|w| (w.to_lowercase(), cues.clauses.always.contains(w)))
        .chain(cues.clauses.always.iter().map(|w| (w.to_lowercase(), true)))
        .collect()
}

/// A weekday, a month or a number: after "on" these make a time, not a topic.
fn is_time_word(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit())
        || crate::stages::normalize::month_named(word).is_some()
        || crate::stages::normalize::is_weekday(word)
}

/// "the", "a" or "an", in any case.
/// Prepositions after which a past participle before a noun describes it ("in besieged
/// Mariupol", "from occupied areas").
const ATTRIBUTIVE_AFTER: [&str; 9] = [
    "in", "of", "at", "from", "near", "into", "inside", "around", "across",
];

fn is_article(word: &str) -> bool {
    with_lower(word, |w| matches!(w, "the" | "a" | "an"))
}

impl FrameMatcher {
    /// The token ranges of the sentence's relative clauses that say something of another
    /// noun than the trigger at `t0..=t1`, and of its attributions ("according to ..."):
    /// from the pronoun or phrase to the next comma, bracket or dash, or the sentence's
    /// end. A relative clause right after the trigger ("the withdrawal, which began ...")
    /// is about it, and one holding it is its own.
    fn relative_clauses(&self, toks: &[Token<'_>], t0: usize, t1: usize) -> Vec<(usize, usize)> {
        let ends = |t: &Token<'_>| {
            matches!(
                t.text,
                "," | ";" | ":" | "(" | ")" | "\u{2014}" | "\u{2013}"
            )
        };
        let mut out = Vec::new();
        for (k, t) in toks.iter().enumerate() {
            let attribution = self.grammar.attributions.iter().any(|words| {
                words.len() <= toks.len() - k
                    && words
                        .iter()
                        .zip(&toks[k..])
                        .all(|(w, t)| t.text.eq_ignore_ascii_case(w))
            });
            if !attribution && !self.grammar.relatives.contains_lower(t.text) {
                continue;
            }
            let follows =
                !attribution && (k == t1 + 1 || (k == t1 + 2 && toks[t1 + 1].text == ","));
            let end = toks[k + 1..]
                .iter()
                .position(ends)
                .map_or(toks.len(), |p| k + 1 + p);
            let holds_trigger = k <= t0 && t0 < end;
            if !(follows || holds_trigger) {
                out.push((k, end));
            }
        }
        out
    }
}

fn clause_of(boundaries: &[usize], t: usize, n: usize) -> (usize, usize) {
    let start = boundaries
        .iter()
        .copied()
        .filter(|&b| b <= t)
        .max()
        .unwrap_or(0);
    let end = boundaries
        .iter()
        .copied()
        .filter(|&b| b > t)
        .min()
        .unwrap_or(n);
    (start, end)
}

/// Years before `year` that set the time of their clause: "in 2015", "in late 2024",
/// "during 2019", "the October 2025 talks" are another occasion than the one reported
/// (background, as "last year" is). "Since 2019" is not: what began then goes on.
fn earlier_years<'t>(toks: &[Token<'t>], year: i32) -> Vec<(usize, usize, CueKind, &'t str)> {
    const SETTING: [&str; 3] = ["in", "during", "throughout"];
    const PART: [&str; 4] = ["early", "late", "mid", "mid-"];
    toks.iter()
        .enumerate()
        .filter_map(move |(i, t)| {
            let y: i32 = t.text.parse().ok().filter(|_| t.text.len() == 4)?;
            if !(1900..year).contains(&y) {
                return None;
            }
            let word = |k: usize| i.checked_sub(k).map(|j| toks[j].text.to_ascii_lowercase());
            let set = |w: Option<String>| w.is_some_and(|w| SETTING.contains(&w.as_str()));
            let before = word(1);
            let month = before
                .as_deref()
                .is_some_and(|w| crate::stages::normalize::month_named(w).is_some());
            let part = before.as_deref().is_some_and(|w| PART.contains(&w));
            (set(before.clone()) || month || (part && set(word(2)))).then_some((
                i,
                i,
                CueKind::Background,
                t.text,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::stages::extract::Extractor;
    use crate::stages::normalize::test_report;

    #[test]
    fn a_clause_set_in_an_earlier_year_is_background() {
        let cfg = Config::embedded().unwrap();
        let modality = |text: &str| -> Vec<(String, Modality)> {
            let r = test_report(&cfg, &format!("date: 2031-05-02\n\n{text}\n"));
            Extractor::new(&cfg.lexicons)
                .without_sense()
                .extract(&r)
                .claims
                .into_iter()
                .map(|c| (c.trigger.to_lowercase(), c.modality))
                .collect()
        };
        // The first claim's: the one in the clause the year sets.
        let background = |text: &str| modality(text)[0].1 == Modality::Background;
        for text in [
            "Corvania withdrew its troops from Meltz airfield in 2027.",
            "Corvanian jets bombed Meltz in late 2029, before the talks.",
            "During the October 2030 talks, Corvania agreed to withdraw from Meltz.",
        ] {
            assert!(!modality(text).is_empty(), "{text}");
            assert!(background(text), "{text}: {:?}", modality(text));
        }
        for text in [
            "Corvania withdrew its troops from Meltz airfield in May 2031.",
            "Corvania has deployed troops at Meltz airfield since 2027.",
            "Corvania will withdraw its troops from Meltz airfield in 2032.",
            "Corvania withdrew its 2027 contingent from Meltz airfield.",
        ] {
            assert!(!modality(text).is_empty(), "{text}");
            assert!(!background(text), "{text}: {:?}", modality(text));
        }
    }

    /// What the rules find in `text`: the sense filter is tested on its own.
    fn rules_extraction(text: &str) -> crate::extraction::Extraction {
        let cfg = Config::embedded().unwrap();
        let r = test_report(&cfg, text);
        Extractor::new(&cfg.lexicons).without_sense().extract(&r)
    }

    /// (trigger, status, cue) of every claim in `text`.
    fn claims(text: &str) -> Vec<(String, Option<Status>, Option<String>)> {
        rules_extraction(text)
            .claims
            .into_iter()
            .map(|c| (c.trigger.to_lowercase(), c.status, c.cue))
            .collect()
    }

    fn status_of(text: &str, trigger: &str) -> Option<Status> {
        let cs = claims(text);
        cs.iter()
            .find(|c| c.0 == trigger)
            .unwrap_or_else(|| panic!("no claim on {trigger:?} in {cs:?}"))
            .1
    }

    /// The name a claim on `trigger` in `text` is placed at, if any.
    fn location_of(text: &str, trigger: &str) -> Option<String> {
        roles_named(text, trigger).1
    }

    /// The claim on `trigger` in `text`: its actor, location and participants by name.
    fn roles_named(text: &str, trigger: &str) -> (Option<String>, Option<String>, Vec<String>) {
        let ex = rules_extraction(text);
        let c = ex
            .claims
            .iter()
            .find(|c| c.trigger.eq_ignore_ascii_case(trigger))
            .unwrap_or_else(|| panic!("no claim on {trigger:?} in {:?}", ex.claims));
        let name = |i: usize| ex.mentions[i].surface.clone();
        (
            c.actor.map(name),
            c.location.map(name),
            c.participants.iter().map(|&i| name(i)).collect(),
        )
    }

    #[test]
    fn outlets_and_platforms_play_no_role() {
        let (_, place, _) = roles_named(
            "The Velmar ministry said on Telegram that the evacuation had begun.",
            "evacuation",
        );
        assert_eq!(place, None);
        let (_, _, parties) = roles_named(
            "In a letter to Ana Ruiz seen by Reuters, Velmar and Lisk said the agreement stood.",
            "agreement",
        );
        assert!(!parties.iter().any(|p| p == "Reuters"), "{parties:?}");
    }

    #[test]
    fn a_relative_clause_about_another_noun_gives_the_trigger_no_roles() {
        let (actor, location, people) = roles_named(
            "The meeting marks a turning point for Ilsa Brandt, who was granted asylum in \
             Velgrad after the war.",
            "meeting",
        );
        assert_eq!(location, None);
        assert!(people.is_empty(), "{people:?}");
        assert_ne!(actor.as_deref(), Some("Velgrad"));
        let (actor, _, people) = roles_named(
            "Otto Varn, who took power after the revolt that toppled Ilsa Brandt, is making \
             his first visit to Kessa.",
            "visit",
        );
        assert_ne!(actor.as_deref(), Some("Ilsa Brandt"));
        assert!(!people.iter().any(|p| p == "Ilsa Brandt"), "{people:?}");
        // An attribution tells who speaks, not where it happens.
        let (actor, location, _) = roles_named(
            "According to sources at the airbase in Meltz, some of the withdrawing troops \
             went home.",
            "withdrawing",
        );
        assert_eq!((actor, location), (None, None));
    }

    #[test]
    fn a_facility_far_before_the_trigger_is_not_its_place() {
        assert_eq!(
            location_of(
                "The departure of the monitors from Meltz airfield leaves a region defined by \
                 a shaky truce.",
                "truce"
            ),
            None
        );
        assert_eq!(
            location_of("At Meltz airfield a truce holds.", "truce").as_deref(),
            Some("Meltz airfield")
        );
    }

    #[test]
    fn a_place_after_a_topic_is_the_topics_place() {
        assert_eq!(
            location_of(
                "Officials held talks on the future of the bases at Meltz airfield.",
                "held talks"
            ),
            None
        );
        // "on" before a day is time: the place after it is where the talks are.
        assert_eq!(
            location_of("Officials held talks on Monday in Velgrad.", "held talks").as_deref(),
            Some("Velgrad")
        );
        assert_eq!(
            location_of(
                "Officials held talks in Velgrad on the bases.",
                "held talks"
            )
            .as_deref(),
            Some("Velgrad")
        );
    }

    #[test]
    fn a_name_just_before_a_noun_trigger_is_its_place_unless_a_speech_verb_addresses_it() {
        assert_eq!(
            location_of("The Lisk evacuation began on Monday.", "evacuation").as_deref(),
            Some("Lisk")
        );
        assert_eq!(
            location_of("The Kell River water-sharing accord was signed.", "accord").as_deref(),
            Some("Kell River")
        );
        assert_eq!(
            location_of(
                "In Harven the withdrawal was completed on Monday.",
                "withdrawal"
            )
            .as_deref(),
            Some("Harven")
        );
        // The name is who was told, not where the evacuation was.
        for text in [
            "Kestrian sources told Asharq Velmar that the evacuation was carried out.",
            "Officials told Lisk that the evacuation was over.",
            "Officials told Lisk evacuation crews to stop.",
        ] {
            assert_eq!(location_of(text, "evacuation"), None, "{text}");
        }
    }

    #[test]
    fn a_status_verb_is_said_of_its_object() {
        let text = "Heavy shelling halts the evacuation of Corvane.";
        assert_eq!(status_of(text, "evacuation"), Some(Status::Halted));
        assert_eq!(status_of(text, "shelling"), None);
    }

    #[test]
    fn after_an_ing_form_is_done_unless_the_sentence_looks_ahead() {
        assert_eq!(
            status_of("The envoys left Lisk after signing the accord.", "signing"),
            Some(Status::Completed)
        );
        assert_eq!(
            status_of(
                "The envoys will leave Lisk after signing the accord.",
                "signing"
            ),
            Some(Status::Planned)
        );
    }

    #[test]
    fn durative_states_in_force_but_not_as_complements() {
        assert_eq!(
            status_of("Aid trucks moved under a 72-hour truce in Lisk.", "truce"),
            Some(Status::Underway)
        );
        assert_eq!(
            status_of(
                "Residents marched despite calls for a truce in Lisk.",
                "truce"
            ),
            None
        );
        assert_eq!(
            status_of("Aid trucks moved under cover of a truce in Lisk.", "truce"),
            None
        );
        // An end ahead says it holds now; a start ahead does not.
        for text in [
            "A two-week truce in Lisk is set to expire next month.",
            "The truce in Lisk will end on Friday.",
        ] {
            assert_eq!(status_of(text, "truce"), Some(Status::Underway), "{text}");
        }
        assert_eq!(
            status_of("A truce in Lisk is set to begin on Friday.", "truce"),
            Some(Status::Planned)
        );
    }

    #[test]
    fn denied_that_denies_the_happening_or_negates_its_cue() {
        assert_eq!(
            status_of(
                "The ministry denied that any troops had been deployed to Lisk.",
                "deployed"
            ),
            Some(Status::Denied)
        );
        // A blocker right after the denial makes it a denial of something else.
        assert_ne!(
            status_of(
                "The Corvane Front denied responsibility for the attack on Lisk.",
                "attack"
            ),
            Some(Status::Denied)
        );
    }

    #[test]
    fn other_objects_make_another_happening() {
        let cs = claims("In a statement released on Monday, the Velmar council released a video.");
        assert!(cs.iter().all(|c| c.0 != "released"), "{cs:?}");
        assert_eq!(
            status_of(
                "The Red Ridge group released four aid workers near Lisk.",
                "released"
            ),
            Some(Status::Completed)
        );
    }

    #[test]
    fn an_attributive_participle_is_not_a_claim() {
        let cs = claims("Velmar said a signed agreement with Lisk would end the dispute.");
        assert!(cs.iter().all(|c| c.0 != "signed"), "{cs:?}");
        let agreement = cs.iter().find(|c| c.0 == "agreement").expect("agreement");
        assert_ne!(agreement.1, Some(Status::Completed), "{cs:?}");
    }

    #[test]
    fn a_participle_describing_a_noun_takes_no_cue_of_the_clause() {
        let text = "The evacuation of families from the tunnels in besieged Velgrad began on \
                    Sunday.";
        let cs = claims(text);
        assert_eq!(
            status_of(text, "evacuation"),
            Some(Status::Underway),
            "{cs:?}"
        );
        let siege = cs.iter().find(|c| c.0 == "besieged").expect("besieged");
        // A siege is a lasting state: in force, whatever the clause's verb says.
        assert_eq!(siege.1, Some(Status::Underway), "{cs:?}");
        assert_eq!(siege.2.as_deref(), Some("form:attributive"), "{cs:?}");
    }

    #[test]
    fn a_part_said_done_is_under_way() {
        for text in [
            "More than 900 Velmar troops had left Lisk, out of about 1,300 deployed there.",
            "So far, 400 Velmar troops have left Lisk.",
            "Velmar troops and 80% of their equipment have left Lisk.",
        ] {
            assert_eq!(status_of(text, "left"), Some(Status::Underway), "{text}");
        }
        for text in [
            "All 1,300 Velmar troops have left Lisk.",
            "Velmar troops have left Lisk, 100% of them.",
        ] {
            assert_eq!(status_of(text, "left"), Some(Status::Completed), "{text}");
        }
        // Only what is said done: a share elsewhere gives no status.
        let text = "More than 60% of prisoners reoffend within two years of release from jail.";
        assert_ne!(status_of(text, "release"), Some(Status::Underway));
    }

    #[test]
    fn a_subject_keeps_its_verb_after_long_modifiers_but_not_past_another_verb() {
        let far = "The evacuation of families hiding in the deep cellars of the old Velgrad \
                   flour mill got under way on Sunday.";
        assert_eq!(status_of(far, "evacuation"), Some(Status::Underway));
        let other = "The evacuation of families hiding in the deep cellars of the old flour \
                     mill was the talk of a town whose mayor said work got under way.";
        assert_ne!(status_of(other, "evacuation"), Some(Status::Underway));
    }

    #[test]
    fn a_short_parenthesis_is_an_aside_inside_its_clause() {
        let aside = "A first contingent of 300 Velmari officers from the joint mission (JSM) \
                     arrived in Port Kessa on Tuesday.";
        assert_eq!(status_of(aside, "contingent"), Some(Status::Underway));
        // A longer one is a clause of its own: what it says is not the trigger's.
        let clause = "A first contingent of 300 Velmari officers was named (the last group \
                      arrived in Port Kessa on Tuesday).";
        assert_ne!(status_of(clause, "contingent"), Some(Status::Underway));
    }

    #[test]
    fn the_seat_of_an_agent_is_not_where_it_happened() {
        let text = "The reported raid on Lisk camp was denied by the Defence Ministry in Velgrad.";
        assert_ne!(location_of(text, "raid").as_deref(), Some("Velgrad"));
        let text = "The raid was denied by the Defence Ministry in Velgrad.";
        assert_eq!(location_of(text, "raid"), None);
        // Not the seat of any organization: the attack was at Lisk.
        let text = "The raid hit the Velmari mission in Lisk on Monday.";
        assert_eq!(location_of(text, "raid").as_deref(), Some("Lisk"));
    }

    #[test]
    fn a_count_may_stand_between_a_verb_and_its_particle() {
        let text = "Velmar sent 300 more troops to Lisk on Monday.";
        assert_eq!(
            status_of(text, "sent 300 more troops"),
            Some(Status::Completed)
        );
        // Not across punctuation: the troops are not what was sent.
        let text = "Velmar sent word, and 300 troops left Lisk.";
        assert!(claims(text).iter().all(|c| !c.0.starts_with("sent")));
    }

    #[test]
    fn a_fronted_adverbial_ends_at_its_comma() {
        // What the main clause calls off is the advance, not the accord it was done under.
        let text = "Under the accord of Saturday, Tarn called off his fighters' advance on Lisk.";
        assert_ne!(status_of(text, "accord"), Some(Status::Cancelled));
        let text = "Under the accord brokered by Velmar, the rebels called off their march.";
        assert_eq!(status_of(text, "accord"), Some(Status::Completed));
        let text = "After the truce took hold, troops left Lisk.";
        assert_eq!(status_of(text, "truce"), Some(Status::Underway));
    }

    #[test]
    fn a_condition_or_an_omission_asserts_nothing() {
        let modality = |text: &str| rules_extraction(text).claims.first().map(|c| c.modality);
        for text in [
            "Velmar promised no raids in Lisk for as long as the truce holds.",
            "The statement said nothing about prisoners going free in Lisk.",
        ] {
            assert_eq!(modality(text), Some(Modality::Hedged), "{text}");
        }
        assert_eq!(
            modality("The truce holds in Lisk."),
            Some(Modality::Asserted)
        );
        // A meeting held is over.
        assert_eq!(
            status_of("Velmar and Corvania held a rare summit in Lisk.", "summit"),
            Some(Status::Completed)
        );
    }

    #[test]
    fn a_prefixed_trigger_is_part_of_another_word() {
        let triggers = |text: &str| claims(text).into_iter().map(|c| c.0).collect::<Vec<_>>();
        assert!(triggers("Pre-deployment training of police in Lisk was completed.").is_empty());
        assert_eq!(
            triggers("The deployment of police in Lisk was completed."),
            ["deployment"]
        );
        // "were to have left": a plan, whether or not it came true.
        assert_eq!(
            status_of("Velmar troops were to have left Lisk by Sunday.", "left"),
            Some(Status::Planned)
        );
    }

    #[test]
    fn a_place_a_verb_acts_on_is_its_location() {
        assert_eq!(
            location_of(
                "Velmar began pulling out of Corvania by handing the Lisk base over to local forces.",
                "handing the Lisk base over"
            )
            .as_deref(),
            Some("Lisk base")
        );
        // What an attack strikes is where it is, not the town the sentence then names.
        assert_eq!(
            location_of(
                "Velmar troops shelled the Orsk steel works in the port of Tarnow on Monday.",
                "shelled"
            )
            .as_deref(),
            Some("Orsk")
        );
        // A place left is where the withdrawal is from; troops withdrawn are no place, so
        // the place after the preposition stays.
        assert_eq!(
            location_of(
                "More than 900 Velmar troops had left Corvania by Friday.",
                "left"
            )
            .as_deref(),
            Some("Corvania")
        );
        assert_eq!(
            location_of("Velmar withdrew troops from Lisk.", "withdrew").as_deref(),
            Some("Lisk")
        );
    }

    #[test]
    fn a_place_acted_on_in_the_passive_comes_before_the_verb() {
        // The place handed over, not the country that receives it.
        assert_eq!(
            location_of(
                "The troops left the Lisk military base, which has now been handed over to Corvania.",
                "handed over"
            )
            .as_deref(),
            Some("Lisk military base")
        );
        // "the camp": the nearest place before it in the sentence.
        assert_eq!(
            location_of(
                "The last soldier shut the gate of the desert platform at Tarnow, before the camp was handed over to the Corvanian army.",
                "handed over"
            )
            .as_deref(),
            Some("Tarnow")
        );
        // Told actively, the receiving country is still no place of the handover.
        assert_eq!(
            location_of(
                "Velmar handed the keys over to Corvania.",
                "handed the keys over"
            )
            .as_deref(),
            None
        );
    }
}

#[cfg(test)]
mod clause_tests {
    use super::*;
    use crate::config::Config;
    use crate::stages::extract::Extractor;
    use crate::stages::normalize::test_report;

    fn extraction(text: &str) -> crate::extraction::Extraction {
        let cfg = Config::embedded().unwrap();
        let r = test_report(&cfg, text);
        Extractor::new(&cfg.lexicons).without_sense().extract(&r)
    }

    fn status_of(text: &str, trigger: &str) -> Option<Status> {
        let ex = extraction(text);
        ex.claims
            .iter()
            .find(|c| c.trigger.eq_ignore_ascii_case(trigger))
            .unwrap_or_else(|| panic!("no claim on {trigger:?} in {:?}", ex.claims))
            .status
    }

    #[test]
    fn an_ing_subject_judged_is_no_happening_under_way() {
        assert_eq!(
            status_of(
                "The envoy warned that sending troops into Lisk, even at its request, was a grave step.",
                "sending troops"
            ),
            None
        );
        // Told to have done something, it happened.
        assert_eq!(
            status_of(
                "The colonel said that moving out of Lisk had filled 400 containers.",
                "moving out"
            ),
            Some(Status::Underway)
        );
        // A force sent is a deployment; its contingent arriving puts it under way.
        assert_eq!(
            status_of(
                "The council voted to send a Velmar-led force to Lisk.",
                "send a Velmar-led force"
            ),
            Some(Status::Planned)
        );
        assert_eq!(
            status_of(
                "The first contingent arrived in Lisk on Tuesday.",
                "contingent"
            ),
            Some(Status::Underway)
        );
    }

    #[test]
    fn a_verb_negated_after_its_modal_or_by_a_contraction_is_no_fact() {
        // Under way unless the contraction negates it.
        assert_eq!(
            status_of("The evacuation of Tarnow didn't begin.", "evacuation"),
            Some(Status::Planned)
        );
        // "will not": no plan to withdraw is a plan.
        assert_eq!(
            status_of("Velmar troops will not withdraw from Lisk.", "withdraw"),
            None
        );
        // Put off, not called off: still ahead.
        assert_eq!(
            status_of(
                "The evacuation of Tarnow will not begin until Monday.",
                "evacuation"
            ),
            Some(Status::Planned)
        );
        // "without" after the cue negates what follows it, not the cue.
        assert_eq!(
            status_of("The Lisk summit ended without a deal on Tuesday.", "summit"),
            Some(Status::Completed)
        );
    }

    #[test]
    fn an_ing_clause_takes_the_time_of_the_clause_it_hangs_on() {
        let done = "Kestria reinforced the garrison last spring, deploying radar units to Lisk.";
        assert_eq!(status_of(done, "deploying"), Some(Status::Completed));
        let dash = "Kestria has changed its posture — notably withdrawing from Lisk.";
        assert_eq!(status_of(dash, "withdrawing"), Some(Status::Completed));
        let now = "Kestria is reshaping its forces, withdrawing troops from Lisk.";
        assert_eq!(status_of(now, "withdrawing"), Some(Status::Underway));
        let ahead = "Kestria will reshape its forces, withdrawing troops from Lisk.";
        assert_ne!(status_of(ahead, "withdrawing"), Some(Status::Completed));
        let bare = "Kestrian troops withdrawing from Lisk were seen on the road.";
        assert_eq!(status_of(bare, "withdrawing"), Some(Status::Underway));
    }

    #[test]
    fn an_idiom_that_begins_with_a_trigger_is_no_claim() {
        let ex = extraction("Officials said they were pulling out all the stops to win.");
        assert!(ex.claims.is_empty(), "{:?}", ex.claims);
        let ex = extraction("Kestria said it was pulling out of Lisk.");
        assert_eq!(ex.claims.len(), 1, "{:?}", ex.claims);
    }

    /// The triggers of the claims made in `text`, lower-cased.
    fn triggers(text: &str) -> Vec<String> {
        extraction(text)
            .claims
            .into_iter()
            .map(|c| c.trigger.to_lowercase())
            .collect()
    }

    #[test]
    fn a_release_acts_on_people_not_on_documents() {
        assert!(
            triggers("The recently released national defence strategy signals a shift.").is_empty()
        );
        assert!(triggers("The Velgrad Front released a new strategy on Monday.").is_empty());
        assert_eq!(
            triggers("The recently released hostages returned home."),
            ["released"]
        );
        assert_eq!(
            triggers("The Velgrad Front released 20 prisoners."),
            ["released"]
        );
        assert_eq!(triggers("The hostages were released Friday."), ["released"]);
    }

    #[test]
    fn a_place_phrase_that_names_nothing_known_is_an_unknown_place() {
        let ex = extraction("Kestria said it would pull out of the grain deal.");
        let c = ex.claims.first().expect("a claim");
        assert!(c.place_unknown && c.location.is_none(), "{c:?}");
        let ex = extraction("Kestria said it would pull out of Lisk.");
        let c = ex.claims.first().expect("a claim");
        assert!(!c.place_unknown && c.location.is_some(), "{c:?}");
    }

    #[test]
    fn a_verb_used_as_a_noun_is_no_trigger() {
        assert!(triggers("The move was a sign of plans to stay in Velgrad.").is_empty());
        assert!(triggers("Velgrad and Kessa will sign the water accord.").contains(&"sign".into()));
    }

    #[test]
    fn a_participle_after_to_be_is_ahead() {
        assert_eq!(
            status_of("The pact is to be signed on Friday in Velgrad.", "signed"),
            Some(Status::Planned)
        );
        assert_eq!(
            status_of("The pact was signed on Friday in Velgrad.", "signed"),
            Some(Status::Completed)
        );
    }

    #[test]
    fn a_happening_said_to_be_absent_is_no_claim() {
        let ex = extraction("The first round of talks in Velgrad ended without a deal.");
        assert!(
            !ex.claims.iter().any(|c| c.trigger == "deal"),
            "{:?}",
            ex.claims
        );
        let ex = extraction("An official said there would be no truce in Lisk on Friday.");
        assert!(ex.claims.is_empty(), "{:?}", ex.claims);
    }

    #[test]
    fn a_status_word_before_a_noun_trigger_describes_it() {
        // "a complete withdrawal" is a whole one, not one that is over.
        assert_eq!(
            status_of(
                "Kestria decided on a complete military withdrawal from Lisk.",
                "withdrawal"
            ),
            None
        );
    }

    #[test]
    fn the_end_of_a_period_is_a_time_not_a_status() {
        assert_eq!(
            status_of(
                "Kestria to withdraw its troops from Lisk by the end of 2031.",
                "withdraw"
            ),
            Some(Status::Planned)
        );
        assert_eq!(
            status_of(
                "The Kestrian withdrawal from Lisk came to an end on Friday.",
                "withdrawal"
            ),
            Some(Status::Completed)
        );
    }

    #[test]
    fn a_clause_opened_by_when_keeps_the_time_of_the_clause_before() {
        let met = |text: &str| {
            extraction(text)
                .claims
                .into_iter()
                .find(|c| c.trigger == "met")
                .expect("a claim on met")
                .modality
        };
        assert_eq!(
            met("Varn last visited Kessa in 2019, when he met Ilsa Brandt in Velgrad."),
            Modality::Background
        );
        assert_eq!(
            met("Varn arrived in Kessa on Friday, when he met Ilsa Brandt in Velgrad."),
            Modality::Asserted
        );
    }

    #[test]
    fn the_first_of_several_is_under_way() {
        for (text, trigger) in [
            ("The first hostages were freed in Lisk on Friday.", "freed"),
            ("The first 200 troops withdrew from Lisk.", "withdrew"),
            (
                "Velmar troops withdrew from Lisk on Tuesday in a first road convoy.",
                "withdrew",
            ),
            (
                "Lisk is the first town Velmar troops have withdrawn from.",
                "withdrawn",
            ),
        ] {
            assert_eq!(status_of(text, trigger), Some(Status::Underway), "{text}");
        }
        for (text, trigger) in [
            ("The last troops withdrew from Lisk.", "withdrew"),
            (
                "Velmar troops withdrew from Lisk for the first time.",
                "withdrew",
            ),
        ] {
            assert_eq!(status_of(text, trigger), Some(Status::Completed), "{text}");
        }
        // The happening's own noun: its first flight is that flight, done.
        assert_ne!(
            status_of(
                "Lisk airport handled its first evacuation on Monday.",
                "evacuation"
            ),
            Some(Status::Underway)
        );
    }

    #[test]
    fn a_present_tense_after_when_is_still_ahead() {
        assert_eq!(
            status_of(
                "The extension takes effect when the current Lisk truce ends on Friday.",
                "truce"
            ),
            None
        );
        // Told in the past, it happened.
        assert_eq!(
            status_of("Fighting resumed when the Lisk truce ended.", "truce"),
            Some(Status::Completed)
        );
    }

    #[test]
    fn what_talks_are_about_is_still_ahead() {
        assert_eq!(
            status_of(
                "Velmar signalled it was open to a visit while negotiations on a new water accord continue.",
                "accord"
            ),
            Some(Status::Planned)
        );
        // A verb between makes the topic that verb's act: the truce itself is in force.
        assert_eq!(
            status_of(
                "Talks on extending the Lisk truce continued as the truce held.",
                "truce"
            ),
            Some(Status::Underway)
        );
    }

    #[test]
    fn each_kind_reads_its_own_lifecycle() {
        // "agreed", "reached": a truce still ahead, an accord done.
        assert_eq!(
            status_of("Velmar and Corvania agree a truce in Lisk.", "truce"),
            Some(Status::Planned)
        );
        assert_eq!(
            status_of("Velmar and Corvania agreed a water accord.", "accord"),
            Some(Status::Completed)
        );
        // A truce that holds or is extended is in force; a deal quit is over.
        assert_eq!(
            status_of("The Lisk truce held overnight.", "truce"),
            Some(Status::Underway)
        );
        assert_eq!(
            status_of("The Lisk truce was extended by two days.", "truce"),
            Some(Status::Underway)
        );
        assert_eq!(
            status_of("Corvania quit the water accord on Monday.", "accord"),
            Some(Status::Cancelled)
        );
        // A court blocking a deployment halts it.
        assert_eq!(
            status_of(
                "A Velmar court blocked the deployment of police to Lisk.",
                "deployment"
            ),
            Some(Status::Halted)
        );
        // A visit is under way once its guest arrives and over when the guest heads home.
        assert_eq!(
            status_of(
                "The Velmar president arrived in Corvania for a visit.",
                "visit"
            ),
            Some(Status::Underway)
        );
        assert_eq!(
            status_of(
                "The Velmar president wrapped up his visit to Corvania.",
                "visit"
            ),
            Some(Status::Completed)
        );
        assert_eq!(
            status_of(
                "The Velmar president will visit Corvania next week.",
                "visit"
            ),
            Some(Status::Planned)
        );
        // The shared cues still hold for kinds without their own word.
        assert_eq!(
            status_of(
                "Velmar troops were blocked as they withdrew from Lisk.",
                "withdrew"
            ),
            Some(Status::Completed)
        );
    }

    #[test]
    fn a_before_clause_told_in_the_past_is_not_ahead() {
        assert_eq!(
            status_of(
                "Troops had shut the gate at midnight before the camp was handed over to Velmar forces.",
                "handed over"
            ),
            Some(Status::Completed)
        );
        assert_eq!(
            status_of(
                "Troops will shut the gate before the camp is handed over to Velmar forces.",
                "handed over"
            ),
            Some(Status::Planned)
        );
        assert_eq!(
            status_of("The handover had been carried out by Monday.", "handover"),
            Some(Status::Completed)
        );
    }
}
