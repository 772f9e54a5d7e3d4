package retention

import (
	"fmt"
	"strings"
	"time"
)

// unitPath is a unit's path split into its components: the kind's
// directory, the dated directories, the unit's name.
type unitPath struct {
	kind  int      // index in Config.Kinds
	parts []string // Kinds[kind].Name, then one per level, then the name
}

// String is the slash-separated path relative to the root.
func (u unitPath) String() string { return strings.Join(u.parts, "/") }

// name is the unit's own name.
func (u unitPath) name() string { return u.parts[len(u.parts)-1] }

// parseUnit splits rel, slash-separated and relative to the root, into a
// unit's path: the directory of a kind, as many components as its levels,
// and a name. Every component must be a plain name.
func parseUnit(kinds []Kind, rel string) (unitPath, error) {
	parts := strings.Split(rel, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return unitPath{}, fmt.Errorf("%q is not a unit: component %q", rel, p)
		}
	}
	for i, k := range kinds {
		if parts[0] != k.Name {
			continue
		}
		if len(parts) != k.depth() {
			return unitPath{}, fmt.Errorf("%q is not a unit: a unit of %s is %d levels down", rel, k.Name, k.depth()-1)
		}
		return unitPath{kind: i, parts: parts}, nil
	}
	return unitPath{}, fmt.Errorf("%q is not a unit: not beneath the directory of a kind", rel)
}

// nameTime is the time a unit's path names: its dated directories and the
// start of its name, read with the kind's layouts, in loc.
func (k Kind) nameTime(u unitPath, loc *time.Location) (time.Time, bool) {
	name := u.name()
	n := len(time.Time{}.Format(k.Unit))
	if len(name) < n {
		return time.Time{}, false
	}
	layout := strings.Join(append(append([]string(nil), k.Levels...), k.Unit), "/")
	value := strings.Join(append(append([]string(nil), u.parts[1:len(u.parts)-1]...), name[:n]), "/")
	t, err := time.ParseInLocation(layout, value, loc)
	return t, err == nil
}

// isLevel reports whether name is a dated directory of level i.
func (k Kind) isLevel(i int, name string, loc *time.Location) bool {
	_, err := time.ParseInLocation(k.Levels[i], name, loc)
	return err == nil
}

// isUnitName reports whether name starts as a unit's name does.
func (k Kind) isUnitName(name string, loc *time.Location) bool {
	n := len(time.Time{}.Format(k.Unit))
	if len(name) < n {
		return false
	}
	_, err := time.ParseInLocation(k.Unit, name[:n], loc)
	return err == nil
}

// levelPassed reports whether the clock now has passed the dated
// directory dirs (the first len(dirs) levels of k): the writer, which
// makes units in the directories of the clock's time, makes none in it
// any more. A name that does not parse has not passed.
func (k Kind) levelPassed(dirs []string, now time.Time, loc *time.Location) bool {
	if now.IsZero() || len(dirs) == 0 {
		return false
	}
	layout := strings.Join(k.Levels[:len(dirs)], "/")
	start, err := time.ParseInLocation(layout, strings.Join(dirs, "/"), loc)
	if err != nil {
		return false
	}
	current, err := time.ParseInLocation(layout, now.In(loc).Format(layout), loc)
	return err == nil && start.Before(current)
}
