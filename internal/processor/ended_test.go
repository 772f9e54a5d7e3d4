package processor

import (
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/sip"
)

// TestEndedCallsBounded: at most max ended Call-IDs are remembered, the
// oldest forgotten first and counted; each is forgotten when its window
// passes; only a new INVITE transaction is not a late message.
func TestEndedCallsBounded(t *testing.T) {
	e := newEndedCalls(2)
	for i, id := range []string{"a", "b", "c"} {
		e.remember(&call{id: id, inviteCSeq: 5}, t0.Add(time.Duration(i)*time.Second))
	}
	if _, ok := e.byID["a"]; ok || len(e.byID) != 2 || e.evicts != 1 {
		t.Fatalf("remembered %v, %d forgotten early; want b and c, 1", e.byID, e.evicts)
	}
	for _, tt := range []struct {
		m    sip.Message
		late bool
	}{
		{sip.Message{CallID: "b", Request: true, Method: "CANCEL", CSeq: 5}, true},
		{sip.Message{CallID: "b", StatusCode: 408, CSeqMethod: "INVITE", CSeq: 5}, true},
		{sip.Message{CallID: "b", Request: true, Method: "INVITE", CSeq: 5}, true},
		{sip.Message{CallID: "b", Request: true, Method: "INVITE", CSeq: 6}, false},
		{sip.Message{CallID: "a", Request: true, Method: "BYE", CSeq: 7}, false},
	} {
		if _, late := e.late(&tt.m); late != tt.late {
			t.Errorf("%+v: late = %v, want %v", tt.m, late, tt.late)
		}
	}
	e.expire(t0.Add(time.Second + endedWindow))
	if _, ok := e.byID["b"]; ok {
		t.Error("b is still remembered after its window")
	}
	if _, ok := e.byID["c"]; !ok {
		t.Error("c was forgotten before its window passed")
	}
}
