package journal

import "fmt"

// Data returns a copy of the data item id was begun with, while it is
// open; an error when it is not.
func (j *Journal) Data(id string) ([]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	it, ok := j.t.items[id]
	if !ok {
		return nil, fmt.Errorf("journal: no open item %q", id)
	}
	return clone(it.Data), nil
}
