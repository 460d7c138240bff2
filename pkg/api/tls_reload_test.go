package api

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replace puts the content of from at to as certbot or a deploy hook
// does: written beside it, then renamed over it.
func replace(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to+".new", string(b), mode)
	if err := os.Rename(to+".new", to); err != nil {
		t.Fatal(err)
	}
}

// A renewal that replaces the certificate first and the key a moment
// later: between the two, the old pair is served, with an error; once
// the key comes, the new pair is served, and the log says so (else the
// error is the last word on the renewal, and it looks failed). A key
// that others may read is warned of at a reload too, as at the start.
func TestTLSRenewalLogged(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir, "127.0.0.1")
	f := start(t, Config{CertFile: cert, KeyFile: key})
	cert2, key2 := selfSigned(t, t.TempDir(), "127.0.0.1")
	oldPool, newPool := pool(t, cert), pool(t, cert2)
	trust := func(p *x509.CertPool) {
		f.client.CloseIdleConnections()
		f.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p}}
	}
	trust(oldPool)
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 {
		t.Fatalf("before: %d %s", a.status, a.body)
	}
	replace(t, cert2, cert, 0o644) // the certificate first
	trust(oldPool)                 // the old one, still served
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 {
		t.Fatalf("between the two: %d %s", a.status, a.body)
	}
	if !strings.Contains(f.log.String(), "private key does not match public key") {
		t.Errorf("between the two, log:\n%s", f.log)
	}
	replace(t, key2, key, 0o644) // then the key, readable by others
	trust(newPool)
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 {
		t.Fatalf("after: %d %s", a.status, a.body)
	}
	log := f.log.String()
	if !strings.Contains(log, `msg="api: TLS certificate read again"`) || !strings.Contains(log, "not_after=") {
		t.Errorf("after the renewal, log:\n%s", log)
	}
	if !strings.Contains(log, "others may read the TLS key") {
		t.Errorf("a key mode 0644 read again: no warning; log:\n%s", log)
	}
}

// Both files gone (their directory moved away): the old pair is still
// served, and the log says that the files cannot be read.
func TestTLSBothFilesGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cert, key := selfSigned(t, dir, "127.0.0.1")
	f := start(t, Config{CertFile: cert, KeyFile: key})
	f.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool(t, cert)}}
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 {
		t.Fatalf("files gone: %d %s", a.status, a.body)
	}
	if !strings.Contains(f.log.String(), "the TLS certificate cannot be read again") || !strings.Contains(f.log.String(), "no such file") {
		t.Errorf("files gone, log:\n%s", f.log)
	}
}

// Connections that end before a TLS handshake (a port scan, a load
// balancer's TCP check, a client that speaks plain HTTP, one that refuses
// the certificate) are the client's business: the API's port reachable
// from the network gets them all day, and a warning each would bury the
// log. They are debug lines.
func TestTLSHandshakeFailuresNotWarned(t *testing.T) {
	cert, key := selfSigned(t, t.TempDir(), "127.0.0.1")
	f := start(t, Config{CertFile: cert, KeyFile: key})
	addr := strings.TrimPrefix(f.base, "https://")
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if resp, err := http.Get("http://" + addr + "/v1/blocks"); err == nil {
		resp.Body.Close()
	}
	if _, err := f.client.Get(f.base + "/v1/blocks"); err == nil { // refuses the certificate
		t.Fatal("an untrusted certificate accepted")
	}
	f.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool(t, cert)}}
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 {
		t.Fatalf("GET: %d %s", a.status, a.body)
	}
	time.Sleep(100 * time.Millisecond) // the server logs after the client has gone
	if log := f.log.String(); strings.Contains(log, "handshake") {
		t.Errorf("log:\n%s", log)
	}
}

// A certificate out of its dates (a renewal that failed, a copy of the
// old one) is served, since it is all there is, but warned of: clients
// refuse it, and the log says why, at the start and at a reload.
func TestTLSExpiredWarned(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir, "127.0.0.1")
	b, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(cert)
	writeFile(t, cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
	f := start(t, Config{CertFile: cert, KeyFile: key})
	if log := f.log.String(); !strings.Contains(log, "api: the TLS certificate is out of its dates") || !strings.Contains(log, "not_after=") {
		t.Errorf("an expired certificate at the start, log:\n%s", log)
	}
	// a good one, then the expired one back: warned of at the reload
	writeFile(t, cert+".good", string(good), 0o644)
	replace(t, cert+".good", cert, 0o644)
	f.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool(t, cert)}}
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 {
		t.Fatalf("GET: %d %s", a.status, a.body)
	}
	n := strings.Count(f.log.String(), "out of its dates")
	writeFile(t, cert+".old", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
	replace(t, cert+".old", cert, 0o644)
	f.client.CloseIdleConnections()
	f.client.Get(f.base + "/v1/blocks") // refused by the client: expired
	if got := strings.Count(f.log.String(), "out of its dates"); got != n+1 {
		t.Errorf("the expired certificate read again: %d warnings, want %d; log:\n%s", got, n+1, f.log)
	}
}
