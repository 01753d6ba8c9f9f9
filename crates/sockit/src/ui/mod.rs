//! Output helpers: human text on stderr, data on stdout, JSON events.
