//! Word clusters learnt from unlabelled news text.
//!
//! A word seen a few times in labelled data says little; the words that appear in the same
//! contexts in a few million words of news say much more ("Leicestershire" goes with the
//! other county names, "Ltd" with "Inc" and "Corp"). Clusters are what carry that to the
//! tagger: they took classic newswire taggers two or three points up, most of it on names
//! the labelled data never showed.
//!
//! The clustering maximizes the likelihood of a class bigram model, as Brown clustering
//! does, with the exchange algorithm (Kneser & Ney 1993; Martin, Liermann & Ney 1998): start
//! from a round-robin assignment of the vocabulary by frequency, then move each word to the
//! class that most improves the likelihood, for a few passes. It is run twice, for coarse
//! and fine classes; a word's cluster is the pair. Everything is integer counting in a fixed
//! order, so the same text gives the same clusters.

use std::collections::HashMap;
use std::path::PathBuf;

use super::conll::Document;
use super::features::{lower_hash, IdMap};
use super::tokenize::Tokenizer;

/// Clustering settings.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Words seen fewer times are not clustered.
    pub min_count: u32,
    /// At most this many words (the most frequent) are clustered.
    pub max_words: usize,
    pub coarse: usize,
    pub fine: usize,
    /// Exchange passes over the vocabulary.
    pub passes: usize,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            min_count: 3,
            max_words: 60_000,
            coarse: 64,
            fine: 256,
            passes: 8,
        }
    }
}

/// Packs a word's coarse and fine classes into a cluster code (never 0).
pub fn pack(coarse: usize, fine: usize) -> u32 {
    (1 << 31) | ((coarse as u32 & 0x7FFF) << 16) | (fine as u32 & 0xFFFF)
}

/// The coarse and fine classes of a cluster code.
pub fn unpack(code: u32) -> (u32, u32) {
    ((code >> 16) & 0x7FFF, code & 0xFFFF)
}

/// Documents of the unlabelled corpora: the text of every `.txt` file of a folder (in
/// name order), or the `title`, `body` and `text` strings of every line of a `.jsonl` file.
///
/// # Errors
/// An unreadable file or folder, with its path.
pub fn read_corpora(paths: &[PathBuf]) -> Result<Vec<String>, (PathBuf, std::io::Error)> {
    let mut docs = Vec::new();
    for path in paths {
        let err = |e| (path.clone(), e);
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(err)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .collect();
            files.sort();
            for f in files {
                let bytes = std::fs::read(&f).map_err(|e| (f.clone(), e))?;
                docs.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        } else {
            let text = std::fs::read_to_string(path).map_err(err)?;
            if path.extension().is_some_and(|x| x == "jsonl") {
                for line in text.lines() {
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                        continue;
                    };
                    let mut doc = String::new();
                    for field in ["title", "body", "text"] {
                        if let Some(s) = v.get(field).and_then(|x| x.as_str()) {
                            doc.push_str(s);
                            doc.push('\n');
                        }
                    }
                    docs.push(doc);
                }
            } else {
                docs.push(text);
            }
        }
    }
    Ok(docs)
}

/// Word ids of the corpus (lower-cased tokens), most frequent first.
struct Corpus {
    words: Vec<String>,
    counts: Vec<u64>,
    /// Bigram counts `(left, right) → n` as sorted neighbour lists per word.
    right: Vec<Vec<(u32, u32)>>,
    left: Vec<Vec<(u32, u32)>>,
}

fn build_corpus(streams: &[Vec<String>], opts: &ClusterOptions) -> Corpus {
    let mut freq: HashMap<&str, u64> = HashMap::new();
    for s in streams {
        for w in s {
            *freq.entry(w.as_str()).or_insert(0) += 1;
        }
    }
    let mut vocab: Vec<(&str, u64)> = freq
        .into_iter()
        .filter(|&(_, n)| n >= u64::from(opts.min_count))
        .collect();
    vocab.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    vocab.truncate(opts.max_words);
    let id: HashMap<&str, u32> = vocab
        .iter()
        .enumerate()
        .map(|(i, (w, _))| (*w, i as u32))
        .collect();
    let mut bigrams: HashMap<(u32, u32), u32> = HashMap::new();
    for s in streams {
        for pair in s.windows(2) {
            if let (Some(&a), Some(&b)) = (id.get(pair[0].as_str()), id.get(pair[1].as_str())) {
                *bigrams.entry((a, b)).or_insert(0) += 1;
            }
        }
    }
    let n = vocab.len();
    let mut right = vec![Vec::new(); n];
    let mut left = vec![Vec::new(); n];
    let mut pairs: Vec<((u32, u32), u32)> = bigrams.into_iter().collect();
    pairs.sort_unstable();
    for ((a, b), c) in pairs {
        right[a as usize].push((b, c));
        left[b as usize].push((a, c));
    }
    for l in &mut left {
        l.sort_unstable();
    }
    Corpus {
        words: vocab.iter().map(|(w, _)| (*w).to_string()).collect(),
        counts: vocab.iter().map(|&(_, n)| n).collect(),
        right,
        left,
    }
}

#[inline]
fn xlogx(x: i64) -> f64 {
    if x <= 0 {
        0.0
    } else {
        let x = x as f64;
        x * x.ln()
    }
}

/// Exchange clustering into `k` classes; returns each word's class.
fn exchange(c: &Corpus, k: usize, passes: usize, log: &dyn Fn(&str)) -> Vec<usize> {
    let n = c.words.len();
    let k = k.max(2);
    let mut class: Vec<usize> = (0..n).map(|i| i % k).collect();
    // Class bigram counts and class counts (the model's marginals).
    let mut nn = vec![0i64; k * k];
    let mut nc = vec![0i64; k];
    for v in 0..n {
        nc[class[v]] += c.counts[v] as i64;
        for &(w, cnt) in &c.right[v] {
            nn[class[v] * k + class[w as usize]] += i64::from(cnt);
        }
    }
    let mut r = vec![0i64; k];
    let mut l = vec![0i64; k];
    let (mut rs, mut ls): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    for pass in 0..passes {
        let mut moved = 0;
        for v in 0..n {
            // The word's class-aggregated neighbours (itself apart).
            let mut selfc = 0i64;
            for &(w, cnt) in &c.right[v] {
                if w as usize == v {
                    selfc += i64::from(cnt);
                    continue;
                }
                let cw = class[w as usize];
                if r[cw] == 0 {
                    rs.push(cw);
                }
                r[cw] += i64::from(cnt);
            }
            for &(w, cnt) in &c.left[v] {
                if w as usize == v {
                    continue;
                }
                let cw = class[w as usize];
                if l[cw] == 0 {
                    ls.push(cw);
                }
                l[cw] += i64::from(cnt);
            }
            let nv = c.counts[v] as i64;
            // Take v out of its class.
            let a = class[v];
            for &x in &rs {
                nn[a * k + x] -= r[x];
            }
            for &x in &ls {
                nn[x * k + a] -= l[x];
            }
            nn[a * k + a] -= selfc;
            nc[a] -= nv;
            // The gain of putting it into each class.
            let mut best = (f64::NEG_INFINITY, a);
            for b in 0..k {
                let mut g = 0.0;
                for &x in &rs {
                    if x != b {
                        let o = nn[b * k + x];
                        g += xlogx(o + r[x]) - xlogx(o);
                    }
                }
                for &x in &ls {
                    if x != b {
                        let o = nn[x * k + b];
                        g += xlogx(o + l[x]) - xlogx(o);
                    }
                }
                let o = nn[b * k + b];
                g += xlogx(o + r[b] + l[b] + selfc) - xlogx(o);
                g -= 2.0 * (xlogx(nc[b] + nv) - xlogx(nc[b]));
                if g > best.0 + 1e-9 {
                    best = (g, b);
                }
            }
            let b = best.1;
            for &x in &rs {
                nn[b * k + x] += r[x];
            }
            for &x in &ls {
                nn[x * k + b] += l[x];
            }
            nn[b * k + b] += selfc;
            nc[b] += nv;
            if b != a {
                moved += 1;
                class[v] = b;
            }
            for &x in &rs {
                r[x] = 0;
            }
            for &x in &ls {
                l[x] = 0;
            }
            rs.clear();
            ls.clear();
        }
        log(&format!(
            "clusters: {k} classes, pass {}: {moved} words moved",
            pass + 1
        ));
        if moved == 0 {
            break;
        }
    }
    class
}

/// Clusters the lower-cased words of `texts` (tokenized like the tagger's input) and of the
/// training documents. Returns lower-case word hash → cluster code.
pub fn cluster_texts(
    texts: &[String],
    train: &[Document],
    opts: &ClusterOptions,
    log: &dyn Fn(&str),
) -> IdMap<u32> {
    let tok = Tokenizer::new(&[]);
    let mut buf = String::new();
    let mut lower = |w: &str| {
        super::features::lower_into(w, &mut buf);
        buf.clone()
    };
    let mut streams: Vec<Vec<String>> = texts
        .iter()
        .map(|t| tok.words(t).into_iter().map(&mut lower).collect())
        .collect();
    for doc in train {
        streams.push(
            doc.iter()
                .flat_map(|s| s.tokens.iter())
                .map(|w| lower(w))
                .collect(),
        );
    }
    let tokens: usize = streams.iter().map(Vec::len).sum();
    let corpus = build_corpus(&streams, opts);
    log(&format!(
        "clusters: {tokens} tokens, {} words to cluster",
        corpus.words.len()
    ));
    let coarse = exchange(&corpus, opts.coarse, opts.passes, log);
    let fine = exchange(&corpus, opts.fine, opts.passes, log);
    let mut out = IdMap::default();
    let mut b = String::new();
    for (i, w) in corpus.words.iter().enumerate() {
        out.insert(lower_hash(w, &mut b), pack(coarse[i], fine[i]));
    }
    out
}

/// `train-ner --unlabeled`: clusters of the corpora and the training text, or none when no
/// corpus is given.
///
/// # Errors
/// An unreadable corpus, with its path.
pub fn from_corpora(
    paths: &[PathBuf],
    train: &[Document],
    opts: &ClusterOptions,
    log: &dyn Fn(&str),
) -> Result<IdMap<u32>, (PathBuf, std::io::Error)> {
    if paths.is_empty() {
        return Ok(IdMap::default());
    }
    let texts = read_corpora(paths)?;
    log(&format!(
        "clusters: {} documents from {}",
        texts.len(),
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(cluster_texts(&texts, train, opts, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_the_same_contexts_share_a_class() {
        let mut texts = Vec::new();
        for city in ["velmar", "lisk", "corvane", "ostravel"] {
            for verb in ["left", "reached", "shelled"] {
                texts.push(format!(
                    "troops {verb} {city} today . the mayor of {city} said ."
                ));
            }
        }
        for name in ["ana", "ilsa", "otto"] {
            texts.push(format!(
                "{name} said . {name} told reporters . {name} said ."
            ));
        }
        let opts = ClusterOptions {
            min_count: 1,
            coarse: 2,
            fine: 4,
            passes: 10,
            ..ClusterOptions::default()
        };
        let a = cluster_texts(&texts, &[], &opts, &|_| {});
        let b = cluster_texts(&texts, &[], &opts, &|_| {});
        assert_eq!(a, b, "deterministic");
        let mut s = String::new();
        let fine = |w: &str, s: &mut String| unpack(a[&lower_hash(w, s)]).1;
        assert_eq!(fine("velmar", &mut s), fine("lisk", &mut s));
        assert_eq!(fine("corvane", &mut s), fine("ostravel", &mut s));
        assert_ne!(fine("velmar", &mut s), fine("said", &mut s));
    }

    #[test]
    fn codes_round_trip() {
        assert_eq!(unpack(pack(63, 255)), (63, 255));
        assert_ne!(pack(0, 0), 0);
    }
}
