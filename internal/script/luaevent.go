package script

import (
	"path/filepath"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lc-voip/lc/internal/processor"
)

// pushEvent pushes the arguments of the hook function for ev and returns
// how many: (path, file) for a FileClosed, (call) for a CallCompleted.
//
// The file table has path, basename, dirname, kind, callid, part, reason,
// packets, bytes, first and last (TimeFormat strings, "" when unknown),
// first_epoch and last_epoch (seconds, with fraction; 0 when unknown),
// and error ("" unless a write failed: see processor.FileClosed).
//
// The call table has callid, dirname, caller, called, calldate and
// enddate (TimeFormat strings), calldate_epoch and enddate_epoch,
// duration (seconds, with fraction), state, status (0 when no final
// response was seen), partial, files (every pcap: SIP parts, then RTP
// parts), sip_files, rtp_files, sip_packets, rtp_packets and streams (an
// array of {media, addr, rtcp, packets}; rtcp is "" with rtcp-mux),
// incomplete and errors (an array; empty unless a write failed), and
// follows (the directory of the ended call of the same Call-ID this one
// follows, or "").
func (vm *luaVM) pushEvent(ev processor.Event) int {
	L := vm.L
	switch e := ev.(type) {
	case processor.FileClosed:
		t := L.CreateTable(0, 15)
		t.RawSetString("path", lua.LString(e.Path))
		t.RawSetString("basename", lua.LString(filepath.Base(e.Path)))
		t.RawSetString("dirname", lua.LString(filepath.Dir(e.Path)))
		t.RawSetString("kind", lua.LString(e.Kind))
		t.RawSetString("callid", lua.LString(e.CallID))
		t.RawSetString("part", lua.LNumber(e.Part))
		t.RawSetString("reason", lua.LString(e.Reason))
		t.RawSetString("packets", lua.LNumber(e.Packets))
		t.RawSetString("bytes", lua.LNumber(e.Bytes))
		setTime(t, "first", "first_epoch", e.First)
		setTime(t, "last", "last_epoch", e.Last)
		t.RawSetString("error", lua.LString(e.Error))
		L.Push(lua.LString(e.Path))
		L.Push(t)
		return 2
	case processor.CallCompleted:
		t := L.CreateTable(0, 23)
		t.RawSetString("callid", lua.LString(e.CallID))
		t.RawSetString("dirname", lua.LString(e.Dirname))
		t.RawSetString("caller", lua.LString(e.Caller))
		t.RawSetString("called", lua.LString(e.Called))
		setTime(t, "calldate", "calldate_epoch", e.CallDate)
		setTime(t, "enddate", "enddate_epoch", e.EndDate)
		t.RawSetString("duration", lua.LNumber(e.Duration().Seconds()))
		t.RawSetString("state", lua.LString(e.State))
		t.RawSetString("status", lua.LNumber(e.Status))
		t.RawSetString("partial", lua.LBool(e.Partial))
		t.RawSetString("files", vm.stringArray(e.SIPFiles, e.RTPFiles))
		t.RawSetString("sip_files", vm.stringArray(e.SIPFiles))
		t.RawSetString("rtp_files", vm.stringArray(e.RTPFiles))
		t.RawSetString("sip_packets", lua.LNumber(e.SIPPackets))
		t.RawSetString("rtp_packets", lua.LNumber(e.RTPPackets))
		streams := L.CreateTable(len(e.Streams), 0)
		streams.Metatable = vm.sandbox.arrayMeta
		for _, s := range e.Streams {
			st := L.CreateTable(0, 4)
			st.RawSetString("media", lua.LString(s.Media))
			st.RawSetString("addr", lua.LString(s.Addr))
			st.RawSetString("rtcp", lua.LString(s.RTCP))
			st.RawSetString("packets", lua.LNumber(s.Packets))
			streams.Append(st)
		}
		t.RawSetString("streams", streams)
		t.RawSetString("incomplete", lua.LBool(e.Incomplete))
		t.RawSetString("errors", vm.stringArray(e.Errors))
		t.RawSetString("follows", lua.LString(e.Follows))
		L.Push(t)
		return 1
	}
	return 0
}

// eventCost bounds the memory the arguments pushEvent makes for ev take,
// in the units of the memory estimate.
func eventCost(ev processor.Event) int64 {
	const perField = sizeStore + sizeString + sizeNumber
	switch e := ev.(type) {
	case processor.FileClosed:
		return newTableCost(0, 15) + 15*perField + 3*int64(len(e.Path)) + int64(len(e.CallID)+len(e.Error))
	case processor.CallCompleted:
		n := newTableCost(0, 23) + 5*sizeTable + 23*perField + int64(len(e.CallID)+len(e.Dirname)+len(e.Caller)+len(e.Called)+len(e.Follows))
		for _, msg := range e.Errors {
			n += sizeSlot + sizeString + int64(len(msg))
		}
		for _, f := range e.SIPFiles {
			n += 2 * (sizeSlot + sizeString + int64(len(f)))
		}
		for _, f := range e.RTPFiles {
			n += 2 * (sizeSlot + sizeString + int64(len(f)))
		}
		for _, st := range e.Streams {
			n += sizeSlot + newTableCost(0, 4) + 4*perField + int64(len(st.Media)+len(st.Addr)+len(st.RTCP))
		}
		return n
	}
	return 0
}

// stringArray returns the concatenation of lists as a Lua array that
// json.encode writes as an array even when empty.
func (vm *luaVM) stringArray(lists ...[]string) *lua.LTable {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	t := vm.L.CreateTable(n, 0)
	t.Metatable = vm.sandbox.arrayMeta
	for _, l := range lists {
		for _, s := range l {
			t.Append(lua.LString(s))
		}
	}
	return t
}

// setTime sets name to tm as a TimeFormat string and epoch to its Unix
// time in seconds; "" and 0 for the zero time.
func setTime(t *lua.LTable, name, epoch string, tm time.Time) {
	if tm.IsZero() {
		t.RawSetString(name, lua.LString(""))
		t.RawSetString(epoch, lua.LNumber(0))
		return
	}
	t.RawSetString(name, lua.LString(tm.UTC().Format(TimeFormat)))
	t.RawSetString(epoch, lua.LNumber(float64(tm.UnixNano())/1e9))
}
