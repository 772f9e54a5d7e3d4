package retention

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults for Config.
const (
	DefaultInterval       = 10 * time.Second
	DefaultReportInterval = time.Minute
)

// Kind is a part of the tree that holds units: the directory Name under
// the root, dated directories in it, one level for each of Levels, and
// the units in the deepest of those.
type Kind struct {
	// Name is the kind's directory under the root, and its name in
	// Stats.Removed: "calls".
	Name string
	// Levels are the Go time layouts (see time.Layout) of the dated
	// directories between Name and a unit, outermost first:
	// ["2006-01-02", "15"]. A directory whose name its layout does not
	// parse is not the kind's, and is left alone.
	Levels []string
	// Unit is the Go time layout a unit's name starts with: "150405".
	// It must format to a fixed number of bytes.
	Unit string
}

// depth is the number of path components from the kind's directory to a
// unit, both included.
func (k Kind) depth() int { return len(k.Levels) + 2 }

// Config configures a Cleaner. At least one of MaxBytes, MaxUsedPercent
// and MaxAge must be set.
type Config struct {
	// Kinds are the parts of the tree that hold units.
	Kinds []Kind
	// MaxBytes, when positive, is the size limit: the units done (Add)
	// and held (Hold) together, in bytes. Zero: no limit in bytes.
	MaxBytes int64
	// MaxUsedPercent, when positive, is the size limit as the share of
	// the filesystem in use, whatever uses it: units are removed while
	// more than MaxUsedPercent of its size is used. Zero: none. It
	// excludes MaxBytes.
	MaxUsedPercent float64
	// MaxAge, when positive, removes every unit done whose time is more
	// than MaxAge before Now. Zero: no age limit.
	MaxAge time.Duration
	// DryRun logs what would be removed, at Info, and removes nothing;
	// Stats count it as removed.
	DryRun bool
	// Location is the time zone of the times in names; nil is UTC.
	Location *time.Location
	// Now is the clock ages are measured against, and that says which
	// dated directories the writer is done with. A zero time, or a nil
	// Now, removes nothing by age and keeps every dated directory.
	Now func() time.Time
	// Interval is how often the cleaner's goroutine makes a pass besides
	// the passes Add and Hold wake it for; zero is DefaultInterval.
	Interval time.Duration
	// ReportInterval is how often, at most, a summary of the removals
	// since the last one is logged at Info; zero is
	// DefaultReportInterval.
	ReportInterval time.Duration
	// Usage, when set, returns the size of the filesystem and the bytes
	// in use on it, for MaxUsedPercent; nil asks the filesystem of the
	// root (statfs).
	Usage func() (total, used int64, err error)
	// Logger is where removals are logged (at Debug each, at Info in a
	// summary); nil discards.
	Logger *slog.Logger
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Kinds) == 0 {
		errs = append(errs, errors.New("retention: no kind of unit"))
	}
	for _, k := range c.Kinds {
		if err := k.validate(); err != nil {
			errs = append(errs, fmt.Errorf("retention: kind %q: %w", k.Name, err))
		}
	}
	switch {
	case c.MaxBytes < 0:
		errs = append(errs, fmt.Errorf("retention: size limit %d: must not be negative", c.MaxBytes))
	case c.MaxUsedPercent < 0 || c.MaxUsedPercent >= 100:
		errs = append(errs, fmt.Errorf("retention: size limit %g%%: must be more than 0%% and less than 100%%", c.MaxUsedPercent))
	case c.MaxBytes > 0 && c.MaxUsedPercent > 0:
		errs = append(errs, errors.New("retention: a size limit in bytes and one in percent: choose one"))
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("retention: age limit %s: must not be negative", c.MaxAge))
	}
	if c.MaxBytes == 0 && c.MaxUsedPercent == 0 && c.MaxAge == 0 {
		errs = append(errs, errors.New("retention: no limit"))
	}
	return errors.Join(errs...)
}

// validate reports why k cannot be a Kind.
func (k Kind) validate() error {
	if k.Name == "" || k.Name == "." || k.Name == ".." || strings.ContainsRune(k.Name, '/') {
		return errors.New("the name must be one path component")
	}
	for _, l := range append(append([]string(nil), k.Levels...), k.Unit) {
		if l == "" || strings.ContainsRune(l, '/') {
			return fmt.Errorf("layout %q: must be one non-empty path component", l)
		}
	}
	ref := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	if n := len(ref.Format(k.Unit)); len(ref.AddDate(0, 5, 20).Add(9*time.Hour).Format(k.Unit)) != n {
		return fmt.Errorf("unit layout %q: must format to a fixed length", k.Unit)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.ReportInterval <= 0 {
		c.ReportInterval = DefaultReportInterval
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
