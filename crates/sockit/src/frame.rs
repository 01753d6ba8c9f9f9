//! Message framing codecs: the cure for TCP's "sticky packets".
