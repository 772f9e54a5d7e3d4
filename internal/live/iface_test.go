package live

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestViewOf(t *testing.T) {
	for hw, want := range map[uint16]view{
		arphrdEther: viewEthernet, arphrdLoopback: viewEthernet,
		arphrdNone: viewRaw, arphrdRawIP: viewRaw,
		512 /* PPP */ : viewCooked, 776 /* IPv6-in-IPv4 */ : viewCooked,
	} {
		if got := viewOf(hw); got != want {
			t.Errorf("viewOf(%d) = %d, want %d", hw, got, want)
		}
	}
}

func TestLookup(t *testing.T) {
	any, err := lookup("any", nil)
	if err != nil || any.index != 0 || any.view != viewCooked {
		t.Fatalf("any: %+v, %v", any, err)
	}
	if _, err := lookup("no-such-if0", nil); err == nil || err.Error() != `interface "no-such-if0": no such interface` {
		t.Fatalf("missing interface: %v", err)
	}
	lo, err := lookup("lo", func(string) (uint16, error) { return arphrdLoopback, nil })
	if err != nil || lo.index == 0 || lo.view != viewEthernet || !lo.echoes {
		t.Fatalf("lo: %+v, %v", lo, err)
	}
	if eth, err := lookup("lo", func(string) (uint16, error) { return arphrdEther, nil }); err != nil || eth.echoes {
		t.Fatalf("an Ethernet device: %+v, %v; want it not to echo what it sends", eth, err)
	}
	if _, err := lookup("lo", func(string) (uint16, error) { return 0, errors.New("boom") }); err == nil {
		t.Fatal("a failing hardware type lookup was not reported")
	}
}

func TestInterfaceDrops(t *testing.T) {
	root := t.TempDir()
	write := func(iface, counter, v string) {
		dir := filepath.Join(root, iface, "statistics")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, counter), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("eth0", "rx_dropped", "5")
	write("eth0", "rx_missed_errors", "2")
	write("eth1", "rx_dropped", "10")
	write("eth1", "rx_missed_errors", "0")
	if n, err := interfaceDrops(root, "eth0"); err != nil || n != 7 {
		t.Errorf("eth0: %d, %v; want 7", n, err)
	}
	if n, err := interfaceDrops(root, "any"); err != nil || n != 17 {
		t.Errorf("any: %d, %v; want 17", n, err)
	}
	if _, err := interfaceDrops(root, "eth9"); err == nil {
		t.Error("a missing interface gave no error")
	}
}

func TestConfigCheck(t *testing.T) {
	c := DefaultConfig()
	c.Interfaces = []string{"any", "eth0"}
	c.Snaplen, c.Buffer = 10, 10
	err := c.check()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`"any" captures on every interface`, "snaplen 10", "capture buffer 10 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	c = DefaultConfig()
	c.Interfaces = []string{"eth0"}
	if err := c.check(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
