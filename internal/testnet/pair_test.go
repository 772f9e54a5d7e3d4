//go:build linux

package testnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
)

func TestPairSides(t *testing.T) {
	p := newTestPair(t)
	for i := range 2 {
		t.Run(p.NS[i], func(t *testing.T) {
			var names []string
			var addrs []netip.Addr
			err := p.Do(i, func() error {
				ifs, err := net.Interfaces()
				if err != nil {
					return err
				}
				for _, ifc := range ifs {
					names = append(names, ifc.Name)
					as, err := ifc.Addrs()
					if err != nil {
						return err
					}
					for _, a := range as {
						if pfx, err := netip.ParsePrefix(a.String()); err == nil {
							addrs = append(addrs, pfx.Addr())
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(names)
			if want := []string{p.Iface[i], "lo"}; !slices.Equal(names, want) {
				t.Errorf("interfaces in %s = %v, want %v", p.NS[i], names, want)
			}
			for _, want := range []netip.Addr{p.Addr[i], p.Addr6[i]} {
				if !slices.Contains(addrs, want) {
					t.Errorf("addresses in %s = %v, missing %v", p.NS[i], addrs, want)
				}
			}
			for _, a := range addrs {
				if a.IsLinkLocalUnicast() {
					t.Errorf("link-local address %v in %s", a, p.NS[i])
				}
			}

			out, err := p.Command(i, "ip", "-o", "link", "show", "dev", p.Iface[i]).CombinedOutput()
			if err != nil {
				t.Fatalf("ip link in %s: %v: %s", p.NS[i], err, out)
			}
			for _, want := range []string{"UP", "NOARP", p.MAC[i].String()} {
				if !strings.Contains(string(out), want) {
					t.Errorf("link %s in %s lacks %s: %s", p.Iface[i], p.NS[i], want, out)
				}
			}
		})
	}
	if !p.Addr[0].Is4() || p.Addr[0].As4()[0] != 10 || p.Addr[0].Next() != p.Addr[1] || p.Addr[0].As4()[3] != 1 {
		t.Errorf("IPv4 addresses %v", p.Addr)
	}
	if !p.Addr6[0].Is6() || p.Addr6[0].As16()[0] != 0xfd || p.Addr6[0].Next() != p.Addr6[1] {
		t.Errorf("IPv6 addresses %v", p.Addr6)
	}
}

func TestDo(t *testing.T) {
	p := newTestPair(t)
	root, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		want := fmt.Sprintf("net:[%d]", namespaceInode(t, p.NS[i]))
		for range 20 {
			err := p.Do(i, func() error {
				got, err := os.Readlink("/proc/thread-self/ns/net")
				if err == nil && got != want {
					err = fmt.Errorf("fn runs in %s, want %s", got, want)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// No thread that has been in a namespace runs other goroutines.
	errs := make(chan error)
	for range 50 {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			got, err := os.Readlink("/proc/thread-self/ns/net")
			if err == nil && got != root {
				err = fmt.Errorf("goroutine outside Do runs in %s, want %s", got, root)
			}
			errs <- err
		}()
	}
	for range 50 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	want := errors.New("from fn")
	if err := p.Do(1, func() error { return want }); err != want {
		t.Errorf("Do returned %v, want fn's error", err)
	}
}

// rootState describes the network of the namespace the tests run in.
func rootState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{
		{"-o", "link", "show"},
		{"-o", "addr", "show"},
		{"route", "show", "table", "all"},
		{"-6", "route", "show", "table", "all"},
		{"rule", "show"},
		{"netns", "list-id"},
	} {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		fmt.Fprintf(&b, "# ip %s\n%s", strings.Join(args, " "), out)
	}
	return b.String()
}

// namespaceInode returns the inode of the named namespace.
func namespaceInode(t *testing.T, name string) uint64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(netnsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// threadsIn returns the threads of this process that are in the network
// namespace with the given inode.
func threadsIn(t *testing.T, ino uint64) []string {
	t.Helper()
	links, err := filepath.Glob("/proc/self/task/*/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	want := fmt.Sprintf("net:[%d]", ino)
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && target == want {
			in = append(in, l)
		}
	}
	return in
}

func TestRootNamespaceUntouched(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.MissingPrerequisite(t, "need root")
	}
	before := rootState(t)
	var p *Pair
	var inodes [2]uint64
	t.Run("use", func(t *testing.T) {
		p = newTestPair(t)
		if during := rootState(t); during != before {
			t.Errorf("root namespace changed by NewPair:\nbefore:\n%s\nafter:\n%s", before, during)
		}
		for i := range 2 {
			inodes[i] = namespaceInode(t, p.NS[i])
		}
		if _, _, err := p.SendCalls(Calls{N: 2, RTP: 3}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.Blast(Load{Rate: 10000, Duration: 100 * time.Millisecond, Calls: 4}); err != nil {
			t.Fatal(err)
		}
	})
	if p == nil {
		t.FailNow()
	}
	if after := rootState(t); after != before {
		t.Errorf("root namespace changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	for i, ns := range p.NS {
		if _, err := os.Stat(filepath.Join(netnsDir, ns)); !os.IsNotExist(err) {
			t.Errorf("namespace %s still mounted: %v", ns, err)
		}
		if strings.Contains(string(out), ns) {
			t.Errorf("namespace %s still listed: %s", ns, out)
		}
		// Threads of Do end soon after fn returns; none may linger.
		var in []string
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if in = threadsIn(t, inodes[i]); len(in) == 0 || time.Now().After(deadline) {
				break
			}
		}
		if len(in) > 0 {
			t.Errorf("threads still in namespace %s: %v", ns, in)
		}
	}
}

func TestNewPairNames(t *testing.T) {
	p, q := newTestPair(t), newTestPair(t)
	for i := range 2 {
		if p.NS[i] == q.NS[i] {
			t.Errorf("two pairs share namespace %s", p.NS[i])
		}
		if !strings.HasPrefix(p.NS[i], fmt.Sprintf("lc-%d-", os.Getpid())) {
			t.Errorf("namespace name %q lacks the process prefix", p.NS[i])
		}
	}
}
