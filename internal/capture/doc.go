// Package capture reads packets from capture inputs: classic pcap files in
// either byte order and resolution, pcapng files (several sections, several
// interfaces with their own link types and timestamp resolutions), and
// standard input in either format. A Merger combines several inputs into one
// stream in timestamp order.
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
// # Ownership and concurrency
//
// Packet.Data is allocated afresh for every packet and belongs to the
// caller, who may keep it for as long as needed. A File or Merger is used by
// one goroutine: Next, Progress and Close are not safe for concurrent use.
// The package starts no goroutines.
package capture
