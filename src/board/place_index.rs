//! The gazetteer's name index: every name and alternate name of `geo/places.tsv` as plain
//! words, and every entry's own name by its spelling key, each to the best entry filed
//! under it (a country first, then the most populous, then the first listed). Both are
//! finite-state transducers whose values are the entries' byte offsets in the text: a
//! lookup reads the one line it finds, and nothing is held per entry.
//!
//! Self-contained (no other module of the crate) because the build script compiles it
//! too: the compiled-in gazetteer is indexed under the default name rules once, at build
//! time, so that a run does not spend a tenth of a second folding seventy thousand names
//! before its first claim about a town.

/// The fields of one line of `geo/places.tsv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fields<'a> {
    pub name: &'a str,
    pub lat: f32,
    pub lon: f32,
    pub country: &'a str,
    pub population: u64,
    /// A country rather than a city: it wins over a town of the same name.
    pub is_country: bool,
    /// Alternate names, separated by `|`.
    pub alternates: &'a str,
}

/// Parses one line; `None` for a malformed one (the build and the lookups skip the same
/// lines).
pub fn fields(line: &str) -> Option<Fields<'_>> {
    let line = line.trim_end_matches(['\r', '\n']);
    let mut f = line.split('\t');
    let name = f.next()?.trim();
    let lat: f32 = f.next()?.parse().ok()?;
    let lon: f32 = f.next()?.parse().ok()?;
    let country = f.next()?;
    let population: u64 = f.next()?.parse().ok()?;
    let kind = f.next()?;
    let alternates = f.next().unwrap_or("");
    if name.is_empty() || !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    Some(Fields {
        name,
        lat,
        lon,
        country,
        population,
        is_country: kind == "country",
        alternates,
    })
}

/// The entries of a gazetteer text: each line that parses, with its byte offset.
pub fn entries(tsv: &str) -> impl Iterator<Item = (u64, Fields<'_>)> {
    let mut offset = 0u64;
    tsv.split_inclusive('\n').filter_map(move |line| {
        let at = offset;
        offset += line.len() as u64;
        if line.starts_with('#') {
            return None;
        }
        fields(line).map(|f| (at, f))
    })
}

/// An index built from a gazetteer text: the two transducers' bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// Plain words of every name and alternate name → offset.
    pub words: Vec<u8>,
    /// Spelling key of every entry's own name → offset.
    pub keys: Vec<u8>,
    /// Entries that parsed.
    pub entries: usize,
}

/// Indexes `tsv`: `words` writes a name's plain words into its buffer, `key` returns its
/// spelling key (the name rules' folds, passed in so that this module stays alone).
pub fn build(
    tsv: &str,
    mut words: impl FnMut(&str, &mut String),
    mut key: impl FnMut(&str) -> String,
) -> Result<Built, fst::Error> {
    // (name, rank, offset), ranked so that after sorting the best entry of a name comes
    // first: a country, then the most populous, then the first listed.
    let mut by_words: Vec<(String, (bool, u64), u64)> = Vec::new();
    let mut by_key: Vec<(String, (bool, u64), u64)> = Vec::new();
    let mut count = 0;
    let mut buf = String::new();
    for (at, f) in entries(tsv) {
        count += 1;
        let rank = (!f.is_country, u64::MAX - f.population);
        let names =
            std::iter::once(f.name).chain(f.alternates.split('|').filter(|a| !a.is_empty()));
        for n in names {
            words(n, &mut buf);
            if !buf.is_empty() {
                by_words.push((buf.clone(), rank, at));
            }
        }
        let k = key(f.name);
        if !k.is_empty() {
            by_key.push((k, rank, at));
        }
    }
    Ok(Built {
        words: transducer(by_words)?,
        keys: transducer(by_key)?,
        entries: count,
    })
}

/// The transducer of `(name, rank, offset)` rows: each name once, to its best row.
fn transducer(mut rows: Vec<(String, (bool, u64), u64)>) -> Result<Vec<u8>, fst::Error> {
    rows.sort_unstable();
    let mut map = fst::MapBuilder::memory();
    let mut last: Option<&str> = None;
    for (name, _, at) in &rows {
        if last == Some(name.as_str()) {
            continue;
        }
        map.insert(name, *at)?;
        last = Some(name);
    }
    map.into_inner()
}
