package decode

// links are the neighbours of an element in one list.
type links[T any] struct {
	prev, next *T
	in         bool
}

// list is an intrusive doubly linked list of *T in insertion order: each
// element carries its own links, found by at, so pushing and removing
// allocate nothing. The Decoder keeps its TCP directions (least recently
// used first, and those holding out-of-order segments, oldest gap first)
// and its fragment queues (oldest first) this way.
type list[T any] struct {
	head, tail *T
	at         func(*T) *links[T]
}

// pushBack appends x; it does nothing when x is already in the list.
func (l *list[T]) pushBack(x *T) {
	lx := l.at(x)
	if lx.in {
		return
	}
	lx.in, lx.prev, lx.next = true, l.tail, nil
	if l.tail != nil {
		l.at(l.tail).next = x
	} else {
		l.head = x
	}
	l.tail = x
}

// remove takes x out; it does nothing when x is not in the list.
func (l *list[T]) remove(x *T) {
	lx := l.at(x)
	if !lx.in {
		return
	}
	if lx.prev != nil {
		l.at(lx.prev).next = lx.next
	} else {
		l.head = lx.next
	}
	if lx.next != nil {
		l.at(lx.next).prev = lx.prev
	} else {
		l.tail = lx.prev
	}
	*lx = links[T]{}
}

// moveToBack moves x to the end; it does nothing when x is not in the list.
func (l *list[T]) moveToBack(x *T) {
	if !l.at(x).in || l.tail == x {
		return
	}
	l.remove(x)
	l.pushBack(x)
}
