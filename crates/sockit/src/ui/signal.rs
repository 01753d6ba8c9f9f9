//! Graceful shutdown on Ctrl-C (SIGINT) and SIGTERM.

/// Completes when the process receives SIGINT or SIGTERM.
///
/// Servers select on this to stop accepting, close their clients and exit 0 instead of
/// being killed mid-write. If a handler cannot be installed the corresponding signal keeps
/// its default action (terminate), which is still a way out.
pub async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let int = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = term => {}
        () = int => {}
    }
}
