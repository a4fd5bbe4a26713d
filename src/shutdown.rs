//! The shutdown signal: SIGINT (Ctrl-C) or SIGTERM, whichever comes first.

use tracing::info;

/// Resolves on the first SIGINT or SIGTERM.
pub async fn signal() {
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
        () = ctrl_c => info!("Interrupt received; shutting down."),
        () = term => info!("Terminate received; shutting down."),
    }
}
