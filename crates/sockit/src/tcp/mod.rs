//! TCP client and server.
