package filter

import "math/bits"

// bitset is a set of small non-negative integers.
type bitset []uint64

// fill makes s hold every number its storage can, or none when full is
// false, and returns it.
func (s bitset) fill(full bool) bitset {
	v := uint64(0)
	if full {
		v = ^uint64(0)
	}
	for i := range s {
		s[i] = v
	}
	return s
}

func (s bitset) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

func (s bitset) add(i int) { s[i/64] |= 1 << (i % 64) }

// and intersects s with t.
func (s bitset) and(t bitset) {
	for i := range s {
		s[i] &= t[i]
	}
}

// next returns the smallest member of s not below i, or -1.
func (s bitset) next(i int) int {
	for w := i / 64; w < len(s); w++ {
		word := s[w]
		if w == i/64 {
			word &= ^uint64(0) << (i % 64)
		}
		if word != 0 {
			return 64*w + bits.TrailingZeros64(word)
		}
	}
	return -1
}
