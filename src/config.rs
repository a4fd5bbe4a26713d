//! Configuration: the daemon settings (`config/sitrep.toml`) and the lexicons it points to
//! (gazetteer, name rules, development frames, status cues).
//!
//! Files are parsed into raw serde structs with `deny_unknown_fields`, then checked once
//! by [`Config::load`], which reports every problem with its file and key. Everything
//! downstream takes the validated [`Config`] and never re-checks it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use crate::ner::NerModel;

/// The defaults compiled into the binary, so `sitrep run` works from any folder and
/// `check-config` can be run on a partial set of files.
pub mod embedded {
    pub const SITREP: &str = include_str!("../config/sitrep.toml");
    pub const GAZETTEER: &str = include_str!("../config/gazetteer.toml");
    pub const NAMES: &str = include_str!("../config/names.toml");
    pub const FRAMES: &str = include_str!("../config/frames.toml");
    pub const CUES: &str = include_str!("../config/cues.toml");
    pub const SIMILARITY: &str = include_str!("../config/similarity.toml");
    /// The trained entity tagger (`sitrep train-ner`).
    pub const NER_MODEL: &[u8] = include_bytes!("../config/ner.model");
}

/// The embedded entity model, decoded once per process: every `Config::embedded()` (the
/// tests make many) shares it.
fn embedded_ner() -> Result<Arc<NerModel>, ConfigError> {
    static MODEL: OnceLock<Result<Arc<NerModel>, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            NerModel::from_bytes(embedded::NER_MODEL)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|message| ConfigError::Parse {
            file: PathBuf::from("<embedded>/ner.model"),
            message,
        })
}

/// A configuration problem, always with the file (and key, where there is one) it is in.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {error}")]
    Read {
        file: PathBuf,
        error: std::io::Error,
    },
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    #[error("{file}: key `{key}`: {message}")]
    Invalid {
        file: PathBuf,
        key: String,
        message: String,
    },
    #[error("{} configuration problems:\n  {}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n  "))]
    Many(Vec<ConfigError>),
}

fn default_watch_dir() -> PathBuf {
    PathBuf::from("watch_dir")
}
fn default_rescan_secs() -> u64 {
    30
}
fn default_settle_ms() -> u64 {
    300
}
fn default_max_bytes() -> u64 {
    4 * 1024 * 1024
}
fn default_capacity() -> usize {
    256
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_events_file() -> PathBuf {
    PathBuf::from("events.ndjson")
}
fn default_true() -> bool {
    true
}
fn default_ce_source() -> String {
    "urn:sitrep".to_string()
}

/// `[source]`: where reports come from and when a file counts as complete.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Folder watched recursively for reports.
    #[serde(default = "default_watch_dir")]
    pub watch_dir: PathBuf,
    /// Seconds between full rescans (a safety net for missed notifications); 0 disables.
    #[serde(default = "default_rescan_secs")]
    pub rescan_secs: u64,
    /// Milliseconds a file's size and mtime must stay unchanged before it is read, when no
    /// close-after-write or rename told us it is complete.
    #[serde(default = "default_settle_ms")]
    pub settle_ms: u64,
    /// Reports larger than this many bytes are rejected without being read whole.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Where rejected files are moved once their `report.rejected` event is written. Unset
    /// (the default), they stay where they are: nothing is moved or deleted unless asked.
    /// May lie inside the watch folder, which then does not watch it.
    #[serde(default)]
    pub rejected_dir: Option<PathBuf>,
}

impl SourceConfig {
    /// What is wrong with `rejected_dir`, if anything: it must not be empty, nor the watch
    /// folder or a folder above it (every report would count as set aside).
    pub fn rejected_dir_problem(&self) -> Option<String> {
        let dir = self.rejected_dir.as_ref()?;
        if dir.as_os_str().is_empty() {
            return Some("must not be empty (leave it out to keep rejected files in place)".into());
        }
        let (Ok(dir), Ok(watch)) = (
            std::path::absolute(dir),
            std::path::absolute(&self.watch_dir),
        ) else {
            return None;
        };
        watch.starts_with(&dir).then(|| {
            format!(
                "`{}` is the watch folder `{}` or a folder above it",
                dir.display(),
                watch.display()
            )
        })
    }

    /// `rejected_dir` as an absolute path, when it is set and usable.
    pub fn rejected_dir_absolute(&self) -> Option<PathBuf> {
        if self.rejected_dir_problem().is_some() {
            return None;
        }
        std::path::absolute(self.rejected_dir.as_ref()?).ok()
    }
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self {
            watch_dir: default_watch_dir(),
            rescan_secs: default_rescan_secs(),
            settle_ms: default_settle_ms(),
            max_bytes: default_max_bytes(),
            rejected_dir: None,
        }
    }
}

/// `[pipeline]`: stage wiring.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Capacity of each channel between stages. A full channel blocks the stage before it
    /// (backpressure); nothing is dropped.
    #[serde(default = "default_capacity")]
    pub channel_capacity: usize,
    /// Threads for the extract stage, the costliest one; 0 means one per CPU. Reports
    /// still come out in arrival order whatever the number.
    #[serde(default)]
    pub extract_workers: usize,
}

impl PipelineConfig {
    /// The number of extract threads to start.
    pub fn extract_threads(&self) -> usize {
        match self.extract_workers {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            channel_capacity: default_capacity(),
            extract_workers: 0,
        }
    }
}

/// `[events]`: where change events go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// Folder for the events file.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Events file, relative to `data_dir` (absolute paths are kept).
    #[serde(default = "default_events_file")]
    pub events_file: PathBuf,
    /// Print events to standard output as well.
    #[serde(default = "default_true")]
    pub stdout: bool,
    /// The CloudEvents `source` attribute.
    #[serde(default = "default_ce_source")]
    pub source: String,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
            events_file: default_events_file(),
            stdout: true,
            source: default_ce_source(),
        }
    }
}

fn default_sync_batch() -> usize {
    256
}
fn default_segment_bytes() -> u64 {
    64 * 1024 * 1024
}
fn default_snapshot_every() -> u64 {
    10_000
}

/// `[journal]`: durability. The journal lives in `events.data_dir/journal/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// At most this many processed reports wait for one fsync: the bound on what a crash
    /// can lose (the files are still in the watch folder and are read again on restart).
    #[serde(default = "default_sync_batch")]
    pub sync_batch: usize,
    /// A segment file is closed and a new one begun past this size.
    #[serde(default = "default_segment_bytes")]
    pub segment_bytes: u64,
    /// A snapshot of the situation is written after this many journal entries (and at
    /// shutdown), so start-up reads one snapshot and at most this many entries.
    #[serde(default = "default_snapshot_every")]
    pub snapshot_every: u64,
    /// Segments wholly covered by the snapshot that are kept (for audits and `replay
    /// --until`); older ones are deleted. Unset keeps every segment.
    #[serde(default)]
    pub keep_segments: Option<usize>,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            sync_batch: default_sync_batch(),
            segment_bytes: default_segment_bytes(),
            snapshot_every: default_snapshot_every(),
            keep_segments: None,
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:7878".to_string()
}
fn default_retain_events() -> usize {
    65_536
}
fn default_subscriber_buffer() -> usize {
    4096
}
fn default_keepalive_secs() -> u64 {
    15
}

/// `[api]`: the HTTP API (events over SSE and WebSocket, snapshots, health, metrics).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Serve the API at all.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Address to listen on. Loopback by default: the API has no TLS, and only a bearer
    /// token if one is set. Port 0 picks a free port (written to `<data_dir>/listen.addr`).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Bearer token required on every endpoint but `/healthz`. `SITREP_API_TOKEN` in the
    /// environment overrides it.
    #[serde(default)]
    pub token: Option<String>,
    /// Recent events kept in memory for resuming streams; older ones are read back from
    /// the events file.
    #[serde(default = "default_retain_events")]
    pub retain_events: usize,
    /// How far a subscriber may fall behind the live stream before it is dropped (it is
    /// told so, and resumes from its last event id).
    #[serde(default = "default_subscriber_buffer")]
    pub subscriber_buffer: usize,
    /// Seconds between keep-alive comments on idle event streams.
    #[serde(default = "default_keepalive_secs")]
    pub keepalive_secs: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: default_listen(),
            token: None,
            retain_events: default_retain_events(),
            subscriber_buffer: default_subscriber_buffer(),
            keepalive_secs: default_keepalive_secs(),
        }
    }
}

fn default_near_threshold() -> f32 {
    0.35
}
fn default_sentence_threshold() -> f32 {
    0.4
}
fn default_sentence_offset() -> f32 {
    0.2
}
fn default_content_threshold() -> f32 {
    0.25
}
fn default_retain_reports() -> usize {
    250_000
}
fn default_rewrite_reports() -> usize {
    20_000
}
fn default_rewrite_days() -> u32 {
    3
}

/// `[dedup]`: near duplicates (see `stages::dedup` and `stages::similarity`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupConfig {
    /// Two reports are near duplicates when this share of the longer one's sentences match
    /// sentences of the other, in order.
    #[serde(default = "default_near_threshold")]
    pub near_threshold: f32,
    /// Two sentences match when they share this share of their content words (Jaccard).
    #[serde(default = "default_sentence_threshold")]
    pub sentence_threshold: f32,
    /// ...and stand at most this far apart in their reports (as a share of each report's
    /// length): a rewrite keeps the order of what it retells.
    #[serde(default = "default_sentence_offset")]
    pub sentence_offset: f32,
    /// A report found through the content index is compared sentence by sentence only when
    /// the two reports' content words are at least this similar (Jaccard, estimated).
    #[serde(default = "default_content_threshold")]
    pub content_threshold: f32,
    /// Reports the near-duplicate index keeps, the latest first: the bound on its memory.
    /// A copy of a report older than that is taken as new.
    #[serde(default = "default_retain_reports")]
    pub retain_reports: usize,
    /// Of those, the latest this many can be found by their content words alone (rewrites
    /// by other outlets), when published at most `rewrite_days` apart.
    #[serde(default = "default_rewrite_reports")]
    pub rewrite_reports: usize,
    #[serde(default = "default_rewrite_days")]
    pub rewrite_days: u32,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            near_threshold: default_near_threshold(),
            sentence_threshold: default_sentence_threshold(),
            sentence_offset: default_sentence_offset(),
            content_threshold: default_content_threshold(),
            retain_reports: default_retain_reports(),
            rewrite_reports: default_rewrite_reports(),
            rewrite_days: default_rewrite_days(),
        }
    }
}

fn default_story_days() -> u32 {
    90
}
fn default_story_entities() -> f32 {
    0.15
}
fn default_story_shared_development() -> f32 {
    0.5
}
fn default_story_content() -> f32 {
    0.08
}
fn default_story_reports() -> usize {
    20_000
}
fn default_story_postings() -> usize {
    32
}

/// `[stories]`: grouping reports about one happening (see `state::stories`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoriesConfig {
    /// A report joins the story of an earlier report published at most this many days
    /// before or after it...
    #[serde(default = "default_story_days")]
    pub window_days: u32,
    /// ...whose named entities it shares (cosine similarity, each entity weighted by how
    /// rare it is among all reports) at least this much...
    #[serde(default = "default_story_entities")]
    pub entity_similarity: f32,
    /// ...and whose content words it shares at least this much (Jaccard, estimated).
    #[serde(default = "default_story_content")]
    pub content_similarity: f32,
    /// Both thresholds are multiplied by this when the two reports' claims went to one
    /// development: evidence of its own that they are about one happening.
    #[serde(default = "default_story_shared_development")]
    pub shared_development: f32,
    /// Recent reports kept for linking: the bound on the memory and time linking takes.
    #[serde(default = "default_story_reports")]
    pub recent_reports: usize,
    /// Per entity, the latest reports naming it that are looked at: an entity in every
    /// report (a country in the news all week) adds no more than this to the search.
    #[serde(default = "default_story_postings")]
    pub reports_per_entity: usize,
}

impl Default for StoriesConfig {
    fn default() -> Self {
        Self {
            window_days: default_story_days(),
            entity_similarity: default_story_entities(),
            content_similarity: default_story_content(),
            shared_development: default_story_shared_development(),
            recent_reports: default_story_reports(),
            reports_per_entity: default_story_postings(),
        }
    }
}

/// `[lexicons]`: lexicon files, relative to the settings file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconPaths {
    pub gazetteer: Option<PathBuf>,
    pub names: Option<PathBuf>,
    pub frames: Option<PathBuf>,
    pub cues: Option<PathBuf>,
    /// Words left out when comparing reports' content (near duplicates, stories).
    pub similarity: Option<PathBuf>,
    /// The entity tagger's model file (`sitrep train-ner`).
    pub ner: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    source: SourceConfig,
    #[serde(default)]
    pipeline: PipelineConfig,
    #[serde(default)]
    events: EventsConfig,
    #[serde(default)]
    journal: JournalConfig,
    #[serde(default)]
    api: ApiConfig,
    #[serde(default)]
    dedup: DedupConfig,
    #[serde(default)]
    stories: StoriesConfig,
    lexicons: Option<LexiconPaths>,
}

/// One `[[entity]]` of the gazetteer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GazetteerEntry {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub demonyms: Vec<String>,
    /// For a capital: the country whose government it stands for as an actor.
    pub capital_of: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGazetteer {
    #[serde(default)]
    entity: Vec<GazetteerEntry>,
}

/// Word lists of `names.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameRules {
    pub articles: Vec<String>,
    pub rewrites: Vec<(String, String)>,
    pub person_titles: Vec<String>,
    pub stopwords: Vec<String>,
    pub connectors: Vec<String>,
    pub facility_heads: BTreeMap<String, Vec<String>>,
    pub place_heads: WordList,
    pub org_heads: WordList,
    pub org_suffixes: Vec<String>,
    pub sentences: Abbreviations,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordList {
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abbreviations {
    pub abbreviations: Vec<String>,
}

/// One `[[frame]]` of `frames.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameConfig {
    pub kind: String,
    /// A name for frames that share a kind (a blockade is kind `other`).
    pub name: Option<String>,
    #[serde(default)]
    pub noun: Vec<String>,
    #[serde(default)]
    pub base: Vec<String>,
    #[serde(default)]
    pub past: Vec<String>,
    #[serde(default)]
    pub progressive: Vec<String>,
    #[serde(default)]
    pub location_preps: Vec<String>,
    pub identity: Vec<String>,
    /// A state that holds for a time (a ceasefire, a blockade): "under a truce", "amid the
    /// blockade" say it is in force.
    #[serde(default)]
    pub durative: bool,
    /// Nouns that, as the verb's object or right before a past form, make it another
    /// happening ("released a statement", "a video released on Monday").
    #[serde(default)]
    pub other_objects: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrames {
    frame: Vec<FrameConfig>,
}

/// `cues.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CueConfig {
    pub window: usize,
    pub clauses: ClauseConfig,
    pub status: BTreeMap<String, Vec<String>>,
    pub resumption: Vec<String>,
    /// Words that, a few words before a durative frame's noun, say it is in force.
    #[serde(default)]
    pub in_force: Vec<String>,
    pub negation: NegationConfig,
    pub hedges: WordList,
    pub background: WordList,
    pub denial: DenialConfig,
    pub grammar: GrammarConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClauseConfig {
    pub punctuation: Vec<String>,
    pub after_comma: Vec<String>,
    pub always: Vec<String>,
    /// Words that open a clause about something still ahead ("before the blockade starts").
    #[serde(default)]
    pub future: Vec<String>,
    /// Words after which an -ing form tells of something already done ("after signing the
    /// accord"), unless the sentence speaks of the future before them.
    #[serde(default)]
    pub past: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegationConfig {
    pub words: Vec<String>,
    pub map: BTreeMap<String, String>,
}

/// Closed-class words the frame rules look for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrammarConfig {
    pub determiners: Vec<String>,
    pub be_forms: Vec<String>,
    pub auxiliaries: Vec<String>,
    pub speech_verbs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenialConfig {
    pub blockers: Vec<String>,
    /// Phrases that deny the clause they open ("denied that ...").
    #[serde(default)]
    pub clause: Vec<String>,
}

/// `similarity.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarityWords {
    pub function_words: Vec<String>,
}

/// All the lexicons, parsed and checked.
#[derive(Debug, Clone)]
pub struct Lexicons {
    pub gazetteer: Vec<GazetteerEntry>,
    pub names: NameRules,
    pub frames: Vec<FrameConfig>,
    pub cues: CueConfig,
    pub similarity: SimilarityWords,
    /// The trained entity tagger, shared (it is a few megabytes).
    pub ner: Arc<NerModel>,
}

/// The validated configuration the daemon runs on.
#[derive(Debug, Clone)]
pub struct Config {
    pub source: SourceConfig,
    pub pipeline: PipelineConfig,
    pub events: EventsConfig,
    pub journal: JournalConfig,
    pub api: ApiConfig,
    pub dedup: DedupConfig,
    pub stories: StoriesConfig,
    pub lexicons: Lexicons,
    /// Where the settings came from (`<embedded>` for the compiled-in defaults).
    pub origin: String,
}

/// Statuses a cue or negation map may name.
pub const STATUSES: [&str; 6] = [
    "planned",
    "underway",
    "completed",
    "halted",
    "cancelled",
    "denied",
];
/// Development kinds of the situation model, in alphabetical order.
pub const KINDS: [&str; 10] = [
    "agreement",
    "attack",
    "ceasefire",
    "deployment",
    "evacuation",
    "handover",
    "meeting",
    "other",
    "release",
    "withdrawal",
];
const ENTITY_KINDS: [&str; 5] = ["person", "place", "organization", "facility", "other"];
const IDENTITY_ROLES: [&str; 4] = ["location", "participants", "target", "actor"];

fn parse<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        file: file.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })
}

fn read(file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|error| ConfigError::Read {
        file: file.to_path_buf(),
        error,
    })
}

impl Config {
    /// What is valid but likely not what was meant: said at start-up and by
    /// `check-config`, and not refused, since the daemon runs as well as before.
    pub fn warnings(&self) -> Vec<String> {
        let words = crate::ner::train::config_name_words(self);
        self.lexicons
            .ner
            .name_word_drift(&words)
            .filter(|d| !d.is_empty())
            .map(|d| d.to_string())
            .into_iter()
            .collect()
    }

    /// The compiled-in defaults (the files of `config/` as they were at build time).
    pub fn embedded() -> Result<Config, ConfigError> {
        Self::embedded_with(true)
    }

    fn embedded_with(model: bool) -> Result<Config, ConfigError> {
        Self::from_texts(
            "<embedded>",
            Path::new("<embedded>"),
            embedded::SITREP,
            [
                ("gazetteer.toml".into(), embedded::GAZETTEER.to_string()),
                ("names.toml".into(), embedded::NAMES.to_string()),
                ("frames.toml".into(), embedded::FRAMES.to_string()),
                ("cues.toml".into(), embedded::CUES.to_string()),
                ("similarity.toml".into(), embedded::SIMILARITY.to_string()),
            ],
            if model {
                embedded_ner()
            } else {
                Ok(Arc::new(NerModel::empty()))
            },
        )
    }

    /// The settings and lexicons for training the entity tagger: `explicit`, else
    /// `config/sitrep.toml` in the current folder when it exists, else the embedded
    /// defaults; the entity model is not loaded (an empty one stands in). A model from an
    /// older build (another feature version) must not stop its own retraining.
    ///
    /// # Errors
    /// As [`Config::load`], the model apart.
    pub fn for_training(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let local = Path::new("config/sitrep.toml");
        match explicit {
            Some(p) => Self::load_with(p, false),
            None if local.is_file() => Self::load_with(local, false),
            None => Self::embedded_with(false),
        }
    }

    /// Loads a settings file and the lexicons it names (relative to its folder). A lexicon
    /// that the settings do not name comes from the embedded defaults.
    ///
    /// # Errors
    /// Every unreadable file, syntax error, unknown key and invalid value, all at once.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with(path, true)
    }

    fn load_with(path: &Path, model: bool) -> Result<Config, ConfigError> {
        let text = read(path)?;
        let raw: RawSettings = parse(path, &text)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let paths = raw.lexicons.clone().unwrap_or(LexiconPaths {
            gazetteer: None,
            names: None,
            frames: None,
            cues: None,
            similarity: None,
            ner: None,
        });
        let mut errors = Vec::new();
        let mut load_one = |p: &Option<PathBuf>, name: &str, fallback: &str| match p {
            Some(p) => {
                let full = base.join(p);
                match read(&full) {
                    Ok(t) => (full.display().to_string(), t),
                    Err(e) => {
                        errors.push(e);
                        (full.display().to_string(), fallback.to_string())
                    }
                }
            }
            None => (name.to_string(), fallback.to_string()),
        };
        let files = [
            load_one(&paths.gazetteer, "gazetteer.toml", embedded::GAZETTEER),
            load_one(&paths.names, "names.toml", embedded::NAMES),
            load_one(&paths.frames, "frames.toml", embedded::FRAMES),
            load_one(&paths.cues, "cues.toml", embedded::CUES),
            load_one(&paths.similarity, "similarity.toml", embedded::SIMILARITY),
        ];
        let ner = match &paths.ner {
            _ if !model => Ok(Arc::new(NerModel::empty())),
            Some(p) => {
                let full = base.join(p);
                NerModel::load(&full)
                    .map(Arc::new)
                    .map_err(|e| ConfigError::Parse {
                        file: full,
                        message: e.to_string(),
                    })
            }
            None => embedded_ner(),
        };
        if !errors.is_empty() {
            if let Err(e) = ner {
                errors.push(e);
            }
            return Err(collapse(errors));
        }
        Self::from_texts(&path.display().to_string(), path, &text, files, ner)
    }

    fn from_texts(
        origin: &str,
        settings_path: &Path,
        settings: &str,
        lexicon_texts: [(String, String); 5],
        ner: Result<Arc<NerModel>, ConfigError>,
    ) -> Result<Config, ConfigError> {
        let raw: RawSettings = parse(settings_path, settings)?;
        let [(gf, g), (nf, n), (ff, f), (cf, c), (sf, sw)] = lexicon_texts;
        let sf = PathBuf::from(sf);
        let (gf, nf, ff, cf) = (
            PathBuf::from(gf),
            PathBuf::from(nf),
            PathBuf::from(ff),
            PathBuf::from(cf),
        );
        let mut errors = Vec::new();
        let gazetteer = parse::<RawGazetteer>(&gf, &g)
            .map_err(|e| errors.push(e))
            .ok();
        let names = parse::<NameRules>(&nf, &n).map_err(|e| errors.push(e)).ok();
        let frames = parse::<RawFrames>(&ff, &f).map_err(|e| errors.push(e)).ok();
        let cues = parse::<CueConfig>(&cf, &c).map_err(|e| errors.push(e)).ok();
        let similarity = parse::<SimilarityWords>(&sf, &sw)
            .map_err(|e| errors.push(e))
            .ok();
        let ner = ner.map_err(|e| errors.push(e)).ok();

        let invalid = |file: &Path, key: String, message: String| ConfigError::Invalid {
            file: file.to_path_buf(),
            key,
            message,
        };
        if raw.pipeline.channel_capacity == 0 {
            errors.push(invalid(
                settings_path,
                "pipeline.channel_capacity".into(),
                "must be at least 1".into(),
            ));
        }
        if raw.pipeline.extract_workers > 256 {
            errors.push(invalid(
                settings_path,
                "pipeline.extract_workers".into(),
                "must be at most 256 (0 means one per CPU)".into(),
            ));
        }
        if raw.source.max_bytes == 0 {
            errors.push(invalid(
                settings_path,
                "source.max_bytes".into(),
                "must be at least 1".into(),
            ));
        }
        for (key, zero) in [
            ("journal.sync_batch", raw.journal.sync_batch == 0),
            ("journal.segment_bytes", raw.journal.segment_bytes < 4096),
            ("journal.snapshot_every", raw.journal.snapshot_every == 0),
        ] {
            if zero {
                errors.push(invalid(
                    settings_path,
                    key.into(),
                    "is too small (sync_batch and snapshot_every at least 1, segment_bytes at least 4096)".into(),
                ));
            }
        }
        if raw.api.listen.parse::<std::net::SocketAddr>().is_err() {
            errors.push(invalid(
                settings_path,
                "api.listen".into(),
                format!("`{}` is not an address like 127.0.0.1:7878", raw.api.listen),
            ));
        }
        if raw.api.retain_events == 0 || raw.api.subscriber_buffer == 0 {
            errors.push(invalid(
                settings_path,
                "api.retain_events".into(),
                "retain_events and subscriber_buffer must be at least 1".into(),
            ));
        }
        if let Some(problem) = raw.source.rejected_dir_problem() {
            errors.push(invalid(
                settings_path,
                "source.rejected_dir".into(),
                problem,
            ));
        }
        if raw.events.source.trim().is_empty() {
            errors.push(invalid(
                settings_path,
                "events.source".into(),
                "must not be empty".into(),
            ));
        }
        let d = &raw.dedup;
        for (key, value) in [
            ("dedup.near_threshold", d.near_threshold),
            ("dedup.sentence_threshold", d.sentence_threshold),
            ("dedup.sentence_offset", d.sentence_offset),
            ("dedup.content_threshold", d.content_threshold),
            ("stories.entity_similarity", raw.stories.entity_similarity),
            ("stories.content_similarity", raw.stories.content_similarity),
            ("stories.shared_development", raw.stories.shared_development),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                errors.push(invalid(
                    settings_path,
                    key.into(),
                    format!("{value} is not a share above 0 and at most 1"),
                ));
            }
        }
        if d.rewrite_reports > d.retain_reports {
            errors.push(invalid(
                settings_path,
                "dedup.rewrite_reports".into(),
                format!(
                    "{} is more than dedup.retain_reports ({}): rewrites are sought among the reports kept",
                    d.rewrite_reports, d.retain_reports
                ),
            ));
        }
        if d.retain_reports > u32::MAX as usize / 2 {
            errors.push(invalid(
                settings_path,
                "dedup.retain_reports".into(),
                "must be below 2^31".into(),
            ));
        }
        if raw.stories.reports_per_entity == 0 {
            errors.push(invalid(
                settings_path,
                "stories.reports_per_entity".into(),
                "must be at least 1".into(),
            ));
        }
        if let Some(g) = &gazetteer {
            for (i, e) in g.entity.iter().enumerate() {
                if !ENTITY_KINDS.contains(&e.kind.as_str()) {
                    errors.push(invalid(
                        &gf,
                        format!("entity[{i}].kind"),
                        format!("`{}` is not one of {}", e.kind, ENTITY_KINDS.join(", ")),
                    ));
                }
                if e.name.trim().is_empty() {
                    errors.push(invalid(
                        &gf,
                        format!("entity[{i}].name"),
                        "must not be empty".into(),
                    ));
                }
                if let Some(c) = &e.capital_of {
                    if !g.entity.iter().any(|x| &x.name == c) {
                        errors.push(invalid(
                            &gf,
                            format!("entity[{i}].capital_of"),
                            format!("`{c}` is not a gazetteer entry"),
                        ));
                    }
                }
            }
        }
        if let Some(fr) = &frames {
            for (i, f) in fr.frame.iter().enumerate() {
                if !KINDS.contains(&f.kind.as_str()) {
                    errors.push(invalid(
                        &ff,
                        format!("frame[{i}].kind"),
                        format!("`{}` is not one of {}", f.kind, KINDS.join(", ")),
                    ));
                }
                for r in &f.identity {
                    if !IDENTITY_ROLES.contains(&r.as_str()) {
                        errors.push(invalid(
                            &ff,
                            format!("frame[{i}].identity"),
                            format!("`{r}` is not one of {}", IDENTITY_ROLES.join(", ")),
                        ));
                    }
                }
                if f.noun.is_empty()
                    && f.base.is_empty()
                    && f.past.is_empty()
                    && f.progressive.is_empty()
                {
                    errors.push(invalid(&ff, format!("frame[{i}]"), "has no trigger".into()));
                }
            }
        }
        if let Some(c) = &cues {
            for k in c.status.keys() {
                if !STATUSES.contains(&k.as_str()) {
                    errors.push(invalid(
                        &cf,
                        format!("status.{k}"),
                        format!("is not one of {}", STATUSES.join(", ")),
                    ));
                }
            }
            for (k, v) in &c.negation.map {
                for s in [k, v] {
                    if !STATUSES.contains(&s.as_str()) {
                        errors.push(invalid(
                            &cf,
                            format!("negation.map.{k}"),
                            format!("`{s}` is not a status"),
                        ));
                    }
                }
            }
            if c.window == 0 {
                errors.push(invalid(&cf, "window".into(), "must be at least 1".into()));
            }
        }
        match (gazetteer, names, frames, cues, similarity, ner) {
            (Some(g), Some(n), Some(f), Some(c), Some(s), Some(ner)) if errors.is_empty() => Ok(Config {
                source: raw.source,
                pipeline: raw.pipeline,
                events: raw.events,
                journal: raw.journal,
                api: raw.api,
                dedup: raw.dedup,
                stories: raw.stories,
                lexicons: Lexicons {
                    gazetteer: g.entity,
                    names: n,
                    frames: f.frame,
                    cues: c,
                    similarity: s,
                    ner,
                },
                origin: origin.to_string(),
            }),
            _ => Err(collapse(errors)),
        }
    }

    /// The events file, resolved against the data directory.
    pub fn events_path(&self) -> PathBuf {
        self.events.data_dir.join(&self.events.events_file)
    }
}

fn collapse(mut errors: Vec<ConfigError>) -> ConfigError {
    if errors.len() == 1 {
        errors.remove(0)
    } else {
        ConfigError::Many(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_config_is_valid() {
        let c = Config::embedded().unwrap();
        assert!(c.lexicons.frames.len() >= 9);
        assert!(c.lexicons.gazetteer.iter().any(|e| e.name == "Russia"));
    }

    #[test]
    fn repo_config_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sitrep.toml");
        Config::load(&path).unwrap();
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sitrep.toml");
        std::fs::write(&p, "[source]\nwatch_dirr = \"x\"\n").unwrap();
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(err.contains("sitrep.toml"), "{err}");
        assert!(err.contains("watch_dirr"), "{err}");
    }

    #[test]
    fn bad_values_are_all_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sitrep.toml");
        std::fs::write(
            &p,
            "[pipeline]\nchannel_capacity = 0\n[lexicons]\nframes = \"frames.toml\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("frames.toml"),
            "[[frame]]\nkind = \"picnic\"\nnoun = [\"picnic\"]\nidentity = [\"mood\"]\n",
        )
        .unwrap();
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(err.contains("pipeline.channel_capacity"), "{err}");
        assert!(err.contains("frame[0].kind"), "{err}");
        assert!(err.contains("frame[0].identity"), "{err}");
    }

    #[test]
    fn rejected_dir_may_not_hold_the_watch_folder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sitrep.toml");
        let load = |source: &str| {
            std::fs::write(&p, format!("[source]\n{source}\n")).unwrap();
            Config::load(&p)
        };
        for bad in [
            "watch_dir = \"/srv/in\"\nrejected_dir = \"/srv\"",
            "watch_dir = \"/srv/in\"\nrejected_dir = \"/srv/in\"",
            "rejected_dir = \"\"",
        ] {
            let err = load(bad).unwrap_err().to_string();
            assert!(err.contains("source.rejected_dir"), "{err}");
        }
        let cfg = load("watch_dir = \"/srv/in\"\nrejected_dir = \"/srv/in/rejected\"").unwrap();
        assert_eq!(
            cfg.source.rejected_dir_absolute(),
            Some(PathBuf::from("/srv/in/rejected"))
        );
        assert_eq!(load("").unwrap().source.rejected_dir, None);
    }
}
