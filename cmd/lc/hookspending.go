package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/journal"
	"github.com/lc-voip/lc/internal/script"
	"github.com/spf13/cobra"
)

func newHooksPendingCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "pending OUTPUT-DIR",
		Short: "List the hook work and the open calls and files that the journal of an output directory holds",
		Long: `pending reads the journal of OUTPUT-DIR without changing it, and lists the
events whose hooks have not all run (the next lc process on OUTPUT-DIR runs
them first) and the calls and files that were open (it closes them as
interrupted). It may run while lc process writes to OUTPUT-DIR.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			rec, err := readPending(args[0])
			if err != nil {
				return err
			}
			printPending(s.out, rec)
			return nil
		},
	}
}

// printPending writes what rec holds, one line per item.
func printPending(w io.Writer, rec journal.Recovery) {
	var events, open []journal.Item
	for _, it := range rec.Items {
		if strings.HasPrefix(it.ID, script.JournalPrefix) {
			events = append(events, it)
		} else {
			open = append(open, it)
		}
	}
	fmt.Fprintf(w, "%d events wait for their hooks\n", len(events))
	for _, it := range events {
		desc := "(cannot be read: " + it.ID + ")"
		if ev, err := event.Decode(it.Data); err == nil {
			desc = ev.Type().String() + " " + describe(ev)
		}
		var done []string
		for _, n := range it.Notes {
			done = append(done, string(n))
		}
		if len(done) > 0 {
			desc += "; done: " + strings.Join(done, ", ")
		}
		fmt.Fprintf(w, "  %s %s\n", strings.TrimPrefix(it.ID, script.JournalPrefix), desc)
	}
	fmt.Fprintf(w, "%d calls and files were open\n", len(open))
	for _, it := range open {
		fmt.Fprintf(w, "  %s\n", it.ID)
	}
	if rec.TornBytes > 0 {
		fmt.Fprintf(w, "%d bytes of a record being written (or torn by a crash) at the end\n", rec.TornBytes)
	}
}
