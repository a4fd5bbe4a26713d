//! Entity mentions: gazetteer matches plus discovery of names the gazetteer does not know.
//!
//! Discovery is rule-based and explainable first: capitalized spans, titles that introduce
//! people ("Col. Anders Tovald"), head words that type a name ("Qamishli airport", "Syrian
//! Democratic Forces"), acronyms and their expansions, datelines and demonyms. The trained
//! tagger (`crate::ner`) then reads the same sentences: it types the names the rules found
//! but could not type (a player, a company, a county named without a title or head word),
//! and adds the names they missed. The gazetteer and the stronger rules win where they
//! speak; the tagger decides where they are silent. Within one report, a surname after a
//! full name and an acronym after its expansion are linked to the earlier mention; the
//! situation resolves links and keys to entity ids.

// Per-report sets and maps of short strings: a fast seeded hash (their order never shows).
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::sync::{Arc, Mutex, PoisonError};

use super::words::{find_from, word_bounded, WordMatcher};
use crate::config::Lexicons;
pub use crate::extraction::{initials, EntityKind, KindWeight, Mention, MODEL_WEIGHT, ROLE};
use crate::extraction::{initials_by, Gazetteer};
use crate::ner::tagger::TaggerBuffers;
use crate::ner::tokenize::Tokenizer;
use crate::ner::{NerModel, NerType, Tagger};
use crate::report::Report;
use crate::text::{
    eq_lower, plain_lower, with_char_lower, with_lower, LowerMap, NameKeyer, SentenceTokens, Token,
    TokenKind,
};

/// Marks the key of a facility known only by a description (see `described_facilities`).
const DESCRIBED: &str = ":desc:";

/// Compiled entity rules.
#[derive(Debug)]
pub struct EntityRecognizer {
    keyer: NameKeyer,
    gazetteer: WordMatcher,
    /// Pattern id → (gazetteer entry, is demonym).
    gazetteer_patterns: Vec<(usize, bool)>,
    gazetteer_kinds: Vec<EntityKind>,
    gazetteer_names: Vec<String>,
    /// The key of each entry's canonical name.
    gazetteer_keys: Vec<String>,
    /// Lower-case, diacritic-free canonical name → its first entry (datelines).
    gazetteer_plain: LowerMap<usize>,
    /// Gazetteer entry → the country it is the capital of.
    capitals: Vec<Option<usize>>,
    titles: Vec<Vec<String>>,
    /// Title → whether it is a plural made from one of `names.toml` ("Prime Ministers").
    plural_titles: Vec<bool>,
    /// Titles by their first and by their last word (lower case), so that finding a title
    /// costs one lookup per token instead of a comparison with every title.
    titles_by_first: LowerMap<Vec<usize>>,
    titles_by_last: LowerMap<Vec<usize>>,
    /// Titles "the leader" may stand for, lower-case.
    leader_titles: Vec<String>,
    /// Lower-case word → its classes (`STOPWORD`, `CONNECTOR`, ...): one lookup tells all
    /// the word lists of `names.toml` a token is in.
    word_classes: LowerMap<u8>,
    articles: Vec<String>,
    /// Lower-case words that end an adjective made of a name and a hyphen, besides
    /// participles in -ed and -ing ("Hamas-run", "US-made").
    compound_tails: Vec<String>,
    /// Lower-case head phrase (as words) → facility group.
    facility_heads: Vec<(Vec<String>, String)>,
    /// Facility heads by their first and by their last word, in `facility_heads` order.
    facilities_by_first: LowerMap<Vec<usize>>,
    facilities_by_last: LowerMap<Vec<usize>>,
    /// Lower-case words naming a country's forces, ministries or government (as words) →
    /// their group, longest first.
    national_bodies: Vec<(Vec<String>, String)>,
    /// Gazetteer entry → whether it is a country (one with demonyms): only a country has
    /// national bodies ("Moscow police" are the city's).
    countries: Vec<bool>,
    /// WordNet's nouns (`word-classes.tsv`): a capitalised word before one is a modifier.
    nouns: Arc<crate::config::WordClasses>,
    /// The trained tagger; `None` for the rules alone (`eval-ner --recognizer rules`).
    ner: Option<Arc<NerModel>>,
    /// Where towns are: which country a facility or town lies in.
    places: Arc<crate::board::places::Places>,
    ner_tokenizer: Tokenizer,
    /// The tagger's word caches and buffers, kept from report to report (one per thread
    /// that is recognizing at the moment: one per extract worker).
    ner_buffers: Mutex<Vec<TaggerBuffers>>,
}

/// Word classes of `names.toml`, as bits of `EntityRecognizer::word_classes`.
const STOPWORD: u8 = 1;
const CONNECTOR: u8 = 2;
const PLACE_HEAD: u8 = 4;
const ORG_HEAD: u8 = 8;
const ORG_SUFFIX: u8 = 16;
const TITLE_MODIFIER: u8 = 32;
const MEMBER_NOUN: u8 = 64;

/// Possessives that, like "the", open a facility's description ("its base at Gossi").
const POSSESSIVE_DETERMINERS: [&str; 2] = ["its", "their"];

/// Prepositions after which a bare capitalized name is most likely a place.
const LOCATION_PREPS: [&str; 11] = [
    "in", "at", "near", "from", "to", "into", "outside", "across", "around", "toward", "towards",
];

impl EntityRecognizer {
    /// The rules, the gazetteer and the trained tagger.
    pub fn new(lex: &Lexicons) -> Self {
        Self {
            ner: Some(Arc::clone(&lex.ner)),
            ..Self::rules_only(lex)
        }
    }

    /// The rules and the gazetteer without the tagger, to measure what each adds.
    pub fn rules_only(lex: &Lexicons) -> Self {
        let n = &lex.names;
        let keyer = NameKeyer::new(&n.articles, &n.rewrites);
        let mut patterns = Vec::new();
        let mut ids = Vec::new();
        for (i, e) in lex.gazetteer.iter().enumerate() {
            let mut add = |p: &str, demonym: bool| {
                if !p.trim().is_empty() {
                    patterns.push(p.to_string());
                    ids.push((i, demonym));
                }
            };
            for name in std::iter::once(&e.name).chain(&e.aliases) {
                add(name, false);
                // Datelines are written in capitals ("MOSCOW -").
                add(&name.to_uppercase(), false);
            }
            for d in &e.demonyms {
                add(d, true);
                add(&format!("{d}s"), true);
            }
        }
        let gazetteer = WordMatcher::new(&patterns);
        // Longest heads first so "naval base" wins over "base".
        let facility_heads = grouped_phrases(&n.facility_heads);
        let index_heads = |word: fn(&[String]) -> Option<&String>| {
            let mut index: LowerMap<Vec<usize>> = LowerMap::default();
            for (k, (head, _)) in facility_heads.iter().enumerate() {
                if let Some(w) = word(head) {
                    index.entry(w.clone()).push(k);
                }
            }
            index
        };
        let facilities_by_first = index_heads(|h| h.first());
        let facilities_by_last = index_heads(|h| h.last());
        let mut word_classes: LowerMap<u8> = LowerMap::default();
        let lists = [
            (&n.stopwords, STOPWORD),
            (&n.connectors, CONNECTOR),
            (&n.place_heads.words, PLACE_HEAD),
            (&n.org_heads.words, ORG_HEAD),
            (&n.org_suffixes, ORG_SUFFIX),
            (&n.title_modifiers, TITLE_MODIFIER),
            (&n.member_nouns, MEMBER_NOUN),
        ];
        for (words, class) in lists {
            for w in words {
                *word_classes.entry(w.to_lowercase()) |= class;
            }
        }
        let national_bodies = grouped_phrases(&n.national_bodies);
        // Each title, and its plural before two names ("Prime Ministers Ana Ruiz and ...").
        let person_titles: Vec<String> = n
            .person_titles
            .iter()
            .flat_map(|t| {
                let plural = (!t.ends_with('s')).then(|| format!("{t}s"));
                std::iter::once(t.clone()).chain(plural)
            })
            .collect();
        let mut gazetteer_plain = LowerMap::default();
        for (i, e) in lex.gazetteer.iter().enumerate() {
            let name = plain_lower(&e.name);
            if !gazetteer_plain.contains(&name) {
                gazetteer_plain.insert(name, i);
            }
        }
        Self {
            places: Arc::clone(&lex.places),
            gazetteer,
            gazetteer_patterns: ids,
            gazetteer_kinds: lex
                .gazetteer
                .iter()
                .map(|e| EntityKind::parse(&e.kind))
                .collect(),
            gazetteer_names: lex.gazetteer.iter().map(|e| e.name.clone()).collect(),
            gazetteer_keys: lex.gazetteer.iter().map(|e| keyer.key(&e.name)).collect(),
            gazetteer_plain,
            capitals: lex
                .gazetteer
                .iter()
                .map(|e| {
                    e.capital_of
                        .as_ref()
                        .and_then(|c| lex.gazetteer.iter().position(|x| &x.name == c))
                })
                .collect(),
            titles: person_titles
                .iter()
                .map(|t| t.split_whitespace().map(str::to_lowercase).collect())
                .collect(),
            plural_titles: person_titles
                .iter()
                .map(|t| !n.person_titles.contains(t))
                .collect(),
            titles_by_first: index_titles(&person_titles, |w| w.first()),
            titles_by_last: index_titles(&person_titles, |w| w.last()),
            leader_titles: n.leader_titles.iter().map(|t| t.to_lowercase()).collect(),
            word_classes,
            articles: n.articles.iter().map(|s| s.to_lowercase()).collect(),
            compound_tails: n.compound_tails.iter().map(|s| s.to_lowercase()).collect(),
            facility_heads,
            facilities_by_first,
            facilities_by_last,
            national_bodies,
            countries: lex
                .gazetteer
                .iter()
                .map(|e| !e.demonyms.is_empty())
                .collect(),
            nouns: Arc::clone(&lex.word_classes),
            ner: None,
            ner_tokenizer: Tokenizer::new(&n.sentences.abbreviations),
            ner_buffers: Mutex::new(Vec::new()),
            keyer,
        }
    }

    /// The classes of `word` as it is written.
    fn classes(&self, word: &str) -> u8 {
        self.word_classes.get(word).copied().unwrap_or(0)
    }

    /// The classes of `text` lower-cased.
    fn lower_classes(&self, text: &str) -> u8 {
        self.word_classes.get_lower(text).copied().unwrap_or(0)
    }

    pub fn keyer(&self) -> &NameKeyer {
        &self.keyer
    }

    /// All mentions of a report, in text order, with in-report links set.
    pub fn recognize(&self, report: &Report) -> Vec<Mention> {
        let toks = SentenceTokens::new(report.sentences.iter().map(|s| s.text.as_str()));
        self.recognize_tokens(report, &toks)
    }

    /// [`Self::recognize`] over the tokens of the report's sentences, which the frame
    /// matcher reads too.
    pub fn recognize_tokens(&self, report: &Report, toks: &SentenceTokens<'_>) -> Vec<Mention> {
        let mut mentions = Vec::new();
        for (si, s) in report.sentences.iter().enumerate() {
            if !report.headings.contains(&si) {
                self.sentence_mentions(si, &s.text, toks.sentence(si), &mut mentions);
            }
        }
        if let Some(model) = &self.ner {
            self.model_mentions(model, report, toks, &mut mentions);
        }
        drop_common_words(&mut mentions, report.sentences.len(), toks);
        self.add_national_bodies(report, toks, &mut mentions);
        // "The main hospital" of one city is not that of another: a described facility
        // belongs to the place the report is datelined from, or, with no dateline, to the
        // report alone.
        let scope = report
            .meta
            .dateline
            .as_deref()
            .map(|d| self.keyer.key(d))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| format!("report-{}", report.id));
        // (One the text places already, "the main hospital in Lisk", is keyed by that place.)
        for m in mentions
            .iter_mut()
            .filter(|m| m.key.contains(DESCRIBED) && !m.key.contains('@'))
        {
            m.key = format!("{}@{scope}", m.key);
        }
        if let Some(d) = &report.meta.dateline {
            self.add_dateline(report, d, &mut mentions);
        }
        let heading_text: Vec<&str> = report
            .headings
            .iter()
            .filter_map(|&h| report.sentences.get(h))
            .map(|s| s.text.as_str())
            .collect();
        self.drop_unconfirmed_openers(&mut mentions, &heading_text);
        let mut headings = Vec::new();
        for &h in &report.headings {
            if let Some(s) = report.sentences.get(h) {
                headings.extend(self.title_mentions(h, &s.text, &mentions));
            }
        }
        mentions.append(&mut headings);
        mentions.sort_by_key(|m| (m.sentence, m.start));
        self.link(&mut mentions);
        for m in mentions.iter_mut().filter(|m| !m.demonym) {
            let Some(s) = report.sentences.get(m.sentence) else {
                continue;
            };
            let st = toks.sentence(m.sentence);
            // (A dateline's capitals are there already.)
            let more = if m.kind == EntityKind::Person {
                self.titled(&s.text, st, m)
            } else {
                self.as_written(&s.text, st, m)
            };
            m.written.extend(more);
        }
        self.add_roles(report, toks, &mut mentions);
        self.add_descriptions(report, toks, &mut mentions);
        mentions
    }

    /// "Israeli troops", "the Lebanese army", "Pakistan's military", "Russia's Defense
    /// Ministry": a country's name, demonym or possessive and words of `national_bodies`
    /// name one of the country's bodies, an organization of its own. The country's mention
    /// stays and plays the roles; the body's mention encloses it. A name the rules or the
    /// tagger made of the two ("Lebanese Armed Forces") is split back into the country and
    /// the body, and a mention of the body's words alone ("Army") gives way.
    fn add_national_bodies(
        &self,
        report: &Report,
        toks: &SentenceTokens<'_>,
        mentions: &mut Vec<Mention>,
    ) {
        if self.national_bodies.is_empty() {
            return;
        }
        let mut gone = vec![false; mentions.len()];
        let mut found = Vec::new();
        for k in 0..mentions.len() {
            let m = &mentions[k];
            let (Some(s), false) = (
                report.sentences.get(m.sentence),
                report.headings.contains(&m.sentence),
            ) else {
                continue;
            };
            let st = toks.sentence(m.sentence);
            // The country's words: the mention itself, or the start of a name made of both
            // (then the pattern that found them).
            let (country, demonym, country_end, split) = match m.gazetteer {
                Some(g) if self.countries[g] => (g, m.demonym, m.end, None),
                None if m.kind == EntityKind::Organization && !m.enclosing => {
                    let Some(hit) = self.gazetteer.find_iter(&m.surface).next() else {
                        continue;
                    };
                    let pid = hit.pattern().as_usize();
                    let (g, demonym) = self.gazetteer_patterns[pid];
                    if hit.start() != 0 || !self.countries[g] {
                        continue;
                    }
                    (g, demonym, m.start + hit.end(), Some(pid))
                }
                _ => continue,
            };
            let Some(mut j) = st.iter().position(|t| t.start >= country_end) else {
                continue;
            };
            let mut at = country_end;
            // "U.S." (its last dot a token of its own), "Pakistan's".
            for skip in [".", "'s"] {
                if st.get(j).is_some_and(|t| t.text == skip && t.start == at)
                    && !(skip == "'s" && demonym)
                {
                    at = st[j].end;
                    j += 1;
                }
            }
            let Some((n, group)) = self.body_at(st, j, at) else {
                continue;
            };
            let end = st[j + n - 1].end;
            if split.is_some() && end != m.end {
                continue;
            }
            let body = Mention {
                sentence: m.sentence,
                start: m.start,
                end,
                surface: s.text[m.start..end].to_string(),
                kind: EntityKind::Organization,
                weight: 9,
                key: format!("{group}:{}", self.gazetteer_keys[country]),
                gazetteer: None,
                demonym: false,
                link: None,
                written: Vec::new(),
                enclosing: true,
            };
            if let Some(pid) = split {
                // The country's words, a mention of their own again.
                found.push(self.gazetteer_mention(m.sentence, &s.text, m.start, country_end, pid));
                gone[k] = true;
            }
            let (si, from) = (m.sentence, st[j].start);
            for (x, o) in mentions.iter().enumerate() {
                if o.sentence == si && o.start >= from && o.end <= end {
                    gone[x] = true;
                }
            }
            found.push(body);
        }
        if !found.is_empty() {
            let mut x = 0;
            mentions.retain(|_| {
                x += 1;
                !gone[x - 1]
            });
            mentions.append(&mut found);
        }
        self.country_of_bodies(report, toks, mentions);
    }

    /// A body named without its country ("Defense Ministry", "the Ministry of Defense in
    /// Moscow"): the country (or the capital) right after "in" or "of" is its, else it is
    /// the one body of its group the report has named before. Its key becomes that body's.
    fn country_of_bodies(
        &self,
        report: &Report,
        toks: &SentenceTokens<'_>,
        mentions: &mut [Mention],
    ) {
        let mut changes: Vec<(usize, String, Option<String>)> = Vec::new();
        for (k, m) in mentions.iter().enumerate() {
            if m.enclosing
                || m.gazetteer.is_some()
                || m.link.is_some()
                || !matches!(m.kind, EntityKind::Organization | EntityKind::Other)
            {
                continue;
            }
            let words: Vec<String> = m
                .surface
                .split_whitespace()
                .map(str::to_lowercase)
                .skip_while(|w| self.articles.contains(w))
                .collect();
            let Some((_, group)) = self.national_bodies.iter().find(|(w, _)| *w == words) else {
                continue;
            };
            let (Some(s), st) = (report.sentences.get(m.sentence), toks.sentence(m.sentence))
            else {
                continue;
            };
            // "... in Moscow", "... of Chile".
            let after = st
                .iter()
                .position(|t| t.start >= m.end)
                .filter(|&j| st[j].start == m.end + 1 && matches!(st[j].text, "in" | "of"));
            let place = after.and_then(|j| st.get(j + 1)).and_then(|t| {
                mentions
                    .iter()
                    .find(|p| p.sentence == m.sentence && p.start == t.start)
            });
            let country = place
                .and_then(|p| p.gazetteer.map(|g| (p, g)))
                .and_then(|(p, g)| {
                    let c = if self.countries[g] {
                        Some(g)
                    } else {
                        self.capitals[g]
                    };
                    c.map(|c| (p, c))
                });
            if let Some((p, c)) = country {
                let key = format!("{group}:{}", self.gazetteer_keys[c]);
                changes.push((k, key, Some(s.text[m.start..p.end].to_string())));
                continue;
            }
            let prefix = format!("{group}:");
            let earlier: std::collections::BTreeSet<&str> = mentions
                .iter()
                .filter(|e| (e.sentence, e.start) < (m.sentence, m.start) && e.enclosing)
                .map(|e| e.key.as_str())
                .filter(|key| key.starts_with(&prefix))
                .collect();
            if let [key] = earlier.into_iter().collect::<Vec<_>>()[..] {
                changes.push((k, key.to_string(), None));
            }
        }
        for (k, key, written) in changes {
            let m = &mut mentions[k];
            m.key = key;
            m.kind = EntityKind::Organization;
            m.written.extend(written);
        }
    }

    /// The words of `national_bodies` at token `j`, right after byte `at`: how many tokens
    /// and their group.
    fn body_at(&self, st: &[Token<'_>], j: usize, at: usize) -> Option<(usize, &str)> {
        let mut n = 0;
        let mut end = at;
        for t in st.get(j..)?.iter().take(4) {
            if t.kind != TokenKind::Word || t.start != end + 1 {
                break;
            }
            n += 1;
            end = t.end;
        }
        self.national_bodies.iter().find_map(|(words, group)| {
            (words.len() <= n
                && words.iter().zip(&st[j..]).all(|(w, t)| eq_lower(t.text, w))
                && st.get(j + words.len()).is_none_or(|t| t.text != "-"))
            .then_some((words.len(), group.as_str()))
        })
    }

    /// "the president", "the Russian leader": a role the report gave one person by title
    /// earlier ("Russian President Vladimir Putin") is that person. A qualified role no one
    /// here holds ("the US president") is keyed `role:` with its words, for the situation
    /// to give the one person other reports titled so. With no qualifier, or one no
    /// titled person shares, or two people who fit, the role stays no one.
    fn add_roles(&self, report: &Report, toks: &SentenceTokens<'_>, mentions: &mut Vec<Mention>) {
        let plain = |s: &str| s.replace('.', "").to_lowercase();
        let mut found = Vec::new();
        for (si, text, st, k) in each_the(report, toks) {
            // Up to two capitalised qualifier words ("U.S.", "North Korean").
            let mut q = k + 1;
            let mut qualifier = Vec::new();
            let mut countries = Vec::new();
            while q < st.len() && qualifier.len() < 2 {
                let t = &st[q];
                if t.kind == TokenKind::Word && t.is_capitalized() && self.title_at(st, q).is_none()
                {
                    qualifier.push(plain(t.text));
                    countries.push(self.qualifier_country(t.text));
                    q += 1;
                    if st.get(q).is_some_and(|t| t.text == ".") {
                        q += 1;
                    }
                } else {
                    break;
                }
            }
            let Some(n) = st.get(q).and_then(|_| self.title_at(st, q)) else {
                continue;
            };
            let end = q + n;
            // A name after it makes a titled name, found already.
            if st
                .get(end)
                .is_some_and(|t| t.kind == TokenKind::Word && t.is_capitalized())
            {
                continue;
            }
            let role: Vec<String> = st[q..end].iter().map(|t| t.text.to_lowercase()).collect();
            let role = role.join(" ");
            let titles: Vec<&str> = if role == "leader" {
                self.leader_titles.iter().map(String::as_str).collect()
            } else {
                vec![role.as_str()]
            };
            let start = st[k].start;
            let fits = |m: &Mention| {
                // The longest written form holds every title and qualifier.
                let Some(w) = m.written.iter().max_by_key(|w| w.len()).map(|w| plain(w)) else {
                    return false;
                };
                let words: Vec<&str> = w.split_whitespace().collect();
                (m.sentence, m.start) < (si, start)
                    && titles.iter().any(|t| self.holds_title(&words, t))
                    && qualifier.iter().all(|q| words.contains(&q.as_str()))
            };
            let keys: std::collections::BTreeSet<&str> = mentions
                .iter()
                .filter(|m| fits(m))
                .map(|m| m.key.as_str())
                .collect();
            // "the French president" after "President Emmanuel Macron", "the Kremlin
            // spokesman" after "Russian Presidential Spokesman Dmitry Peskov": the
            // qualifier's country, not its word. The one earlier holder of the title whose
            // name and sentence name that country, and no other, is that person.
            let keys = if keys.is_empty()
                && !qualifier.is_empty()
                && countries.iter().all(Option::is_some)
            {
                let by_country = |m: &Mention| {
                    let Some(written) = m.written.iter().max_by_key(|w| w.len()) else {
                        return false;
                    };
                    let named: Vec<usize> = written
                        .split_whitespace()
                        .filter_map(|w| self.qualifier_country(w))
                        .collect();
                    let w = plain(written);
                    let words: Vec<&str> = w.split_whitespace().collect();
                    let sentence = report
                        .sentences
                        .get(m.sentence)
                        .map_or("", |s| s.text.as_str());
                    let said = |c: usize| {
                        self.gazetteer.find_iter(sentence).any(|g| {
                            let (idx, _) = self.gazetteer_patterns[g.pattern().as_usize()];
                            idx == c || self.capitals[idx] == Some(c)
                        })
                    };
                    (m.sentence, m.start) < (si, start)
                        && titles.iter().any(|t| self.holds_title(&words, t))
                        && named.iter().all(|c| countries.contains(&Some(*c)))
                        && countries.iter().flatten().all(|&c| said(c))
                };
                mentions
                    .iter()
                    .filter(|m| m.kind == EntityKind::Person && by_country(m))
                    .map(|m| m.key.as_str())
                    .collect()
            } else {
                keys
            };
            let fits = |m: &Mention| {
                fits(m) || (m.kind == EntityKind::Person && keys.contains(m.key.as_str()))
            };
            let (key, link) = match keys.iter().copied().collect::<Vec<_>>()[..] {
                [key] => (
                    key.to_string(),
                    mentions.iter().rposition(|m| fits(m) && m.key == key),
                ),
                // No one here: the situation looks for the one person other reports
                // gave that qualified title ("the US president").
                [] if !qualifier.is_empty() && role != "leader" => {
                    (format!("{ROLE}{} {role}", qualifier.join(" ")), None)
                }
                _ => continue,
            };
            found.push(Mention {
                sentence: si,
                start,
                end: st[end - 1].end,
                surface: text[start..st[end - 1].end].to_string(),
                kind: EntityKind::Person,
                weight: 1,
                key,
                gazetteer: None,
                demonym: false,
                link,
                written: Vec::new(),
                enclosing: false,
            });
        }
        insert_in_order(mentions, found);
    }

    /// The country a qualifier word names: the country itself, its demonym, or a capital
    /// or seat of government standing for it ("French", "US", "Kremlin").
    fn qualifier_country(&self, word: &str) -> Option<usize> {
        let m = self
            .gazetteer
            .find_iter(word)
            .find(|m| m.start() == 0 && m.end() == word.len())?;
        let (idx, _) = self.gazetteer_patterns[m.pattern().as_usize()];
        if self.countries[idx] {
            Some(idx)
        } else {
            self.capitals[idx]
        }
    }

    /// "the coalition", "the relief society", "the military": a description whose words
    /// end one name the report wrote earlier ("Saudi-led coalition", "Northern Crescent
    /// relief society", "Israel's military") is that name. Two names that fit, or none,
    /// leave it no one's; so does a description that goes on into a name or an "of"
    /// ("the council of Velgrad"), which is another. People are `add_roles`'.
    fn add_descriptions(
        &self,
        report: &Report,
        toks: &SentenceTokens<'_>,
        mentions: &mut Vec<Mention>,
    ) {
        // The last one and two words of each several-word form of a name (lower case) →
        // the mentions written with them, in order.
        let mut tails: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, m) in mentions.iter().enumerate() {
            if m.kind == EntityKind::Person || m.demonym {
                continue;
            }
            for form in std::iter::once(&m.surface).chain(&m.written) {
                let words: Vec<&str> = form.split_whitespace().collect();
                for n in 1..=2.min(words.len().saturating_sub(1)) {
                    let tail = words[words.len() - n..].join(" ").to_lowercase();
                    let v = tails.entry(tail).or_default();
                    if v.last() != Some(&i) {
                        v.push(i);
                    }
                }
            }
        }
        if tails.is_empty() {
            return;
        }
        let mut found = Vec::new();
        for (si, text, st, k) in each_the(report, toks) {
            let lower = |t: &Token<'_>| {
                t.kind == TokenKind::Word && !t.is_capitalized() && !t.text.contains('\'')
            };
            let words = st[k + 1..].iter().take(2).take_while(|t| lower(t)).count();
            for n in (1..=words).rev() {
                let end = k + 1 + n;
                if st.get(end).is_some_and(|t| {
                    (t.kind == TokenKind::Word && t.is_capitalized()) || t.text == "of"
                }) {
                    continue;
                }
                let phrase: Vec<String> = st[k + 1..end]
                    .iter()
                    .map(|t| t.text.to_lowercase())
                    .collect();
                let Some(earlier) = tails.get(&phrase.join(" ")) else {
                    continue;
                };
                let before =
                    |&&i: &&usize| (mentions[i].sentence, mentions[i].start) < (si, st[k].start);
                let keys: std::collections::BTreeSet<&str> = earlier
                    .iter()
                    .filter(before)
                    .map(|&i| mentions[i].key.as_str())
                    .collect();
                let (Some(&antecedent), [key]) = (
                    earlier.iter().rfind(before),
                    &keys.into_iter().collect::<Vec<_>>()[..],
                ) else {
                    break;
                };
                let a = &mentions[antecedent];
                let (start, stop) = (st[k].start, st[end - 1].end);
                found.push(Mention {
                    sentence: si,
                    start,
                    end: stop,
                    surface: text[start..stop].to_string(),
                    kind: a.kind,
                    weight: 1,
                    key: (*key).to_string(),
                    gazetteer: a.gazetteer,
                    demonym: false,
                    link: Some(a.link.unwrap_or(antecedent)),
                    written: Vec::new(),
                    enclosing: a.enclosing,
                });
                break;
            }
        }
        insert_in_order(mentions, found);
    }

    /// The person `m` as the report names them with the titles right before the name:
    /// each title alone, with the titles and modifiers before it ("special envoy Steve Witkoff", "Maj Gen Kashif
    /// Abdullah", "former President Joe Biden"), then with up to two capitalised
    /// qualifiers saying whose title it is ("US special envoy Steve Witkoff", "White House
    /// press secretary ..."), as written. A complement between the title and the name
    /// belongs to the title ("envoy for Yemen Hans Grundberg"). Empty without a title.
    fn titled(&self, text: &str, toks: &[Token<'_>], m: &Mention) -> Vec<String> {
        let Some(i) = toks.iter().position(|t| t.start == m.start) else {
            return Vec::new();
        };
        let Some(mut first) = self.title_before(toks, i) else {
            return Vec::new();
        };
        let form = |start: usize| text[toks[start].start..m.end].to_string();
        let mut forms = vec![form(first)];
        let mut qualifiers = 0;
        while first > 0 {
            let prev = &toks[first - 1];
            if let Some(k) = (prev.kind == TokenKind::Word || prev.text == ".")
                .then(|| self.title_before(toks, first))
                .flatten()
            {
                // A title before a title ("Col. Maj.", "army spokesman Colonel").
                forms.push(form(first));
                first = k;
            } else if prev.kind == TokenKind::Word
                && self.lower_classes(prev.text) & TITLE_MODIFIER != 0
            {
                first -= 1;
            } else if prev.text == "."
                && first > 1
                && toks[first - 2].text.contains('.')
                && toks[first - 2].is_capitalized()
                && qualifiers < 2
            {
                // An abbreviation ("U.S."), its last dot a token of its own.
                if qualifiers == 0 {
                    forms.push(form(first));
                }
                qualifiers += 1;
                first -= 2;
            } else if prev.kind == TokenKind::Word
                && prev.is_capitalized()
                && self.lower_classes(prev.text) & STOPWORD == 0
                && qualifiers < 2
            {
                if qualifiers == 0 {
                    forms.push(form(first));
                }
                qualifiers += 1;
                first -= 1;
            } else {
                break;
            }
        }
        forms.push(form(first));
        forms.sort();
        forms.dedup();
        forms
    }

    /// A name other than a person's as the report writes it, where that differs from the
    /// mention: with an abbreviation's last dot ("U.S."), with its place head ("Lipetsk
    /// region"), with the acronym that follows in brackets ("Line of Control (LoC)"), and
    /// each with the article before it ("the Kremlin", "The Red Cross (ICRC)") or the
    /// description it opens ("the rebel-held port of Hodeida", "the capital Sanaa").
    fn as_written(&self, text: &str, st: &[Token<'_>], m: &Mention) -> Vec<String> {
        let Some(i) = st.iter().position(|t| t.start == m.start) else {
            return Vec::new();
        };
        let mut ends = Vec::new();
        let mut end = m.end;
        if m.surface.contains('.') && text[end..].starts_with('.') {
            end += 1;
            ends.push(end);
        }
        let next = st.iter().position(|t| t.start >= end);
        if let Some(head) = next.and_then(|j| self.head_after(st, j, end, m.kind)) {
            ends.push(head);
        }
        if let Some(acronym) = next.and_then(|j| st.get(j..j + 3)).filter(|t| {
            t[0].text == "("
                && t[2].text == ")"
                && t[1].text.chars().filter(|c| c.is_uppercase()).count() >= 2
        }) {
            ends.push(acronym[2].end);
        }
        let the = self.described_from(st, i, m.kind).map(|k| st[k].start);
        let mut forms = Vec::new();
        for end in std::iter::once(m.end).chain(ends) {
            if end != m.end {
                forms.push(text[m.start..end].to_string());
            }
            if let Some(start) = the {
                forms.push(text[start..end].to_string());
            }
        }
        forms
    }

    /// The token of the "the" that opens the name at token `i`: right before it, or before
    /// up to two modifiers and, for a place, the noun it is written with ("the rebel-held
    /// port of Hodeida", "the capital Sanaa", "the strategic town of Kidal").
    fn described_from(&self, st: &[Token<'_>], i: usize, kind: EntityKind) -> Option<usize> {
        let mut k = i;
        if kind == EntityKind::Place {
            let of = usize::from(k > 0 && st[k - 1].text == "of");
            let noun = k.checked_sub(1 + of).filter(|&n| {
                let w = st[n].text;
                !st[n].is_capitalized()
                    && (w == "capital" || self.lower_classes(w) & PLACE_HEAD != 0)
            });
            if let Some(n) = noun {
                k = n;
            }
        }
        let modifier = |t: &Token<'_>| {
            t.kind == TokenKind::Word
                && !t.is_capitalized()
                && self.lower_classes(t.text) & STOPWORD == 0
        };
        (0..=2).find_map(|n| {
            let the = k.checked_sub(n + 1)?;
            (st[the].text.eq_ignore_ascii_case("the") && st[the + 1..k].iter().all(modifier))
                .then_some(the)
        })
    }

    /// The end of a lower-case head word or phrase that starts at token `j`, right after
    /// a name of kind `kind` ending at byte `end`: a place's ("region"), a facility's
    /// ("naval base"), an organization's ("regiment", "relief society") or its members'
    /// ("rebels"); a place's or an organization's after a name of no known kind.
    fn head_after(
        &self,
        st: &[Token<'_>],
        j: usize,
        end: usize,
        kind: EntityKind,
    ) -> Option<usize> {
        let mut n = 0;
        let mut at = end;
        for t in st.get(j..)?.iter().take(3) {
            // A place's head may be capitalised as part of its name ("Gaza Strip"): the
            // place is the same with or without it.
            let cased = t.is_capitalized() && kind != EntityKind::Place;
            if t.kind != TokenKind::Word || t.start != at + 1 || cased {
                break;
            }
            n += 1;
            at = t.end;
        }
        let (place, facility, org) = match kind {
            EntityKind::Place => (true, false, false),
            EntityKind::Facility => (false, true, false),
            EntityKind::Organization => (false, false, true),
            // A name and a facility head make a facility of its own ("Sanaa airport"),
            // which the recognizer finds when it knows the head.
            EntityKind::Other => (true, false, true),
            EntityKind::Person => return None,
        };
        (1..=n).rev().find_map(|n| {
            let phrase = &st[j..j + n];
            let single = |class: u8| n == 1 && self.lower_classes(phrase[0].text) & class != 0;
            // One word may qualify an organization's head ("relief society").
            let qualified = n == 2
                && self.lower_classes(phrase[0].text) & STOPWORD == 0
                && self.lower_classes(phrase[1].text) & ORG_HEAD != 0;
            let found = (place && single(PLACE_HEAD))
                || (org && (single(ORG_HEAD | MEMBER_NOUN) || qualified))
                || (facility
                    && self.facility_heads.iter().any(|(h, _)| {
                        h.len() == n && h.iter().zip(phrase).all(|(w, t)| eq_lower(t.text, w))
                    }));
            found.then(|| phrase[n - 1].end)
        })
    }

    /// The first token of the title that ends right before token `i` (its dot, or a
    /// complement such as "of Police" or "for Yemen", between them), the longest such
    /// title; `None` without one.
    fn title_before(&self, toks: &[Token<'_>], i: usize) -> Option<usize> {
        if i == 0 {
            return None;
        }
        let mut j = if toks[i - 1].text == "." { i - 1 } else { i };
        if j == 0 {
            return None;
        }
        if !self.title_ending_at(toks, j) {
            // "envoy for Yemen", "Inspector General of Police": a preposition and up to
            // three capitalised words.
            let mut k = j;
            while k > 0
                && j - k < 3
                && toks[k - 1].kind == TokenKind::Word
                && toks[k - 1].is_capitalized()
            {
                k -= 1;
            }
            let joined = k < j
                && k >= 2
                && with_lower(toks[k - 1].text, |w| matches!(w, "of" | "for" | "to"))
                && self.title_ending_at(toks, k - 1);
            if !joined {
                return None;
            }
            j = k - 1;
        }
        (j.saturating_sub(4)..j).find(|&k| self.title_at(toks, k).is_some_and(|n| k + n == j))
    }

    /// True when `words` (a written name, lower case) hold the title `title` itself, not
    /// a longer one that ends in it ("vice president" holds no "president").
    fn holds_title(&self, words: &[&str], title: &str) -> bool {
        let t: Vec<&str> = title.split_whitespace().collect();
        (0..words.len().saturating_sub(t.len() - 1)).any(|p| {
            words[p..p + t.len()] == t[..]
                && !(p > 0
                    && self.titles.iter().any(|longer| {
                        longer.len() == t.len() + 1
                            && longer[0] == words[p - 1]
                            && longer[1..].iter().zip(&t).all(|(a, b)| a == b)
                    }))
        })
    }

    /// Runs the tagger over the report's body sentences (one document, so a name typed once
    /// helps type it again) and merges its names into the rules' mentions: a name no rule
    /// found is added; a name the rules found but typed weakly (or not at all) takes the
    /// tagger's type; gazetteer names, demonyms and names typed by a title or a head word
    /// are left as they are. The tagger speaks only where it is sure of the type (a margin
    /// above the model's calibrated threshold): on a name it has never seen, in a context
    /// that fits a person as well as a place, a guess would override better local evidence.
    /// MISC names (events, nationalities, products) have no entity kind and are not added.
    fn model_mentions(
        &self,
        model: &NerModel,
        report: &Report,
        toks: &SentenceTokens<'_>,
        out: &mut Vec<Mention>,
    ) {
        let body: Vec<usize> = (0..report.sentences.len())
            .filter(|i| !report.headings.contains(i))
            .collect();
        let spans: Vec<Vec<(usize, usize)>> = body
            .iter()
            .map(|&si| {
                let text = &report.sentences[si].text;
                // About one token per five bytes of news text: rarely grown.
                let mut v = Vec::with_capacity(text.len() / 4);
                self.ner_tokenizer.tokenize(text, &mut v);
                v
            })
            .collect();
        let words: Vec<Vec<&str>> = body
            .iter()
            .zip(&spans)
            .map(|(&si, v)| {
                let text = &report.sentences[si].text;
                v.iter().map(|&(a, b)| &text[a..b]).collect()
            })
            .collect();
        let buffers = self
            .ner_buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        let mut tagger = Tagger::with_buffers(model, buffers);
        let entities = tagger.entities(&words);
        self.ner_buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tagger.into_buffers());
        let mut merged = Merged::new(out, report.sentences.len());
        let mut modifiers: HashSet<String> = HashSet::new();
        for ((&si, offsets), found) in body.iter().zip(&spans).zip(&entities) {
            if found.is_empty() {
                continue;
            }
            merged.begin_sentence(out.len());
            let text = &report.sentences[si].text;
            for e in found
                .iter()
                .filter(|e| e.type_margin >= model.info.type_threshold)
            {
                let (Some(&(start, _)), Some(&(_, end))) =
                    (offsets.get(e.start), offsets.get(e.end.wrapping_sub(1)))
                else {
                    continue;
                };
                let toks = toks.sentence(si);
                if e.ty == NerType::Misc {
                    if let Some(k) = self.misc_modifier(si, toks, start, end, out, &merged) {
                        merged.remove(k);
                        modifiers.insert(out[k].key.clone());
                    }
                    continue;
                }
                self.merge_model_name(si, text, toks, start, end, e.ty, out, &mut merged);
            }
        }
        merged.finish(out);
        // An adjective in one sentence is one in the others ("Kurdish and Arab units").
        if !modifiers.is_empty() {
            out.retain(|m| !(untyped(m) && modifiers.contains(&m.key)));
        }
    }

    /// The rules' mention the tagger reads as a MISC adjective: one capitalised word the
    /// rules left untyped, in front of a noun ("Kurdish authorities", "Western powers",
    /// "European and regional partners"). Such a word names a people, a creed or a region
    /// only to describe something else, and is no entity; a demonym the gazetteer knows
    /// ("Russian troops") stays the country's mention. A word ending in -s may be a plural
    /// noun, a group that acts ("Kurds said"), and is left alone.
    fn misc_modifier(
        &self,
        si: usize,
        toks: &[Token<'_>],
        start: usize,
        end: usize,
        out: &[Mention],
        merged: &Merged,
    ) -> Option<usize> {
        let i = toks.iter().position(|t| t.start == start && t.end == end)?;
        if toks[i].text.ends_with('s') {
            return None;
        }
        let k = merged
            .of_sentence(si, out.len())
            .find(|&k| out[k].start == start && out[k].end == end)?;
        if !untyped(&out[k]) {
            return None;
        }
        // Lower-case words after it, through a coordination, up to a noun.
        const LOOK: usize = 3;
        for t in toks.iter().skip(i + 1).take(LOOK) {
            let lower = t.kind == TokenKind::Word && !t.is_capitalized();
            let coordination = t.text == "," || t.text == "and" || t.text == "or";
            if coordination {
                continue;
            }
            if !lower || self.lower_classes(t.text) & STOPWORD != 0 {
                return None;
            }
            if self.nouns.of(t.text).is_some() {
                return Some(k);
            }
        }
        None
    }

    /// Merges one name the tagger found at `text[start..end]` (see `model_mentions`).
    #[allow(clippy::too_many_arguments)]
    fn merge_model_name(
        &self,
        si: usize,
        text: &str,
        toks: &[Token<'_>],
        start: usize,
        end: usize,
        ty: NerType,
        out: &mut Vec<Mention>,
        merged: &mut Merged,
    ) {
        let kind = match ty {
            NerType::Per => EntityKind::Person,
            NerType::Loc => EntityKind::Place,
            NerType::Org => EntityKind::Organization,
            // Events, nationalities, products: no entity kind (see `misc_modifier`).
            NerType::Misc => return,
        };
        // The rule tokens the name covers ("U.S." is "U.S" and "." to the rules), without
        // the words that are never part of a name ("Later Moll said": "Moll").
        let inside = |t: &Token<'_>| t.start >= start && t.end <= end;
        let (Some(mut i), Some(j)) = (toks.iter().position(inside), toks.iter().rposition(inside))
        else {
            return;
        };
        while i < j && self.lower_classes(toks[i].text) & STOPWORD != 0 {
            i += 1;
        }
        // A word that is never a name by itself ("GMT") is none to the tagger either.
        if i == j && self.lower_classes(toks[i].text) & STOPWORD != 0 {
            return;
        }
        let start = toks[i].start;
        let overlapping = {
            let mut it = merged
                .of_sentence(si, out.len())
                .filter(|&k| out[k].start < end && start < out[k].end);
            (it.next(), it.next())
        };
        let replace = match overlapping {
            (None, _) => None,
            (Some(k), None) => {
                let m = &out[k];
                let weak = m.gazetteer.is_none()
                    && !m.demonym
                    && m.weight < MODEL_WEIGHT
                    && !m.key.contains(DESCRIBED);
                if !weak {
                    return;
                }
                let within = start >= m.start && end <= m.end;
                // "The National" to the rules, "National" to the tagger: the same name.
                let same = end == m.end
                    && (start == m.start
                        || text.get(m.start..start).is_some_and(|lead| {
                            self.articles.iter().any(|a| eq_lower(lead.trim_end(), a))
                        }));
                if !within || same {
                    // The same words, or others than the rules took: the rules' words (their
                    // stopwords and connectors know where names end) with the tagger's type;
                    // a facility the rules found by its head stays one.
                    let m = &mut out[k];
                    if !(m.kind == EntityKind::Facility && kind == EntityKind::Place) {
                        m.kind = kind;
                    }
                    m.weight = MODEL_WEIGHT;
                    return;
                }
                // Fewer words ("Shares of Acme Corp" to the rules, "Acme Corp" to the
                // tagger): the tagger's reading replaces the weak one.
                Some(k)
            }
            // The rules split it into several names: they keep their reading.
            (Some(_), Some(_)) => return,
        };
        if let Some(k) = replace {
            merged.remove(k);
        }
        let before = out.len();
        self.push_span(si, text, toks, i, j + 1, Some(kind), out);
        for m in &mut out[before..] {
            if m.kind == kind {
                m.weight = MODEL_WEIGHT;
            }
        }
    }

    fn gazetteer_mention(
        &self,
        si: usize,
        text: &str,
        start: usize,
        end: usize,
        pid: usize,
    ) -> Mention {
        let (idx, demonym) = self.gazetteer_patterns[pid];
        Mention {
            sentence: si,
            start,
            end,
            surface: text[start..end].to_string(),
            kind: self.gazetteer_kinds[idx],
            weight: 9,
            key: self.gazetteer_keys[idx].clone(),
            gazetteer: Some(idx),
            demonym,
            link: None,
            written: Vec::new(),
            enclosing: false,
        }
    }

    fn sentence_mentions(&self, si: usize, text: &str, toks: &[Token<'_>], out: &mut Vec<Mention>) {
        let mut covered = vec![false; toks.len()];
        let gazetteer_from = out.len();
        for m in self.gazetteer.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            // Tokens are in text order and do not overlap: those inside the match are a run.
            let first = toks.partition_point(|t| t.start < start);
            for (c, _) in covered[first..]
                .iter_mut()
                .zip(&toks[first..])
                .take_while(|(_, t)| t.end <= end)
            {
                *c = true;
            }
            out.push(self.gazetteer_mention(si, text, start, end, m.pattern().as_usize()));
        }
        self.cover_known_compounds(toks, &mut covered, &out[gazetteer_from..]);
        // The first word token of the sentence (after opening quotes).
        let opener = toks.iter().position(|t| t.kind == TokenKind::Word);
        let mut i = 0;
        while i < toks.len() {
            if covered[i] || !self.is_name_word(&toks[i]) {
                i += 1;
                continue;
            }
            // Titles: "President", "Deputy Prime Minister", "Col." before a name.
            if let Some(n) = self.title_at(toks, i) {
                let after = skip_dot(toks, i + n);
                // "Defence Minister Israel Katz", "Minister Jordan Bardella": a place's name
                // between a title and a surname is the person's given name.
                let given = (after + 1 < toks.len()
                    && covered[after]
                    && !covered[after + 1]
                    && self.is_name_word(&toks[after + 1])
                    && toks[after].end + 1 == toks[after + 1].start)
                    .then(|| {
                        out[gazetteer_from..].iter().rposition(|m| {
                            m.start == toks[after].start
                                && m.end == toks[after].end
                                && m.kind == EntityKind::Place
                                && !m.demonym
                        })
                    })
                    .flatten();
                if let Some(g) = given {
                    out.remove(gazetteer_from + g);
                    covered[after] = false;
                }
                if after < toks.len()
                    && !covered[after]
                    && self.is_name_word(&toks[after])
                    && !self.is_title_start(toks, after)
                {
                    i = after;
                    let end = self.span_end(toks, &covered, i);
                    self.push_span(si, text, toks, i, end, Some(EntityKind::Person), out);
                    i = end;
                } else {
                    i = after.max(i + 1);
                }
                continue;
            }
            // "told The National", "in The Hague": mid-sentence, a capitalised article
            // belongs to the name after it (an outlet, a city); the key drops it.
            let article = i > 0
                && Some(i) != opener
                && toks[i - 1].kind == TokenKind::Word
                && toks[i].text == "The"
                && toks.get(i + 1).is_some_and(|t| {
                    !covered[i + 1]
                        && self.is_name_word(t)
                        && self.lower_classes(t.text) & STOPWORD == 0
                        && !self.is_title_start(toks, i + 1)
                });
            if self.lower_classes(toks[i].text) & STOPWORD != 0 && !article {
                i += 1;
                continue;
            }
            let end = self.span_end(toks, &covered, i + usize::from(article));
            // A lower-case title right before the name ("correspondent Dilan Barzan").
            let titled = i > 0 && self.title_ending_at(toks, i);
            let hint = if titled {
                Some(EntityKind::Person)
            } else {
                None
            };
            let opener_single = Some(i) == opener && end == i + 1;
            let before = out.len();
            self.push_span(si, text, toks, i, end, hint, out);
            // "Syrian Democratic Forces", "Nairobi High Court", "Black Sea Fleet": a demonym
            // or a place right before an organization's name is part of the name, not a
            // mention of the place.
            if out.len() > before && i > 0 && covered[i - 1] {
                let org = out
                    .last()
                    .is_some_and(|m| m.kind == EntityKind::Organization && m.weight >= 5);
                let dem = out[..before].iter().rposition(|m| {
                    m.sentence == si
                        && (m.demonym || m.kind == EntityKind::Place)
                        && m.end == toks[i - 1].end
                        && toks[i - 1].end + 1 == toks[i].start
                });
                if let (true, Some(d)) = (org, dem) {
                    let start = out[d].start;
                    out.remove(d);
                    if let Some(m) = out.last_mut() {
                        m.start = start;
                        m.surface = text[start..m.end].to_string();
                        m.key = self.keyer.key(&m.surface);
                    }
                }
            }
            if opener_single && !titled && out.len() > before {
                if let Some(m) = out.last_mut() {
                    // Weak until the report uses the name again mid-sentence.
                    m.weight = 0;
                }
            }
            i = end;
        }
        self.described_facilities(si, text, toks, out);
        // "city of Lisk", "port of Velmar": a head word, "of", then a name.
        for (ti, t) in toks.iter().enumerate() {
            if t.kind != TokenKind::Word || ti + 2 >= toks.len() || toks[ti + 1].text != "of" {
                continue;
            }
            let fac = self
                .facilities_by_first
                .get_lower(t.text)
                .into_iter()
                .flatten()
                .map(|&k| &self.facility_heads[k])
                .find(|(h, _)| h.len() == 1)
                .map(|(_, g)| g.clone());
            let place = self.lower_classes(t.text) & PLACE_HEAD != 0;
            if fac.is_none() && !place {
                continue;
            }
            let name_at = ti + 2;
            if !self.is_name_word(&toks[name_at]) {
                continue;
            }
            let end = self.span_end(toks, &covered, name_at);
            if let Some(group) = fac {
                // The facility "port of Velmar", beside the place "Velmar".
                let name = &text[toks[name_at].start..toks[end - 1].end];
                out.push(Mention {
                    sentence: si,
                    start: t.start,
                    end: toks[end - 1].end,
                    surface: text[t.start..toks[end - 1].end].to_string(),
                    kind: EntityKind::Facility,
                    weight: 6,
                    key: format!("{group}:{}", self.keyer.key(name)),
                    gazetteer: None,
                    demonym: false,
                    link: None,
                    written: Vec::new(),
                    enclosing: false,
                });
            } else if let Some(m) = out
                .iter_mut()
                .rev()
                .find(|m| m.sentence == si && m.start == toks[name_at].start)
            {
                if m.weight < 5 {
                    m.kind = EntityKind::Place;
                    m.weight = 5;
                }
            }
        }
    }

    /// Marks as covered the hyphenated words made only of gazetteer names ("Turkey-Russia
    /// talks"): each part is a mention of its own already, and the
    /// compound names a relation between them, not a third entity.
    fn cover_known_compounds(&self, toks: &[Token<'_>], covered: &mut [bool], known: &[Mention]) {
        if known.is_empty() {
            return;
        }
        for (t, c) in toks.iter().zip(covered.iter_mut()) {
            if *c || t.kind != TokenKind::Word || !t.text.contains('-') {
                continue;
            }
            let mut at = t.start;
            let all_known = t.text.split('-').all(|part| {
                let (a, b) = (at, at + part.len());
                at = b + 1;
                part.is_empty() || known.iter().any(|m| m.start <= a && b <= m.end)
            });
            *c = all_known;
        }
    }

    /// Facilities known only by a description: "the central railway square", "the main
    /// hospital". Wire copy names the scene of an attack or a handover this way more often
    /// than by a proper name, and later reports shorten it ("the railway square"), so the
    /// key keeps the head and, for a one-word head, the word before it, not every
    /// adjective. The `desc` part of the key keeps these apart from named facilities.
    fn described_facilities(
        &self,
        si: usize,
        text: &str,
        toks: &[Token<'_>],
        out: &mut Vec<Mention>,
    ) {
        const MAX_MODIFIERS: usize = 2;
        let taken = |start: usize, end: usize, out: &[Mention]| {
            out.iter()
                .any(|m| m.sentence == si && m.start < end && start < m.end)
        };
        let lower_word = |t: &Token<'_>| {
            t.kind == TokenKind::Word
                && !t.is_capitalized()
                && t.text.chars().all(char::is_alphabetic)
                && self.classes(t.text) & STOPWORD == 0
        };
        let mut ti = 0;
        while ti < toks.len() {
            let the = eq_lower(toks[ti].text, "the");
            if !the
                && !POSSESSIVE_DETERMINERS
                    .iter()
                    .any(|d| eq_lower(toks[ti].text, d))
            {
                ti += 1;
                continue;
            }
            let first = ti + 1;
            let mut found = None;
            // Modifiers, then the longest head ending the phrase.
            let mut end = first;
            while end < toks.len() && end - first <= MAX_MODIFIERS + 1 && lower_word(&toks[end]) {
                end += 1;
                let heads = self.facilities_by_last.get(toks[end - 1].text);
                if let Some((n, group)) = heads.into_iter().flatten().find_map(|&k| {
                    let (h, g) = &self.facility_heads[k];
                    let n = h.len();
                    (end >= first + n
                        && h.iter().zip(&toks[end - n..end]).all(|(w, t)| t.text == w))
                    .then(|| (n, g.clone()))
                }) {
                    let next_is_word = toks.get(end).is_some_and(&lower_word);
                    let mods = end - n - first;
                    // A bare head ("the base") is a facility only with its town after
                    // it ("the base at Gossi"); after "its" or "their", any head is.
                    let bare = n == 1 && mods == 0;
                    let placed = || self.place_after_in(si, toks, end, out).is_some();
                    if !next_is_word && ((!bare && the) || placed()) && mods <= MAX_MODIFIERS {
                        found = Some((end, n, group));
                    }
                }
            }
            let Some((end, n, group)) = found else {
                ti += 1;
                continue;
            };
            let (start, stop) = (toks[first].start, toks[end - 1].end);
            if !taken(start, stop, out) {
                let keep = if n > 1 { n } else { 2 };
                let words: Vec<&str> = toks[end - keep..end].iter().map(|t| t.text).collect();
                let mut key = format!("{group}{DESCRIBED}{}", words.join("-"));
                let (mut stop, mut weight) = (stop, 3);
                // "the naval facility in Velmar" is Velmar's naval facility: the place
                // names it. With no modifier it is the facility "Velmar naval facility";
                // with one ("the main hospital in Lisk") it is that hospital of Lisk.
                if let Some(place) = self.place_after_in(si, toks, end, out) {
                    if end - n == first {
                        key = format!("{group}:{}", place.key);
                        weight = 6;
                    } else {
                        key = format!("{key}@{}", place.key);
                    }
                    stop = place.end;
                }
                out.push(Mention {
                    sentence: si,
                    start,
                    end: stop,
                    surface: text[start..stop].to_string(),
                    kind: EntityKind::Facility,
                    weight,
                    key,
                    gazetteer: None,
                    demonym: false,
                    link: None,
                    written: Vec::new(),
                    enclosing: false,
                });
            }
            ti = end;
        }
    }

    /// The town named by "in" or "at" right at token `at` ("... in Velmar", "its base at
    /// Gossi"), among the sentence's mentions found so far. Not a country: "a base in
    /// Syria" is one of many.
    fn place_after_in<'m>(
        &self,
        si: usize,
        toks: &[Token<'_>],
        at: usize,
        found: &'m [Mention],
    ) -> Option<&'m Mention> {
        toks.get(at).filter(|t| t.text == "in" || t.text == "at")?;
        let name = toks.get(at + 1)?;
        found.iter().rev().find(|m| {
            m.sentence == si
                && m.start == name.start
                && m.kind == EntityKind::Place
                && !m.demonym
                && !m.key.is_empty()
                && !m.gazetteer.is_some_and(|g| self.countries[g])
        })
    }

    /// Adds the span `toks[i..end]` (plus any head word after it) as a mention.
    #[allow(clippy::too_many_arguments)]
    fn push_span(
        &self,
        si: usize,
        text: &str,
        toks: &[Token<'_>],
        i: usize,
        end: usize,
        hint: Option<EntityKind>,
        out: &mut Vec<Mention>,
    ) {
        if i >= end {
            return;
        }
        let span = &toks[i..end];
        // The classes of the span's last word, lower-cased.
        let last_classes = self.lower_classes(toks[end - 1].text);
        let mut span_end = end;
        let mut kind = hint;
        let mut weight: KindWeight = if hint.is_some() { 7 } else { 1 };
        let mut key = None;
        // Facility head inside the span ("Qamishlo Airport", "Port Velmar") or right after it
        // ("Qamishli airport", "Hmeimim air base").
        if let Some((group, name)) = self.facility_in(span) {
            kind = Some(EntityKind::Facility);
            weight = 6;
            key = Some(format!("{group}:{}", self.keyer.key(&name)));
        } else if let Some((n, group)) = self.facility_after(toks, end) {
            let name = &text[toks[i].start..toks[end - 1].end];
            span_end = end + n;
            kind = Some(EntityKind::Facility);
            weight = 6;
            key = Some(format!("{group}:{}", self.keyer.key(name)));
        } else if last_classes & ORG_HEAD != 0 && hint.is_none() {
            kind = Some(EntityKind::Organization);
            weight = 6;
        } else if hint.is_none() {
            if let Some(n) = self.org_after(toks, end) {
                span_end = end + n;
                kind = Some(EntityKind::Organization);
                weight = 5;
            } else if end < toks.len() && self.lower_classes(toks[end].text) & PLACE_HEAD != 0 {
                // "Hasakah province": the place is the name; the head only types it.
                kind = Some(EntityKind::Place);
                weight = 5;
            } else if last_classes & PLACE_HEAD != 0 && span.len() > 1 {
                kind = Some(EntityKind::Place);
                weight = 5;
            } else if end - i == 1 && toks[i].is_acronym() {
                kind = Some(EntityKind::Organization);
                weight = 2;
            } else if i > 0 && with_lower(toks[i - 1].text, |w| LOCATION_PREPS.contains(&w)) {
                kind = Some(EntityKind::Place);
                weight = 2;
            }
        }
        let start = toks[i].start;
        let stop = toks[span_end - 1].end;
        let name_stop = toks[end - 1].end;
        let surface = text[start..stop].to_string();
        let key = key.unwrap_or_else(|| self.keyer.key(&text[start..name_stop]));
        if key.is_empty() {
            return;
        }
        out.push(Mention {
            sentence: si,
            start,
            end: stop,
            surface,
            kind: kind.unwrap_or(EntityKind::Other),
            weight,
            key,
            gazetteer: None,
            demonym: false,
            link: None,
            written: Vec::new(),
            enclosing: false,
        });
    }

    /// A name word: capitalized, or an article-prefixed capitalized word (`al-Sharaa`).
    #[inline]
    fn is_name_word(&self, t: &Token<'_>) -> bool {
        if t.kind != TokenKind::Word {
            return false;
        }
        let bytes = t.text.as_bytes();
        let capitalized = match bytes.first() {
            Some(b) if b.is_ascii_uppercase() => true,
            Some(b) if b.is_ascii() => false,
            _ => t.is_capitalized(),
        };
        if capitalized {
            // "Russian-made", "Kurdish-led": an adjective, not a name; "Jong-un", "Jin-ho"
            // are names.
            return !bytes.iter().rposition(|&b| b == b'-').is_some_and(|dash| {
                let tail = &t.text[dash + 1..];
                tail.chars().next().is_some_and(char::is_lowercase)
                    && (tail.ends_with("ed")
                        || tail.ends_with("ing")
                        || self.compound_tails.iter().any(|w| w == tail))
            });
        }
        if let Some(dash) = bytes.iter().position(|&b| b == b'-') {
            let (prefix, rest) = (&t.text[..dash], &t.text[dash + 1..]);
            return self.articles.iter().any(|a| a == prefix)
                && rest.chars().next().is_some_and(char::is_uppercase);
        }
        false
    }

    /// End (exclusive) of the name span that starts at `i`.
    fn span_end(&self, toks: &[Token<'_>], covered: &[bool], i: usize) -> usize {
        let mut end = i + 1;
        loop {
            if end >= toks.len() || covered[end] {
                break;
            }
            let t = &toks[end];
            let classes = self.lower_classes(t.text);
            if self.is_name_word(t) && classes & STOPWORD == 0 && !self.is_title_start(toks, end) {
                end += 1;
                continue;
            }
            // A short number right after a name word is part of it ("Base 7", "Route 66").
            if t.kind == TokenKind::Number
                && t.text.len() <= 4
                && t.text.bytes().all(|b| b.is_ascii_digit())
            {
                end += 1;
                break;
            }
            // A connector joins two name words ("Bank of England", "Ahmad Al Shara" has "Al").
            if classes & CONNECTOR != 0
                && end + 1 < toks.len()
                && !covered[end + 1]
                && self.is_name_word(&toks[end + 1])
                && self.lower_classes(toks[end + 1].text) & STOPWORD == 0
            {
                end += 2;
                continue;
            }
            break;
        }
        end
    }

    /// Length in tokens of a person title starting at `i`, if any.
    fn title_at(&self, toks: &[Token<'_>], i: usize) -> Option<usize> {
        if toks[i].kind != TokenKind::Word {
            return None;
        }
        let candidates = self.titles_by_first.get_lower(toks[i].text)?;
        let mut best = None;
        for &k in candidates {
            let t = &self.titles[k];
            if i + t.len() <= toks.len()
                && t.iter()
                    .zip(&toks[i..])
                    .all(|(w, tok)| tok.kind == TokenKind::Word && eq_lower(tok.text, w))
                && (!self.plural_titles[k] || Self::two_names_after(toks, i + t.len()))
            {
                best = best.max(Some(t.len()));
            }
        }
        best
    }

    /// "Ana Ruiz and Otto Brandt" (a name, "and", a capitalised word) within a few tokens
    /// of `i`: what a plural title introduces, which a team named by one ("the Kings")
    /// does not.
    fn two_names_after(toks: &[Token<'_>], i: usize) -> bool {
        let near = &toks[i.min(toks.len())..(i + 6).min(toks.len())];
        near.first().is_some_and(Token::is_capitalized)
            && near
                .windows(2)
                .any(|w| w[0].text == "and" && w[1].is_capitalized())
    }

    fn is_title_start(&self, toks: &[Token<'_>], i: usize) -> bool {
        toks[i].is_capitalized() && self.title_at(toks, i).is_some()
    }

    /// True when a title ends right before token `i` (lower-case titles included).
    fn title_ending_at(&self, toks: &[Token<'_>], i: usize) -> bool {
        let j = if toks[i - 1].text == "." && i >= 2 {
            i - 1
        } else {
            i
        };
        let Some(candidates) = self.titles_by_last.get_lower(toks[j - 1].text) else {
            return false;
        };
        candidates.iter().any(|&k| {
            let t = &self.titles[k];
            t.len() <= j
                && t.iter()
                    .zip(&toks[j - t.len()..j])
                    .all(|(w, tok)| eq_lower(tok.text, w))
                && (!self.plural_titles[k] || Self::two_names_after(toks, i))
        })
    }

    /// A facility head among the span's words: returns its group and the other words,
    /// lower-cased and joined by spaces.
    fn facility_in(&self, span: &[Token<'_>]) -> Option<(&str, String)> {
        // A head that starts or ends the span is indexed by that word; with neither, no
        // head can match, which is the common case.
        let indexed = |t: &Token<'_>, index: &LowerMap<Vec<usize>>| index.contains_lower(t.text);
        if !indexed(span.first()?, &self.facilities_by_first)
            && !indexed(span.last()?, &self.facilities_by_last)
        {
            return None;
        }
        let words: Vec<String> = span.iter().map(|t| t.text.to_lowercase()).collect();
        for (head, group) in &self.facility_heads {
            let n = head.len();
            if words.len() <= n {
                continue;
            }
            if words[words.len() - n..] == head[..] {
                return Some((group, words[..words.len() - n].join(" ")));
            }
            if words[..n] == head[..] {
                return Some((group, words[n..].join(" ")));
            }
        }
        None
    }

    /// A lower-case facility head right after the span: (tokens, group).
    fn facility_after(&self, toks: &[Token<'_>], end: usize) -> Option<(usize, &str)> {
        let first = toks.get(end).filter(|t| t.kind == TokenKind::Word)?;
        // Heads by their first word, compared as `eq_lower` compares.
        let heads = with_char_lower(first.text, |w| self.facilities_by_first.get(w))?;
        for &k in heads {
            let (head, group) = &self.facility_heads[k];
            let n = head.len();
            if end + n <= toks.len()
                && head
                    .iter()
                    .zip(&toks[end..end + n])
                    .all(|(h, t)| t.kind == TokenKind::Word && eq_lower(t.text, h))
            {
                return Some((n, group));
            }
        }
        None
    }

    /// One or two lower-case words ending in an organization suffix ("relief society").
    fn org_after(&self, toks: &[Token<'_>], end: usize) -> Option<usize> {
        let is_lower_word = |t: &Token<'_>| t.kind == TokenKind::Word && !t.is_capitalized();
        let first = toks.get(end).filter(|t| is_lower_word(t))?;
        let first_classes = self.classes(first.text);
        if first_classes & ORG_SUFFIX != 0 {
            return Some(1);
        }
        let second = toks.get(end + 1).filter(|t| is_lower_word(t))?;
        (self.classes(second.text) & ORG_SUFFIX != 0 && first_classes & STOPWORD == 0).then_some(2)
    }

    fn add_dateline(&self, report: &Report, dateline: &str, out: &mut Vec<Mention>) {
        let si = usize::from(report.has_title_sentence);
        if si >= report.sentences.len() {
            return;
        }
        let gaz = self.gazetteer_plain.get(&plain_lower(dateline)).copied();
        let key = match gaz {
            Some(g) => self.gazetteer_keys[g].clone(),
            None => self.keyer.key(dateline),
        };
        if key.is_empty() {
            return;
        }
        let surface = self.dateline_name(dateline, &key, gaz, out);
        let written = if surface != dateline {
            vec![dateline.to_string()]
        } else {
            Vec::new()
        };
        // Datelines sit before the sentence text: position 0, zero width.
        out.push(Mention {
            sentence: si,
            start: 0,
            end: 0,
            surface,
            kind: gaz.map_or(EntityKind::Place, |g| self.gazetteer_kinds[g]),
            weight: 6,
            key,
            gazetteer: gaz,
            demonym: false,
            link: None,
            written,
            enclosing: false,
        });
    }

    /// The name a dateline gives its place. Datelines are set in capitals (`OSTRAVEL -`),
    /// which no reader takes for the place's name: an all-capitals dateline takes the
    /// spelling the report's text gives the same place, else the gazetteer's, else its
    /// words in title case (`NEW YORK` → `New York`). A dateline that has lower-case
    /// letters (`Moscow:`) is kept as written.
    fn dateline_name(
        &self,
        dateline: &str,
        key: &str,
        gaz: Option<usize>,
        found: &[Mention],
    ) -> String {
        if dateline.chars().any(char::is_lowercase) {
            return dateline.to_string();
        }
        if let Some(m) = found
            .iter()
            .find(|m| m.key == key && m.surface.chars().any(char::is_lowercase))
        {
            return m.surface.clone();
        }
        match gaz {
            Some(g) => self.gazetteer_names[g].clone(),
            None => title_case(dateline),
        }
    }

    /// A single capitalized word that opens a sentence is only a name when the report also
    /// writes it capitalized elsewhere, headline included ("Attention was drawn..." is not
    /// a name).
    fn drop_unconfirmed_openers(&self, mentions: &mut Vec<Mention>, headings: &[&str]) {
        if mentions.iter().all(|m| m.weight > 0) {
            return;
        }
        // Sized once: grown from empty they were rehashed several times per report.
        let mut strong = HashSet::with_capacity(mentions.len());
        let mut last_words = HashSet::with_capacity(mentions.len());
        for m in mentions.iter().filter(|m| m.weight > 0) {
            strong.insert(m.key.as_str());
            last_words.extend(m.key.rsplit(' ').next());
        }
        let in_heading = |m: &Mention| {
            headings.iter().any(|h| {
                h.match_indices(m.surface.as_str())
                    .any(|(i, _)| word_bounded(h, i, i + m.surface.len()))
            })
        };
        let keep: Vec<bool> = mentions
            .iter()
            .map(|m| {
                m.weight > 0
                    || strong.contains(m.key.as_str())
                    || last_words.contains(m.key.as_str())
                    || in_heading(m)
            })
            .collect();
        let mut keep = keep.into_iter();
        mentions.retain(|_| keep.next().unwrap_or(true));
        for m in mentions.iter_mut() {
            if m.weight == 0 {
                m.weight = 1;
            }
        }
    }

    /// Headlines and section headings capitalize every word, so names there are found by
    /// looking for the names the body uses (whole names, and surnames of people).
    fn title_mentions(&self, si: usize, title: &str, body: &[Mention]) -> Vec<Mention> {
        let lower_title = title.to_lowercase();
        let mut found: Vec<Mention> = Vec::new();
        let mut taken: Vec<(usize, usize)> = Vec::new();
        let mut candidates: Vec<(String, &Mention)> = Vec::new();
        // Only the names the headline holds at all are sorted and searched word by word:
        // a headline has a few names, the body hundreds.
        let mut consider = |name: &str, m| {
            let needle = name.to_lowercase();
            if find_from(&lower_title, &needle, 0).is_some() {
                candidates.push((needle, m));
            }
        };
        // (A mention around another, a country's forces, leaves the headline the country.)
        for m in body.iter().filter(|m| !m.enclosing) {
            consider(&m.surface, m);
            if m.kind == EntityKind::Person || m.kind == EntityKind::Other {
                if let Some(last) = m.surface.rsplit(' ').next() {
                    if last.len() > 2 && last.len() < m.surface.len() {
                        consider(last, m);
                    }
                }
            }
        }
        // Longest names first, so "Port Velmar" wins over "Velmar".
        candidates.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        // A name the body uses again finds the places the first use of it took.
        candidates.dedup_by(|later, earlier| later.0 == earlier.0);
        for (needle, m) in candidates {
            if needle.is_empty() {
                continue;
            }
            let mut from = 0;
            while let Some(s) = find_from(&lower_title, &needle, from) {
                let e = s + needle.len();
                from = e;
                if !word_bounded(&lower_title, s, e) || taken.iter().any(|&(a, b)| s < b && a < e) {
                    continue;
                }
                taken.push((s, e));
                let surface = title.get(s..e).unwrap_or(&needle).to_string();
                let key = if m.kind == EntityKind::Facility || m.gazetteer.is_some() {
                    m.key.clone()
                } else {
                    self.keyer.key(&surface)
                };
                found.push(Mention {
                    sentence: si,
                    start: s,
                    end: e,
                    surface,
                    kind: m.kind,
                    weight: 1,
                    key,
                    gazetteer: m.gazetteer,
                    demonym: m.demonym,
                    link: None,
                    written: Vec::new(),
                    enclosing: false,
                });
            }
        }
        found
    }

    /// In-report coreference: a one-word name after a longer name whose last word has the
    /// same key (surname), and an acronym after a name with those initials, or written in
    /// brackets right after it ("Syrian Democratic Forces (SDF)").
    ///
    /// The antecedents are indexed by surname key and by initials, so that a report with
    /// thousands of one-word names costs a lookup per name rather than a pass over all the
    /// others for each: the nearest earlier antecedent is taken, else the first later one.
    fn link(&self, mentions: &mut [Mention]) {
        // Where the last word of each several-word, non-facility key starts: the only
        // mentions a surname can take as its antecedent.
        let tails: Vec<Option<usize>> = mentions
            .iter()
            .map(|m| {
                let k = &m.key;
                (!k.contains(':'))
                    .then(|| k.rfind(' ').map(|p| p + 1))
                    .flatten()
            })
            .collect();
        let candidate = |m: &Mention| m.gazetteer.is_none() && !m.demonym;
        // Surname key → the personal several-word mentions ending in it, in order. Their
        // links and kinds are not changed below (only one-word mentions are linked).
        let mut by_surname: HashMap<String, Vec<usize>> = HashMap::new();
        for (j, m) in mentions.iter().enumerate() {
            if let Some(t) = tails[j] {
                if candidate(m) && matches!(m.kind, EntityKind::Person | EntityKind::Other) {
                    by_surname
                        .entry(m.key[t..].to_string())
                        .or_default()
                        .push(j);
                }
            }
        }
        // Initials → the mentions with them, in order: built when an acronym first asks.
        let mut by_initials: Option<HashMap<String, Vec<usize>>> = None;
        for i in 0..mentions.len() {
            let m = &mentions[i];
            if !candidate(m) || tails[i].is_some() || m.key.contains(':') {
                continue;
            }
            let surface = &m.surface;
            let acronym = surface
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase)
                && surface.chars().filter(|c| c.is_alphabetic()).count() >= 2;
            let found = if acronym {
                let index = by_initials.get_or_insert_with(|| {
                    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
                    for (j, m) in mentions.iter().enumerate() {
                        if candidate(m) {
                            let init =
                                initials_by(&m.surface, |w| self.lower_classes(w) & CONNECTOR != 0);
                            index.entry(init).or_default().push(j);
                        }
                    }
                    index
                });
                index
                    .get(&surface.replace('.', ""))
                    .and_then(|js| nearest(js, i))
            } else if matches!(m.kind, EntityKind::Person | EntityKind::Other) {
                by_surname.get(m.key.as_str()).and_then(|js| nearest(js, i))
            } else {
                None
            };
            // An antecedent linked already hands on its own antecedent.
            if let Some(j) = found {
                let target = mentions[j].link.unwrap_or(j);
                let kind = mentions[target].kind;
                let m = &mut mentions[i];
                m.link = Some(target);
                if m.kind == EntityKind::Other {
                    m.kind = kind;
                }
            }
        }
    }
}

/// Each "the" of the report's body sentences: the sentence, its text and tokens, and the
/// token's index.
fn each_the<'a>(
    report: &'a Report,
    toks: &'a SentenceTokens<'a>,
) -> impl Iterator<Item = (usize, &'a str, &'a [Token<'a>], usize)> + 'a {
    report
        .sentences
        .iter()
        .enumerate()
        .filter(|(si, _)| !report.headings.contains(si))
        .flat_map(move |(si, s)| {
            let st = toks.sentence(si);
            (0..st.len())
                .filter(move |&k| st[k].text.eq_ignore_ascii_case("the"))
                .map(move |k| (si, s.text.as_str(), st, k))
        })
}

/// A table of groups and their phrases as (lower-case words, group), longest first, so
/// that the longest phrase at a place wins.
fn grouped_phrases(
    table: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<(Vec<String>, String)> {
    let mut phrases: Vec<(Vec<String>, String)> = table
        .iter()
        .flat_map(|(group, phrases)| {
            phrases.iter().map(move |p| {
                let words = p.split_whitespace().map(str::to_lowercase).collect();
                (words, group.clone())
            })
        })
        .collect();
    phrases.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
    phrases
}

/// Adds `found` to `mentions` in sentence order, the links following their mentions.
fn insert_in_order(mentions: &mut Vec<Mention>, mut found: Vec<Mention>) {
    if found.is_empty() {
        return;
    }
    mentions.append(&mut found);
    let mut order: Vec<usize> = (0..mentions.len()).collect();
    order.sort_by_key(|&i| (mentions[i].sentence, mentions[i].start));
    let mut at = vec![0; order.len()];
    for (pos, &i) in order.iter().enumerate() {
        at[i] = pos;
    }
    let mut sorted: Vec<Mention> = order.iter().map(|&i| mentions[i].clone()).collect();
    for m in &mut sorted {
        m.link = m.link.map(|l| at[l]);
    }
    *mentions = sorted;
}

/// The antecedent of mention `i` among `js` (ascending, `i` perhaps among them): the
/// nearest before it, else the first after it. (A later mention has no link of its own to
/// hand on yet: links are made in mention order, and only here.)
fn nearest(js: &[usize], i: usize) -> Option<usize> {
    let before = js.partition_point(|&j| j < i);
    match before.checked_sub(1).and_then(|b| js.get(b)) {
        Some(&j) => Some(j),
        None => js[before..].iter().copied().find(|&j| j > i),
    }
}

/// The rules' mentions while the tagger's names are merged into them, found by sentence
/// and removed by marking, so that merging a name costs a look at its sentence's
/// mentions instead of a pass over (and a shift of) the whole report's.
struct Merged {
    /// Sentence → the rules' mentions in it, in order.
    by_sentence: Vec<Vec<usize>>,
    /// Where the mentions added for the sentence being merged begin (see
    /// [`Merged::begin_sentence`]).
    pushed_from: usize,
    /// Mentions replaced by a tagger's name, dropped by [`Merged::finish`].
    removed: Vec<bool>,
}

impl Merged {
    fn new(rules: &[Mention], sentences: usize) -> Self {
        let mut by_sentence = vec![Vec::new(); sentences];
        for (k, m) in rules.iter().enumerate() {
            if let Some(v) = by_sentence.get_mut(m.sentence) {
                v.push(k);
            }
        }
        Self {
            by_sentence,
            pushed_from: rules.len(),
            removed: vec![false; rules.len()],
        }
    }

    /// The live mentions of sentence `si`, in order: the rules', then those added for it
    /// (up to `len`, the mention count now).
    fn of_sentence(&self, si: usize, len: usize) -> impl Iterator<Item = usize> + '_ {
        let rules = self.by_sentence.get(si).map_or(&[][..], Vec::as_slice);
        rules
            .iter()
            .copied()
            .chain(self.pushed_from..len)
            .filter(|&k| !self.removed.get(k).copied().unwrap_or(false))
    }

    /// Starts on the names of another sentence, `len` mentions in.
    fn begin_sentence(&mut self, len: usize) {
        self.pushed_from = len;
    }

    fn remove(&mut self, k: usize) {
        if self.removed.len() <= k {
            self.removed.resize(k + 1, false);
        }
        self.removed[k] = true;
    }

    /// Drops the removed mentions, keeping the order of the rest.
    fn finish(self, out: &mut Vec<Mention>) {
        let mut k = 0;
        out.retain(|_| {
            let keep = !self.removed.get(k).copied().unwrap_or(false);
            k += 1;
            keep
        });
    }
}

/// A mention only the rules found, and could not type: no gazetteer name, demonym, title,
/// head word or tagger's type stands behind it.
fn untyped(m: &Mention) -> bool {
    m.kind == EntityKind::Other
        && m.gazetteer.is_none()
        && !m.demonym
        && m.weight < MODEL_WEIGHT
        && !m.key.contains(DESCRIBED)
}

/// Drops the one-word mentions nothing types that the report also writes in lower case:
/// "such as Security and military cooperation" beside "security guarantees" capitalises a
/// common word, which names nothing. A word that ends a longer name of the report (a
/// surname: "Long" after "Mr Dara Long") or that is typed elsewhere in it is kept.
fn drop_common_words(mentions: &mut Vec<Mention>, sentences: usize, toks: &SentenceTokens<'_>) {
    let single = |m: &Mention| untyped(m) && !m.surface.contains([' ', '-', '\'', '.']);
    if !mentions.iter().any(single) {
        return;
    }
    let mut lower: HashSet<&str> = HashSet::new();
    for si in 0..sentences {
        lower.extend(
            toks.sentence(si)
                .iter()
                .filter(|t| t.kind == TokenKind::Word && t.text.starts_with(char::is_lowercase))
                .map(|t| t.text),
        );
    }
    let mut kept: HashSet<&str> = HashSet::new();
    for m in mentions
        .iter()
        .filter(|m| !untyped(m) || m.key.contains(' '))
    {
        kept.insert(m.key.as_str());
        kept.extend(m.key.rsplit(' ').next());
    }
    let drop: Vec<bool> = mentions
        .iter()
        .map(|m| {
            single(m)
                && !kept.contains(m.key.as_str())
                && lower.contains(m.surface.to_lowercase().as_str())
        })
        .collect();
    let mut drop = drop.into_iter();
    mentions.retain(|_| !drop.next().unwrap_or(false));
}

/// Titles (as lower-case words) indexed by one of their words.
fn index_titles(
    titles: &[String],
    word: impl Fn(&[String]) -> Option<&String>,
) -> LowerMap<Vec<usize>> {
    let mut index: LowerMap<Vec<usize>> = LowerMap::default();
    for (k, t) in titles.iter().enumerate() {
        let words: Vec<String> = t.split_whitespace().map(str::to_lowercase).collect();
        if let Some(w) = word(&words) {
            index.entry(w.clone()).push(k);
        }
    }
    index
}

impl Gazetteer for EntityRecognizer {
    fn keyer(&self) -> &NameKeyer {
        &self.keyer
    }

    fn gazetteer_name(&self, idx: usize) -> &str {
        &self.gazetteer_names[idx]
    }

    fn gazetteer_kind(&self, idx: usize) -> EntityKind {
        self.gazetteer_kinds[idx]
    }

    /// The country a capital stands for when it acts ("Moscow withdrew" → Russia).
    fn capital_country(&self, idx: usize) -> Option<usize> {
        self.capitals.get(idx).copied().flatten()
    }

    fn country_of(&self, kind: EntityKind, names: &[&str]) -> Option<(String, bool)> {
        self.places
            .get()
            .locate_names(kind, names)
            .map(|l| (l.country, l.is_country))
    }
}

fn skip_dot(toks: &[Token<'_>], i: usize) -> usize {
    if i < toks.len() && toks[i].text == "." {
        i + 1
    } else {
        i
    }
}

/// Counts how often each key occurs, for tests and diagnostics.
pub fn key_counts(mentions: &[Mention]) -> HashMap<&str, usize> {
    let mut m = HashMap::new();
    for x in mentions {
        *m.entry(x.key.as_str()).or_insert(0) += 1;
    }
    m
}

/// Each word's first letter upper case and the rest lower case, a word starting after a
/// space, a hyphen, an apostrophe or a period (`AL-QAMISHLI` → `Al-Qamishli`,
/// `ST. ANDREWS` → `St. Andrews`).
fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut word_start = true;
    for c in s.chars() {
        if word_start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        word_start = !c.is_alphanumeric();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::stages::normalize::test_report;

    /// The written forms of the mention `surface` in `ms`.
    fn written(ms: &[Mention], surface: &str) -> Vec<String> {
        ms.iter()
            .find(|m| m.surface == surface)
            .map(|m| m.written.clone())
            .unwrap_or_else(|| panic!("no {surface} in {ms:#?}"))
    }
    #[test]
    fn capitalised_datelines_are_named_as_a_reader_writes_them() {
        let dateline = |text: &str| {
            mentions(text)
                .into_iter()
                .find(|m| m.start == 0 && m.end == 0)
                .map(|m| m.surface)
        };
        // As the text writes the same place.
        assert_eq!(
            dateline("OSTRAVEL (TW) - Officials in Ostravel said the convoy left.").as_deref(),
            Some("Ostravel")
        );
        // Else in title case.
        assert_eq!(
            dateline("VELGRAD (TW) - The convoy left on Monday.").as_deref(),
            Some("Velgrad")
        );
        assert_eq!(
            dateline("NORTH VELGRAD - The convoy left on Monday.").as_deref(),
            Some("North Velgrad")
        );
        // Else as the gazetteer names it.
        assert_eq!(
            dateline("MOSCOW (TW) - The talks ended on Monday.").as_deref(),
            Some("Moscow")
        );
        // Written normally, it stays as written.
        assert_eq!(
            dateline("Velgrad: The convoy left on Monday.").as_deref(),
            Some("Velgrad")
        );
        assert_eq!(title_case("AL-QAMISHLI"), "Al-Qamishli");
        assert_eq!(title_case("ST. ANDREWS"), "St. Andrews");
        assert_eq!(title_case("O'HARE"), "O'Hare");
    }

    fn mentions(text: &str) -> Vec<Mention> {
        let cfg = Config::embedded().unwrap();
        let r = test_report(&cfg, text);
        EntityRecognizer::new(&cfg.lexicons).recognize(&r)
    }

    #[test]
    fn a_name_keeps_the_title_and_the_dateline_capitals_it_was_written_with() {
        let ms = mentions(
            "Kestrian President Ilsa Varnholt met Foreign Minister Otto Brandt on Monday.\n\
             Later, President Varnholt left for Velgrad.\n",
        );
        let written_in = |surface: &str, sentence: usize| {
            ms.iter()
                .find(|m| m.surface == surface && m.sentence == sentence)
                .unwrap_or_else(|| panic!("no {surface} in {ms:#?}"))
                .written
                .clone()
        };
        assert_eq!(
            written_in("Ilsa Varnholt", 0),
            [
                "Kestrian President Ilsa Varnholt",
                "President Ilsa Varnholt"
            ]
        );
        assert_eq!(
            written_in("Otto Brandt", 0),
            ["Foreign Minister Otto Brandt"]
        );
        assert_eq!(written_in("Varnholt", 1), ["President Varnholt"]);
        let ms = mentions("U.S. Secretary of State Ana Ruiz and Kremlin aide Otto Brandt met.\n");
        assert_eq!(
            written(&ms, "Ana Ruiz"),
            [
                "Secretary of State Ana Ruiz",
                "U.S. Secretary of State Ana Ruiz"
            ]
        );
        assert_eq!(
            written(&ms, "Otto Brandt"),
            ["Kremlin aide Otto Brandt", "aide Otto Brandt"]
        );
        let ms = mentions("Convoy reaches Tamzar\n\nTAMZAR CITY - The convoy arrived on Monday.\n");
        assert_eq!(written(&ms, "Tamzar City"), ["TAMZAR CITY"]);
    }

    #[test]
    fn a_hyphenated_name_is_whole_and_a_hyphenated_adjective_no_name() {
        let ms = mentions(
            "Envoy Pak Jin-ho met the Kestrel-backed council and Brask-made drones were shown.\n",
        );
        let surfaces: Vec<&str> = ms.iter().map(|m| m.surface.as_str()).collect();
        assert!(surfaces.contains(&"Pak Jin-ho"), "{surfaces:?}");
        assert!(
            !surfaces
                .iter()
                .any(|s| s.contains("-backed") || s.contains("-made")),
            "{surfaces:?}"
        );
    }

    #[test]
    fn a_title_keeps_its_modifiers_ranks_and_complement() {
        let ms = mentions(
            "Kestrian special envoy for Norway Maria Lindgren met Col. Maj. Otto Brandt, \
             and former President Ilsa Varnholt spoke with national security adviser \
             Piet Dorn.\n",
        );
        let envoy = written(&ms, "Maria Lindgren");
        assert!(
            envoy.contains(&"Kestrian special envoy for Norway Maria Lindgren".to_string()),
            "{envoy:?}"
        );
        assert!(envoy.contains(&"special envoy for Norway Maria Lindgren".to_string()));
        assert!(written(&ms, "Otto Brandt").contains(&"Col. Maj. Otto Brandt".to_string()));
        assert!(written(&ms, "Otto Brandt").contains(&"Maj. Otto Brandt".to_string()));
        assert!(
            written(&ms, "Ilsa Varnholt").contains(&"former President Ilsa Varnholt".to_string())
        );
        assert!(
            written(&ms, "Piet Dorn").contains(&"national security adviser Piet Dorn".to_string())
        );
        // An adjective that is no title modifier is not part of the title.
        let ms = mentions("Officials met an angry adviser Piet Dorn.\n");
        assert_eq!(written(&ms, "Piet Dorn"), ["adviser Piet Dorn"]);
    }

    #[test]
    fn a_name_keeps_its_article_abbreviation_dot_place_head_and_acronym() {
        let ms = mentions(
            "The Velgrad Council met U.S. envoys in the Kadar region on Monday, \
             near the Line of Control (LoC).\n",
        );
        assert!(written(&ms, "Velgrad Council").contains(&"The Velgrad Council".to_string()));
        assert_eq!(written(&ms, "U.S"), ["U.S."]);
        assert_eq!(
            written(&ms, "Kadar"),
            ["the Kadar", "Kadar region", "the Kadar region"]
        );
        assert!(written(&ms, "Line of Control").contains(&"Line of Control (LoC)".to_string()));
        assert!(written(&ms, "Line of Control").contains(&"the Line of Control (LoC)".to_string()));
        // A name of no known kind takes an organization's head, not a facility's: "Velgrad
        // airport" is a facility of its own.
        let ms = mentions("Aid reached the Gaza Strip on Monday.\n");
        let gaza = ms.iter().find(|m| m.surface == "Gaza").expect("Gaza");
        assert!(
            gaza.written.contains(&"Gaza Strip".to_string()),
            "{:?}",
            gaza.written
        );
        // A description before it: modifiers, and the noun a place is written with.
        let ms = mentions(
            "Ships left the rebel-held port of Velmar for the capital Lisk and the \
             strategic town of Oskar.\n",
        );
        assert!(written(&ms, "port of Velmar").contains(&"the rebel-held port of Velmar".into()));
        assert!(written(&ms, "Lisk").contains(&"the capital Lisk".into()));
        assert!(written(&ms, "Oskar").contains(&"the strategic town of Oskar".into()));
        let ms = mentions("Fighters of the Brask regiment left Velgrad airport.\n");
        let brask = ms.iter().find(|m| m.surface == "Brask").expect("Brask");
        assert!(brask.written.contains(&"the Brask regiment".to_string()));
        assert!(ms
            .iter()
            .any(|m| m.surface == "Velgrad airport" && m.written.is_empty()));
    }

    #[test]
    fn a_country_s_forces_are_one_organization_around_the_country() {
        let ms = mentions(
            "Chilean troops left the base at dawn, Chile's military said.\n\
             The Chilean Armed Forces (CAF) and the Argentine army met the Madrid police.\n",
        );
        let forces: Vec<&Mention> = ms.iter().filter(|m| m.enclosing).collect();
        let keys: Vec<&str> = forces.iter().map(|m| m.key.as_str()).collect();
        let chile = &find(&ms, "Chilean troops").key;
        assert_eq!(
            keys,
            [chile, chile, chile, &find(&ms, "Argentine army").key]
        );
        assert_ne!(chile, &find(&ms, "Argentine army").key);
        assert!(forces.iter().all(|m| m.kind == EntityKind::Organization));
        assert_eq!(find(&ms, "Chile's military").key, *chile);
        assert!(written(&ms, "Chilean Armed Forces").contains(&"Chilean Armed Forces (CAF)".into()));
        assert!(written(&ms, "Argentine army").contains(&"the Argentine army".into()));
        // The country stays, to play the roles; a city has no forces of its own.
        for country in ["Chilean", "Chile", "Argentine"] {
            assert!(ms
                .iter()
                .any(|m| m.surface == country && m.gazetteer.is_some()));
        }
        assert!(!ms
            .iter()
            .any(|m| m.surface.starts_with("Madrid") && m.enclosing));
    }

    #[test]
    fn a_ministry_is_its_country_s_however_written() {
        let ms = mentions(
            "Officials at the Ministry of Defence in Madrid said on Monday that Spain's \
             Defense Ministry had not been told.\n\
             A Defence Ministry spokesman later denied it.\n",
        );
        let key = &find(&ms, "Ministry of Defence").key;
        assert_eq!(&find(&ms, "Spain's Defense Ministry").key, key);
        assert_eq!(&find(&ms, "Defence Ministry").key, key);
        assert!(
            written(&ms, "Ministry of Defence").contains(&"Ministry of Defence in Madrid".into())
        );
    }

    #[test]
    fn a_place_s_name_between_a_title_and_a_surname_is_a_given_name() {
        let ms = mentions("Defence Minister Jordan Kessel flew to Jordan on Monday.\n");
        assert_eq!(find(&ms, "Jordan Kessel").kind, EntityKind::Person);
        let places: Vec<&str> = ms
            .iter()
            .filter(|m| m.kind == EntityKind::Place)
            .map(|m| m.surface.as_str())
            .collect();
        assert_eq!(places, ["Jordan"]);
        assert!(find(&ms, "Jordan").start > find(&ms, "Jordan Kessel").start);
    }

    #[test]
    fn a_plural_title_introduces_two_people_and_names_no_team() {
        let ms = mentions(
            "Prime Ministers Ana Ruiz and Otto Brandt met in Velgrad.\n\
             Reporters Lisk and Marn travelled with them.\n",
        );
        assert_eq!(find(&ms, "Ana Ruiz").kind, EntityKind::Person);
        assert!(written(&ms, "Ana Ruiz").contains(&"Prime Ministers Ana Ruiz".into()));
        assert!(!ms.iter().any(|m| m.surface.contains("Ministers")));
        // A plural title needs a name after it: "reporters Bonn said" names a city.
        let ms = mentions("The talks, reporters Velgrad heard, went on.\n");
        assert!(ms
            .iter()
            .all(|m| m.surface != "Velgrad" || m.kind != EntityKind::Person));
    }

    #[test]
    fn a_description_the_report_gave_one_name_is_that_name() {
        let ms = mentions(
            "Aid from the Harlow relief society reached Varn Front fighters near the \
             Brask Coast Council offices.\n\
             The relief society said the fighters had left, and the council agreed.\n\
             The Marn Council met the Brask Coast Council; the council said nothing.\n\
             The council of Oskar spoke.\n",
        );
        assert!(written(&ms, "Varn Front").contains(&"Varn Front fighters".into()));
        let described = |sentence: usize, surface: &str| {
            ms.iter()
                .find(|m| m.sentence == sentence && m.surface == surface)
                .map(|m| m.key.clone())
        };
        assert_eq!(
            described(1, "The relief society"),
            Some(find(&ms, "Harlow relief society").key.clone())
        );
        assert_eq!(
            described(1, "the fighters"),
            Some(find(&ms, "Varn Front").key.clone())
        );
        assert_eq!(
            described(1, "the council"),
            Some(find(&ms, "Brask Coast Council").key.clone())
        );
        // Two councils fit; "the council of Oskar" is another.
        assert_eq!(described(2, "the council"), None);
        assert!(!ms
            .iter()
            .any(|m| m.sentence == 3 && m.surface.starts_with("The council")));
    }

    #[test]
    fn a_role_given_one_person_by_title_is_that_person() {
        let ms = mentions(
            "Kestrian President Ilsa Varnholt met Velgrad Prime Minister Otto Brandt.\n\
             The Kestrian leader left on Monday, and the prime minister stayed.\n\
             Later the president spoke.\n",
        );
        let role = |surface: &str| {
            ms.iter()
                .find(|m| m.surface == surface)
                .and_then(|m| m.link)
                .map(|l| ms[l].surface.clone())
        };
        assert_eq!(
            role("The Kestrian leader").as_deref(),
            Some("Ilsa Varnholt")
        );
        assert_eq!(role("the prime minister").as_deref(), Some("Otto Brandt"));
        assert_eq!(role("the president").as_deref(), Some("Ilsa Varnholt"));
        // Two people fit "the leader" (a president and a prime minister): no one.
        let ms = mentions(
            "Kestrian President Ilsa Varnholt met Velgrad Prime Minister Otto Brandt.\n\
             The leader left on Monday.\n",
        );
        assert!(!ms.iter().any(|m| m.surface == "The leader"), "{ms:#?}");
        // A vice president is not "the president".
        let ms = mentions(
            "Kestrian Vice President Ilsa Varnholt arrived on Monday.\n\
             The president stayed home.\n",
        );
        assert!(!ms.iter().any(|m| m.surface == "The president"), "{ms:#?}");
    }

    #[test]
    fn a_role_qualified_by_country_is_the_title_holder_of_that_country() {
        let linked = |text: &str, surface: &str| {
            let ms = mentions(text);
            ms.iter()
                .find(|m| m.surface == surface)
                .and_then(|m| m.link)
                .map(|l| ms[l].surface.clone())
        };
        // "French" is written nowhere in the name, but France is in its sentence.
        assert_eq!(
            linked(
                "France will leave Lisk, President Emile Varant announced on Monday.\n\
                 The French president said the troops would go home.\n",
                "The French president"
            )
            .as_deref(),
            Some("Emile Varant")
        );
        // A seat of government stands for its country: the Kremlin is Russia's.
        assert_eq!(
            linked(
                "Russian Presidential Spokesman Ivo Darsky declined to comment.\n\
                 Asked again, the Kremlin spokesman said nothing.\n",
                "the Kremlin spokesman"
            )
            .as_deref(),
            Some("Ivo Darsky")
        );
        // Nothing says whose president he is: no one.
        assert_eq!(
            linked(
                "President Emile Varant arrived in Lisk on Monday.\n\
                 The French president said the troops would go home.\n",
                "The French president"
            ),
            None
        );
    }

    fn find<'a>(ms: &'a [Mention], surface: &str) -> &'a Mention {
        ms.iter()
            .find(|m| m.surface == surface)
            .unwrap_or_else(|| panic!("no {surface} in {ms:#?}"))
    }

    #[test]
    fn titles_make_people_and_heads_make_facilities() {
        let ms = mentions("Mayor Ilsa Varnholt said the convoy left Corvane airport on Monday.");
        assert_eq!(find(&ms, "Ilsa Varnholt").kind, EntityKind::Person);
        let f = find(&ms, "Corvane airport");
        assert_eq!(f.kind, EntityKind::Facility);
        let ms2 = mentions("Crews reached Corvane Airport and the port of Lisk.");
        assert_eq!(find(&ms2, "Corvane Airport").key, f.key);
        assert_eq!(find(&ms2, "port of Lisk").kind, EntityKind::Facility);
    }

    #[test]
    fn described_facilities_are_keyed_by_head_and_dateline() {
        let a = mentions("LISK - Shells struck near the central railway square on Monday.");
        let b = mentions("LISK - Crowds gathered at the railway square on Tuesday.");
        let c = mentions("VELMAR - Crowds gathered at the railway square on Tuesday.");
        let key = |ms: &[Mention], s: &str| find(ms, s).key.clone();
        assert_eq!(
            find(&a, "central railway square").kind,
            EntityKind::Facility
        );
        assert_eq!(key(&a, "central railway square"), key(&b, "railway square"));
        assert_ne!(key(&b, "railway square"), key(&c, "railway square"));
        // A bare head ("the square") is too vague to be a facility.
        let d = mentions("LISK - Crowds gathered in the square.");
        assert!(d.iter().all(|m| m.surface != "square"), "{d:#?}");
    }

    #[test]
    fn demonyms_and_gazetteer() {
        let ms = mentions("Russian forces left Damascus.");
        let r = find(&ms, "Russian");
        assert!(r.demonym);
        assert_eq!(r.kind, EntityKind::Place);
        assert_eq!(
            find(&ms, "Damascus").gazetteer,
            r.gazetteer
                .map(|_| find(&ms, "Damascus").gazetteer.unwrap())
        );
    }

    #[test]
    fn a_place_right_before_an_organization_s_name_is_part_of_it() {
        let ms =
            mentions("The Madrid High Court ruled before the Rome Airways flight left Berlin.\n");
        for org in ["Madrid High Court", "Rome Airways"] {
            assert_eq!(find(&ms, org).kind, EntityKind::Organization);
        }
        assert_eq!(find(&ms, "Berlin").kind, EntityKind::Place);
        assert!(!ms
            .iter()
            .any(|m| m.surface == "Madrid" || m.surface == "Rome"));
    }

    #[test]
    fn acronym_and_surname_link_to_full_name() {
        let ms = mentions(
            "The Northern Delta Alliance (NDA) met Col. Edvard Moll. Later Moll said the NDA would wait.",
        );
        let full = ms
            .iter()
            .position(|m| m.surface == "Northern Delta Alliance")
            .unwrap();
        let acr: Vec<_> = ms.iter().filter(|m| m.surface == "NDA").collect();
        assert!(acr.iter().all(|m| m.link == Some(full)), "{ms:#?}");
        let person = ms.iter().position(|m| m.surface == "Edvard Moll").unwrap();
        assert_eq!(find(&ms, "Moll").link, Some(person));
    }

    #[test]
    fn sentence_openers_need_confirmation() {
        let ms = mentions("Attention turned to the port. Velmar officials spoke in Velmar.");
        assert!(ms.iter().all(|m| m.surface != "Attention"), "{ms:#?}");
        assert!(ms.iter().any(|m| m.surface == "Velmar"));
    }

    #[test]
    fn tagger_types_what_the_rules_leave_untyped() {
        let text = "Shares of Varnholt Holdings rose 5 percent on Monday, said Ilsa Brandvik, \
                    an analyst at Kestrel Securities.";
        let ms = mentions(text);
        assert_eq!(find(&ms, "Ilsa Brandvik").kind, EntityKind::Person);
        assert_eq!(
            find(&ms, "Kestrel Securities").kind,
            EntityKind::Organization
        );
        // The tagger's words replace the rules' longer, untyped span.
        assert_eq!(
            find(&ms, "Varnholt Holdings").kind,
            EntityKind::Organization
        );
        let cfg = Config::embedded().unwrap();
        let r = test_report(&cfg, text);
        let rules = EntityRecognizer::rules_only(&cfg.lexicons).recognize(&r);
        assert_eq!(find(&rules, "Ilsa Brandvik").kind, EntityKind::Other);
    }

    #[test]
    fn an_unsure_tagger_leaves_the_rules_their_reading() {
        // An unknown two-word name after "deployed to": the tagger leans to a person but is
        // not sure, and the preposition says place.
        let ms =
            mentions("Troops had been deployed to Harrow Crest near the border, officials said.");
        assert_eq!(find(&ms, "Harrow Crest").kind, EntityKind::Place);
    }

    #[test]
    fn headline_names_come_from_the_body() {
        let ms = mentions(
            "Varn-Lisk Heads To Talks\n\nVELGRAD - Gen. Otto Varn-Lisk arrived on Monday.",
        );
        let t: Vec<_> = ms
            .iter()
            .filter(|m| m.sentence == 0)
            .map(|m| m.surface.as_str())
            .collect();
        assert_eq!(t, ["Varn-Lisk"]);
        assert!(ms
            .iter()
            .any(|m| m.surface == "Velgrad" && m.kind == EntityKind::Place));
        assert_eq!(key_counts(&ms).get("vrn lsk").copied(), Some(1));
    }

    #[test]
    fn the_antecedent_is_the_nearest_earlier_else_the_first_later() {
        let js = [1, 4, 6, 9];
        assert_eq!(nearest(&js, 5), Some(4));
        assert_eq!(
            nearest(&js, 6),
            Some(4),
            "a mention is not its own antecedent"
        );
        assert_eq!(nearest(&js, 0), Some(1));
        assert_eq!(nearest(&js, 1), Some(4));
        assert_eq!(nearest(&[3], 3), None);
        assert_eq!(nearest(&[], 3), None);
    }

    #[test]
    fn merging_looks_at_the_sentence_and_drops_what_was_replaced() {
        let mention = |sentence: usize, surface: &str| Mention {
            sentence,
            start: 0,
            end: surface.len(),
            surface: surface.into(),
            kind: EntityKind::Other,
            weight: 1,
            key: surface.to_lowercase(),
            gazetteer: None,
            demonym: false,
            link: None,
            written: Vec::new(),
            enclosing: false,
        };
        let mut out = vec![mention(0, "A"), mention(1, "B"), mention(0, "C")];
        let mut merged = Merged::new(&out, 2);
        assert_eq!(merged.of_sentence(0, out.len()).collect::<Vec<_>>(), [0, 2]);
        // Merging sentence 1: what it adds counts as its own, what it replaces is gone.
        merged.begin_sentence(out.len());
        out.push(mention(1, "D"));
        merged.remove(1);
        assert_eq!(merged.of_sentence(1, out.len()).collect::<Vec<_>>(), [3]);
        out.push(mention(1, "E"));
        merged.remove(3);
        assert_eq!(merged.of_sentence(1, out.len()).collect::<Vec<_>>(), [4]);
        merged.finish(&mut out);
        let left: Vec<&str> = out.iter().map(|m| m.surface.as_str()).collect();
        assert_eq!(left, ["A", "C", "E"]);
    }

    #[test]
    fn a_compound_of_known_names_is_no_name_of_its_own() {
        let ms = mentions("Officials said the Turkey-Russia talks on the corridor resumed.");
        assert!(ms.iter().all(|m| m.surface != "Turkey-Russia"), "{ms:#?}");
        assert!(find(&ms, "Turkey").gazetteer.is_some());
        assert!(find(&ms, "Russia").gazetteer.is_some());
        // A part the gazetteer does not know keeps the compound a name.
        let ms = mentions("Officials said the Turkey-Velmar talks on the corridor resumed.");
        assert!(ms.iter().any(|m| m.surface == "Turkey-Velmar"), "{ms:#?}");
    }

    #[test]
    fn a_capitalised_article_mid_sentence_belongs_to_the_name() {
        let ms = mentions("Two officials told The Courier that the convoy had left.");
        let m = find(&ms, "The Courier");
        assert_eq!(m.kind, EntityKind::Organization, "{ms:#?}");
        assert_eq!(
            m.key,
            find(&mentions("The Courier said so."), "Courier").key
        );
        assert!(ms.iter().all(|m| m.surface != "Courier"), "{ms:#?}");
        // Opening the sentence, it is only an article.
        let ms = mentions("The Courier reported that the convoy had left.");
        assert!(ms.iter().any(|m| m.surface == "Courier"), "{ms:#?}");
    }

    #[test]
    fn a_described_facility_in_a_named_place_is_that_place_s() {
        let key = |text: &str, surface: &str| find(&mentions(text), surface).key.clone();
        let bare = key(
            "LISK - Crews left the naval facility in Velmar on Monday.",
            "naval facility in Velmar",
        );
        assert_eq!(
            bare,
            key(
                "LISK - Crews left the Velmar naval facility on Monday.",
                "Velmar naval facility"
            )
        );
        // A modifier keeps it apart from the place's other hospitals, in any dateline.
        let main = key(
            "LISK - Shells hit the main hospital in Velmar on Monday.",
            "main hospital in Velmar",
        );
        assert_eq!(
            main,
            key(
                "ORAVEN - Shells hit the main hospital in Velmar on Monday.",
                "main hospital in Velmar"
            )
        );
        assert_ne!(
            main,
            key(
                "LISK - Shells hit the military hospital in Velmar on Monday.",
                "military hospital in Velmar"
            )
        );
        // Without a place it stays a description of the dateline's facility.
        let ms = mentions("LISK - Crews left the naval facility on Monday.");
        assert_eq!(find(&ms, "naval facility").kind, EntityKind::Facility);
        // A bare head is the town's facility when the town follows, even after "its".
        assert_eq!(
            key(
                "The army handed over its base at Velmar on Monday.",
                "base at Velmar"
            ),
            key(
                "The army handed over the Velmar base on Monday.",
                "Velmar base"
            )
        );
        // Not a country's: it has many bases.
        let ms = mentions("The army handed over its base in France on Monday.");
        assert!(!ms.iter().any(|m| m.surface == "base in France"), "{ms:#?}");
    }

    #[test]
    fn a_capitalised_adjective_before_a_noun_is_no_entity() {
        let ms = mentions(
            "In Velmar, Kurdish authorities met envoys, urging European and regional \
             partners to help. Neither Islamist fighters nor Western powers were invited.",
        );
        for adjective in ["Kurdish", "European", "Islamist", "Western"] {
            assert!(
                ms.iter().all(|m| m.surface != adjective),
                "{adjective}: {ms:#?}"
            );
        }
        assert!(ms.iter().any(|m| m.surface == "Velmar"), "{ms:#?}");
        // A demonym the gazetteer knows still stands for its country.
        let ms = mentions("Officials said Russian troops left the town on Monday.");
        let r = find(&ms, "Russian");
        assert!(r.demonym && r.gazetteer.is_some(), "{ms:#?}");
    }

    #[test]
    fn a_capitalised_common_word_the_report_writes_in_lower_case_is_no_name() {
        let text = "Envoys in Velmar discussed Reconstruction and trade. \
                    The reconstruction of the port will take years, Mr Dara Long said. \
                    It was a long day, Long added.";
        let ms = mentions(text);
        assert!(ms.iter().all(|m| m.surface != "Reconstruction"), "{ms:#?}");
        // A surname that is also a common word stays a name.
        assert!(ms.iter().any(|m| m.surface == "Long"), "{ms:#?}");
        // Written only capitalised, the word may be a name.
        let ms = mentions("Envoys in Velmar discussed Reconstruction and trade.");
        assert!(ms.iter().any(|m| m.surface == "Reconstruction"), "{ms:#?}");
    }

    #[test]
    fn a_section_heading_names_only_what_the_body_names() {
        let text = "Envoys Meet in Velgrad\n\nVELGRAD - Envoys met on Monday.\n\n\
                    Military Realignment in the Hills of Velgrad\n\n\
                    Troops left the hills near Velgrad, officials said.";
        let ms = mentions(text);
        let heading = ms
            .iter()
            .find(|m| m.surface == "Military Realignment")
            .map_or(usize::MAX, |m| m.sentence);
        assert_eq!(heading, usize::MAX, "{ms:#?}");
        let in_heading: Vec<&str> = ms
            .iter()
            .filter(|m| m.sentence == 2)
            .map(|m| m.surface.as_str())
            .collect();
        assert_eq!(in_heading, ["Velgrad"], "{ms:#?}");
    }
}
