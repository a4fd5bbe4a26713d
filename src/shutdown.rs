//! The shutdown signal: SIGINT (Ctrl-C) or SIGTERM, whichever comes first.
//!
//! The first signal starts a graceful stop (intake stops, stages drain, the journal is
//! flushed and a snapshot written). A second one exits at once: the journal makes that as
//! safe as a crash, and someone pressing Ctrl-C twice wants the terminal back.

use tracing::{info, warn};

async fn any_signal() -> &'static str {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // Without a handler we can still be stopped by SIGTERM.
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => "Interrupt",
        () = term => "Terminate",
    }
}

/// Resolves on the first SIGINT or SIGTERM; a second one ends the process.
pub async fn signal() {
    let which = any_signal().await;
    info!("{which} received; shutting down.");
    tokio::spawn(async {
        let again = any_signal().await;
        warn!("{again} received again; exiting without draining (the journal has everything published).");
        std::process::exit(130);
    });
}
