//! Command-line interface. Flags override the settings file, so several daemons can run
//! side by side on one set of configuration files.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Turns a stream of news wire reports into a live situation picture.
#[derive(Debug, Parser)]
#[command(name = "sitrep", version, about, long_about = None)]
pub struct Cli {
    /// Settings file. Default: `config/sitrep.toml` in the current folder when it exists,
    /// else the defaults compiled into the binary.
    #[arg(long, global = true, env = "SITREP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `sitrep=debug`. `RUST_LOG` also works.
    #[arg(long, global = true, env = "SITREP_LOG")]
    pub log: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: watch a folder and emit change events.
    Run {
        /// Folder to watch (overrides `source.watch_dir`).
        #[arg(long)]
        watch_dir: Option<PathBuf>,
        /// Folder for the events file, the journal, its snapshots and the lock (overrides
        /// `events.data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Do not print events on standard output (they still go to the events file).
        #[arg(long)]
        quiet: bool,
        /// Address for the HTTP API (overrides `api.listen`); port 0 picks a free port.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Run the pipeline once over files and folders (folders in name order) and print the
    /// change events as NDJSON.
    Ingest {
        /// Report files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write the final situation snapshot (JSON) to this file.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Do not print events.
        #[arg(long)]
        quiet: bool,
    },
    /// Rebuild the situation from a data directory's journal (or a folder of reports) and
    /// print it: for audits, and for "what did we know at time T".
    Replay {
        /// A data directory (with `journal/`), or a folder of reports.
        path: PathBuf,
        /// Stop at this event sequence number, or at this RFC 3339 time (journal: when the
        /// daemon processed the report; folder: the report's publication time).
        #[arg(long)]
        until: Option<crate::Until>,
        /// Print the snapshot as JSON instead of a summary.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        filter: SummaryArgs,
    },
    /// Follow a running daemon's change events (NDJSON on stdout), resuming by itself
    /// after any disconnect with no gap and no repeat.
    Subscribe {
        /// The daemon's API. Default: `<data_dir>/listen.addr`, else `api.listen`.
        #[arg(long)]
        url: Option<String>,
        /// Only these event types (comma-separated).
        #[arg(long)]
        types: Option<String>,
        /// Only events about this report, entity or development id.
        #[arg(long)]
        subject: Option<String>,
        /// Start after this sequence number (default: only new events).
        #[arg(long)]
        since: Option<u64>,
        /// Bearer token, if the daemon requires one.
        #[arg(long, env = "SITREP_API_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Print a running daemon's situation: a summary, or the raw snapshot with `--json`.
    State {
        /// The daemon's API. Default: `<data_dir>/listen.addr`, else `api.listen`.
        #[arg(long)]
        url: Option<String>,
        /// Print the snapshot JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        filter: SummaryArgs,
        /// Bearer token, if the daemon requires one.
        #[arg(long, env = "SITREP_API_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Retract a report: its claims leave every development, which are decided again from
    /// the claims left, and the changes are emitted and journaled. Asks the running daemon;
    /// with `--offline`, works in the data directory of a daemon that is not running.
    /// Prints the change events as NDJSON.
    Retract {
        /// The report's id (the `subject` of its `report.accepted`).
        report: String,
        /// Why, kept with the retraction and in its event.
        #[arg(long)]
        reason: Option<String>,
        /// Who retracts it (default: the login name in `USER`).
        #[arg(long)]
        by: Option<String>,
        /// The daemon's API. Default: `<data_dir>/listen.addr`, else `api.listen`.
        #[arg(long, conflicts_with = "offline")]
        url: Option<String>,
        /// Bearer token, if the daemon requires one.
        #[arg(long, env = "SITREP_API_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// No daemon runs: retract in the data directory itself (refused while a daemon
        /// holds it).
        #[arg(long)]
        offline: bool,
        /// The data directory (overrides `events.data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Check the settings and lexicon files and say what is wrong, with file and key.
    CheckConfig,
    /// Replay storylines (folders of reports with an expected.json) and check the picture
    /// after every report. Exit code 1 when a storyline falls below the bar.
    Eval {
        /// Storyline folders, or folders of storyline folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// `file` (every step checked) or `shuffled` (final statuses and regressions).
        #[arg(long, default_value = "file", value_parser = ["file", "shuffled"])]
        order: String,
        /// Seed of the first shuffle.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of shuffles (seeds `seed`, `seed+1`, ...).
        #[arg(long, default_value_t = 1)]
        shuffles: u64,
        /// The step (and final-status) accuracy a storyline must reach.
        #[arg(long, default_value_t = 1.0)]
        min_step_accuracy: f64,
        /// Print a JSON report instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Score entity recognition on CoNLL-2003-format data (token ... tag per line,
    /// `-DOCSTART-` lines, blank lines between sentences): precision, recall and F1 per type
    /// as conlleval counts them, and tokens/s.
    EvalNer(EvalNerArgs),
    /// Train the entity tagger on CoNLL-2003-format data and write the model file.
    TrainNer(TrainNerArgs),
    /// Show what extraction finds in one report: sentences, mentions and claims, with the
    /// cue that decided each status (JSON). For tuning lexicons.
    Explain {
        /// A report file.
        file: PathBuf,
    },
    /// Run the pipeline over a general news corpus and count the developments each section
    /// (BBC: business, entertainment, politics, sport, tech) opens, per report; with
    /// `--sample N`, print N random developments with the sentence that opened each, to
    /// judge (`docs/LABELLING.md`).
    EvalFeed {
        /// Folders of reports, `.jsonl` corpora or CoNLL-format files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// How many developments to sample.
        #[arg(long, default_value_t = 0)]
        sample: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Score cross-document event and entity coreference on CAT-format corpora (ECB+,
    /// MEANTIME) with their gold mentions: MUC, B3, CEAF-e and CoNLL F1 of sitrep's linker
    /// beside a same-lemma baseline. Topics are the folders the XML files lie in; an ECB+
    /// `*coreference_sentences.csv` in a folder given limits scoring to those sentences.
    EvalCoref {
        /// Folders (searched recursively) or files of CAT XML.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// How alike (tf-idf cosine, average link) two groups of a topic's documents must
        /// be to be taken as one happening.
        #[arg(long, default_value_t = 0.04)]
        doc_threshold: f64,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Train the sense filter on labelled candidate triggers (`docs/LABELLING.md`) and write
    /// its model (`config/sense.model` by default).
    TrainSense {
        /// The labels file (`labels/triggers.jsonl`).
        labels: PathBuf,
        /// The corpora the labels point into (folders of reports, `.jsonl` files, CoNLL-format files).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Where to write the model.
        #[arg(long, default_value = "config/sense.model")]
        out: PathBuf,
        /// Seed for shuffling (training is reproducible for a given seed).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// List every candidate trigger the lexicon finds in a corpus (folders of `.txt`
    /// reports, `.jsonl` corpora), before the sense filter, one JSON line each: where it
    /// is (document id, sentence, byte span), its frame, form and rule status. For writing
    /// labels (`docs/LABELLING.md`).
    Candidates {
        /// Folders of reports, `.jsonl` corpora or CoNLL-format files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Also print the sentence, its neighbours and the title (corpus text: keep that
        /// output out of the repository).
        #[arg(long)]
        text: bool,
    },
}

/// Which developments the summary of `sitrep state` and `sitrep replay` lists (the
/// newest movement first). Not applied to `--json`, which is the whole snapshot.
#[derive(Debug, Clone, Default, Args)]
pub struct SummaryArgs {
    /// Only developments with one of these statuses (comma-separated, e.g.
    /// `underway,completed`).
    #[arg(long, value_delimiter = ',', value_parser = parse_status)]
    pub status: Vec<String>,
    /// Only developments of one of these kinds (comma-separated, e.g. `withdrawal,meeting`;
    /// the kinds are those of `config/frames.toml`).
    #[arg(long, value_delimiter = ',')]
    pub kind: Vec<String>,
    /// At most this many developments.
    #[arg(long)]
    pub limit: Option<usize>,
}

impl From<SummaryArgs> for crate::client::SummaryFilter {
    fn from(a: SummaryArgs) -> Self {
        Self {
            statuses: a.status,
            kinds: a
                .kind
                .into_iter()
                .map(|k| k.trim().to_lowercase())
                .collect(),
            limit: a.limit,
        }
    }
}

/// A status name as the snapshot writes it, or the list of them.
fn parse_status(s: &str) -> Result<String, String> {
    let s = s.trim().to_lowercase();
    crate::extraction::Status::parse(&s)
        .map(|st| st.as_str().to_string())
        .ok_or_else(|| {
            format!("unknown status `{s}`; one of: planned, underway, completed, halted, cancelled, denied")
        })
}

/// `sitrep eval-ner`.
#[derive(Debug, Args)]
pub struct EvalNerArgs {
    /// A CoNLL file.
    pub file: PathBuf,
    /// `model`: the trained tagger alone, on the file's own tokens. `extract`: what the
    /// extract stage finds (gazetteer, rules and tagger) in each document read as one
    /// report. `rules`: the same without the tagger.
    #[arg(long, default_value = "model", value_parser = ["model", "extract", "rules"])]
    pub recognizer: String,
    /// Model file for `--recognizer model` (default: the one the settings name, else the
    /// one compiled into the binary).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Also write `token gold predicted` lines (IOB2, blank lines between sentences) to this
    /// file, the input of the `conlleval` script (`--recognizer model` only).
    #[arg(long)]
    pub predictions: Option<PathBuf>,
    /// Print a JSON report instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `sitrep train-ner`.
#[derive(Debug, Args)]
pub struct TrainNerArgs {
    /// CoNLL training file.
    pub train: PathBuf,
    /// CoNLL validation file: chooses the epoch (early stopping).
    pub valid: PathBuf,
    /// Unlabelled news text for word clusters: folders of `.txt` files, or `.jsonl` files
    /// whose objects have `title`/`body`/`text` strings. Repeatable.
    #[arg(long)]
    pub unlabeled: Vec<PathBuf>,
    /// Where to write the model.
    #[arg(long, default_value = "config/ner.model")]
    pub out: PathBuf,
    /// Most epochs.
    #[arg(long, default_value_t = 20)]
    pub epochs: u32,
    /// Stop after this many epochs without a better validation F1.
    #[arg(long, default_value_t = 4)]
    pub patience: u32,
    /// Seed of the shuffles (and of clustering).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// log2 of the number of weight buckets.
    #[arg(long, default_value_t = 22, value_parser = clap::value_parser!(u8).range(12..=26))]
    pub bucket_bits: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_flags_parse() {
        let cli =
            Cli::try_parse_from(["sitrep", "run", "--watch-dir", "w", "--data-dir", "d"]).unwrap();
        match cli.command {
            Command::Run {
                watch_dir,
                data_dir,
                quiet,
                ..
            } => {
                assert_eq!(watch_dir, Some(PathBuf::from("w")));
                assert_eq!(data_dir, Some(PathBuf::from("d")));
                assert!(!quiet);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retract_takes_an_id_and_a_reason() {
        let cli = Cli::try_parse_from([
            "sitrep",
            "retract",
            "a18c413706927d8e",
            "--reason",
            "wrong town",
        ])
        .unwrap();
        match cli.command {
            Command::Retract {
                report,
                reason,
                offline,
                ..
            } => {
                assert_eq!(report, "a18c413706927d8e");
                assert_eq!(reason.as_deref(), Some("wrong town"));
                assert!(!offline);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["sitrep", "retract"]).is_err());
        assert!(
            Cli::try_parse_from(["sitrep", "retract", "x", "--offline", "--url", "http://h"])
                .is_err()
        );
    }

    #[test]
    fn state_filters_parse() {
        let cli = Cli::try_parse_from([
            "sitrep",
            "state",
            "--status",
            "Underway,completed",
            "--kind",
            "withdrawal",
            "--limit",
            "3",
        ])
        .unwrap();
        match cli.command {
            Command::State { filter, .. } => {
                assert_eq!(filter.status, ["underway", "completed"]);
                assert_eq!(filter.kind, ["withdrawal"]);
                assert_eq!(filter.limit, Some(3));
            }
            other => panic!("{other:?}"),
        }
        let err = Cli::try_parse_from(["sitrep", "state", "--status", "finished"]).unwrap_err();
        assert!(
            err.to_string().contains("unknown status `finished`"),
            "{err}"
        );
        assert!(Cli::try_parse_from(["sitrep", "state", "--limit", "-1"]).is_err());
    }

    #[test]
    fn ingest_needs_a_path() {
        assert!(Cli::try_parse_from(["sitrep", "ingest"]).is_err());
        let cli = Cli::try_parse_from([
            "sitrep", "--config", "c.toml", "ingest", "a", "--state", "s.json",
        ])
        .unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("c.toml")));
    }
}
