// Package processor turns a stream of captured packets into per-call and
// rotating pcap files and the events that report them.
//
// It owns the call table (Call-ID → call), the media index (SDP endpoint →
// call), call lifecycle on packet time, the per-call and "other" writers,
// the open-file cache. It reports what it writes as the events of package
// event, handed to Config.Emit.
//
// # Flow
//
// Processor.Packet hands each packet to a decode.Decoder, which emits units
// (a UDP datagram, a TCP-framed message, or packets that carry neither).
// A unit whose payload is SIP is parsed; a message of an INVITE dialog goes
// to its call's SIP file, other SIP to the "other" files. A UDP unit to or
// from an endpoint that a call's SDP announced goes to that call's RTP
// file. Everything else goes to the "other" files.
//
// # Time
//
// Packet time is the clock: every timeout (grace, idle, maximum duration,
// auth wait, rotation age and idle) is measured against capture
// timestamps. Before each packet, the calls and files whose time has come
// by that packet's time are ended. A packet more than clockJump from the
// clock is held until the packets after it confirm a jump (the clock then
// moves to it, forwards or backwards) or refute it (it is then a stray,
// processed as of the clock); see clock.go. Otherwise the clock never
// goes back: an older packet is counted as out of order.
//
// # Concurrency
//
// A Processor is used by one goroutine, which also runs Config.Emit for
// every event, in order. Counters may be read from any goroutine. Two
// goroutines of its own work beside it: Run reads the Source on one
// (run.go), and the file cache's writer makes the write(2)s of full
// buffers and the closes (and compression) of finished files on the other
// (writer.go), in the order they were decided; a file's event waits until
// the writer closed it. So reading, processing and writing use up to
// three cores, and the output is what one loop would make.
//
// # Files
//
//	<out>/calls/YYYY-MM-DD/HH/<HHMMSS>_<callid>/<callid>_sip.pcap, _sip_1.pcap, ...
//	                                            <callid>_rtp.pcap, _rtp_1.pcap, ...
//	<out>/other/YYYY-MM-DD/<YYYYMMDD_HHMMSS>.pcap
//
// Dates and times are the first packet's, in UTC or Config.Location.
// YYYY-MM-DD/HH is Config.CallsLayout, DefaultCallsLayout by default (see
// Layout). <callid> is SafeName of the Call-ID. At most Config.MaxOpenFiles files are open at once; others
// are closed and reopened for append as needed, which fires no event.
//
// Everything is created beneath Config.OutputDir, which New resolves and
// opens once; nothing below it is reached through a symlink, reopens
// included: a symlink where lc expects a directory or a file is a write
// error ("refusing to follow symlink"), and a call whose directory cannot
// be made writes nothing while its event.CallCompleted keeps the absolute
// directory it was meant to have.
//
// # Crashes
//
// With a Config.Ledger, every call and file the processor opens is
// recorded there (and ended by whoever makes the event that reports it
// durable), so that after a crash Recover can repair the files that were
// open (cut a half-written last record) and report them and their calls
// as "interrupted" (ledger.go, recover.go, repair.go).
//
// A write that fails is reported, not passed off: the file is cut back to
// its last complete record and its event.FileClosed says what it holds and why
// (see event.FileClosed); the call's event.CallCompleted is Incomplete.
package processor
