package filter

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// parseMAC parses the MAC address notations libpcap accepts: six groups of
// one or two hex digits separated by ':', '-' or '.', three groups of four
// hex digits separated by '.', or twelve hex digits.
func parseMAC(w string) ([6]byte, bool) {
	if len(w) == 12 {
		if mac, ok := macGroups([]string{w[0:2], w[2:4], w[4:6], w[6:8], w[8:10], w[10:12]}); ok {
			return mac, true
		}
	}
	if g := strings.Split(w, "."); len(g) == 3 && len(g[0]) == 4 && len(g[1]) == 4 && len(g[2]) == 4 {
		return macGroups([]string{g[0][:2], g[0][2:], g[1][:2], g[1][2:], g[2][:2], g[2][2:]})
	}
	for _, sep := range []string{":", "-", "."} {
		if g := strings.Split(w, sep); len(g) == 6 {
			return macGroups(g)
		}
	}
	return [6]byte{}, false
}

// macGroups converts six groups of one or two hex digits.
func macGroups(groups []string) ([6]byte, bool) {
	var mac [6]byte
	for i, g := range groups {
		if len(g) < 1 || len(g) > 2 {
			return mac, false
		}
		v, err := strconv.ParseUint(g, 16, 8)
		if err != nil {
			return mac, false
		}
		mac[i] = byte(v)
	}
	return mac, true
}

// parseDotted packs two to four dotted decimal parts, each at most 255, into
// the low bits of a uint32. A leading zero does not make a part octal.
func parseDotted(parts []string) (uint32, bool) {
	var v uint32
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, true
}

// prefixMask4 returns the IPv4 netmask of a prefix length from 0 to 32.
func prefixMask4(bits int) uint32 {
	if bits == 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

// ip6Words returns an IPv6 address as four big-endian 32-bit words, the
// units the generated code compares.
func ip6Words(a [16]byte) [4]uint32 {
	var w [4]uint32
	for i := range w {
		w[i] = binary.BigEndian.Uint32(a[4*i:])
	}
	return w
}

// prefixMask6 returns the IPv6 netmask of a prefix length from 0 to 128 as
// four words.
func prefixMask6(bits int) [4]uint32 {
	var m [4]uint32
	for i := range m {
		switch n := bits - 32*i; {
		case n >= 32:
			m[i] = ^uint32(0)
		case n > 0:
			m[i] = prefixMask4(n)
		}
	}
	return m
}
