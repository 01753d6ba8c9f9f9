//! Graceful shutdown on Ctrl-C (SIGINT) and SIGTERM.

use std::future::Future;

/// A future that completes when the process receives SIGINT or SIGTERM.
///
/// The handlers are installed when this function is called, not when the future is
/// first polled: call it before announcing readiness ("listening on ..."), so that a
/// supervisor or a test sending SIGTERM right after reading that line gets a graceful
/// stop, not the default action (death by signal). Must be called inside a tokio
/// runtime. If a handler cannot be installed, that signal keeps its default action
/// (terminate), which is still a way out.
pub fn shutdown() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        let term = async {
            match term {
                Some(mut stream) => {
                    stream.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let int = async {
            match int {
                Some(mut stream) => {
                    stream.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = term => {}
            () = int => {}
        }
    }
}
