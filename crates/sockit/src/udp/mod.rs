//! UDP send, listen and broadcast.
