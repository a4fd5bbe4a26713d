//! The trained model and its file.
//!
//! File layout (little-endian):
//!
//! | bytes | what |
//! | --- | --- |
//! | 8 | magic `SRNERMDL` |
//! | 2 | format version ([`FORMAT_VERSION`]) |
//! | 2 | reserved, 0 |
//! | 8 | payload length |
//! | 8 | xxh3-64 of the payload |
//! | … | payload |
//!
//! The payload holds the training facts ([`ModelInfo`]), the transition weights, the
//! emission rows (bucket deltas, a mask of the non-zero tags and zigzag varint weights, in
//! bucket order), the word clusters, the gazetteer and the words names hold in lower case
//! (sorted hashes). Everything is written in sorted order, so one set of weights always
//! gives the same bytes, and the checksum is verified before anything is decoded, so a
//! damaged file is refused rather than tagging badly.

use std::hint::select_unpredictable;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use xxhash_rust::xxh3::xxh3_64;

use super::features::{IdMap, Lexicon, FEATURE_VERSION};
use super::NTAGS;

pub const MAGIC: &[u8; 8] = b"SRNERMDL";
/// 2: the words names hold in lower case, after the gazetteer.
pub const FORMAT_VERSION: u16 = 2;
const HEADER_LEN: usize = 28;

/// Errors loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not an entity model (no `SRNERMDL` header)")]
    Magic,
    #[error("entity model file format {found}; this build reads format {expected} (retrain it with `sitrep train-ner`)")]
    Version { found: u16, expected: u16 },
    #[error("entity model uses features version {found}; this build computes version {expected} (retrain it with `sitrep train-ner`)")]
    Features { found: u32, expected: u32 },
    #[error("entity model checksum mismatch: the file is damaged")]
    Checksum,
    #[error("entity model is malformed at payload byte {0}")]
    Malformed(usize),
}

/// What the model was trained on and how; kept in the file for `eval-ner` and for people.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelInfo {
    pub feature_version: u32,
    /// log2 of the number of weight buckets.
    pub bucket_bits: u8,
    /// Epochs of the kept weights.
    pub epochs: u32,
    pub seed: u64,
    pub train_sentences: u32,
    pub train_tokens: u32,
    /// Validation F1 measured when the model was chosen.
    pub valid_f1: f32,
    /// Weight units per quantized step (the weights are stored as i16).
    pub scale: f32,
    /// The type margin ([`super::EntitySpan::type_margin`]) above which the tagger's type is
    /// trusted over weak evidence: three quarters of its type mistakes on the validation
    /// split had a smaller margin, and nine in ten of its right types a larger one.
    pub type_threshold: f32,
}

/// The weights: for each feature bucket a row of one weight per tag, and the transitions.
///
/// Only buckets with a non-zero row are kept, in an open-addressing table at most a
/// quarter full: a few tens of thousands of rows make a table of about a megabyte, which
/// stays in cache, where a direct index over every bucket would be tens of megabytes
/// touched at random.
#[derive(Debug, Clone)]
pub struct Weights {
    pub(crate) bits: u8,
    /// `(bucket, row)`; `EMPTY` buckets are free slots.
    slots: Vec<(u32, u32)>,
    mask: usize,
    /// Row 0 is all zeros: what a bucket without a row weighs.
    rows: Vec<[i16; NTAGS]>,
    /// `trans[prev][tag]`, with `prev == NTAGS` for the start of a sentence.
    pub(crate) trans: [[i32; NTAGS]; NTAGS + 1],
}

const EMPTY: u32 = u32::MAX;

impl Weights {
    /// Weights from rows (any order; a bucket given twice keeps its last row, all-zero rows
    /// are dropped).
    pub fn from_rows(
        bits: u8,
        rows: impl IntoIterator<Item = (u32, [i16; NTAGS])>,
        trans: [[i32; NTAGS]; NTAGS + 1],
    ) -> Self {
        let rows: Vec<(u32, [i16; NTAGS])> = rows
            .into_iter()
            .filter(|(_, r)| r.iter().any(|&w| w != 0))
            .collect();
        let mut w = Self::with_room(bits, rows.len(), trans);
        for (bucket, row) in rows {
            w.insert(bucket, row);
        }
        w
    }

    /// An empty table sized for `n` rows (a quarter full), to [`Self::insert`] them into.
    fn with_room(bits: u8, n: usize, trans: [[i32; NTAGS]; NTAGS + 1]) -> Self {
        let size = (n * 4).next_power_of_two().max(16);
        let mut rows = Vec::with_capacity(n + 1);
        rows.push([0; NTAGS]);
        Self {
            bits,
            slots: vec![(EMPTY, 0); size],
            mask: size - 1,
            rows,
            trans,
        }
    }

    /// Adds a bucket's row, or replaces it when the bucket has one; an all-zero row is
    /// what a bucket without a row weighs already, so it is not stored.
    fn insert(&mut self, bucket: u32, row: [i16; NTAGS]) {
        if row.iter().all(|&w| w == 0) {
            return;
        }
        let mut i = bucket as usize & self.mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.0 == EMPTY {
                *slot = (bucket, self.rows.len() as u32);
                self.rows.push(row);
                return;
            }
            if slot.0 == bucket {
                self.rows[slot.1 as usize] = row;
                return;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The bucket of a feature key.
    #[inline]
    pub fn bucket(bits: u8, key: u64) -> u32 {
        (key >> (64 - u32::from(bits))) as u32
    }

    /// The weights of a feature.
    #[inline]
    pub fn row(&self, key: u64) -> &[i16; NTAGS] {
        self.row_at(self.row_number(key))
    }

    /// The row numbers of many features at once, for [`Weights::row_at`].
    ///
    /// Every key's first slot is read in one short loop without a branch on what it finds,
    /// so the reads do not wait on each other; only the rare key whose first slot holds
    /// another bucket probes further.
    pub fn row_numbers(&self, keys: &[u64], out: &mut Vec<u32>) {
        const PROBE: u32 = u32::MAX;
        out.clear();
        out.extend(keys.iter().map(|&k| {
            let b = Self::bucket(self.bits, k);
            let (sb, r) = self.slots[b as usize & self.mask];
            // Whether a feature has a row is as good as random: a branch on it would be
            // mispredicted often, and each misprediction waits for the read it depends on.
            let miss = select_unpredictable(sb == EMPTY, 0, PROBE);
            select_unpredictable(sb == b, r, miss)
        }));
        for (r, &k) in out.iter_mut().zip(keys) {
            if *r == PROBE {
                *r = self.row_number(k);
            }
        }
    }

    /// The row number of a feature (0: the zero row).
    fn row_number(&self, key: u64) -> u32 {
        let b = Self::bucket(self.bits, key);
        // Buckets come from the top bits of a mixed key, so their low bits are uniform.
        let mut i = b as usize & self.mask;
        loop {
            let (sb, r) = self.slots[i];
            if sb == b {
                return r;
            }
            if sb == EMPTY {
                return 0;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// A row by its number (from [`Weights::row_numbers`]).
    #[inline]
    pub fn row_at(&self, r: u32) -> &[i16; NTAGS] {
        &self.rows[r as usize]
    }

    /// The non-zero rows in bucket order.
    fn sorted_rows(&self) -> Vec<(u32, &[i16; NTAGS])> {
        let mut out: Vec<(u32, &[i16; NTAGS])> = self
            .slots
            .iter()
            .filter(|s| s.0 != EMPTY)
            .map(|&(b, r)| (b, &self.rows[r as usize]))
            .collect();
        out.sort_unstable_by_key(|&(b, _)| b);
        out
    }

    /// Number of non-zero rows.
    pub fn len(&self) -> usize {
        self.rows.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// See [`NerModel::name_word_drift`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameWordDrift {
    /// Words the settings list and the model does not hold.
    pub missing: Vec<String>,
    /// How many words the model holds that the settings no longer list (the model keeps
    /// hashes, not the words).
    pub unlisted: usize,
}

impl NameWordDrift {
    /// True when the settings and the model hold the same words.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unlisted == 0
    }
}

impl std::fmt::Display for NameWordDrift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the name particles of the settings (the names file's `connectors`, and the \
             possessive 's) differ from those the entity model was trained with"
        )?;
        if !self.missing.is_empty() {
            write!(f, "; not in the model: {}", self.missing.join(", "))?;
        }
        if self.unlisted > 0 {
            write!(
                f,
                "; {} in the model that the settings no longer list",
                self.unlisted
            )?;
        }
        write!(
            f,
            ". The tagger keeps the model's list: run `sitrep train-ner` to retrain it, or \
             undo the edit"
        )
    }
}

/// A trained tagger model: weights and lexicon.
#[derive(Debug, Clone)]
pub struct NerModel {
    pub info: ModelInfo,
    pub(crate) weights: Weights,
    pub(crate) lexicon: Lexicon,
    /// Tells models apart in this process, so a tagger's word cache is never used with
    /// another model's weights.
    id: u64,
}

impl NerModel {
    pub fn new(info: ModelInfo, weights: Weights, lexicon: Lexicon) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            info,
            weights,
            lexicon,
            id: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The word's cluster (coarse, fine) learnt from unlabelled news text, if the model
    /// has one for it: a word class for the other learners' features.
    pub fn word_class(&self, word: &str) -> Option<(u32, u32)> {
        let mut buf = String::new();
        let h = super::features::lower_hash(word, &mut buf);
        self.lexicon
            .clusters
            .get(&h)
            .copied()
            .filter(|&c| c != 0)
            .map(super::clusters::unpack)
    }

    /// This model's id in this process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// A model that knows nothing and finds no names: it stands in where the settings are
    /// needed without a model (training one).
    pub fn empty() -> Self {
        Self::new(
            ModelInfo {
                feature_version: FEATURE_VERSION,
                bucket_bits: 12,
                ..ModelInfo::default()
            },
            Weights::from_rows(12, [], [[0; NTAGS]; NTAGS + 1]),
            Lexicon::default(),
        )
    }

    /// Reads and checks a model file.
    ///
    /// # Errors
    /// An unreadable file, or one that [`NerModel::from_bytes`] refuses.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }

    /// Number of non-zero weight rows.
    pub fn rows(&self) -> usize {
        self.weights.len()
    }

    /// Number of words with a cluster.
    pub fn cluster_words(&self) -> usize {
        self.lexicon.clusters.len()
    }

    /// Number of gazetteer entries.
    pub fn gazetteer_entries(&self) -> usize {
        self.lexicon.gazetteer.len()
    }

    /// How `words`, the settings' name words ([`super::train::config_name_words`]),
    /// differ from the list this model was trained with. The tagger reads only its own
    /// list, so an edit to `names.toml`'s `connectors` reaches it at the next training;
    /// until then the two disagree, and `check-config` and start-up say so. `None` for a
    /// model without such a list (an empty model).
    pub fn name_word_drift(&self, words: &[String]) -> Option<NameWordDrift> {
        let held = &self.lexicon.name_words;
        if held.is_empty() {
            return None;
        }
        let mut buf = String::new();
        let mut listed = IdMap::default();
        let mut missing = Vec::new();
        for w in words {
            let h = super::features::lower_hash(w, &mut buf);
            if listed.insert(h, ()).is_none() && !held.contains_key(&h) {
                missing.push(w.clone());
            }
        }
        let unlisted = held.keys().filter(|h| !listed.contains_key(h)).count();
        Some(NameWordDrift { missing, unlisted })
    }

    /// The model file's bytes. Deterministic: rows, clusters and name lists are written in
    /// sorted order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(1 << 20);
        let info = &self.info;
        put_varint(&mut p, u64::from(info.feature_version));
        p.push(info.bucket_bits);
        put_varint(&mut p, u64::from(info.epochs));
        p.extend_from_slice(&info.seed.to_le_bytes());
        put_varint(&mut p, u64::from(info.train_sentences));
        put_varint(&mut p, u64::from(info.train_tokens));
        p.extend_from_slice(&info.valid_f1.to_le_bytes());
        p.extend_from_slice(&info.scale.to_le_bytes());
        p.extend_from_slice(&info.type_threshold.to_le_bytes());
        p.push(NTAGS as u8);
        for row in &self.weights.trans {
            for &w in row {
                put_varint(&mut p, zigzag(i64::from(w)));
            }
        }
        let rows = self.weights.sorted_rows();
        put_varint(&mut p, rows.len() as u64);
        let mut last = 0u64;
        for (bucket, row) in rows {
            put_varint(&mut p, u64::from(bucket) - last);
            last = u64::from(bucket);
            let mask = row
                .iter()
                .enumerate()
                .filter(|(_, &x)| x != 0)
                .fold(0u64, |m, (t, _)| m | 1 << t);
            put_varint(&mut p, mask);
            for &x in row.iter().filter(|&&x| x != 0) {
                put_varint(&mut p, zigzag(i64::from(x)));
            }
        }
        put_sorted(&mut p, &self.lexicon.clusters, |p, &c| {
            put_varint(p, u64::from(c))
        });
        put_sorted(&mut p, &self.lexicon.gazetteer, |p, &b| p.push(b));
        put_sorted(&mut p, &self.lexicon.name_words, |_, ()| {});
        let mut out = Vec::with_capacity(HEADER_LEN + p.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(p.len() as u64).to_le_bytes());
        out.extend_from_slice(&xxh3_64(&p).to_le_bytes());
        out.extend_from_slice(&p);
        out
    }

    /// Decodes a model file's bytes, checking magic, versions and checksum first.
    ///
    /// # Errors
    /// See [`ModelError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(ModelError::Magic);
        }
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i..i + 8]);
            u64::from_le_bytes(b)
        };
        let version = u16_at(8);
        if version != FORMAT_VERSION {
            return Err(ModelError::Version {
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let len = u64_at(12);
        let payload = &bytes[HEADER_LEN..];
        if payload.len() as u64 != len || xxh3_64(payload) != u64_at(20) {
            return Err(ModelError::Checksum);
        }
        let mut r = Reader { b: payload, at: 0 };
        let feature_version = r.varint_u32()?;
        if feature_version != FEATURE_VERSION {
            return Err(ModelError::Features {
                found: feature_version,
                expected: FEATURE_VERSION,
            });
        }
        let bucket_bits = r.byte()?;
        if !(8..=28).contains(&bucket_bits) {
            return Err(ModelError::Malformed(r.at));
        }
        let info = ModelInfo {
            feature_version,
            bucket_bits,
            epochs: r.varint_u32()?,
            seed: r.u64()?,
            train_sentences: r.varint_u32()?,
            train_tokens: r.varint_u32()?,
            valid_f1: f32::from_bits(r.u32()?),
            scale: f32::from_bits(r.u32()?),
            type_threshold: f32::from_bits(r.u32()?),
        };
        if usize::from(r.byte()?) != NTAGS {
            return Err(ModelError::Malformed(r.at));
        }
        let mut trans = [[0i32; NTAGS]; NTAGS + 1];
        for row in trans.iter_mut() {
            for w in row.iter_mut() {
                *w = i32::try_from(unzigzag(r.varint()?)).map_err(|_| r.bad())?;
            }
        }
        let n = r.varint_len()?;
        // Straight into the table: no list of all the rows in between.
        let mut weights = Weights::with_room(bucket_bits, n, trans);
        let mut bucket = 0u64;
        for k in 0..n {
            let delta = r.varint()?;
            if k > 0 && delta == 0 {
                return Err(r.bad());
            }
            bucket = bucket.checked_add(delta).ok_or_else(|| r.bad())?;
            if bucket >> bucket_bits != 0 {
                return Err(r.bad());
            }
            let mask = r.varint()?;
            if mask == 0 || mask >> NTAGS != 0 {
                return Err(r.bad());
            }
            let mut row = [0i16; NTAGS];
            // The set bits only, lowest first: a test of each of the 17 bits was a
            // branch the processor could not predict, and the bulk of start-up.
            let mut bits = mask;
            while bits != 0 {
                let t = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                row[t] = i16::try_from(unzigzag(r.varint()?)).map_err(|_| r.bad())?;
            }
            weights.insert(bucket as u32, row);
        }
        let clusters = r.sorted(|r| r.varint_u32())?;
        let gazetteer = r.sorted(|r| r.byte())?;
        let name_words = r.sorted(|_| Ok(()))?;
        if r.at != payload.len() {
            return Err(r.bad());
        }
        Ok(Self::new(
            info,
            weights,
            Lexicon {
                clusters,
                gazetteer,
                name_words,
            },
        ))
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A hash map as a count and its entries in key order.
fn put_sorted<V>(out: &mut Vec<u8>, map: &IdMap<V>, mut put: impl FnMut(&mut Vec<u8>, &V)) {
    let mut keys: Vec<&u64> = map.keys().collect();
    keys.sort_unstable();
    put_varint(out, keys.len() as u64);
    for k in keys {
        out.extend_from_slice(&k.to_le_bytes());
        if let Some(v) = map.get(k) {
            put(out, v);
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn bad(&self) -> ModelError {
        ModelError::Malformed(self.at)
    }

    fn byte(&mut self) -> Result<u8, ModelError> {
        let v = *self.b.get(self.at).ok_or(ModelError::Malformed(self.at))?;
        self.at += 1;
        Ok(v)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let s = self
            .b
            .get(self.at..self.at + N)
            .ok_or(ModelError::Malformed(self.at))?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        self.at += N;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn u64(&mut self) -> Result<u64, ModelError> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    /// Start-up decodes some hundreds of thousands of these: the loop keeps the position
    /// in a local and stops on the first byte without the continuation bit.
    #[inline]
    fn varint(&mut self) -> Result<u64, ModelError> {
        let mut at = self.at;
        let mut v = 0u64;
        let mut shift = 0;
        while let Some(&b) = self.b.get(at) {
            at += 1;
            v |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                self.at = at;
                return Ok(v);
            }
            shift += 7;
            if shift >= 64 {
                break;
            }
        }
        // Out of bytes (at the missing one) or longer than ten bytes (after them).
        self.at = at;
        Err(self.bad())
    }

    fn varint_u32(&mut self) -> Result<u32, ModelError> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| self.bad())
    }

    /// A count that must fit in what is left of the payload.
    fn varint_len(&mut self) -> Result<usize, ModelError> {
        let v = self.varint()?;
        usize::try_from(v)
            .ok()
            .filter(|&n| n <= self.b.len() - self.at)
            .ok_or(self.bad())
    }

    fn sorted<V>(
        &mut self,
        mut value: impl FnMut(&mut Self) -> Result<V, ModelError>,
    ) -> Result<IdMap<V>, ModelError> {
        let n = self.varint_len()?;
        let mut map = IdMap::default();
        map.reserve(n);
        let mut last = None;
        for _ in 0..n {
            let k = self.u64()?;
            if last.is_some_and(|l| l >= k) {
                return Err(self.bad());
            }
            last = Some(k);
            let v = value(self)?;
            map.insert(k, v);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_word_drift_names_the_new_words_and_counts_the_dropped() {
        let mut buf = String::new();
        let mut lex = Lexicon::default();
        for w in ["of", "van", "'s"] {
            lex.name_words
                .insert(super::super::features::lower_hash(w, &mut buf), ());
        }
        let m = NerModel::new(
            ModelInfo::default(),
            Weights::from_rows(4, [], [[0; NTAGS]; NTAGS + 1]),
            lex,
        );
        let list = |ws: &[&str]| ws.iter().map(|w| (*w).to_string()).collect::<Vec<_>>();
        // The same words in another case and order, one twice: no drift.
        let same = m
            .name_word_drift(&list(&["'s", "Van", "of", "of"]))
            .unwrap();
        assert!(same.is_empty(), "{same}");
        let d = m.name_word_drift(&list(&["of", "zu", "'s", "zu"])).unwrap();
        assert_eq!(
            d,
            NameWordDrift {
                missing: list(&["zu"]),
                unlisted: 1
            }
        );
        let text = d.to_string();
        assert!(text.contains("not in the model: zu"), "{text}");
        assert!(
            text.contains("1 in the model that the settings no longer list"),
            "{text}"
        );
        assert!(text.contains("train-ner"), "{text}");
        // A model with no list (an empty one) has nothing to compare.
        assert_eq!(NerModel::empty().name_word_drift(&list(&["of"])), None);
    }

    fn sample() -> NerModel {
        let mut r = [0i16; NTAGS];
        r[0] = -7;
        r[16] = 300;
        let mut trans = [[0; NTAGS]; NTAGS + 1];
        trans[NTAGS][1] = -42;
        let w = Weights::from_rows(10, [(1000, [1; NTAGS]), (3, r), (5, [0; NTAGS])], trans);
        let mut lex = Lexicon::default();
        lex.clusters.insert(99, 0b1011);
        lex.clusters.insert(7, 0b11);
        lex.gazetteer.insert(12345, 3);
        lex.name_words.insert(777, ());
        NerModel::new(
            ModelInfo {
                feature_version: FEATURE_VERSION,
                bucket_bits: 10,
                epochs: 3,
                seed: 1,
                train_sentences: 2,
                train_tokens: 9,
                valid_f1: 0.5,
                scale: 0.01,
                type_threshold: 12.5,
            },
            w,
            lex,
        )
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let m = sample();
        let bytes = m.to_bytes();
        let back = NerModel::from_bytes(&bytes).unwrap();
        assert_eq!(back.info, m.info);
        assert_eq!(back.weights.row(3u64 << 54)[16], 300);
        assert_eq!(back.weights.row(3u64 << 54)[0], -7);
        assert_eq!(back.weights.row(1000u64 << 54), &[1; NTAGS]);
        assert_eq!(back.weights.row(4u64 << 54), &[0; NTAGS]);
        assert_eq!(back.weights.len(), 2);
        assert_eq!(back.weights.trans[NTAGS][1], -42);
        assert_eq!(back.lexicon.clusters.get(&99), Some(&0b1011));
        assert_eq!(back.lexicon.gazetteer.get(&12345), Some(&3));
        assert!(back.lexicon.name_words.contains_key(&777));
        assert_eq!(back.lexicon.name_words.len(), 1);
        assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn varints_read_back_and_cut_or_overlong_ones_are_refused() {
        let values = [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ];
        let mut buf = Vec::new();
        for &v in &values {
            put_varint(&mut buf, v);
        }
        let mut r = Reader { b: &buf, at: 0 };
        for &v in &values {
            assert_eq!(r.varint().ok(), Some(v));
        }
        assert_eq!(r.at, buf.len());
        // Cut after its first byte: refused at the missing one.
        let mut two = Vec::new();
        put_varint(&mut two, 300);
        let mut r = Reader {
            b: &two[..1],
            at: 0,
        };
        assert!(matches!(r.varint(), Err(ModelError::Malformed(1))));
        // Still going after ten bytes: no u64 is that long.
        let long = [0x80u8; 11];
        let mut r = Reader { b: &long, at: 0 };
        assert!(matches!(r.varint(), Err(ModelError::Malformed(10))));
    }

    /// A model file around `payload`, with a valid header and checksum.
    fn wrapped(payload: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&xxh3_64(payload).to_le_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn a_bucket_past_the_last_is_refused_even_when_its_delta_wraps() {
        let rows = |second_delta: u64| {
            let mut p = Vec::new();
            put_varint(&mut p, u64::from(FEATURE_VERSION));
            p.push(10); // bucket bits
            put_varint(&mut p, 1); // epochs
            p.extend_from_slice(&1u64.to_le_bytes()); // seed
            put_varint(&mut p, 1); // training sentences
            put_varint(&mut p, 1); // and tokens
            for f in [0.5f32, 0.01, 1.0] {
                p.extend_from_slice(&f.to_le_bytes()); // F1, scale, type threshold
            }
            p.push(NTAGS as u8);
            for _ in 0..NTAGS * (NTAGS + 1) {
                put_varint(&mut p, 0);
            }
            put_varint(&mut p, 2);
            for delta in [5, second_delta] {
                put_varint(&mut p, delta);
                put_varint(&mut p, 1); // one weight, for the first tag
                put_varint(&mut p, zigzag(3));
            }
            put_varint(&mut p, 0); // no clusters
            put_varint(&mut p, 0); // no names
            put_varint(&mut p, 0); // no name words
            wrapped(&p)
        };
        // A payload of format 1 (no name words: their count, the last byte, left out)
        // under a header of format 2: refused.
        let full = rows(2);
        assert!(matches!(
            NerModel::from_bytes(&wrapped(&full[HEADER_LEN..full.len() - 1])),
            Err(ModelError::Malformed(_))
        ));
        let good = NerModel::from_bytes(&rows(2)).expect("a well-formed payload");
        assert_eq!(good.weights.row(7u64 << 54)[0], 3);
        // 5 + (2^64 - 3) wraps to 2, before the first bucket.
        assert!(matches!(
            NerModel::from_bytes(&rows(u64::MAX - 2)),
            Err(ModelError::Malformed(_))
        ));
    }

    #[test]
    fn damaged_files_are_refused() {
        let bytes = sample().to_bytes();
        let mut bad = bytes.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(
            NerModel::from_bytes(&bad),
            Err(ModelError::Checksum)
        ));
        assert!(matches!(
            NerModel::from_bytes(&bytes[..bytes.len() - 3]),
            Err(ModelError::Checksum)
        ));
        assert!(matches!(
            NerModel::from_bytes(b"not a model at all, not at all"),
            Err(ModelError::Magic)
        ));
        for old in [1, 9] {
            let mut other = bytes.clone();
            other[8] = old;
            assert!(matches!(
                NerModel::from_bytes(&other),
                Err(ModelError::Version { found, .. }) if found == u16::from(old)
            ));
        }
    }
}
