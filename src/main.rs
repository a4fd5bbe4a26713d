//! The `sitrep` binary: flags, logging, configuration, then the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use sitrep::cli::{Cli, Command};
use sitrep::config::Config;
use sitrep::eval::{self, Order};
use tracing_subscriber::EnvFilter;

/// The pipeline's threads allocate and free many small strings per report (tokens,
/// names, keys); jemalloc's per-thread caches make that much cheaper than the
/// system allocator's shared arenas.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = cli
        .log
        .clone()
        .map(EnvFilter::new)
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("sitrep=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sitrep: {}", error_chain(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once. The project's errors end their message with
/// their cause's, so that a log line of one says everything; `{:#}` would then print each
/// such cause twice.
fn error_chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// [`load_config`] for the commands that run reports through the stages: what is valid but
/// likely unmeant in the settings is logged once at the start, where whoever runs them
/// looks ([`Config::warnings`]).
fn load_config_for_stages(explicit: Option<&Path>) -> anyhow::Result<Config> {
    let cfg = load_config(explicit)?;
    for w in cfg.warnings() {
        tracing::warn!("{}: {w}", cfg.origin);
    }
    Ok(cfg)
}

/// `--config`, else `config/sitrep.toml` in the current folder, else the embedded defaults.
fn load_config(explicit: Option<&Path>) -> anyhow::Result<Config> {
    let local = PathBuf::from("config/sitrep.toml");
    let cfg = match explicit {
        Some(p) => Config::load(p)?,
        None if local.is_file() => Config::load(&local)?,
        None => Config::embedded()?,
    };
    Ok(cfg)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::CheckConfig => {
            let cfg = load_config(cli.config.as_deref())?;
            // Printed here rather than logged, so that no log filter hides what the summary
            // line counts.
            let warnings = cfg.warnings();
            for w in &warnings {
                eprintln!("{}: warning: {w}", cfg.origin);
            }
            let warnings = match warnings.len() {
                0 => String::new(),
                1 => ", 1 warning above".to_string(),
                n => format!(", {n} warnings above"),
            };
            println!(
                "{}: ok ({} gazetteer entries, {} frames, {} status cue lists{warnings})",
                cfg.origin,
                cfg.lexicons.gazetteer.len(),
                cfg.lexicons.frames.len(),
                cfg.lexicons.cues.status.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            dirs,
            order,
            seed,
            shuffles,
            min_step_accuracy,
            json,
        } => {
            let cfg = load_config_for_stages(cli.config.as_deref())?;
            let orders: Vec<Order> = if order == "shuffled" {
                (seed..seed.saturating_add(shuffles.max(1)))
                    .map(Order::Shuffled)
                    .collect()
            } else {
                vec![Order::File]
            };
            let mut results = Vec::new();
            for dir in &dirs {
                for story in eval::storylines(dir)? {
                    for &o in &orders {
                        results.push(eval::run_storyline(&cfg, &story, o)?);
                    }
                }
            }
            let failed: Vec<&str> = results
                .iter()
                .filter(|r| !r.passes(min_step_accuracy))
                .map(|r| r.storyline.as_str())
                .collect();
            if json {
                let steps: usize = results.iter().map(|r| r.steps.len()).sum();
                let passed: usize = results
                    .iter()
                    .map(|r| r.steps.iter().filter(|s| s.pass).count())
                    .sum();
                let summary = serde_json::json!({
                    "storylines": results.len(),
                    "failed": failed,
                    "steps": steps,
                    "steps_passed": passed,
                    "regressions": results.iter().map(|r| r.regressions.len()).sum::<usize>(),
                    "results": results,
                });
                print_out(&serde_json::to_string_pretty(&summary)?)?;
            } else {
                for r in &results {
                    print_out(&eval::render(r))?;
                }
                println!(
                    "{} storyline runs, {} below the bar{}",
                    results.len(),
                    failed.len(),
                    if failed.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", failed.join(", "))
                    }
                );
            }
            Ok(if failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::EvalNer(args) => {
            let cfg = load_config(cli.config.as_deref())?;
            sitrep::ner_eval::command(&cfg, &args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::TrainNer(args) => {
            sitrep::ner::train::command(cli.config.as_deref(), &args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay {
            path,
            until,
            json,
            filter,
        } => {
            let cfg = load_config_for_stages(cli.config.as_deref())?;
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let situation = sitrep::replay(&cfg, &path, until, progress)?;
            if json {
                print_out(&serde_json::to_string_pretty(&situation.snapshot_json())?)?;
            } else {
                print_out(&sitrep::client::summarize(
                    &situation.snapshot_json(),
                    &filter.into(),
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Subscribe {
            url,
            types,
            subject,
            since,
            token,
        } => {
            let cfg = load_config(cli.config.as_deref())?;
            let opts = sitrep::client::SubscribeOptions {
                url: sitrep::client::base_url(url, &cfg.events.data_dir, &cfg.api.listen),
                token,
                types,
                subject,
                since,
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                tokio::select! {
                    r = sitrep::client::subscribe(opts) => r,
                    _ = tokio::signal::ctrl_c() => Ok(()),
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::State {
            url,
            json,
            filter,
            token,
        } => {
            let cfg = load_config(cli.config.as_deref())?;
            let base = sitrep::client::base_url(url, &cfg.events.data_dir, &cfg.api.listen);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let snapshot = rt.block_on(sitrep::client::situation(&base, token.as_deref()))?;
            if json {
                print_out(&serde_json::to_string_pretty(&snapshot)?)?;
            } else {
                print_out(&sitrep::client::summarize(&snapshot, &filter.into()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Retract {
            report,
            reason,
            by,
            url,
            token,
            offline,
            data_dir,
        } => {
            // Offline, the stages replay the journal: their settings' warnings are said.
            let mut cfg = if offline {
                load_config_for_stages(cli.config.as_deref())?
            } else {
                load_config(cli.config.as_deref())?
            };
            if let Some(d) = data_dir {
                cfg.events.data_dir = d;
            }
            let by = by.or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()));
            let events: Vec<String> = if offline {
                sitrep::retract_offline(&cfg, &report, reason, by)?
                    .events
                    .iter()
                    .map(|e| e.get().to_string())
                    .collect()
            } else {
                let base = sitrep::client::base_url(url, &cfg.events.data_dir, &cfg.api.listen);
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let answer = rt
                    .block_on(sitrep::client::retract(
                        &base,
                        token.as_deref(),
                        &report,
                        reason.as_deref(),
                        by.as_deref(),
                    ))
                    .map_err(|e| match e {
                        sitrep::client::ClientError::Http { .. } => anyhow::Error::from(e).context(
                            "no daemon answered; `--offline` retracts in the data \
                                 directory of one that is not running",
                        ),
                        e => e.into(),
                    })?;
                answer["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| e.to_string())
                    .collect()
            };
            for e in &events {
                print_out(e)?;
            }
            eprintln!(
                "Report {report} retracted: {} change event{}.",
                events.len(),
                if events.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::TrainSense {
            labels,
            paths,
            out,
            seed,
        } => {
            let cfg = sitrep::config::Config::for_extract_training(cli.config.as_deref())?;
            let t = sitrep::labels::train_sense(&cfg, &labels, &paths, seed)?;
            std::fs::write(&out, t.model.to_bytes())
                .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
            println!("{}", t.model.info);
            if t.lost > 0 {
                println!(
                    "{} labels no longer point at a candidate (the lexicon or the corpus changed)",
                    t.lost
                );
            }
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::EvalFeed {
            paths,
            sample,
            seed,
            json,
        } => {
            let cfg = load_config_for_stages(cli.config.as_deref())?;
            let r = sitrep::feed_eval::run(&cfg, &paths, sample, seed)?;
            if json {
                print_out(&serde_json::to_string_pretty(&r)?)?;
            } else {
                print_out(&sitrep::feed_eval::render(&r))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::EvalCoref {
            paths,
            doc_threshold,
            json,
        } => {
            let cfg = load_config(cli.config.as_deref())?;
            let r = sitrep::coref_eval::run(&cfg, &paths, doc_threshold)?;
            if json {
                print_out(&serde_json::to_string_pretty(&r)?)?;
            } else {
                print_out(&sitrep::coref_eval::render(&r))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Candidates { paths, text } => {
            let cfg = load_config_for_stages(cli.config.as_deref())?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let n = sitrep::labels::candidates_command(&cfg, &paths, text, &mut out)?;
            std::io::Write::flush(&mut out)?;
            tracing::info!(candidates = n, "Candidates listed.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { file } => {
            let cfg = load_config_for_stages(cli.config.as_deref())?;
            let json = sitrep::explain(&cfg, &file)?;
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest {
            paths,
            state,
            quiet,
        } => {
            let cfg = load_config_for_stages(cli.config.as_deref())?;
            let situation = sitrep::ingest(&cfg, &paths, !quiet)?;
            if let Some(path) = state {
                let json = serde_json::to_string_pretty(&situation.snapshot_json())?;
                std::fs::write(&path, json + "\n")
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            // The process ends here: freeing a large picture piece by piece would only
            // delay the exit (by about 2% of a whole-corpus run); the system takes the
            // memory back at once.
            std::mem::forget(situation);
            std::mem::forget(cfg);
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            watch_dir,
            data_dir,
            quiet,
            listen,
        } => {
            let mut cfg = load_config_for_stages(cli.config.as_deref())?;
            if let Some(l) = listen {
                cfg.api.listen = l;
            }
            if let Ok(t) = std::env::var("SITREP_API_TOKEN") {
                cfg.api.token = Some(t).filter(|t| !t.is_empty());
            }
            if let Some(w) = watch_dir {
                cfg.source.watch_dir = w;
            }
            if let Some(d) = data_dir {
                cfg.events.data_dir = d;
            }
            if quiet {
                cfg.events.stdout = false;
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(sitrep::run(cfg, sitrep::shutdown::signal()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints a line to stdout; a reader that went away (`| head`) ends the output quietly.
fn print_out(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("journal: {0}")]
        Journal(#[from] std::io::Error),
    }

    #[test]
    fn a_cause_named_in_its_error_is_said_once() {
        let io = std::io::Error::other("data/LOCK: in use");
        let err = anyhow::Error::from(Outer::from(io)).context("starting");
        assert_eq!(error_chain(&err), "starting: journal: data/LOCK: in use");
        let plain = anyhow::anyhow!("no such folder").context("reading the config");
        assert_eq!(error_chain(&plain), "reading the config: no such folder");
    }
}
