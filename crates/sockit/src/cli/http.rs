//! `sockit http ...` command-line definitions.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// HTTP subcommands.
#[derive(Debug, Subcommand)]
pub enum HttpCommand {
    /// Serve a folder over HTTP/1.1: static files, folder listings, optional uploads.
    ///
    /// Like `python -m http.server`, built as a production server: keep-alive and
    /// pipelining, Range and conditional requests, sendfile(2) for file bodies, safe path
    /// resolution (no request can leave DIR), timeouts and limits. Prints
    /// `sockit: serving DIR on http://ADDR:PORT/` on stderr once listening, then one
    /// access-log line per request. Ctrl-C or SIGTERM stops accepting, lets in-flight
    /// responses finish (up to 10 s) and exits 0; a second one exits 130 at once,
    /// removing the temporary files of unfinished uploads.
    #[command(
        after_help = "Examples:\n  sockit http serve                      # ./ on http://127.0.0.1:8000/\n  sockit http serve public --port 0      # any free port (printed on stderr)\n  sockit http serve . --bind 0.0.0.0 --write --auth alice:s3cret\n  sockit http serve dist --spa --compress --header 'Cache-Control: no-cache'"
    )]
    Serve(ServeArgs),

    /// Fetch URLs and write their bodies to stdout (like curl, with the exact wire bytes).
    ///
    /// Several URLs are fetched in order over one kept-alive connection per server. The
    /// request head is sent exactly as described: -H lines keep their order, case and
    /// duplicates. -v shows the request head as written and the response head as read,
    /// with \r\n visible; a malformed or truncated response names the byte offset.
    #[command(after_help = CLIENT_AFTER_HELP)]
    Get(GetArgs),

    /// Like `get`, with any method: `sockit http request DELETE URL`, `OPTIONS *`, custom tokens.
    #[command(after_help = CLIENT_AFTER_HELP)]
    Request(RequestArgs),

    /// Send a hand-written request (stdin or --file) to HOST:PORT and show the raw answer.
    ///
    /// Line endings `\n` become `\r\n` unless --binary. The response is printed as
    /// received (--hex for a hexdump), then read with the client's parser: status line,
    /// fields, and how the body length was determined.
    Raw(RawArgs),
}

/// Exit codes and examples shared by the client commands.
pub const CLIENT_AFTER_HELP: &str = "Exit codes: 0 success; 1 network failure (refused, unreachable, reset, timeout, TLS); 2 usage or bad input; 3 malformed or truncated response; 4 HTTP error status under --fail.\n\nExamples:\n  sockit http get http://127.0.0.1:8000/            # body to stdout\n  sockit http get -v -o page.html http://example.com/  # wire view on stderr\n  sockit http request PUT http://h/x --data-file big.iso\n  sockit http get -L --fail http://h/a http://h/b   # two requests, one connection";

/// Options shared by `get` and `request`.
#[derive(Debug, Args, Clone)]
pub struct ClientArgs {
    /// Print the response head before the body (on stdout).
    #[arg(short = 'i', long = "include")]
    pub include: bool,

    /// Send HEAD and print the response head only.
    #[arg(short = 'I', long = "head")]
    pub head: bool,

    /// Extra header, sent exactly as typed ('Name: value'); replaces a default header of
    /// the same name (Host, User-Agent, Accept, Content-Length); 'Name:' removes it,
    /// 'Name;' sends it empty. Repeatable, order kept.
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,

    /// Send the path as written, without removing `.` and `..` segments.
    #[arg(long)]
    pub path_as_is: bool,

    /// Send TARGET as the request target instead of the URL's path, verbatim: `*` for
    /// `OPTIONS *`, an absolute URL for a proxy, a path the URL would normalise.
    #[arg(long, value_name = "TARGET")]
    pub request_target: Option<String>,

    /// Request body: text, or @FILE to read a file (loaded in memory; use --data-file
    /// for large files). Makes the default method POST.
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Option<String>,

    /// Request body streamed from FILE (never loaded whole). Makes the default method POST.
    #[arg(long, value_name = "FILE", conflicts_with = "data")]
    pub data_file: Option<PathBuf>,

    /// JSON request body (text or @FILE); sets Content-Type and Accept to application/json.
    #[arg(long, value_name = "JSON", conflicts_with_all = ["data", "data_file"])]
    pub json: Option<String>,

    /// A multipart/form-data field: 'name=value', or 'name=@FILE' to send a file
    /// (streamed, with its name and a guessed Content-Type). Repeatable; makes the
    /// default method POST.
    #[arg(short = 'F', long = "form", value_name = "NAME=VALUE|NAME=@FILE", conflicts_with_all = ["data", "data_file", "json"])]
    pub form: Vec<String>,

    /// Write the body to FILE (through a temporary file renamed when complete).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write the body to a file named after the URL's last path segment (sanitised).
    #[arg(short = 'O', long = "remote-name", conflicts_with = "output")]
    pub remote_name: bool,

    /// With -o/-O: replace an existing file (refused by default).
    #[arg(long)]
    pub clobber: bool,

    /// With -o/-O: resume an interrupted download. Its part file (.NAME.part, kept when
    /// a -C transfer fails) is continued with Range and If-Range (the saved ETag or
    /// Last-Modified); only a 206 starting exactly at the part's size is appended, a 200
    /// (the file changed, or no range support) restarts it.
    #[arg(short = 'C', long = "continue")]
    pub resume: bool,

    /// Follow redirects (301/302/303 become GET without body; 307/308 keep both).
    #[arg(short = 'L', long = "location")]
    pub location: bool,

    /// Most redirects followed with -L; 0 to 100.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_redirs: u32,

    /// HTTP Basic credentials (dropped when a redirect leaves the host).
    #[arg(short = 'u', long = "user", value_name = "USER:PASS")]
    pub user: Option<String>,

    /// Seconds for each whole exchange (connect to last byte); fractions allowed.
    #[arg(short = 'm', long = "timeout", value_name = "SECS")]
    pub timeout: Option<f64>,

    /// Seconds for resolving and connecting (default 30).
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<f64>,

    /// Use ADDR for HOST:PORT instead of DNS. Repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,

    /// Speak HTTP/1.0.
    #[arg(long = "http1.0")]
    pub http10: bool,

    /// Exit 4 on an HTTP error status (400 and above) without printing the body.
    #[arg(short = 'f', long = "fail")]
    pub fail: bool,

    /// Exit 4 on an HTTP error status, after printing the body.
    #[arg(long, conflicts_with = "fail")]
    pub fail_with_body: bool,

    /// Print a timing breakdown per request on stderr (resolve, connect, TLS, written,
    /// first byte, head, body, total).
    #[arg(long)]
    pub timing: bool,

    /// Write both directions of every connection as an offset hexdump to FILE ('-' for stdout).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// After each exchange, report findings about the response against RFC 9110/9112
    /// (severity, section, byte offset); exit 3 if any is an error.
    #[arg(long)]
    pub check: bool,

    /// Upload FILE as the body of a PUT (streamed; the URL's last segment is not changed).
    #[arg(short = 'T', long = "upload-file", value_name = "FILE", conflicts_with_all = ["data", "data_file", "json", "form"])]
    pub upload_file: Option<PathBuf>,

    /// Ask for a compressed body (Accept-Encoding: gzip, deflate, br) and decode it;
    /// -v and --trace still show the encoded bytes.
    #[arg(long)]
    pub compressed: bool,

    /// Read more URLs from FILE, one per line (blank lines and # comments skipped);
    /// they are fetched after those on the command line, over the same connection.
    #[arg(long = "urls", value_name = "FILE")]
    pub urls_file: Option<PathBuf>,

    /// Send up to N requests before reading the answers (HTTP/1.1 pipelining), on one
    /// connection per server; 1 to 1024. Bodiless requests only, not with -L, -o/-O,
    /// -C or --check. Unanswered requests are replayed if the server closes early.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub pipeline: usize,

    /// TLS options for https:// URLs.
    #[command(flatten)]
    pub tls: TlsClientArgs,

    /// The URLs to fetch, in order.
    #[arg(value_name = "URL", required_unless_present = "urls_file")]
    pub urls: Vec<String>,
}

/// Whom a TLS client trusts (https:// URLs, `raw --tls`).
#[derive(Debug, Args, Clone, Default)]
pub struct TlsClientArgs {
    /// Trust only the CA certificates in this PEM file (instead of the system's bundle).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["pin", "insecure"])]
    pub cacert: Option<PathBuf>,

    /// Trust exactly the certificate with this SHA-256 fingerprint (64 hex digits,
    /// colons allowed), whoever signed it.
    #[arg(long, value_name = "SHA256", conflicts_with = "insecure")]
    pub pin: Option<String>,

    /// Do not verify the server's certificate: the connection is encrypted but anyone
    /// in the middle can read and change it. A warning is printed.
    #[arg(short = 'k', long)]
    pub insecure: bool,
}

/// Options of `sockit http get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Client options and URLs.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Options of `sockit http request`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The method, sent as given (GET, POST, PUT, DELETE, OPTIONS, TRACE, PATCH, or any token).
    #[arg(value_name = "METHOD")]
    pub method: String,

    /// Client options and URLs.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Options of `sockit http raw`.
#[derive(Debug, Args)]
pub struct RawArgs {
    /// Where to send it.
    #[arg(value_name = "HOST:PORT")]
    pub target: String,

    /// Read the request from FILE instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Send the bytes unchanged (no \n -> \r\n conversion).
    #[arg(long)]
    pub binary: bool,

    /// Print the response as a hexdump with offsets.
    #[arg(long)]
    pub hex: bool,

    /// Also report findings against RFC 9110/9112; exit 3 on an error.
    #[arg(long)]
    pub check: bool,

    /// Seconds to wait for the response (default 10).
    #[arg(
        short = 'm',
        long = "timeout",
        value_name = "SECS",
        default_value_t = 10.0
    )]
    pub timeout: f64,

    /// Speak TLS (HTTPS) to the server; the host name is sent as SNI and verified.
    #[arg(long)]
    pub tls: bool,

    /// TLS trust options (with --tls).
    #[command(flatten)]
    pub trust: TlsClientArgs,
}

/// How new connections are spread over the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpreadArg {
    /// To the worker matching the CPU the connection's handshake arrived on (its NIC
    /// queue's CPU; on loopback, the client thread's): fewer cross-CPU wake-ups.
    Cpu,
    /// By the kernel's hash of addresses and ports (plain SO_REUSEPORT).
    Hash,
}

/// Access log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    /// Common Log Format: `127.0.0.1 - - [22/Nov/2026:01:53:07 +0000] "GET /x HTTP/1.1" 200 1234`.
    #[value(alias = "clf")]
    Common,
    /// One JSON object per line (time, remote, user, method, path, version, status, bytes).
    Json,
}

/// Options of `sockit http serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Folder to serve. Requests can never reach outside it (`..`, encoded slashes,
    /// symlinks leading out are all refused).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Address to listen on. The default only accepts connections from this machine;
    /// use 0.0.0.0 (or ::) to share the folder on the network.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: String,

    /// Port to listen on; 0 picks a free port (the startup line shows which).
    #[arg(
        short,
        long,
        value_name = "PORT",
        default_value_t = 8000,
        allow_hyphen_values = true
    )]
    pub port: u16,

    /// Allow changes: PUT creates or replaces a file (201 / 204; missing parent folders
    /// inside DIR are created), DELETE removes a file (204 / 404; a folder: 409), POST takes
    /// multipart/form-data uploads from the listing page's form (303 back to the
    /// listing for browsers, 201 with a JSON list of stored names for other clients); a
    /// form upload never replaces a file, a taken name is stored as `name (1).ext`.
    /// Without it those methods answer 405.
    #[arg(long)]
    pub write: bool,

    /// Answer TRACE by echoing the request head as message/http (credentials removed).
    /// Off by default (405), since echoing headers can help cross-site attacks.
    #[arg(long)]
    pub allow_trace: bool,

    /// Add `Access-Control-Allow-Origin: *` to every response and answer CORS preflight
    /// OPTIONS requests, so pages on other origins can fetch from this server.
    #[arg(long)]
    pub cors: bool,

    /// Extra response header added to every response, as 'Name: value'. Repeatable. A
    /// name the server sends itself (Server, Content-Type, Cache-Control, ...) replaces
    /// that header; Content-Length, Transfer-Encoding, Connection and Date are refused,
    /// since they frame each response.
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,

    /// Single-page application mode: GET/HEAD for a path that is not a file serves the
    /// root index.html (client-side routing), instead of 404.
    #[arg(long)]
    pub spa: bool,

    /// Serve and list dot-files (any path segment starting with '.'); hidden (404) by default.
    #[arg(long)]
    pub hidden: bool,

    /// Follow symlinks that point outside DIR. By default they are refused with 403
    /// (symlinks that stay inside DIR always work).
    #[arg(long)]
    pub follow_symlinks: bool,

    /// Gzip text responses (HTML, CSS, JS, JSON, SVG, ...) of 1 KiB or more on the fly
    /// when the client accepts gzip. Precompressed FILE.gz / FILE.br siblings are always
    /// used when present, with or without this flag.
    #[arg(long)]
    pub compress: bool,

    /// Require HTTP Basic authentication with these credentials (401 otherwise).
    /// Basic auth sends the password in clear text: only use it on trusted networks.
    #[arg(long, value_name = "USER:PASS")]
    pub auth: Option<String>,

    /// Largest upload accepted (PUT/POST body), in bytes or with K, M, G suffixes
    /// (binary: 1M = 1048576). Larger bodies get 413, checked against Content-Length
    /// before reading and while streaming chunked bodies.
    #[arg(long, value_name = "SIZE", default_value = "1G")]
    pub max_upload: String,

    /// Seconds a client has to send a complete request head once it started one; then
    /// 408 and close (defeats slowloris). A connection that sends nothing at all is
    /// closed silently after this long. 1 to 31536000 (one year).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub header_timeout: u64,

    /// Seconds an idle keep-alive connection is kept open (then closed silently); also
    /// the longest a body upload or a response download may stall. 1 to 31536000.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub idle_timeout: u64,

    /// Most simultaneous connections; beyond it new clients get 503 with Retry-After: 1
    /// and are closed right away, not queued.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_connections: usize,

    /// No access log (startup line and errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,

    /// Access log format on stderr.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "common")]
    pub log_format: LogFormatArg,

    /// Worker threads, each with its own event loop and listening socket
    /// (SO_REUSEPORT). Default: one per CPU core; at most 1024. A worker more than 16 connections
    /// (plus half the other's load) ahead of the least busy one hands new connections
    /// to it.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// How new connections are spread over the workers: cpu (to the worker matching the
    /// CPU the handshake arrived on, fewer cross-CPU wake-ups) or hash (the kernel's
    /// hash of addresses and ports).
    #[arg(long, value_enum, value_name = "HOW", default_value = "cpu")]
    pub spread: SpreadArg,

    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS with a throw-away CA and a leaf certificate generated now for
    /// localhost, 127.0.0.1, ::1 and the --bind address. Prints the leaf's SHA-256
    /// fingerprint (for --pin) and writes the CA certificate to a file whose path is
    /// printed (for --cacert, curl --cacert); the CA's key is never stored.
    #[arg(long)]
    pub tls_self_signed: bool,

    /// Where --tls-self-signed writes the CA certificate (default: a new file in the
    /// temporary folder). Never replaces an existing file.
    #[arg(long, value_name = "FILE", requires = "tls_self_signed")]
    pub tls_ca_out: Option<PathBuf>,
}
