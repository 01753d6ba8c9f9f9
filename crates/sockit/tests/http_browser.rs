//! `sockit http serve` in a real browser: headless Chromium opens the listing page,
//! follows links like a user clicking them, and uploads a file through the listing's form.
//!
//! Chromium is driven over its DevTools protocol (CDP) by a small Python script that uses
//! only the standard library (including a minimal WebSocket client), so the test needs no
//! extra Rust crates and no Python packages. It skips with a printed reason when
//! `/usr/bin/chromium` is missing (.ci/run installs it).

mod http_common;

use http_common::*;
use std::path::Path;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The CDP driver: argv = CHROMIUM BASE_URL UPLOAD_FILE PROFILE_DIR; prints one JSON object.
const DRIVER: &str = r###"
import base64, json, os, signal, socket, struct, subprocess, sys, time, urllib.request

chromium, base, upload_file, profile = sys.argv[1:5]


def _timeout(*_):
    raise TimeoutError("browser driver timed out")


signal.signal(signal.SIGALRM, _timeout)
signal.alarm(90)  # never hang the test suite; the finally below still closes the browser


class WebSocket:
    """Just enough RFC 6455 for CDP: text frames out (masked), text frames in."""

    def __init__(self, url):
        hostport, path = url[len("ws://"):].split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake failed: %r" % head)
        self.next_id = 0
        self.events = []

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError("websocket closed by the browser")
        self.buf += chunk

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, data):
        hdr = bytearray([0x80 | opcode])
        n = len(data)
        if n < 126:
            hdr.append(0x80 | n)
        elif n < 65536:
            hdr.append(0x80 | 126)
            hdr += struct.pack(">H", n)
        else:
            hdr.append(0x80 | 127)
            hdr += struct.pack(">Q", n)
        mask = os.urandom(4)
        hdr += mask
        self.sock.sendall(bytes(hdr) + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        parts = []
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._take(8))[0]
            mask = self._take(4) if b1 & 0x80 else None
            data = self._take(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            op = b0 & 0x0F
            if op == 0x9:
                self._send_frame(0xA, data)
                continue
            if op == 0x8:
                raise RuntimeError("websocket close frame")
            if op in (0x1, 0x2, 0x0):
                parts.append(data)
                if b0 & 0x80:
                    return json.loads(b"".join(parts).decode())

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self._send_frame(0x1, json.dumps({"id": my_id, "method": method, "params": params}).encode())
        while True:
            msg = self.recv()
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError("%s failed: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, name, timeout=30):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    return self.events.pop(i)
            if time.time() > deadline:
                raise RuntimeError("timed out waiting for " + name)
            self.events.append(self.recv())


def evaluate(ws, expr):
    r = ws.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
    if "exceptionDetails" in r:
        raise RuntimeError("JS error in %s: %s" % (expr, r["exceptionDetails"]))
    return r["result"].get("value")


def until_loaded(ws, action):
    """Runs action (which starts a navigation) and waits for the new page's load event."""
    ws.events.clear()
    action()
    ws.wait_event("Page.loadEventFired")


def page_state(ws):
    return evaluate(ws, "({href: location.href, title: document.title, text: document.body ? document.body.innerText : ''})")


browser = subprocess.Popen(
    [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--disable-dev-shm-usage", "--remote-allow-origins=*", "--remote-debugging-port=0",
     "--user-data-dir=" + profile, "about:blank"],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    start_new_session=True)
out = {}
try:
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 30
    while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
        if browser.poll() is not None:
            raise RuntimeError("chromium exited: " + browser.stderr.read().decode(errors="replace")[-2000:])
        if time.time() > deadline:
            raise RuntimeError("no DevToolsActivePort after 30 s")
        time.sleep(0.1)
    devtools_port = int(open(port_file).read().split("\n")[0])
    targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % devtools_port, timeout=10))
    page = next(t for t in targets if t.get("type") == "page")
    ws = WebSocket(page["webSocketDebuggerUrl"])
    ws.call("Page.enable")
    ws.call("Runtime.enable")

    # 1. The listing page.
    until_loaded(ws, lambda: ws.call("Page.navigate", url=base + "/"))
    out["root"] = page_state(ws)
    out["root_links"] = evaluate(ws, "[...document.links].map(a => a.textContent.trim())")

    # 2. Follow the link to the subfolder, then to a page in it, like a user clicking.
    click = ("(() => { const a = [...document.links].find(a => a.textContent.trim().replace(/\\/$/, '') === %s);"
             " if (!a) throw new Error('no link ' + %s); a.click(); return a.href; })()")
    until_loaded(ws, lambda: out.__setitem__("clicked_sub", evaluate(ws, click % (json.dumps("sub"), json.dumps("sub")))))
    out["sub"] = page_state(ws)
    until_loaded(ws, lambda: out.__setitem__("clicked_page", evaluate(ws, click % (json.dumps("page.html"), json.dumps("page.html")))))
    out["page"] = page_state(ws)

    # 3. Upload through the listing's form.
    until_loaded(ws, lambda: ws.call("Page.navigate", url=base + "/sub/"))
    doc = ws.call("DOM.getDocument", depth=-1)
    node = ws.call("DOM.querySelector", nodeId=doc["root"]["nodeId"], selector="input[type=file]")
    if not node.get("nodeId"):
        raise RuntimeError("no file input on the listing page")
    ws.call("DOM.setFileInputFiles", files=[upload_file], nodeId=node["nodeId"])
    submit = ("(() => { const f = document.querySelector('input[type=file]').form;"
              " if (!f) throw new Error('file input outside a form');"
              " const b = f.querySelector('[type=submit], button');"
              " if (b) b.click(); else f.requestSubmit(); return f.method + ' ' + f.enctype; })()")
    until_loaded(ws, lambda: out.__setitem__("form", evaluate(ws, submit)))
    out["after_upload"] = page_state(ws)
    try:
        ws.call("Browser.close")
    except Exception:
        pass
    print(json.dumps(out))
finally:
    try:
        browser.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(browser.pid, signal.SIGKILL)  # the process group of the browser we started
        browser.wait()
"###;

#[test]
fn chromium_browses_the_listing_and_uploads_through_the_form() {
    if !Path::new(CHROMIUM).exists() {
        skip("/usr/bin/chromium is not installed (.ci/run installs it): browser test");
        return;
    }
    let site = Site::new();
    site.write("hello.txt", "hello from sockit\n");
    site.write(
        "sub/page.html",
        "<!doctype html><html><head><title>sockit-browser-marker</title></head>\
         <body><p>reached by clicking</p></body></html>",
    );
    let upload = site.tmp.path().join("browser-upload.txt");
    std::fs::write(&upload, "uploaded by chromium\nsecond line\n").unwrap();
    let profile = tempfile::tempdir().unwrap();
    let srv = site.serve(&["--write"]);

    let base = srv.url("");
    let out = python_ok(
        DRIVER,
        &[
            CHROMIUM,
            &base,
            upload.to_str().unwrap(),
            profile.path().to_str().unwrap(),
        ],
    );
    let seen: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("driver output is not JSON ({e}): {out}"));

    // The listing shows the folder and the file as links.
    let links: Vec<String> = seen["root_links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().trim_end_matches('/').to_string())
        .collect();
    assert!(links.contains(&"sub".to_string()), "links on /: {links:?}");
    assert!(
        links.contains(&"hello.txt".to_string()),
        "links on /: {links:?}"
    );

    // Clicking "sub" then "page.html" lands on the page.
    assert_eq!(seen["sub"]["href"], format!("{base}/sub/"), "{seen}");
    assert!(
        seen["sub"]["text"].as_str().unwrap().contains("page.html"),
        "{seen}"
    );
    assert_eq!(
        seen["page"]["href"],
        format!("{base}/sub/page.html"),
        "{seen}"
    );
    assert_eq!(seen["page"]["title"], "sockit-browser-marker", "{seen}");

    // The form is a multipart POST, and the file arrived intact in the folder shown.
    assert_eq!(seen["form"], "post multipart/form-data", "{seen}");
    assert_eq!(
        std::fs::read_to_string(site.www.join("sub/browser-upload.txt"))
            .unwrap_or_else(|e| panic!("uploaded file missing ({e}); browser saw {seen}")),
        "uploaded by chromium\nsecond line\n"
    );
    assert!(
        seen["after_upload"]["href"]
            .as_str()
            .unwrap()
            .starts_with(&base),
        "{seen}"
    );
    assert!(srv
        .wait_log("\"POST /sub/ HTTP/1.1\"", std::time::Duration::from_secs(5))
        .is_some());
}
