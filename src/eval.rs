//! `sitrep eval`: replay storylines and check the picture after every report.
//!
//! A storyline is a folder of reports plus `expected.json` (the format is documented in
//! `docs/QUALITY.md`): the status each scored development should have after each report,
//! the final statuses, and which spellings name one entity. The reports go through the
//! same stage cores as the daemon ([`Stages::process`]), one at a time, and the situation
//! and the change events are checked after each.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::events::{types, ChangeEvent};
use crate::extraction::Status;
use crate::pipeline::Stages;
use crate::source::read_report;
use crate::state::{Development, Situation, SituationHandle};
use crate::text::NameKeyer;

/// Problems with a storyline folder.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}: no expected.json here or in any sub-folder")]
    NoStoryline(PathBuf),
    #[error("{path}: {message}")]
    Expected { path: PathBuf, message: String },
}

/// `expected.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    pub storyline: String,
    #[serde(default)]
    pub summary: String,
    pub reports: Vec<ExpectedReport>,
    pub developments: Vec<ExpectedDevelopment>,
    #[serde(default)]
    pub steps: Vec<ExpectedStep>,
    #[serde(default, rename = "final")]
    pub finals: Vec<ExpectedFinal>,
    #[serde(default)]
    pub entities: Vec<ExpectedEntity>,
    #[serde(default)]
    pub traps: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedReport {
    pub file: String,
    #[serde(default)]
    pub published: String,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedDevelopment {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub description: String,
    pub terms: Vec<String>,
    #[serde(default)]
    pub actor_terms: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedStep {
    pub after: String,
    pub dev: String,
    pub status: Status,
    #[serde(default)]
    pub accept: Vec<Status>,
    #[serde(default)]
    pub evidence: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedFinal {
    pub dev: String,
    pub status: Status,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedEntity {
    pub canonical: String,
    pub kind: String,
    pub aliases: Vec<String>,
}

/// The order reports are replayed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// File-name order; every step is checked.
    File,
    /// A seeded shuffle; final statuses and regressions are checked.
    Shuffled(u64),
}

/// One checked step.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub after: String,
    pub dev: String,
    pub expected: Status,
    pub accept: Vec<Status>,
    pub got: Option<Status>,
    pub development: Option<String>,
    pub status_ok: bool,
    /// Whether the daemon's status changed at this step, and whether a change event says so.
    pub changed: bool,
    pub change_event: bool,
    pub change_ok: bool,
    pub pass: bool,
    /// For a failure: the sentence and cue behind the status the daemon holds.
    pub decided_by: Option<Decider>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Decider {
    pub report: String,
    pub sentence: String,
    pub cue: Option<String>,
}

/// A status change that moved backwards along planned < underway < completed.
#[derive(Debug, Clone, Serialize)]
pub struct Regression {
    pub development: String,
    pub from: Status,
    pub to: Status,
    pub after: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FinalResult {
    pub dev: String,
    pub expected: Status,
    pub got: Option<Status>,
    pub development: Option<String>,
    pub pass: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EntityScore {
    pub alias_pairs_precision: f64,
    pub alias_pairs_recall: f64,
    /// Expected entities whose aliases landed on more than one sitrep entity (or none).
    pub split: Vec<String>,
    /// Pairs of expected entities that share a sitrep entity.
    pub merged: Vec<(String, String)>,
    /// Aliases no sitrep entity carries.
    pub unresolved: Vec<String>,
}

/// The result of one storyline in one order.
#[derive(Debug, Clone, Serialize)]
pub struct StorylineResult {
    pub storyline: String,
    pub order: String,
    pub reports: Vec<String>,
    pub steps: Vec<StepResult>,
    pub step_accuracy: Option<f64>,
    pub status_change_precision: Option<f64>,
    pub status_change_recall: Option<f64>,
    pub finals: Vec<FinalResult>,
    pub final_accuracy: f64,
    pub regressions: Vec<Regression>,
    pub entities: EntityScore,
}

impl StorylineResult {
    /// Passing means every checked step and final status holds and nothing moved back.
    pub fn passes(&self, min_step_accuracy: f64) -> bool {
        self.step_accuracy
            .is_none_or(|a| a + 1e-9 >= min_step_accuracy)
            && self.final_accuracy + 1e-9 >= min_step_accuracy
            && self.regressions.is_empty()
    }
}

/// Finds storyline folders: `dir` itself when it holds `expected.json`, else its sub-folders
/// that do (in name order).
///
/// # Errors
/// When there is none.
pub fn storylines(dir: &Path) -> Result<Vec<PathBuf>, EvalError> {
    if dir.join("expected.json").is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|_| EvalError::NoStoryline(dir.to_path_buf()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(EvalError::NoStoryline(dir.to_path_buf()));
    }
    Ok(out)
}

/// Reads `expected.json`.
///
/// # Errors
/// When it is missing or malformed.
pub fn load_expected(dir: &Path) -> Result<Expected, EvalError> {
    let path = dir.join("expected.json");
    let text = std::fs::read_to_string(&path).map_err(|e| EvalError::Expected {
        path: path.clone(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| EvalError::Expected {
        path,
        message: e.to_string(),
    })
}

/// Replays one storyline.
///
/// # Errors
/// When `expected.json` cannot be read.
pub fn run_storyline(cfg: &Config, dir: &Path, order: Order) -> Result<StorylineResult, EvalError> {
    let exp = load_expected(dir)?;
    let mut files: Vec<String> = exp.reports.iter().map(|r| r.file.clone()).collect();
    if let Order::Shuffled(seed) = order {
        fastrand::Rng::with_seed(seed).shuffle(&mut files);
    }
    let stages = Stages::new(cfg);
    let keyer = stages.extractor().entities.keyer().clone();
    let state = SituationHandle::new();
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    let mut steps = Vec::new();
    let mut regressions = Vec::new();
    // Per expected development: the status the daemon held at its previous step.
    let mut held: HashMap<String, Option<Status>> = HashMap::new();

    for file in &files {
        let events = stages.process(read_report(&dir.join(file), cfg.source.max_bytes), &state);
        for e in &events {
            if e.kind == types::DEVELOPMENT_DETECTED {
                first_seen.entry(e.subject.clone()).or_insert(e.seq);
            }
            if let Some(r) = regression(e, file) {
                regressions.push(r);
            }
        }
        if order != Order::File {
            continue;
        }
        let assignment = state.read(|s| assign(&exp, s, &keyer, &first_seen));
        for step in exp.steps.iter().filter(|s| &s.after == file) {
            let dev_id = assignment.get(&step.dev).cloned();
            let (got, decided_by) = state.read(|s| {
                let d = dev_id.as_deref().and_then(|id| s.development(id));
                (d.and_then(|d| d.status), d.and_then(decider))
            });
            let status_ok = got.is_some_and(|g| g == step.status || step.accept.contains(&g));
            let before = held.get(&step.dev).copied().flatten();
            let changed = got != before;
            let change_event = dev_id.as_ref().is_some_and(|id| {
                events.iter().any(|e| {
                    &e.subject == id
                        && matches!(
                            e.kind,
                            types::DEVELOPMENT_DETECTED | types::DEVELOPMENT_STATUS_CHANGED
                        )
                })
            });
            let change_ok = changed == change_event;
            held.insert(step.dev.clone(), got);
            let pass = status_ok && change_ok;
            steps.push(StepResult {
                after: file.clone(),
                dev: step.dev.clone(),
                expected: step.status,
                accept: step.accept.clone(),
                got,
                development: dev_id,
                status_ok,
                changed,
                change_event,
                change_ok,
                pass,
                decided_by: if pass { None } else { decided_by },
            });
        }
    }

    let assignment = state.read(|s| assign(&exp, s, &keyer, &first_seen));
    let finals: Vec<FinalResult> = exp
        .finals
        .iter()
        .map(|f| {
            let dev_id = assignment.get(&f.dev).cloned();
            let got = state.read(|s| {
                dev_id
                    .as_deref()
                    .and_then(|id| s.development(id))
                    .and_then(|d| d.status)
            });
            FinalResult {
                dev: f.dev.clone(),
                expected: f.status,
                got,
                development: dev_id,
                pass: got == Some(f.status),
            }
        })
        .collect();
    let entities = state.read(|s| score_entities(&exp, s));
    let (precision, recall) = change_scores(&exp, &steps);
    Ok(StorylineResult {
        storyline: exp.storyline.clone(),
        order: match order {
            Order::File => "file".into(),
            Order::Shuffled(seed) => format!("shuffled(seed {seed})"),
        },
        reports: files,
        step_accuracy: (order == Order::File && !steps.is_empty())
            .then(|| steps.iter().filter(|s| s.pass).count() as f64 / steps.len() as f64),
        status_change_precision: precision,
        status_change_recall: recall,
        final_accuracy: if finals.is_empty() {
            1.0
        } else {
            finals.iter().filter(|f| f.pass).count() as f64 / finals.len() as f64
        },
        finals,
        regressions,
        entities,
        steps,
    })
}

fn regression(e: &ChangeEvent, file: &str) -> Option<Regression> {
    if e.kind != types::DEVELOPMENT_STATUS_CHANGED {
        return None;
    }
    let data = e.data.to_value();
    let from: Status = serde_json::from_value(data.get("from")?.clone()).ok()?;
    let to: Status = serde_json::from_value(data.get("to")?.clone()).ok()?;
    match (from.stage(), to.stage()) {
        (Some(a), Some(b)) if b < a => Some(Regression {
            development: e.subject.clone(),
            from,
            to,
            after: file.to_string(),
        }),
        _ => None,
    }
}

fn decider(d: &Development) -> Option<Decider> {
    let t = d.history.last()?;
    let c = d.claims.get(t.claim)?;
    Some(Decider {
        report: c.report.clone(),
        sentence: c.evidence.clone(),
        cue: c.cue.clone(),
    })
}

/// True when `term` names the entity: one of its spellings, compared as the situation
/// compares names.
fn names_entity(
    s: &Situation,
    id: &str,
    term_key: &str,
    term_lower: &str,
    keyer: &NameKeyer,
) -> bool {
    s.entity(id).is_some_and(|e| {
        std::iter::once(&e.name).chain(e.aliases.keys()).any(|a| {
            let lower = a.to_lowercase();
            // A shortened description names the same thing: "railway square" for "central
            // railway square", as a later report would shorten it.
            // Two words at least: "hospital" alone would name every hospital.
            let tail = term_lower.contains(' ')
                && lower
                    .strip_suffix(term_lower)
                    .is_some_and(|head| head.ends_with(' '));
            lower == term_lower || tail || (!term_key.is_empty() && keyer.key(a) == term_key)
        })
    })
}

/// Maps expected developments to the daemon's: same kind, a place or participant (the
/// actor included: "Lisk" in "Lisk's evacuation") named by one of `terms`; actor terms break ties, then order of first detection. Each daemon
/// development serves one expected development.
fn assign(
    exp: &Expected,
    s: &Situation,
    keyer: &NameKeyer,
    first_seen: &HashMap<String, u64>,
) -> HashMap<String, String> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut out = HashMap::new();
    for ed in &exp.developments {
        let terms: Vec<(String, String)> = ed
            .terms
            .iter()
            .map(|t| (keyer.key(t), t.to_lowercase()))
            .collect();
        let actors: Vec<(String, String)> = ed
            .actor_terms
            .iter()
            .map(|t| (keyer.key(t), t.to_lowercase()))
            .collect();
        let matches = |id: &str, list: &[(String, String)]| {
            list.iter().any(|(k, l)| names_entity(s, id, k, l, keyer))
        };
        let mut candidates: Vec<(&Development, bool, u64)> = s
            .developments()
            .filter(|d| d.kind == ed.kind && !taken.contains(&d.id))
            .filter(|d| {
                d.roles.entities().any(|id| matches(id, &terms))
                    || d.claims
                        .iter()
                        .any(|c| c.roles.entities().any(|id| matches(id, &terms)))
            })
            .map(|d| {
                let actor = d
                    .roles
                    .actor
                    .as_deref()
                    .is_some_and(|a| matches(a, &actors))
                    || d.roles.participants.iter().any(|p| matches(p, &actors));
                (d, actor, first_seen.get(&d.id).copied().unwrap_or(u64::MAX))
            })
            .collect();
        candidates.sort_by_key(|(d, actor, seen)| (!actor, *seen, d.id.clone()));
        if let Some((d, _, _)) = candidates.first() {
            taken.insert(d.id.clone());
            out.insert(ed.id.clone(), d.id.clone());
        }
    }
    out
}

fn change_scores(exp: &Expected, steps: &[StepResult]) -> (Option<f64>, Option<f64>) {
    if steps.is_empty() {
        return (None, None);
    }
    let mut prev: HashMap<&str, Status> = HashMap::new();
    let (mut tp, mut fp, mut fn_) = (0u32, 0u32, 0u32);
    for (st, res) in exp.steps.iter().zip(steps) {
        let expected_change = prev.get(st.dev.as_str()) != Some(&st.status);
        prev.insert(&st.dev, st.status);
        match (expected_change, res.change_event) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
    }
    let ratio = |a: u32, b: u32| {
        if b == 0 {
            1.0
        } else {
            f64::from(a) / f64::from(b)
        }
    };
    (Some(ratio(tp, tp + fp)), Some(ratio(tp, tp + fn_)))
}

fn score_entities(exp: &Expected, s: &Situation) -> EntityScore {
    // Every sitrep entity that carries each alias, exactly as written.
    let mut carriers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in s.entities() {
        for a in e.aliases.keys() {
            carriers
                .entry(a.as_str())
                .or_default()
                .insert(e.id.as_str());
        }
    }
    let mut score = EntityScore::default();
    let mut items: Vec<(usize, &str)> = Vec::new();
    for (i, e) in exp.entities.iter().enumerate() {
        let ids: BTreeSet<&str> = e
            .aliases
            .iter()
            .flat_map(|a| carriers.get(a.as_str()).into_iter().flatten().copied())
            .collect();
        for a in &e.aliases {
            if !carriers.contains_key(a.as_str()) {
                score.unresolved.push(a.clone());
            }
            items.push((i, a));
        }
        if ids.len() != 1 || e.aliases.iter().any(|a| !carriers.contains_key(a.as_str())) {
            score.split.push(e.canonical.clone());
        }
    }
    let (mut tp, mut fp, mut fn_) = (0u32, 0u32, 0u32);
    let mut merged = BTreeSet::new();
    for (x, (ei, a)) in items.iter().enumerate() {
        for (ej, b) in &items[x + 1..] {
            let gold = ei == ej;
            let pred = match (carriers.get(a), carriers.get(b)) {
                (Some(p), Some(q)) => !p.is_disjoint(q),
                _ => false,
            };
            match (gold, pred) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    merged.insert((
                        exp.entities[*ei].canonical.clone(),
                        exp.entities[*ej].canonical.clone(),
                    ));
                }
                (true, false) => fn_ += 1,
                (false, false) => {}
            }
        }
    }
    let ratio = |a: u32, b: u32| {
        if b == 0 {
            1.0
        } else {
            f64::from(a) / f64::from(b)
        }
    };
    score.alias_pairs_precision = ratio(tp, tp + fp);
    score.alias_pairs_recall = ratio(tp, tp + fn_);
    score.merged = merged.into_iter().collect();
    score
}

/// A readable report of one result.
pub fn render(r: &StorylineResult) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "== {} ({} order)", r.storyline, r.order);
    let st = |s: Option<Status>| s.map_or("-", Status::as_str);
    if !r.steps.is_empty() {
        let _ = writeln!(
            out,
            "  {:<44} {:<4} {:<10} {:<10} {:<6} result",
            "after", "dev", "expected", "got", "event"
        );
        for s in &r.steps {
            let event = if s.change_event { "change" } else { "-" };
            let verdict = if s.pass {
                "pass".to_string()
            } else if !s.status_ok {
                "FAIL status".to_string()
            } else {
                format!(
                    "FAIL event (status {} here)",
                    if s.changed { "changed" } else { "unchanged" }
                )
            };
            let exp = if s.accept.is_empty() {
                s.expected.as_str().to_string()
            } else {
                format!(
                    "{}|{}",
                    s.expected.as_str(),
                    s.accept
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join("|")
                )
            };
            let _ = writeln!(
                out,
                "  {:<44} {:<4} {:<10} {:<10} {:<6} {verdict}",
                truncate(&s.after, 44),
                s.dev,
                exp,
                st(s.got),
                event
            );
            if let Some(d) = &s.decided_by {
                let _ = writeln!(
                    out,
                    "      decided by cue {:?} in: {}",
                    d.cue.as_deref().unwrap_or("-"),
                    truncate(&d.sentence, 160)
                );
            }
            if !s.pass && s.development.is_none() {
                let _ = writeln!(out, "      no matching development");
            }
        }
    }
    for f in &r.finals {
        let _ = writeln!(
            out,
            "  final {:<4} expected {:<10} got {:<10} {}  {}",
            f.dev,
            f.expected.as_str(),
            st(f.got),
            if f.pass { "pass" } else { "FAIL" },
            f.development.as_deref().unwrap_or("(no match)")
        );
    }
    for g in &r.regressions {
        let _ = writeln!(
            out,
            "  REGRESSION {} {} -> {} after {}",
            g.development,
            g.from.as_str(),
            g.to.as_str(),
            g.after
        );
    }
    let pct = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{:.0}%", v * 100.0));
    let _ = writeln!(
        out,
        "  steps {}  changes P {} R {}  finals {}  regressions {}  aliases P {} R {}  split {}  merged {}",
        pct(r.step_accuracy),
        pct(r.status_change_precision),
        pct(r.status_change_recall),
        pct(Some(r.final_accuracy)),
        r.regressions.len(),
        pct(Some(r.entities.alias_pairs_precision)),
        pct(Some(r.entities.alias_pairs_recall)),
        listed(r.entities.split.iter().map(String::as_str)),
        listed(r.entities.merged.iter().map(|(a, b)| format!("{a} = {b}"))),
    );
    out
}

/// Names for people: `a, b`, or `none`.
fn listed<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    let all: Vec<S> = items.collect();
    if all.is_empty() {
        return "none".into();
    }
    all.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_words_not_debug_values() {
        assert_eq!(listed(std::iter::empty::<&str>()), "none");
        assert_eq!(listed(["Kestria", "Orla"].into_iter()), "Kestria, Orla");
        let merged = [("Ostravel".to_string(), "Orla".to_string())];
        assert_eq!(
            listed(merged.iter().map(|(a, b)| format!("{a} = {b}"))),
            "Ostravel = Orla"
        );
    }
}
