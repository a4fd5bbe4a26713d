//! Dedup: exact re-sends, untouched files, revisions and near duplicates.
//!
//! A report's id is the fingerprint of its normalized body (see `normalize`), so a file
//! re-sent under another name, with other line endings, quotes or a BOM, has the same
//! fingerprint. Dedup also remembers what each path last held: a file touched without a
//! change in content is not news at all, and a file whose content changed is a revision
//! of the report it held before (only its new sentences count). In the daemon, a text
//! that stops mid-sentence has a fingerprint of its own (see
//! `Normalizer::holding_unfinished`), so that its completion is a revision: a copy of a
//! report taken before that lacks both the stop and the line break at its end is taken as
//! a report of its own, its last sentence held back. The exact indexes are [`DashMap`]s so
//! that readers can ask "have we seen this?" while the dedup stage inserts.
//!
//! A report new by its fingerprint may still repeat an earlier one: the same story with a
//! new headline, a few words edited, a paragraph trimmed or added, or retold by another
//! outlet. The near-duplicate index ([`NearIndex`]) finds such an earlier report from the
//! report's sketch (`similarity`): through the text bands among every report it keeps,
//! through the content bands among the latest ones published within a few days. A
//! candidate is a near duplicate when enough of the two reports' sentences match in order
//! (`dedup.near_threshold`); the verdict names it, with the similarity and the sentences
//! that repeat it, which then count for nothing. Both bands index only the latest
//! `dedup.retain_reports` reports (the rewrite bands the latest `dedup.rewrite_reports`),
//! so memory and lookup time stay flat however long the daemon runs.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use foldhash::HashMap;
use serde::{Deserialize, Serialize};

use crate::config::DedupConfig;
use crate::report::{file_label, Report};
use crate::stages::similarity::{
    content_similarity, SentenceSketches, Sketch, CONTENT_BANDS, CONTENT_HASHES, TEXT_BANDS,
};

/// What dedup decided about a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// First time this body is seen; `revises` names the report the same path held before,
    /// `near` the earlier report it repeats, if any.
    New {
        revises: Option<String>,
        near: Option<Near>,
    },
    /// The same path with the same body as when it was last read (a touch, a copy over
    /// itself): nothing to say.
    Unchanged,
    /// Same normalized body as an earlier report.
    Duplicate { of_id: String, of_file: String },
}

/// An earlier report that a new one repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Near {
    /// The earlier report's id and file name.
    pub of: String,
    pub of_file: String,
    /// The share of the longer report's sentences that match the other's in order, to three
    /// decimals.
    pub similarity: f64,
    /// The new report's sentences that repeat one of the earlier report's: their claims
    /// count for nothing.
    pub repeated: Vec<usize>,
}

/// The first report seen with a fingerprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Original {
    id: String,
    file: String,
}

/// Exact and near-duplicate detector. Cheap to clone; clones share the indexes.
#[derive(Debug, Clone)]
pub struct Dedup {
    /// Keyed by the 128-bit fingerprint: at a few million reports the chance of a false
    /// match is still negligible, and a key is 16 bytes.
    seen: Arc<DashMap<u128, Original>>,
    /// Path → (fingerprint, report id) of what the path held when last read.
    by_path: Arc<DashMap<PathBuf, (u128, String)>>,
    /// Near duplicates. One thread checks and inserts (the dedup stage, or the writer for
    /// the committed copy): the lock is never contended.
    near: Arc<Mutex<NearIndex>>,
}

impl Default for Dedup {
    fn default() -> Self {
        Self::new(&DedupConfig::default())
    }
}

/// The persistence form of [`Dedup`], for the journal's snapshots.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DedupImage {
    seen: Vec<(String, Original)>,
    by_path: Vec<(crate::journal::PathRepr, String, String)>,
    /// The near-duplicate index, oldest entry first.
    #[serde(default)]
    near: Vec<EntryImage>,
}

impl Dedup {
    pub fn new(settings: &DedupConfig) -> Self {
        Self {
            seen: Arc::default(),
            by_path: Arc::default(),
            near: Arc::new(Mutex::new(NearIndex::new(settings))),
        }
    }

    fn index(&self) -> std::sync::MutexGuard<'_, NearIndex> {
        // Every change to the index leaves it whole: a panic elsewhere cannot leave it
        // half-done.
        self.near.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the report if it is new; otherwise names the original. `sketch` is called
    /// only for a report new by its fingerprint, which the near-duplicate index then looks
    /// up (unless it revises what its path held, which says what it repeats already) and
    /// keeps.
    pub fn check(
        &self,
        report: &Report,
        sketch: impl FnOnce() -> Sketch,
    ) -> (Verdict, Option<Arc<Sketch>>) {
        let before = self
            .by_path
            .insert(report.path.clone(), (report.fingerprint, report.id.clone()));
        match before {
            Some((fp, _)) if fp == report.fingerprint => return (Verdict::Unchanged, None),
            _ => {}
        }
        match self.seen.entry(report.fingerprint) {
            Entry::Occupied(o) => (
                Verdict::Duplicate {
                    of_id: o.get().id.clone(),
                    of_file: o.get().file.clone(),
                },
                None,
            ),
            Entry::Vacant(v) => {
                v.insert(Original {
                    id: report.id.clone(),
                    file: report.file_name(),
                });
                let revises = before.map(|(_, id)| id);
                let sketch = Arc::new(sketch());
                let published = report.published_at.unix_timestamp();
                let mut index = self.index();
                let near = if revises.is_none() {
                    index.find(&sketch, published)
                } else {
                    None
                };
                index.insert(&report.id, &report.file_name(), published, &sketch);
                (Verdict::New { revises, near }, Some(sketch))
            }
        }
    }

    /// Replays a journaled outcome: `path` held the body `fingerprint` (report `id`), and
    /// when `accepted`, that body is the original of its fingerprint; `sketch` (with the
    /// publication time, Unix seconds) goes into the near-duplicate index.
    pub fn restore(
        &self,
        path: &Path,
        fingerprint: u128,
        id: &str,
        accepted: bool,
        sketch: Option<(&Sketch, i64)>,
    ) {
        self.by_path
            .insert(path.to_path_buf(), (fingerprint, id.to_string()));
        if accepted {
            let file = file_label(path);
            let new = match self.seen.entry(fingerprint) {
                Entry::Occupied(_) => false,
                Entry::Vacant(v) => {
                    v.insert(Original {
                        id: id.to_string(),
                        file: file.clone(),
                    });
                    true
                }
            };
            if let (true, Some((sketch, published))) = (new, sketch) {
                self.index().insert(id, &file, published, sketch);
            }
        }
    }

    pub fn image(&self) -> DedupImage {
        let mut seen: Vec<_> = self
            .seen
            .iter()
            .map(|e| (format!("{:032x}", e.key()), e.value().clone()))
            .collect();
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        let mut by_path: Vec<_> = self
            .by_path
            .iter()
            .map(|e| {
                (
                    crate::journal::PathRepr::from(e.key().as_path()),
                    format!("{:032x}", e.value().0),
                    e.value().1.clone(),
                )
            })
            .collect();
        by_path.sort_by(|a, b| a.0.cmp(&b.0));
        DedupImage {
            seen,
            by_path,
            near: self.index().image(),
        }
    }

    pub fn from_image(image: DedupImage, settings: &DedupConfig) -> Self {
        let d = Dedup::new(settings);
        for (fp, o) in image.seen {
            if let Ok(fp) = u128::from_str_radix(&fp, 16) {
                d.seen.insert(fp, o);
            }
        }
        for (path, fp, id) in image.by_path {
            if let Ok(fp) = u128::from_str_radix(&fp, 16) {
                d.by_path.insert(path.into(), (fp, id));
            }
        }
        {
            let mut index = d.index();
            for e in image.near {
                index.restore(e);
            }
        }
        d
    }

    /// An independent copy of the indexes, whose near-duplicate entries share their
    /// sentence sketches with these (a restart builds the daemon's live and committed
    /// indexes from one snapshot).
    pub fn fork(&self) -> Self {
        Self {
            seen: Arc::new((*self.seen).clone()),
            by_path: Arc::new((*self.by_path).clone()),
            near: Arc::new(Mutex::new(self.index().clone())),
        }
    }

    /// Number of distinct reports seen.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Reports in the near-duplicate index, and the bytes it holds (entries and lookup
    /// tables, as allocated).
    pub fn near_index_size(&self) -> (usize, usize) {
        let index = self.index();
        (index.entries.len(), index.heap_bytes())
    }
}

/// A report the near-duplicate index keeps.
#[derive(Debug, Clone)]
struct IndexEntry {
    /// The first 64 bits of the report's fingerprint (its id, as a number).
    id: u64,
    file: Box<str>,
    /// Publication time, Unix seconds.
    published: i64,
    text: Option<Bands<TEXT_BANDS>>,
    sentences: SentenceSketches,
    /// Dropped once the entry is older than the latest `rewrite_reports`.
    content: Option<Box<ContentPart>>,
}

#[derive(Debug, Clone)]
struct ContentPart {
    bands: Bands<CONTENT_BANDS>,
    values: [u8; CONTENT_HASHES],
}

/// An entry's band keys, and for each the distance back to the previous entry with the
/// same key (0 for none): the index's buckets are lists threaded through the entries, so
/// a bucket costs one table slot whatever its length.
#[derive(Debug, Clone)]
struct Bands<const N: usize> {
    keys: [u32; N],
    back: [u32; N],
}

/// The near-duplicate index: the latest reports' sketches, oldest first, and two tables from
/// band key to the newest entry with that key.
#[derive(Debug, Clone)]
pub struct NearIndex {
    entries: VecDeque<IndexEntry>,
    /// The serial number of `entries[0]`; entries are numbered in insertion order.
    first: u64,
    /// Entries from this serial on still have their content part.
    content_first: u64,
    /// Band key → the low 32 bits of the newest entry's serial with that key (see
    /// [`NearIndex::serial`]): half the bytes of a whole serial, for tables that hold a dozen
    /// keys and more per report.
    text: HashMap<u32, u32>,
    content: HashMap<u32, u32>,
    near_threshold: f32,
    sentence_threshold: f32,
    sentence_offset: f32,
    content_threshold: f32,
    retain: usize,
    rewrite: usize,
    rewrite_secs: i64,
}

/// At most this many entries are followed down one bucket: a bucket that long holds copies
/// of one report, and the newest of them repeat it as well as the older ones.
const BUCKET_WALK: usize = 32;

/// The same for a content bucket.
const CONTENT_BUCKET_WALK: usize = 8;

/// Reports found through the content bands that are compared sentence by sentence, the
/// most alike first.
const REWRITE_CANDIDATES: usize = 8;

impl NearIndex {
    fn new(s: &DedupConfig) -> Self {
        Self {
            entries: VecDeque::new(),
            first: 0,
            content_first: 0,
            text: HashMap::default(),
            content: HashMap::default(),
            near_threshold: s.near_threshold,
            sentence_threshold: s.sentence_threshold,
            sentence_offset: s.sentence_offset,
            content_threshold: s.content_threshold,
            retain: s.retain_reports.clamp(1, u32::MAX as usize - 1),
            rewrite: s.rewrite_reports.min(s.retain_reports),
            rewrite_secs: i64::from(s.rewrite_days) * 86_400,
        }
    }

    fn next_serial(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    /// The whole serial of a table value: the entry that many serials back from the next
    /// one. Exact while the index keeps fewer than 2^32 entries, which `retain` ensures.
    fn serial(&self, low: u32) -> u64 {
        let next = self.next_serial();
        next - u64::from((next as u32).wrapping_sub(low))
    }

    fn get(&self, serial: u64) -> Option<&IndexEntry> {
        self.entries
            .get(usize::try_from(serial.checked_sub(self.first)?).ok()?)
    }

    /// The entries of one bucket, newest first, down to `floor`.
    fn bucket<const N: usize>(
        &self,
        head: Option<u64>,
        band: usize,
        floor: u64,
        part: impl Fn(&IndexEntry) -> Option<&Bands<N>>,
        out: &mut Vec<u64>,
    ) {
        let mut at = head;
        // Content buckets hold reports on one subject as well as rewrites: the newest few
        // are enough, as a rewrite follows its original closely.
        let walk = if N == TEXT_BANDS {
            BUCKET_WALK
        } else {
            CONTENT_BUCKET_WALK
        };
        for _ in 0..walk {
            let Some(serial) = at.filter(|s| *s >= floor) else {
                return;
            };
            out.push(serial);
            let back = self.get(serial).and_then(&part).map_or(0, |b| b.back[band]);
            at = (back > 0).then(|| serial - u64::from(back));
        }
    }

    /// The earlier report this sketch repeats, if any: the candidate with the highest
    /// similarity at or above the threshold (the older one when two are as similar).
    fn find(&self, sketch: &Sketch, published: i64) -> Option<Near> {
        let mut candidates = Vec::new();
        if let Some(keys) = &sketch.text_bands {
            for (b, k) in keys.iter().enumerate() {
                self.bucket(
                    self.text.get(k).map(|s| self.serial(*s)),
                    b,
                    self.first,
                    |e| e.text.as_ref(),
                    &mut candidates,
                );
            }
        }
        if let (Some(keys), Some(values)) = (&sketch.content_bands, &sketch.content) {
            let mut found = Vec::new();
            let floor = self.content_first.max(self.first);
            for (b, k) in keys.iter().enumerate() {
                self.bucket(
                    self.content.get(k).map(|s| self.serial(*s)),
                    b,
                    floor,
                    |e| e.content.as_ref().map(|c| &c.bands),
                    &mut found,
                );
            }
            found.sort_unstable();
            found.dedup();
            let mut alike: Vec<(f32, u64)> = found
                .into_iter()
                .filter_map(|s| {
                    let e = self.get(s)?;
                    let c = e.content.as_ref()?;
                    let similarity = content_similarity(values, &c.values);
                    ((e.published - published).abs() <= self.rewrite_secs
                        && similarity >= self.content_threshold)
                        .then_some((similarity, s))
                })
                .collect();
            // A rewrite shares more of its words with its original than other reports do:
            // the few most alike are compared, however many reports share a subject.
            alike.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
            candidates.extend(alike.into_iter().take(REWRITE_CANDIDATES).map(|(_, s)| s));
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(f32, u64)> = None;
        for serial in candidates {
            let Some(e) = self.get(serial) else { continue };
            let floor = best.map_or(self.near_threshold, |b| b.0);
            let similarity = sketch.similarity(
                &e.sentences,
                self.sentence_threshold,
                self.sentence_offset,
                floor,
            );
            if similarity >= self.near_threshold && best.is_none_or(|b| similarity > b.0) {
                best = Some((similarity, serial));
            }
        }
        let (similarity, serial) = best?;
        let e = self.get(serial)?;
        Some(Near {
            of: format!("{:016x}", e.id),
            of_file: e.file.to_string(),
            similarity: (f64::from(similarity) * 1000.0).round() / 1000.0,
            repeated: sketch.repeated(&e.sentences, self.sentence_threshold),
        })
    }

    /// Keeps a report's sketch, dropping the oldest entry past `retain` and the oldest
    /// content part past `rewrite`.
    fn insert(&mut self, id: &str, file: &str, published: i64, sketch: &Sketch) {
        let serial = self.next_serial();
        // The previous head of a bucket is a kept entry: fewer than 2^32 serials back.
        let link = |table: &mut HashMap<u32, u32>, k: u32| -> u32 {
            table
                .insert(k, serial as u32)
                .map_or(0, |prev| (serial as u32).wrapping_sub(prev))
        };
        let text = sketch.text_bands.map(|keys| {
            let mut back = [0u32; TEXT_BANDS];
            for (b, k) in keys.iter().enumerate() {
                back[b] = link(&mut self.text, *k);
            }
            Bands { keys, back }
        });
        let content = match (self.rewrite, sketch.content_bands, &sketch.content) {
            (1.., Some(keys), Some(values)) => {
                let mut back = [0u32; CONTENT_BANDS];
                for (b, k) in keys.iter().enumerate() {
                    back[b] = link(&mut self.content, *k);
                }
                Some(Box::new(ContentPart {
                    bands: Bands { keys, back },
                    values: **values,
                }))
            }
            _ => None,
        };
        self.entries.push_back(IndexEntry {
            id: u64::from_str_radix(id, 16).unwrap_or(0),
            file: file.into(),
            published,
            text,
            sentences: sketch.sentences.clone(),
            content,
        });
        while self.entries.len() > self.retain {
            self.evict_oldest();
        }
        let newest = self.next_serial();
        while newest - self.content_first.max(self.first) > self.rewrite as u64 {
            self.drop_content(self.content_first.max(self.first));
        }
    }

    /// Forgets the bucket heads that still point at `serial` (buckets are threaded from
    /// newest to oldest, so an entry leaving is the tail of the others).
    fn unlink<const N: usize>(table: &mut HashMap<u32, u32>, bands: &Bands<N>, serial: u64) {
        for k in &bands.keys {
            if table.get(k) == Some(&(serial as u32)) {
                table.remove(k);
            }
        }
    }

    fn drop_content(&mut self, serial: u64) {
        if let Some(i) = serial
            .checked_sub(self.first)
            .and_then(|i| usize::try_from(i).ok())
        {
            if let Some(c) = self.entries.get_mut(i).and_then(|e| e.content.take()) {
                Self::unlink(&mut self.content, &c.bands, serial);
            }
        }
        self.content_first = serial + 1;
    }

    fn evict_oldest(&mut self) {
        let serial = self.first;
        if let Some(e) = self.entries.pop_front() {
            if let Some(t) = &e.text {
                Self::unlink(&mut self.text, t, serial);
            }
            if let Some(c) = &e.content {
                Self::unlink(&mut self.content, &c.bands, serial);
            }
            self.first += 1;
        }
    }

    /// Bytes the index holds on the heap: entries, their sketches and the two tables.
    fn heap_bytes(&self) -> usize {
        // A table's slots, from its capacity (seven eighths of the slots, a power of two,
        // from eight on), each a key, a value and a control byte.
        let table = |t: &HashMap<u32, u32>| {
            let slots = match t.capacity() {
                0 => 0,
                c if c < 8 => (c + 1).next_power_of_two(),
                c => (c * 8 / 7).next_power_of_two(),
            };
            slots * (std::mem::size_of::<(u32, u32)>() + 1)
        };
        self.entries.capacity() * std::mem::size_of::<IndexEntry>()
            + self
                .entries
                .iter()
                .map(|e| {
                    e.file.len()
                        + e.sentences.heap_bytes()
                        + e.content
                            .as_ref()
                            .map_or(0, |_| std::mem::size_of::<ContentPart>())
                })
                .sum::<usize>()
            + table(&self.text)
            + table(&self.content)
    }

    fn image(&self) -> Vec<EntryImage> {
        self.entries
            .iter()
            .map(|e| {
                let mut bytes = Vec::new();
                if let Some(c) = &e.content {
                    for k in c.bands.keys {
                        bytes.extend_from_slice(&k.to_le_bytes());
                    }
                    bytes.extend_from_slice(&c.values);
                }
                let words: Vec<u8> = e
                    .sentences
                    .to_words()
                    .iter()
                    .flat_map(|w| w.to_le_bytes())
                    .collect();
                EntryImage {
                    id: format!("{:016x}", e.id),
                    file: e.file.to_string(),
                    published: e.published,
                    text: e.text.as_ref().map(|t| {
                        BASE64.encode(
                            t.keys
                                .iter()
                                .flat_map(|k| k.to_le_bytes())
                                .collect::<Vec<u8>>(),
                        )
                    }),
                    content: (!bytes.is_empty()).then(|| BASE64.encode(&bytes)),
                    sentences: BASE64.encode(words),
                }
            })
            .collect()
    }

    /// Re-inserts an entry from a snapshot; one that does not decode is left out (the
    /// index only ever finds less).
    fn restore(&mut self, image: EntryImage) {
        if let Some(sketch) = image.sketch() {
            self.insert(&image.id, &image.file, image.published, &sketch);
        }
    }
}

/// One entry of the near-duplicate index in a snapshot: the band keys, content values and
/// sentence sketches as base64 of their little-endian bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntryImage {
    id: String,
    file: String,
    published: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    sentences: String,
}

impl EntryImage {
    fn sketch(&self) -> Option<Sketch> {
        fn keys<const N: usize>(bytes: &[u8]) -> Option<[u32; N]> {
            let mut out = [0u32; N];
            for (k, chunk) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *k = u32::from_le_bytes(chunk.try_into().ok()?);
            }
            (bytes.len() >= 4 * N).then_some(out)
        }
        let text_bands = match &self.text {
            Some(t) => Some(keys::<TEXT_BANDS>(&BASE64.decode(t).ok()?)?),
            None => None,
        };
        let (content_bands, content) = match &self.content {
            Some(c) => {
                let bytes = BASE64.decode(c).ok()?;
                let bands = keys::<CONTENT_BANDS>(&bytes)?;
                let values: [u8; CONTENT_HASHES] =
                    bytes.get(4 * CONTENT_BANDS..)?.try_into().ok()?;
                (Some(bands), Some(Box::new(values)))
            }
            None => (None, None),
        };
        let bytes = BASE64.decode(&self.sentences).ok()?;
        let words: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Some(Sketch {
            text_bands,
            content_bands,
            content,
            sentences: SentenceSketches::from_words(&words)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::report::RawReport;
    use crate::stages::normalize::Normalizer;
    use crate::stages::similarity::Sketcher;
    use std::path::PathBuf;

    fn cfg() -> Config {
        Config::embedded().expect("embedded settings")
    }

    fn report(name: &str, text: &str) -> Report {
        let n = Normalizer::new(&cfg().lexicons.names);
        n.normalize(&RawReport {
            path: PathBuf::from(name),
            bytes: text.as_bytes().to_vec(),
            modified: None,
            received_at: time::OffsetDateTime::UNIX_EPOCH,
        })
        .unwrap()
    }

    fn check(d: &Dedup, r: &Report) -> Verdict {
        let s = Sketcher::new(&cfg().lexicons);
        d.check(r, || s.sketch(r)).0
    }

    use crate::stages::similarity::tests::STORY;

    const OTHER: &str = "Flood waters recede in Tamzar\n\nTAMZAR - Water levels on the Orvin \
        river fell overnight and the first families returned to the lower town, the mayor \
        said. Engineers will inspect the three bridges before they reopen to traffic. Relief \
        kitchens handed out four thousand meals on Wednesday.\n";

    fn new() -> Verdict {
        Verdict::New {
            revises: None,
            near: None,
        }
    }

    #[test]
    fn dedup_same_body_renamed_file_is_duplicate() {
        let d = Dedup::default();
        let a = report("a.txt", "Talks ended.\nAll went home.");
        let b = report("b.txt", "Talks ended.\r\nAll  went home.\r\n");
        assert_eq!(check(&d, &a), new());
        assert_eq!(
            check(&d, &b),
            Verdict::Duplicate {
                of_id: a.id.clone(),
                of_file: "a.txt".into()
            }
        );
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn dedup_different_body_is_new() {
        let d = Dedup::default();
        assert_eq!(check(&d, &report("a.txt", "Talks ended.")), new());
        assert_eq!(check(&d, &report("b.txt", "Talks began.")), new());
    }

    #[test]
    fn dedup_same_path_same_body_is_unchanged_new_body_is_a_revision() {
        let d = Dedup::default();
        let a = report("a.txt", STORY);
        assert_eq!(check(&d, &a), new());
        assert_eq!(
            check(&d, &report("a.txt", &format!("{STORY}\n"))),
            Verdict::Unchanged
        );
        // A revision repeats what its path held; it is not also called a near duplicate.
        assert_eq!(
            check(&d, &report("a.txt", &STORY.replace("eleven", "twelve"))),
            Verdict::New {
                revises: Some(a.id.clone()),
                near: None,
            }
        );
    }

    #[test]
    fn a_new_headline_and_an_edit_make_a_near_duplicate() {
        let d = Dedup::default();
        let a = report("a.txt", STORY);
        assert_eq!(check(&d, &a), new());
        assert_eq!(check(&d, &report("b.txt", OTHER)), new());
        let copy = STORY
            .replace("Harbour talks resume", "UPDATE Harbour talks resume")
            .replace("a week after", "one week after");
        let b = report("c.txt", &copy);
        let Verdict::New {
            revises: None,
            near: Some(near),
        } = check(&d, &b)
        else {
            panic!("not a near duplicate");
        };
        assert_eq!(near.of, a.id);
        assert_eq!(near.of_file, "a.txt");
        assert_eq!(near.similarity, 1.0);
        // Every sentence of the copy repeats one of the original.
        assert_eq!(near.repeated.len(), b.sentences.len());
    }

    #[test]
    fn an_added_paragraph_is_not_repeated() {
        let d = Dedup::default();
        let a = report("a.txt", STORY);
        check(&d, &a);
        let longer = format!(
            "{STORY}\nCoast guard cutters escorted the first trawlers back out to sea on \
             Wednesday evening after the harbour master lifted the ban.\n"
        );
        let b = report("b.txt", &longer);
        let Verdict::New {
            near: Some(near), ..
        } = check(&d, &b)
        else {
            panic!("not a near duplicate");
        };
        let last = b.sentences.len() - 1;
        assert!(!near.repeated.contains(&last), "{:?}", near.repeated);
        assert_eq!(near.repeated.len(), last);
    }

    #[test]
    fn the_index_keeps_only_the_latest_reports() {
        let settings = DedupConfig {
            retain_reports: 2,
            rewrite_reports: 1,
            ..DedupConfig::default()
        };
        let d = Dedup::new(&settings);
        check(&d, &report("a.txt", STORY));
        check(&d, &report("b.txt", OTHER));
        check(
            &d,
            &report(
                "c.txt",
                "Talks ended in Orvale on Monday with no agreement at all.",
            ),
        );
        assert_eq!(d.near_index_size().0, 2);
        // The oldest is forgotten: its copy is taken as new.
        let copy = report("d.txt", &STORY.replace("eleven", "twelve"));
        assert_eq!(check(&d, &copy), new());
        // Every table entry points at a kept entry.
        let index = d.index();
        assert!(index.text.values().all(|s| index.serial(*s) >= index.first));
        assert!(index
            .content
            .values()
            .all(|s| index.serial(*s) >= index.content_first.max(index.first)));
        assert_eq!(
            index.entries.iter().filter(|e| e.content.is_some()).count(),
            1
        );
    }

    #[test]
    fn dedup_image_round_trips() {
        let d = Dedup::default();
        let a = report("a.txt", STORY);
        check(&d, &a);
        let json = serde_json::to_string(&d.image()).unwrap();
        let back = Dedup::from_image(
            serde_json::from_str(&json).unwrap(),
            &DedupConfig::default(),
        );
        assert_eq!(check(&back, &report("a.txt", STORY)), Verdict::Unchanged);
        assert!(matches!(
            check(&back, &report("b.txt", STORY)),
            Verdict::Duplicate { .. }
        ));
        let copy = report("c.txt", &STORY.replace("eleven", "twelve"));
        assert!(matches!(
            check(&back, &copy),
            Verdict::New {
                near: Some(Near { ref of, .. }),
                ..
            } if *of == a.id
        ));
        assert_eq!(back.image().near.len(), 2);
    }
}
