package decode

import (
	"slices"
	"testing"
)

type item struct {
	n  int
	ln links[item]
}

func TestList(t *testing.T) {
	l := list[item]{at: func(x *item) *links[item] { return &x.ln }}
	items := make([]*item, 5)
	for i := range items {
		items[i] = &item{n: i}
		l.pushBack(items[i])
	}
	l.pushBack(items[2]) // already in: no change
	l.remove(items[0])   // head
	l.remove(items[4])   // tail
	l.remove(items[2])   // middle
	l.remove(items[2])   // not in: no change
	l.pushBack(items[0])
	var got []int
	for x := l.head; x != nil; x = x.ln.next {
		got = append(got, x.n)
	}
	if want := []int{1, 3, 0}; !slices.Equal(got, want) || l.tail != items[0] {
		t.Fatalf("list = %v (tail %d), want %v", got, l.tail.n, want)
	}
	for _, x := range items[:] {
		l.remove(x)
	}
	if l.head != nil || l.tail != nil {
		t.Fatal("list not empty after removing everything")
	}
}
