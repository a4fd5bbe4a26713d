//! Indexes the compiled-in gazetteer (`src/board/geo/places.tsv`) under the default name
//! rules (`config/names.toml`), so that a run finds its towns without folding seventy
//! thousand names first. The daemon checks that its rules are the ones recorded here and
//! indexes the text itself when they are not.

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;

#[allow(dead_code)]
#[path = "src/text/names.rs"]
mod names;

#[allow(dead_code)]
#[path = "src/board/place_index.rs"]
mod place_index;

const TSV: &str = "src/board/geo/places.tsv";
const NAMES: &str = "config/names.toml";

fn main() -> Result<(), Box<dyn Error>> {
    for input in [TSV, NAMES, "src/text/names.rs", "src/board/place_index.rs"] {
        println!("cargo::rerun-if-changed={input}");
    }
    let rules: toml::Table = std::fs::read_to_string(NAMES)?.parse()?;
    let strings = |v: &toml::Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|s| s.as_str().map(String::from))
            .collect()
    };
    let articles = rules
        .get("articles")
        .and_then(strings)
        .ok_or("names.toml: `articles` is not a list of strings")?;
    let rewrites: Vec<(String, String)> = rules
        .get("rewrites")
        .and_then(|v| v.as_array())
        .and_then(|pairs| {
            pairs
                .iter()
                .map(|p| match strings(p)?.as_slice() {
                    [a, b] => Some((a.clone(), b.clone())),
                    _ => None,
                })
                .collect()
        })
        .ok_or("names.toml: `rewrites` is not a list of string pairs")?;

    let tsv = std::fs::read_to_string(TSV)?;
    let folder = names::NameFolder::new(&articles, &rewrites);
    let built = place_index::build(
        &tsv,
        |n, out| folder.push_plain_words(n, out),
        |n| folder.key(n),
    )?;

    let out = std::env::var("OUT_DIR")?;
    let out = Path::new(&out);
    std::fs::write(out.join("places-words.fst"), &built.words)?;
    std::fs::write(out.join("places-keys.fst"), &built.keys)?;
    let mut consts = String::new();
    writeln!(consts, "pub const ENTRIES: usize = {};", built.entries)?;
    writeln!(consts, "pub const ARTICLES: &[&str] = &{articles:?};")?;
    let pairs: Vec<String> = rewrites.iter().map(|p| format!("{p:?}")).collect();
    writeln!(
        consts,
        "pub const REWRITES: &[(&str, &str)] = &[{}];",
        pairs.join(", ")
    )?;
    std::fs::write(out.join("places_index.rs"), consts)?;
    Ok(())
}
