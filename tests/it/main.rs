//! End-to-end tests: the real `sitrep` binary on temporary folders.
//!
//! * `ingest`: one-shot runs over fixture reports: status progression, lagging reports,
//!   reversals, aliases, hedges and negation, duplicates, bad input, arrival order.
//! * `daemon`: `sitrep run` watching a folder: files already there, files dropped while it
//!   runs, bad input, duplicates, the events file, SIGTERM.
//! * `badinput`: every kind of bad input against the daemon: other encodings, the size
//!   cap, files still being written, vanished and unreadable files, link loops, FIFOs,
//!   malformed headers, odd names, a burst of thousands, the folder of rejected files.
//! * `seeds`: the seed story from `../shared/seeds` (skipped when that folder is absent).
//! * `neardup`: near duplicates against the daemon: a republication with an added
//!   paragraph, a report of the same shape about another place, the index after restarts.
//! * `restart`: restarts and `kill -9` crashes: nothing lost or repeated, the same picture.
//! * `retract`: retracting a report on the daemon and offline: the status goes back once,
//!   and restarts keep it.
//! * `api`: the HTTP API: streams, resumption, snapshots, filters, fan-out, lag, token.
//! * `cli`: `check-config` and flag handling.
//! * `edges`: the API as clients the project did not write meet it: a real headless
//!   Chromium on another origin (CORS, `EventSource`, WebSocket subprotocol and closes),
//!   WebSocket closing handshakes, pasted ids, refused filters and positions, event
//!   identity across data folders, the `Bearer` scheme, JSON errors, the report list.
//! * `board`: the situation board in a real headless Chromium.
//! * `browser`: the headless Chromium those tests drive (skipped without one unless
//!   `SITREP_REQUIRE_BROWSER` is set).

mod api;
mod badinput;
mod board;
mod browser;
mod cli;
mod daemon;
mod edges;
mod ingest;
mod neardup;
mod restart;
mod retract;
mod seeds;
mod support;
