//! `sockit::http` used as a library: the server reports through the caller's sinks,
//! stops when the caller's shutdown future completes, and never prints or exits.
//! Driven by Python's `http.client`, like the binary's tests.

mod http_common;
use http_common::*;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sockit::event::{Event, Events, Level};
use sockit::http::{ConfigError, LogFormat, LogSink, ServeConfig, Server};

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_library_server_logs_to_the_callers_sink_and_stops_on_its_future() {
    let site = Site::new();
    site.write("hello.txt", "Hello, sockit!\n");
    let log = Shared::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let events = {
        let seen = seen.clone();
        Events::new(Level::Info, move |e: &Event| {
            seen.lock().unwrap().push(e.kind)
        })
    };
    let config = ServeConfig {
        root: site.www.clone(),
        addr: "127.0.0.1:0".parse().unwrap(),
        workers: 2,
        log: LogFormat::Common,
        log_to: LogSink::new(log.clone()),
        events,
        ..ServeConfig::default()
    };
    let server = Server::bind(config).expect("bind");
    let port = server.local_addr().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = std::thread::spawn(move || {
        server.run_until(async move {
            let _ = stopped.await;
        })
    });
    let script = r#"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for _ in range(3):
    c.request("GET", "/hello.txt")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"Hello, sockit!\n", r.status
print("ok")
"#;
    assert_eq!(python_ok(script, &[&port.to_string()]).trim(), "ok");
    // Buffered per worker, written within FLUSH_AFTER (200 ms).
    assert!(
        wait_cond(Duration::from_secs(5), || {
            String::from_utf8_lossy(&log.0.lock().unwrap())
                .matches("\"GET /hello.txt HTTP/1.1\" 200 15")
                .count()
                == 3
        }),
        "{}",
        String::from_utf8_lossy(&log.0.lock().unwrap())
    );
    stop.send(()).unwrap();
    running
        .join()
        .expect("server thread")
        .expect("a graceful stop is Ok");
    assert_eq!(*seen.lock().unwrap(), ["listening"]);
}

#[test]
fn bad_settings_are_refused_without_naming_flags() {
    let site = Site::new();
    let config = ServeConfig {
        root: site.www.clone(),
        addr: "127.0.0.1:0".parse().unwrap(),
        header_timeout: Duration::from_secs(u64::MAX),
        ..ServeConfig::default()
    };
    let err = Server::bind(config).expect_err("an absurd timeout must be refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<ConfigError>())
        .expect("a ConfigError inside");
    assert_eq!(*inner, ConfigError::Timeout("header timeout"));
    assert!(!err.to_string().contains("--"), "{err}");
    let config = ServeConfig {
        root: site.www.clone(),
        headers: vec![("Content-Length".into(), "5".into())],
        ..ServeConfig::default()
    };
    let err = Server::bind(config).expect_err("a framing header must be refused");
    assert!(err.to_string().contains("Content-Length"), "{err}");
}
