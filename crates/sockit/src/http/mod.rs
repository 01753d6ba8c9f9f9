//! HTTP/1.1: message parsing, connection loop, static files, client.
