package event

import (
	"crypto/sha256"
	"encoding/hex"
)

// Identified returns ev with its ID set to 32 hex digits of the SHA-256 of
// its JSON without an ID. The ID is a function of what the event says, so
// it is the same whenever the event is delivered again (a replay from the
// journal reads it back with the event) and whenever the same input is
// processed into the same output directory; two events that differ in any
// field have different IDs. Hooks use it to be idempotent.
func Identified(ev Event) Event {
	sum := sha256.Sum256(AppendJSON(nil, ev.withID("")))
	return ev.withID(hex.EncodeToString(sum[:16]))
}
