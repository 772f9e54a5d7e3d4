package live

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// view is how a socket sees frames, which decides the link type of the
// packets and how the capture filter is compiled.
type view int

const (
	viewEthernet view = iota // SOCK_RAW, Ethernet header (Ethernet and loopback devices)
	viewRaw                  // SOCK_RAW, the frame starts with the IP header
	viewCooked               // SOCK_DGRAM, an SLL2 header is built from the socket address
)

// LINKTYPE_ values of the views.
const (
	linkEthernet = 1
	linkRaw      = 101
	linkSLL2     = 276
)

func (v view) linkType() uint16 {
	switch v {
	case viewEthernet:
		return linkEthernet
	case viewRaw:
		return linkRaw
	}
	return linkSLL2
}

// ARPHRD_ hardware types (linux/if_arp.h) with their own views.
const (
	arphrdEther    = 1
	arphrdCAN      = 280
	arphrdLoopback = 772
	arphrdRawIP    = 519
	arphrdNone     = 65534
)

// echoes reports whether the kernel shows a packet sent on an interface of
// hardware type hwtype twice, going out and coming in: a loopback device
// receives what it sends, and CAN drivers loop sent frames back. libpcap
// captures such a packet once, as incoming; so does lc (see echoFilter).
func echoes(hwtype uint16) bool {
	return hwtype == arphrdLoopback || hwtype == arphrdCAN
}

// viewOf picks the view for a hardware type: link headers where lc
// decodes them, cooked mode for everything else.
func viewOf(hwtype uint16) view {
	switch hwtype {
	case arphrdEther, arphrdLoopback:
		return viewEthernet
	case arphrdRawIP, arphrdNone:
		return viewRaw
	}
	return viewCooked
}

// iface is one capture point: a named interface or "any" (index 0).
type iface struct {
	name   string
	index  int
	view   view
	echoes bool // a named interface that shows the packets it sends twice
}

// lookup resolves an interface name. hwtype reads the ARPHRD_ type.
func lookup(name string, hwtype func(string) (uint16, error)) (iface, error) {
	if name == "any" {
		return iface{name: name, view: viewCooked}, nil
	}
	ni, err := net.InterfaceByName(name)
	if err != nil {
		return iface{}, fmt.Errorf("interface %q: no such interface", name)
	}
	t, err := hwtype(name)
	if err != nil {
		return iface{}, fmt.Errorf("interface %q: reading its hardware type: %w", name, err)
	}
	return iface{name: name, index: ni.Index, view: viewOf(t), echoes: echoes(t)}, nil
}

// sysNet is where the kernel lists interfaces and their counters.
const sysNet = "/sys/class/net"

// interfaceDrops returns what the interface itself dropped on receive so
// far: rx_dropped plus rx_missed_errors, the "drop" column of
// /proc/net/dev that libpcap reports too. "any" sums every interface.
func interfaceDrops(root, name string) (int64, error) {
	names := []string{name}
	if name == "any" {
		entries, err := os.ReadDir(root)
		if err != nil {
			return 0, err
		}
		names = names[:0]
		for _, e := range entries {
			names = append(names, e.Name())
		}
	}
	var sum int64
	for _, n := range names {
		for _, counter := range []string{"rx_dropped", "rx_missed_errors"} {
			v, err := readCounter(filepath.Join(root, n, "statistics", counter))
			if err != nil {
				if name == "any" && errors.Is(err, os.ErrNotExist) {
					continue // an interface that went away meanwhile
				}
				return 0, err
			}
			sum += v
		}
	}
	return sum, nil
}

func readCounter(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
