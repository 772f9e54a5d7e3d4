package script

import (
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script/template"
)

// Placeholders returns the %placeholder% names of events of type t: every
// field of the event's table (and its alias) except the streams, the list
// fields with template.ListSuffix. They are the names a --pcap-command
// (file_closed) or --voip-command (call_completed) template, or a Lua
// exec() template, may use.
func Placeholders(t event.Type) []string {
	var names []string
	for _, f := range event.Fields(t) {
		switch f.Kind {
		case event.Streams:
		case event.Strings:
			names = append(names, f.Name+template.ListSuffix)
		default:
			names = append(names, f.Name)
			if f.Alias != "" {
				names = append(names, f.Alias)
			}
		}
	}
	return names
}

// values returns the placeholder values of ev: each field's Text, a list
// joined with template.JoinList.
func values(ev event.Event) func(string) string {
	m := make(map[string]string)
	event.Each(ev, func(f event.Field, v event.Value) {
		text := v.Text()
		if v.Kind == event.Strings {
			text = template.JoinList(v.List)
		}
		m[f.Name] = text
		if f.Alias != "" {
			m[f.Alias] = text
		}
	})
	return func(name string) string { return m[name] }
}
