//! Writing captures as pcap files, the format tcpdump (`-r`) and Wireshark read.
//!
//! A pcap file is a 24-byte global header (magic number, version, snap length, link
//! type: Ethernet here) followed by one record per packet: a timestamp, the captured
//! and original lengths, and the frame's bytes. The `pcap-file` crate writes both.

use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

use super::filter::SNAPLEN;

/// A pcap file being written; [`PcapFile::finish`] flushes it.
pub struct PcapFile {
    writer: PcapWriter<BufWriter<File>>,
}

fn to_io(e: pcap_file::PcapError) -> io::Error {
    match e {
        pcap_file::PcapError::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

impl PcapFile {
    /// Creates (or truncates) `path` and writes the global header (Ethernet link type).
    pub fn create(path: &Path) -> io::Result<PcapFile> {
        let file = BufWriter::new(File::create(path)?);
        let header = PcapHeader {
            snaplen: SNAPLEN,
            datalink: DataLink::ETHERNET,
            ..PcapHeader::default()
        };
        let writer = PcapWriter::with_header(file, header).map_err(to_io)?;
        Ok(PcapFile { writer })
    }

    /// Appends one frame captured at `time`.
    pub fn write(&mut self, frame: &[u8], time: SystemTime) -> io::Result<()> {
        let ts = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        self.writer
            .write_packet(&PcapPacket::new(ts, len, frame))
            .map_err(to_io)?;
        Ok(())
    }

    /// Flushes everything to the file: after this the file is complete.
    pub fn finish(self) -> io::Result<()> {
        let mut inner = self.writer.into_writer();
        inner.flush()?;
        inner.get_ref().sync_all()
    }
}
