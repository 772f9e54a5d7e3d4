package natstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// TLSFiles are the PEM files a client of a StartTLS server needs: the CA
// that signed the server's certificate and the client's, and the
// client's certificate and key.
type TLSFiles struct {
	CA, Cert, Key string
}

// StartTLS starts a server that speaks TLS only and wants a client
// certificate signed by its own CA.
func StartTLS(tb testing.TB) (*Server, TLSFiles) {
	tb.Helper()
	dir := tb.TempDir()
	ca, caKey := newCert(tb, nil, nil, "lc test CA", 0)
	srvCert, srvKey := newCert(tb, ca, caKey, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := newCert(tb, ca, caKey, "lc", x509.ExtKeyUsageClientAuth)
	files := TLSFiles{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "client.pem"), Key: filepath.Join(dir, "client-key.pem")}
	writePEM(tb, files.CA, "CERTIFICATE", ca.Raw)
	writePEM(tb, files.Cert, "CERTIFICATE", cliCert.Raw)
	writeKey(tb, files.Key, cliKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	s := start(tb, func(o *server.Options) {
		o.TLS, o.TLSVerify, o.TLSConfig, o.TLSTimeout = true, true, cfg, 5
	})
	return s, files
}

// newCert makes a certificate for name signed by parent (nil: a CA that
// signs itself) with a new P-256 key, and returns both.
func newCert(tb testing.TB, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
		if ip := net.ParseIP(name); ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert, key
}

func writeKey(tb testing.TB, path string, key *ecdsa.PrivateKey) {
	tb.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	writePEM(tb, path, "EC PRIVATE KEY", der)
}

func writePEM(tb testing.TB, path, kind string, der []byte) {
	tb.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// StartCreds starts a server in operator mode (accounts and users are
// JWTs signed by an operator it trusts) and returns it with the .creds
// file of a user of an account that may use JetStream.
func StartCreds(tb testing.TB) (*Server, string) {
	tb.Helper()
	operator, opPub := newKeys(tb, nkeys.CreateOperator)
	account, accPub := newKeys(tb, nkeys.CreateAccount)
	user, userPub := newKeys(tb, nkeys.CreateUser)
	_, sysPub := newKeys(tb, nkeys.CreateAccount)
	oc := jwt.NewOperatorClaims(opPub)
	oc.SystemAccount = sysPub
	sysJWT, err := jwt.NewAccountClaims(sysPub).Encode(operator)
	if err != nil {
		tb.Fatal(err)
	}
	ac := jwt.NewAccountClaims(accPub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	accJWT, err := ac.Encode(operator)
	if err != nil {
		tb.Fatal(err)
	}
	userJWT, err := jwt.NewUserClaims(userPub).Encode(account)
	if err != nil {
		tb.Fatal(err)
	}
	seed, err := user.Seed()
	if err != nil {
		tb.Fatal(err)
	}
	creds, err := jwt.FormatUserConfig(userJWT, seed)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "user.creds")
	if err := os.WriteFile(path, creds, 0o600); err != nil {
		tb.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	for pub, claims := range map[string]string{accPub: accJWT, sysPub: sysJWT} {
		if err := resolver.Store(pub, claims); err != nil {
			tb.Fatal(err)
		}
	}
	s := start(tb, func(o *server.Options) {
		o.TrustedOperators, o.AccountResolver, o.SystemAccount = []*jwt.OperatorClaims{oc}, resolver, sysPub
	})
	return s, path
}

func newKeys(tb testing.TB, create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string) {
	tb.Helper()
	kp, err := create()
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		tb.Fatal(err)
	}
	return kp, pub
}

// Secured is a server that wants its clients to say who they are, and
// what a client needs to: a certificate (TLS.Cert and TLS.Key, with
// TLS.CA to trust the server) or credentials (Creds).
type Secured struct {
	Name  string
	URL   string
	TLS   TLSFiles // of the server started by StartTLS; zero otherwise
	Creds string   // of the server started by StartCreds; "" otherwise
}

// StartSecured starts a StartTLS and a StartCreds server.
func StartSecured(tb testing.TB) []Secured {
	tb.Helper()
	tlsSrv, files := StartTLS(tb)
	credsSrv, creds := StartCreds(tb)
	return []Secured{
		{Name: "client certificate", URL: tlsSrv.URL(), TLS: files},
		{Name: "credentials", URL: credsSrv.URL(), Creds: creds},
	}
}
