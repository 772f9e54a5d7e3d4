// Package capture reads packets from capture inputs: classic pcap files in
// either byte order and resolution, pcapng files (several sections, several
// interfaces with their own link types and timestamp resolutions), and
// standard input in either format. A Merger combines several inputs into one
// stream in timestamp order.
//
// # Compressed input
//
// An input compressed with gzip or zstd is recognised by its magic number,
// whatever its name, and decompressed as it is read: beside two read
// buffers, memory is the decoder's window (32 KiB for gzip, what the frame
// asks up to 128 MiB for zstd), never the whole input. gzip members and
// zstd frames that follow one another, as cat joins files, are read as one
// stream. An uncompressed input passes through no decoder and no extra
// copy: the buffer that found its magic number reads it.
//
// # Sources
//
// Both File and Merger have the shape
//
//	Next() (Packet, error)
//
// returning io.EOF at the end. Consumers declare that one-method interface
// themselves, so other sources (a live interface, for one) fit in beside
// these.
//
// # Errors
//
// A File checks structure, not contents. An input that ends inside a record
// yields an error wrapping ErrTruncated; impossible lengths and mismatched
// block trailers yield one wrapping ErrCorrupt. Both name the path, the
// frame number and the byte offset, and end the File. A Merger records such
// errors as Problems and continues with its other inputs.
//
// For compressed input the errors name the compression after the path and
// the offset counts uncompressed bytes. A compressed stream that ends early
// is ErrTruncated, as a cut-off record is; data the decoder refuses (a bad
// checksum, garbage after the last member) is ErrCorrupt. The packets
// decoded before either are good. Read errors of the input are returned as
// they are.
//
// # Ownership and concurrency
//
// Packet.Data is allocated afresh for every packet and belongs to the
// caller, who may keep it for as long as needed. A File or Merger is used by
// one goroutine: Next, Progress and Close are not safe for concurrent use.
// The package starts no goroutines: compressed input is decoded on the
// goroutine that calls Next.
package capture
