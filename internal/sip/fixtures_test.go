package sip

import (
	"strconv"
	"strings"
)

// Fixtures shared by the tests, benchmarks and fuzz seeds. The messages
// follow the examples of RFC 3261 and RFC 3665.

// crlf returns s with every LF turned into CRLF.
func crlf(s string) string {
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// withBody returns a message made of head (lines ending in LF, without
// Content-Length), a Content-Length header for body, the empty line and
// body. Line ends become CRLF.
func withBody(head, body string) []byte {
	body = crlf(body)
	return []byte(crlf(head) + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// offerSDP is the session description of inviteSDP.
const offerSDP = `v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.101
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
`

// answerSDP is the session description of okSDP.
const answerSDP = `v=0
o=bob 2808844564 2808844564 IN IP6 2001:db8::2
s=-
c=IN IP6 2001:db8::2
t=0 0
m=audio 3456 RTP/AVP 0 101
a=rtcp:3457
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
`

// inviteHead is the header section of inviteSDP without Content-Length.
const inviteHead = `INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
Max-Forwards: 70
From: "Alice" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:alice@client.atlanta.example.com;transport=udp>
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, PRACK, UPDATE
Supported: replaces, timer
User-Agent: lc-test/1.0
Content-Type: application/sdp
`

// inviteSDP is an INVITE with an SDP offer.
var inviteSDP = withBody(inviteHead, offerSDP)

// okSDP is the 200 OK answering inviteSDP, over IPv6.
var okSDP = withBody(`SIP/2.0 200 OK
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101
From: "Alice" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=8321234356
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:bob@[2001:db8::2]>
Content-Type: application/sdp
`, answerSDP)

// byeRequest is a BYE without a body.
var byeRequest = withBody(`BYE sip:alice@client.atlanta.example.com SIP/2.0
Via: SIP/2.0/TCP client.biloxi.example.com:5060;branch=z9hG4bKnashds7
Max-Forwards: 70
From: Bob <sip:bob@biloxi.example.com>;tag=8321234356
To: "Alice" <sip:alice@atlanta.example.com>;tag=9fxced76sl
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 BYE
`, "")

// compactInvite is an INVITE in compact form with a bare-LF SDP body.
var compactInvite = []byte(crlf(`INVITE sip:97239287044@voip.example.net SIP/2.0
v: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKnp104984053;rport
f: "arik" <sip:816666@voip.example.net>;tag=6433ef9
t: <sip:97239287044@voip.example.net>
i: 105090259-446faf7a@192.0.2.2
CSeq: 1 INVITE
c: application/sdp
m: <sip:816666@192.0.2.2>
k: replaces
l: 95
`) + "\r\nv=0\no=- 1 1 IN IP4 192.0.2.2\ns=-\nc=IN IP4 192.0.2.2\nt=0 0\nm=audio 30000 RTP/AVP 0 8\na=sendrecv\n")

// multipartInvite is a SIP-I INVITE: SDP and ISUP in a multipart/mixed
// body.
var multipartInvite = withBody(`INVITE sip:+15555550100@gw.example.com;user=phone SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK2d4790
From: <tel:+15555550199>;tag=1928301774
To: <tel:+15555550100>
Call-ID: a84b4c76e66710@198.51.100.7
CSeq: 314159 INVITE
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="unique-boundary-1"
`, `--unique-boundary-1
Content-Type: application/sdp

v=0
o=- 53655765 2353687637 IN IP4 198.51.100.7
s=-
c=IN IP4 198.51.100.7
t=0 0
m=audio 20000 RTP/AVP 8
m=image 20002 udptl t38
--unique-boundary-1
Content-Type: application/ISUP; version=itu-t92+
Content-Disposition: signal; handling=optional

`+"\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03"+`
--unique-boundary-1--
`)

// registerRequest is a REGISTER, which belongs to no call.
var registerRequest = withBody(`REGISTER sip:registrar.biloxi.example.com SIP/2.0
Via: SIP/2.0/TCP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: Bob <sip:bob@biloxi.example.com>;tag=456248
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
Contact: <sip:bob@192.0.2.4>
Expires: 7200
`, "")

// messages are the well-formed fixtures, for the tests that take any
// message and for seeding the fuzzers.
var messages = [][]byte{inviteSDP, okSDP, byeRequest, compactInvite, multipartInvite, registerRequest}
