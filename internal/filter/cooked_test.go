package filter

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
)

// skfProtocol is SKF_AD_OFF + SKF_AD_PROTOCOL, the offset of the kernel's
// protocol ancillary load.
const skfProtocol = 0xfffff000

func TestCookedStructure(t *testing.T) {
	f, err := Parse("udp port 5060")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.Compile(Cooked, 65535)
	if err != nil {
		t.Fatal(err)
	}
	if first := raw[0]; first.Op != 0x20 || first.K != skfProtocol {
		t.Errorf("first instruction %+v, want ld [SKF_AD_OFF+SKF_AD_PROTOCOL]", first)
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("cannot disassemble:\n%s", disasm(raw))
	}
	var got []bpf.Instruction
	for _, ins := range prog {
		switch ins.(type) {
		case bpf.LoadAbsolute, bpf.LoadIndirect, bpf.LoadMemShift, bpf.LoadExtension:
			got = append(got, ins)
		}
	}
	want := []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtProto},
		bpf.LoadAbsolute{Off: 6, Size: 1},  // IPv6 next header
		bpf.LoadAbsolute{Off: 40, Size: 2}, // IPv6 UDP source port
		bpf.LoadAbsolute{Off: 42, Size: 2}, // IPv6 UDP destination port
		bpf.LoadAbsolute{Off: 9, Size: 1},  // IPv4 protocol
		bpf.LoadAbsolute{Off: 6, Size: 2},  // IPv4 fragment offset
		bpf.LoadMemShift{Off: 0},           // IPv4 header length
		bpf.LoadIndirect{Off: 0, Size: 2},  // IPv4 UDP source port
		bpf.LoadIndirect{Off: 2, Size: 2},  // IPv4 UDP destination port
	}
	if len(got) != len(want) {
		t.Fatalf("loads %v, want %v\n%s", got, want, disasm(raw))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("load %d is %v, want %v\n%s", i, got[i], want[i], disasm(raw))
		}
	}
}

// TestCookedEmulated runs Cooked programs with the ancillary load
// replaced by the frame's EtherType, on the network-layer bytes of every
// prefix of the synthetic frames, and requires the results of the
// Ethernet programs on the whole frames.
func TestCookedEmulated(t *testing.T) {
	exprs := []string{
		"ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp",
		"udp port 5060", "port 5060 or 5080", "not port 22 and not 53",
		"udp portrange 10000-20000", "host 10.0.0.1", "arp host 10.0.0.1",
		"host 2001:db8::1", "net 10.0.0.0/8", "net 2001:db8::/32", "ip6 proto 17",
		"proto 6", "tcp port 80 or 443", "(tcp or udp) and not src net 192.168.0.0/16",
	}
	frames := prefixes(syntheticFrames())
	for _, expr := range exprs {
		f, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		eth := mustVM(t, f, Ethernet)
		cooked, err := f.Compile(Cooked, 65535)
		if err != nil {
			t.Fatal(err)
		}
		prog, ok := bpf.Disassemble(cooked)
		if !ok {
			t.Fatalf("%q: cannot disassemble:\n%s", expr, disasm(cooked))
		}
		for _, frame := range frames {
			if len(frame) < 14 {
				continue
			}
			vm, err := bpf.NewVM(withProtocol(prog, binary.BigEndian.Uint16(frame[12:])))
			if err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
			want, _ := eth.Run(frame)
			got, _ := vm.Run(frame[14:])
			if (want > 0) != (got > 0) {
				t.Errorf("%q: Ethernet accepts=%v, Cooked accepts=%v for % x", expr, want > 0, got > 0, frame)
			}
		}
	}
}

// withProtocol returns prog with the protocol ancillary load replaced by
// a constant, which the userland VM can run.
func withProtocol(prog []bpf.Instruction, proto uint16) []bpf.Instruction {
	out := make([]bpf.Instruction, len(prog))
	for i, ins := range prog {
		if ins == (bpf.LoadExtension{Num: bpf.ExtProto}) {
			ins = bpf.LoadConstant{Dst: bpf.RegA, Val: uint32(proto)}
		}
		out[i] = ins
	}
	return out
}

func mustVM(t testing.TB, f *Filter, l Link) *bpf.VM {
	t.Helper()
	raw, err := f.Compile(l, 65535)
	if err != nil {
		t.Fatal(err)
	}
	return newVM(t, raw)
}
