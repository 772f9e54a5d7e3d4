package testpcap

import "net/netip"

// TCPConn numbers the segments of one TCP connection between a client and
// a server: every frame it returns carries the sender's next sequence
// number and acknowledges everything the peer has sent so far. Its methods
// return frames in the order they are to be sent, so they must be called
// in that order. The zero value is not usable; use NewTCPConn.
type TCPConn struct {
	Client, Server netip.AddrPort
	next           [2]uint32 // next sequence number of the client, of the server
}

// NewTCPConn returns a connection whose SYN and SYN-ACK use the given
// initial sequence numbers.
func NewTCPConn(client, server netip.AddrPort, clientISN, serverISN uint32) *TCPConn {
	return &TCPConn{Client: client, Server: server, next: [2]uint32{clientISN, serverISN}}
}

// SYN returns the client's SYN.
func (c *TCPConn) SYN() []byte {
	f := TCP(c.Client, c.Server, c.next[0], 0, "S", nil)
	c.next[0]++
	return f
}

// SYNACK returns the server's SYN-ACK.
func (c *TCPConn) SYNACK() []byte {
	f := TCP(c.Server, c.Client, c.next[1], c.next[0], "SA", nil)
	c.next[1]++
	return f
}

// Send returns a segment carrying payload from the client or from the
// server, with PSH set; with an empty payload, a pure ACK.
func (c *TCPConn) Send(fromClient bool, payload []byte) []byte {
	flags := "PA"
	if len(payload) == 0 {
		flags = "A"
	}
	return c.segment(fromClient, flags, payload, uint32(len(payload)))
}

// FIN returns a FIN-ACK from the client or from the server.
func (c *TCPConn) FIN(fromClient bool) []byte {
	return c.segment(fromClient, "FA", nil, 1)
}

func (c *TCPConn) segment(fromClient bool, flags string, payload []byte, length uint32) []byte {
	me, peer := 0, 1
	src, dst := c.Client, c.Server
	if !fromClient {
		me, peer = 1, 0
		src, dst = dst, src
	}
	f := TCP(src, dst, c.next[me], c.next[peer], flags, payload)
	c.next[me] += length
	return f
}
