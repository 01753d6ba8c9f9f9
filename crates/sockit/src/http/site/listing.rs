//! Folder listings as an HTML page (sortable without JavaScript) or as JSON.
//!
//! Reading a folder can take a while on a big or slow file system, so the connection
//! loop reads and renders folders on tokio's blocking pool, never on the event loop.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use std::sync::Arc;

use super::path::encode_segment;
use super::store::files::{self, FileInfo};
use super::Site;
use crate::http::proto::response as resp;
use crate::http::server::{Io, Reply, Sent};

/// A folder listing to read and render off the event loop.
#[derive(Debug)]
pub struct ListingPlan {
    /// Folder, relative to the root.
    pub rel: Vec<u8>,
    /// The encoded request path (for links and the title).
    pub url_path: Vec<u8>,
    /// Sorting and format.
    pub query: ListingQuery,
    /// JSON instead of HTML.
    pub json: bool,
    /// HEAD: headers only.
    pub head_only: bool,
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Column to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// File name (byte order).
    Name,
    /// Size in bytes.
    Size,
    /// Modification time.
    Mtime,
}

/// `?sort=name|size|mtime&order=asc|desc&format=json|html`, with defaults for anything
/// missing or unknown (a bad query still gets a page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingQuery {
    /// Sort column.
    pub sort: SortKey,
    /// Descending order.
    pub desc: bool,
    /// `Some(true)` for `format=json`, `Some(false)` for `format=html`, else negotiate.
    pub json: Option<bool>,
    /// Gzip the page (`--compress` and the client accepts gzip); not from the query.
    pub gzip: bool,
}

impl ListingQuery {
    /// Parses the query string.
    pub fn parse(query: Option<&[u8]>) -> ListingQuery {
        let mut q = ListingQuery {
            sort: SortKey::Name,
            desc: false,
            json: None,
            gzip: false,
        };
        for pair in query.unwrap_or(b"").split(|&b| b == b'&') {
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            match (k, v) {
                (b"sort", b"name") => q.sort = SortKey::Name,
                (b"sort", b"size") => q.sort = SortKey::Size,
                (b"sort", b"mtime") => q.sort = SortKey::Mtime,
                (b"order", b"asc") => q.desc = false,
                (b"order", b"desc") => q.desc = true,
                (b"format", b"json") => q.json = Some(true),
                (b"format", b"html") => q.json = Some(false),
                _ => {}
            }
        }
        q
    }
}

/// One row of a listing.
#[derive(Debug, Clone)]
pub struct Item {
    /// File name as stored.
    pub name: Vec<u8>,
    /// Metadata (of the symlink target for symlinks that stay inside the root).
    pub info: FileInfo,
}

/// Reads the entries of folder `rel`, leaving out what a client may not see: dot-files
/// (unless `--hidden`), symlinks leading out of the root (unless `--follow-symlinks`),
/// and anything that is neither a file nor a folder.
pub fn read(site: &Site, rel: &[u8]) -> std::io::Result<Vec<Item>> {
    let (dir, info) =
        files::open(&site.root, rel, site.config.follow_symlinks).map_err(|e| match e {
            files::OpenError::Io(e) => e,
            _ => std::io::Error::from(std::io::ErrorKind::NotFound),
        })?;
    if !info.is_dir {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    let mut items = Vec::new();
    let mut reader = rustix::fs::Dir::read_from(&dir)?;
    while let Some(entry) = reader.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." || (name.first() == Some(&b'.') && !site.config.hidden) {
            continue;
        }
        let st = match rustix::fs::statat(
            &dir,
            OsStr::from_bytes(name),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        ) {
            Ok(st) => st,
            Err(_) => continue,
        };
        let info = match FileInfo::from_stat(&st) {
            Some(i) => i,
            None if rustix::fs::FileType::from_raw_mode(st.st_mode)
                == rustix::fs::FileType::Symlink =>
            {
                let mut path = rel.to_vec();
                if !path.is_empty() {
                    path.push(b'/');
                }
                path.extend_from_slice(name);
                match files::open(&site.root, &path, site.config.follow_symlinks) {
                    Ok((f, _)) if !site.config.hidden && files::resolves_hidden(&site.root, &f) => {
                        continue
                    }
                    Ok((_, i)) => i,
                    Err(_) => continue,
                }
            }
            None => continue,
        };
        items.push(Item {
            name: name.to_vec(),
            info,
        });
    }
    Ok(items)
}

/// Sorts in place by the query's column, ties broken by name.
pub fn sort(items: &mut [Item], q: ListingQuery) {
    items.sort_by(|a, b| {
        let by = match q.sort {
            SortKey::Name => std::cmp::Ordering::Equal,
            SortKey::Size => size_of(a).cmp(&size_of(b)),
            SortKey::Mtime => {
                (a.info.mtime, a.info.mtime_nsec).cmp(&(b.info.mtime, b.info.mtime_nsec))
            }
        };
        let o = by.then_with(|| a.name.cmp(&b.name));
        if q.desc {
            o.reverse()
        } else {
            o
        }
    });
}

fn size_of(i: &Item) -> u64 {
    if i.info.is_dir {
        0
    } else {
        i.info.size
    }
}

/// The JSON listing: `[{"name","size","modified","type"}]`.
pub fn json(items: &[Item]) -> Vec<u8> {
    let arr: Vec<serde_json::Value> = items
        .iter()
        .map(|i| {
            serde_json::json!({
                "name": String::from_utf8_lossy(&i.name),
                "size": size_of(i),
                "modified": i.info.mtime,
                "type": if i.info.is_dir { "dir" } else { "file" },
            })
        })
        .collect();
    let mut out = serde_json::to_vec(&arr).unwrap_or_else(|_| b"[]".to_vec());
    out.push(b'\n');
    out
}

fn push_time(out: &mut String, secs: i64) {
    let iso = crate::http::proto::date::iso_time(secs.max(0) as u64);
    // "2026-11-22T01:53:07Z" -> "2026-11-22 01:53:07"
    out.push_str(&iso.replace('T', " ").replace('Z', ""));
}

/// The HTML listing page.
pub fn html(items: &[Item], url_path: &[u8], q: ListingQuery, upload_form: bool) -> Vec<u8> {
    let mut decoded = percent_encoding::percent_decode(url_path)
        .decode_utf8_lossy()
        .into_owned();
    if !decoded.ends_with('/') {
        decoded.push('/');
    }
    let mut title = String::new();
    html_escape(&decoded, &mut title);
    let mut o = String::with_capacity(1024 + items.len() * 160);
    o.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    o.push_str("<title>Index of ");
    o.push_str(&title);
    o.push_str("</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em}");
    o.push_str("table{border-collapse:collapse}th,td{padding:.2em 1em;text-align:left}");
    o.push_str(
        "td.size{text-align:right}th a{color:inherit}</style></head>\n<body>\n<h1>Index of ",
    );
    o.push_str(&title);
    o.push_str("</h1>\n");
    if upload_form {
        o.push_str("<form method=\"post\" enctype=\"multipart/form-data\">");
        o.push_str("<input type=\"file\" name=\"file\" multiple> <button type=\"submit\">Upload</button></form>\n");
    }
    o.push_str("<table>\n<thead><tr>");
    for (key, label) in [
        (SortKey::Name, "Name"),
        (SortKey::Size, "Size"),
        (SortKey::Mtime, "Modified"),
    ] {
        let name = match key {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Mtime => "mtime",
        };
        // Clicking the active column flips the order; another column starts ascending.
        let desc = q.sort == key && !q.desc;
        let arrow = match (q.sort == key, q.desc) {
            (true, false) => " \u{25b2}",
            (true, true) => " \u{25bc}",
            _ => "",
        };
        o.push_str(&format!(
            "<th><a href=\"?sort={name}&amp;order={}\">{label}{arrow}</a></th>",
            if desc { "desc" } else { "asc" }
        ));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    if decoded != "/" {
        o.push_str("<tr><td><a href=\"../\">..</a></td><td class=\"size\"></td><td></td></tr>\n");
    }
    for i in items {
        let display = String::from_utf8_lossy(&i.name);
        let mut href = encode_segment(&i.name);
        let mut label = String::new();
        html_escape(&display, &mut label);
        if i.info.is_dir {
            href.push('/');
            label.push('/');
        }
        o.push_str("<tr><td><a href=\"");
        o.push_str(&href);
        o.push_str("\">");
        o.push_str(&label);
        o.push_str("</a></td><td class=\"size\">");
        if i.info.is_dir {
            o.push('-');
        } else {
            o.push_str(&i.info.size.to_string());
        }
        o.push_str("</td><td>");
        push_time(&mut o, i.info.mtime);
        o.push_str("</td></tr>\n");
    }
    o.push_str("</tbody>\n</table>\n</body></html>\n");
    o.into_bytes()
}

/// Builds the listing on the blocking pool and renders the response into the write
/// buffer.
pub async fn respond(site: &Arc<Site>, io: &mut Io, p: ListingPlan, reply: Reply) -> Sent {
    let s = site.clone();
    let ListingPlan {
        rel,
        url_path,
        query,
        json: json_format,
        head_only,
    } = p;
    let close = reply.close;
    let built = tokio::task::spawn_blocking(move || {
        let mut items = read(&s, &rel)?;
        sort(&mut items, query);
        let body = if json_format {
            json(&items)
        } else {
            html(&items, &url_path, query, s.config.write)
        };
        if query.gzip && body.len() as u64 >= super::COMPRESS_MIN {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&body)?;
            return Ok((enc.finish()?, true));
        }
        Ok::<_, std::io::Error>((body, false))
    })
    .await;
    let fin = site.finish_late(reply, close);
    let sent = |status, bytes| Sent {
        status,
        bytes,
        close,
    };
    let (body, gzipped) = match built {
        Ok(Ok(b)) => b,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return sent(404, resp::error(io.out(), 404, head_only, b"", fin))
        }
        _ => return sent(500, resp::error(io.out(), 500, head_only, b"", fin)),
    };
    let w = io.out();
    resp::start(w, 200);
    w.extend_from_slice(if json_format {
        b"Content-Type: application/json\r\n"
    } else {
        b"Content-Type: text/html; charset=utf-8\r\n"
    });
    if gzipped {
        w.extend_from_slice(b"Content-Encoding: gzip\r\n");
    }
    if site.config.compress {
        w.extend_from_slice(b"Vary: Accept, Accept-Encoding\r\n");
    } else {
        w.extend_from_slice(b"Vary: Accept\r\n");
    }
    resp::content_length(w, body.len() as u64);
    resp::finish(w, fin);
    if head_only {
        return sent(200, 0);
    }
    w.extend_from_slice(&body);
    sent(200, body.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, size: u64, mtime: i64, is_dir: bool) -> Item {
        Item {
            name: name.as_bytes().to_vec(),
            info: FileInfo {
                size,
                mtime,
                mtime_nsec: 0,
                ino: 1,
                dev: 1,
                is_dir,
            },
        }
    }

    #[test]
    fn query_parsing_with_defaults() {
        let q = ListingQuery::parse(Some(b"sort=size&order=desc&format=json"));
        assert_eq!((q.sort, q.desc, q.json), (SortKey::Size, true, Some(true)));
        let q = ListingQuery::parse(Some(b"sort=bogus&x"));
        assert_eq!((q.sort, q.desc, q.json), (SortKey::Name, false, None));
    }

    #[test]
    fn sorting() {
        let mut v = vec![
            item("b", 1, 3, false),
            item("a", 3, 1, false),
            item("c", 2, 2, true),
        ];
        sort(&mut v, ListingQuery::parse(Some(b"sort=size")));
        assert_eq!(v.iter().map(|i| i.name[0]).collect::<Vec<_>>(), b"cba");
        sort(&mut v, ListingQuery::parse(Some(b"sort=mtime&order=desc")));
        assert_eq!(v.iter().map(|i| i.name[0]).collect::<Vec<_>>(), b"bca");
        sort(&mut v, ListingQuery::parse(None));
        assert_eq!(v.iter().map(|i| i.name[0]).collect::<Vec<_>>(), b"abc");
    }

    #[test]
    fn html_escapes_names_and_encodes_links() {
        let v = vec![item("<x>&\"y z#.txt", 5, 0, false), item("d", 0, 0, true)];
        let page =
            String::from_utf8(html(&v, b"/sub%20dir/", ListingQuery::parse(None), true)).unwrap();
        assert!(page.contains("href=\"%3Cx%3E%26%22y%20z%23.txt\""));
        assert!(page.contains("&lt;x&gt;&amp;&quot;y z#.txt"));
        assert!(page.contains("<a href=\"d/\">d/</a>"));
        assert!(page.contains("<a href=\"../\">..</a>"));
        assert!(page.contains("Index of /sub dir/"));
        assert!(page.contains("enctype=\"multipart/form-data\""));
        assert!(page.contains("<input type=\"file\" name=\"file\" multiple>"));
        assert!(!page.contains("<x>"));
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        html_escape("<a href=\"x\">&'", &mut s);
        assert_eq!(s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn json_shape() {
        let v = vec![item("f", 5, 7, false), item("d", 4096, 8, true)];
        let parsed: serde_json::Value = serde_json::from_slice(&json(&v)).unwrap();
        assert_eq!(parsed[0]["name"], "f");
        assert_eq!(parsed[0]["size"], 5);
        assert_eq!(parsed[0]["modified"], 7);
        assert_eq!(parsed[0]["type"], "file");
        assert_eq!(parsed[1]["type"], "dir");
    }
}
