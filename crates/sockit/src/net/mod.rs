//! Addresses, socket building (socket2) and socket information.
