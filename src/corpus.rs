//! Documents for training and measuring the learned passes: folders of report files,
//! JSON-lines corpora (one article per line, `{"id", "title", "body"}` as the BBC and
//! Reuters corpora beside the checkout are written) and CoNLL-2003-format files (one token
//! per line, `-DOCSTART-` between documents: Reuters wire news of 1996, much of it about
//! wars and talks, which the other corpora lack).
//!
//! Every document gets a stable id, so a label written against one candidate trigger
//! (`labels/triggers.jsonl`) finds it again in a later run, and no corpus text has to be
//! copied anywhere: the labels hold ids and offsets, the text stays in the corpus.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::report::RawReport;

/// Problems reading a corpus.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// One document: its id, its bytes as a report, and the corpus's own category if it has
/// one (BBC sections), for sampling and for per-section figures, never for features.
#[derive(Debug, Clone)]
pub struct Document {
    pub id: String,
    pub category: Option<String>,
    pub raw: RawReport,
}

/// Reads every document under `paths`: `.txt` files of a folder (recursively, in name
/// order; the id is the folder's name, the subfolders and a hash of the file name) or
/// the lines of a `.jsonl` file (the id is the line's `id`, else `FILE:LINE`).
///
/// # Errors
/// An unreadable file or folder, or a JSON line that does not parse.
pub fn documents(paths: &[PathBuf]) -> Result<Vec<Document>, CorpusError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let root = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let mut files = Vec::new();
            walk(path, &mut files)?;
            files.sort();
            for f in files {
                let bytes = std::fs::read(&f).map_err(|source| CorpusError::Io {
                    path: f.clone(),
                    source,
                })?;
                out.push(Document {
                    id: folder_doc_id(&root, f.strip_prefix(path).unwrap_or(&f)),
                    category: None,
                    raw: raw(f.clone(), bytes),
                });
            }
        } else {
            let text = std::fs::read_to_string(path).map_err(|source| CorpusError::Io {
                path: path.clone(),
                source,
            })?;
            if path.extension().is_some_and(|x| x == "jsonl") {
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let v: serde_json::Value =
                        serde_json::from_str(line).map_err(|e| CorpusError::Line {
                            path: path.clone(),
                            line: i + 1,
                            message: e.to_string(),
                        })?;
                    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
                    let mut body = String::new();
                    if !field("title").is_empty() {
                        body.push_str(field("title").trim());
                        body.push_str("\n\n");
                    }
                    body.push_str(field("body"));
                    body.push_str(field("text"));
                    let id = if field("id").is_empty() {
                        format!("{}:{}", path.display(), i + 1)
                    } else {
                        field("id").to_string()
                    };
                    out.push(Document {
                        category: v
                            .get("category")
                            .and_then(|x| x.as_str())
                            .map(str::to_string),
                        raw: raw(PathBuf::from(&id), body.into_bytes()),
                        id,
                    });
                }
            } else if text.starts_with("-DOCSTART-") {
                let stem = path
                    .file_stem()
                    .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
                for (i, body) in conll_documents(&text).into_iter().enumerate() {
                    let id = format!("conll-{stem}-{i:04}");
                    out.push(Document {
                        category: None,
                        raw: raw(PathBuf::from(&id), body.into_bytes()),
                        id,
                    });
                }
            } else {
                out.push(Document {
                    id: path.display().to_string(),
                    category: None,
                    raw: raw(path.clone(), text.into_bytes()),
                });
            }
        }
    }
    Ok(out)
}

/// The id of a file in a folder: the folder's name, the subfolders, and a hash of the file
/// name. Not the file name itself: report files are often named after their headline, and
/// labels that point into a corpus must not carry its text.
fn folder_doc_id(root: &str, rel: &Path) -> String {
    let name = rel
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let hash = xxhash_rust::xxh3::xxh3_64(name.as_bytes());
    match rel.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dirs) => format!("{root}/{}/{hash:016x}", dirs.to_string_lossy()),
        None => format!("{root}/{hash:016x}"),
    }
}

/// The documents of a CoNLL-format file as text: a sentence per line, its tokens joined
/// the way they were written ("troops , he said" becomes "troops, he said"), so the
/// tokenizer and the sentence splitter see ordinary prose.
fn conll_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut doc = String::new();
    let mut line = String::new();
    let flush_line = |line: &mut String, doc: &mut String| {
        if !line.is_empty() {
            doc.push_str(line);
            doc.push('\n');
            line.clear();
        }
    };
    for row in text.lines() {
        let token = row.split_whitespace().next().unwrap_or("");
        if token == "-DOCSTART-" {
            flush_line(&mut line, &mut doc);
            if !doc.is_empty() {
                docs.push(std::mem::take(&mut doc));
            }
            continue;
        }
        if token.is_empty() {
            flush_line(&mut line, &mut doc);
            continue;
        }
        let glue_left = matches!(
            token,
            "," | "."
                | ";"
                | ":"
                | "?"
                | "!"
                | ")"
                | "%"
                | "'s"
                | "n't"
                | "'re"
                | "'ve"
                | "'ll"
                | "'d"
        );
        if !line.is_empty() && !glue_left && !line.ends_with(['(', '$']) {
            line.push(' ');
        }
        line.push_str(token);
    }
    flush_line(&mut line, &mut doc);
    if !doc.is_empty() {
        docs.push(doc);
    }
    docs
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CorpusError> {
    let err = |source| CorpusError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for e in std::fs::read_dir(dir).map_err(err)? {
        let p = e.map_err(err)?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "txt") {
            out.push(p);
        }
    }
    Ok(())
}

/// A corpus document as a report. Its time is fixed, not the file's: training and figures
/// must not depend on when a file was copied.
fn raw(path: PathBuf, bytes: Vec<u8>) -> RawReport {
    RawReport {
        path,
        bytes,
        modified: Some(std::time::UNIX_EPOCH),
        received_at: OffsetDateTime::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_json_lines_give_stable_ids() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("wire");
        std::fs::create_dir_all(root.join("b")).unwrap();
        std::fs::write(root.join("b/2.txt"), "Two.\n").unwrap();
        std::fs::write(root.join("1.txt"), "One.\n").unwrap();
        std::fs::write(root.join("skip.md"), "not a report").unwrap();
        let jl = dir.path().join("c.jsonl");
        std::fs::write(
            &jl,
            "{\"id\": \"x-1\", \"title\": \"T\", \"body\": \"B.\", \"category\": \"sport\"}\n\n{\"body\": \"C.\"}\n",
        )
        .unwrap();
        let docs = documents(&[root, jl.clone()]).unwrap();
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let h = |name: &str| format!("{:016x}", xxhash_rust::xxh3::xxh3_64(name.as_bytes()));
        assert_eq!(
            ids[..2],
            [
                format!("wire/{}", h("1.txt")),
                format!("wire/b/{}", h("2.txt"))
            ]
        );
        assert_eq!(ids[2], "x-1");
        assert_eq!(ids[3], format!("{}:3", jl.display()));
        assert_eq!(docs[2].raw.bytes, b"T\n\nB.");
        assert_eq!(docs[2].category.as_deref(), Some("sport"));
        let conll = dir.path().join("train.txt");
        std::fs::write(
            &conll,
            "-DOCSTART- -X- -X- O\n\nTroops NNS B-NP O\nleft VBD B-VP O\n( ( O O\nsaid VBD O O\n) ) O O\n. . O O\n\nIt PRP B-NP O\nwas VBD O O\nn't RB O O\n.\n-DOCSTART- -X- -X- O\n\nTwo CD O O\n",
        )
        .unwrap();
        let docs = documents(&[conll]).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].id, "conll-train-0000");
        assert_eq!(docs[0].raw.bytes, b"Troops left (said).\nIt wasn't.\n");
        assert_eq!(docs[1].raw.bytes, b"Two\n");
        std::fs::write(&jl, "{not json\n").unwrap();
        assert!(matches!(
            documents(&[jl]),
            Err(CorpusError::Line { line: 1, .. })
        ));
    }
}
